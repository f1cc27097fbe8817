"""``tarash cassette diff | textconv | merge | git-setup | summary``: cassettes in a team's
git repository (review, merge, PR descriptions). The commands parse and print; the work is
in :mod:`..cassettes.merge`."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import click

from .common import emit_json, library_errors, opened, opened_file, size
from .output import plural, width_of
from .params import CassetteArgument, FilePath
from .terminal import safe

__all__ = ["GITATTRIBUTES", "diff", "git_config_lines", "git_setup", "merge", "summary", "textconv"]

#: What ``git-setup`` puts in ``.gitattributes``.
GITATTRIBUTES = (
    "*.db diff=tarash merge=tarash -text",
    "cassettes/**/*.jsonl merge=tarash",
)


def git_config_lines(command: str = "tarash") -> list[tuple[str, str]]:
    """The git config entries of the ``tarash`` diff and merge drivers."""
    return [
        ("diff.tarash.textconv", f"{command} cassette textconv"),
        ("diff.tarash.cachetextconv", "true"),
        ("merge.tarash.name", "tarash-gateway cassette merge"),
        ("merge.tarash.driver", f"{command} cassette merge %O %A %B --name %P"),
    ]


_FILE = FilePath(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("a", type=CassetteArgument())
@click.argument("b", type=CassetteArgument())
def diff(a: Path | str, b: Path | str) -> None:
    """What changed from cassette A to cassette B: recordings added (+), removed (-) and
    changed (~, field by field), matched by request and sequence. Exits 1 when they differ.

    A and B are cassette files or postgresql:// URLs.

    \b
    Example:
        tarash cassette diff main.db branch.db
        tarash cassette diff 'postgresql://ci@db/tarash?cassette=farm' cassettes/farm.db
    """
    from ..cassettes.merge import diff_cassettes

    with opened(a) as left, opened(b) as right, library_errors():
        lines = list(diff_cassettes(left, right))
    for line in lines:
        click.echo(safe(line))
    if lines:
        raise SystemExit(1)
    click.echo("no differences")


@click.command()
@click.argument("path", type=_FILE)
def textconv(path: Path) -> None:
    """Print a cassette as text for git diff: one stable line per recording, media by hash
    and size (set up by tarash cassette git-setup).

    \b
    Example:
        tarash cassette textconv cassettes/run.db
    """
    from ..cassettes.merge import textconv_lines

    with opened_file(path) as store, library_errors():
        for line in textconv_lines(store):
            click.echo(safe(line))  # git shows it on a terminal: nothing stored may drive it


@click.command()
@click.argument("base", type=FilePath(dir_okay=False, path_type=Path))
@click.argument("ours", type=_FILE)
@click.argument("theirs", type=_FILE)
@click.option("-o", "--output", type=FilePath(dir_okay=False, path_type=Path),
              help="Write the result here instead of over OURS.")
@click.option("--name", help="The file's name in the repository, for messages (git's %P).")
def merge(base: Path, ours: Path, theirs: Path, output: Path | None, name: str | None) -> None:
    """Three-way merge of cassettes (.db) or exports (.jsonl), as a git merge driver: the
    result replaces OURS (git's %A) unless --output is given.

    Both sides' recordings are kept, identical ones once; a recording one side deleted and
    the other left alone stays deleted; two different answers to the same request are both
    kept in order, with a warning. The result is written beside the target and renamed into
    place: never half a file.

    \b
    Example (git runs it as tarash cassette merge %O %A %B --name %P):
        tarash cassette merge base.db ours.db theirs.db
    """
    from ..cassettes.merge import merge_cassettes, merge_exports

    merger = merge_exports if ours.suffix == ".jsonl" else merge_cassettes
    with library_errors():
        report = merger(base, ours, theirs, output)
    for key in report.conflicts:
        click.echo(f"warning: both sides recorded a different answer to request {key[:12]}...; both kept, "
                   "ours first", err=True)
    line = f"merged {name or ours.name}: {plural(report.kept, 'recording')} kept, {report.added} added, {report.dropped} removed"
    if report.exchanges_added or report.exchanges_dropped:
        line += f"; {plural(report.exchanges_added, 'HTTP exchange')} added, {report.exchanges_dropped} removed"
    click.echo(line, err=True)


@click.command("git-setup")
@click.option("--write", is_flag=True, help="Add the lines to .gitattributes and this repository's git config.")
@click.option("--command", "command", default="tarash", show_default=True,
              help="How git runs tarash (e.g. .venv/bin/tarash).")
def git_setup(write: bool, command: str) -> None:
    """Print (or with --write, install) the .gitattributes lines and git config that make
    git diff show cassettes as text and merge them with tarash cassette merge.

    \b
    Example:
        tarash cassette git-setup --write --command .venv/bin/tarash
    """
    config = git_config_lines(command)
    if not write:
        click.echo("# .gitattributes")
        for line in GITATTRIBUTES:
            click.echo(line)
        click.echo("# git config (this repository)")
        for name, value in config:
            click.echo(f"git config {name} {json.dumps(value)}")
        return
    attributes = Path(".gitattributes")
    held = attributes.read_text().splitlines() if attributes.exists() else []
    missing = [line for line in GITATTRIBUTES if line not in held]
    if missing:
        with attributes.open("a") as out:
            if held and held[-1].strip():
                out.write("\n")
            out.write("\n".join(missing) + "\n")
    for name, value in config:
        done = subprocess.run(["git", "config", name, value], capture_output=True, text=True)
        if done.returncode:
            raise click.ClickException(f"git config {name} failed: {done.stderr.strip() or 'not a git repository?'}")
    click.echo(f"wrote {plural(len(missing), 'line')} to .gitattributes and {plural(len(config), 'git config entry', 'git config entries')}")


@click.command()
@click.argument("path", type=CassetteArgument())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of Markdown.")
def summary(path: Path | str, as_json: bool) -> None:
    """A cassette in a few lines for a PR description: counts per provider, model and
    outcome, media size, oldest and newest recording.

    PATH is a cassette file or a postgresql:// URL.

    \b
    Example:
        tarash cassette summary cassettes/run.db >> pr.md
        tarash cassette summary cassettes/run.db --json
    """
    with opened(path) as store, library_errors():
        rows, stats = store.recordings(), store.stats()
        shown = store.path
    counts = Counter((r["provider"], r["model"], r["outcome"]) for r in rows)
    data: dict[str, Any] = {
        "cassette": shown, "recordings": len(rows), "http_interactions": stats["http_interactions"],
        "http_exchanges": stats["http_exchanges"],
        "by": [{"provider": p, "model": m, "outcome": o, "count": n} for (p, m, o), n in sorted(counts.items())],
        "media_blobs": stats["blobs"], "media_bytes": stats["blob_bytes"],
        "oldest": stats["first_recorded"], "newest": stats["last_recorded"],
    }
    if as_json:
        emit_json(data)
        return
    click.echo(safe(f"**{shown}**: {plural(len(rows), 'recording')}, "
                    f"{plural(stats['http_exchanges'], 'HTTP exchange')}, "
                    f"{plural(stats['http_interactions'], 'imported HTTP interaction')}, "
                    f"{plural(stats['blobs'], 'blob')} ({size(stats['blob_bytes'])})"))
    if data["oldest"]:
        click.echo(safe(f"recorded {data['oldest']} .. {data['newest']}"))
    click.echo("")
    cells = [["provider", "model", "outcome", "recordings"]] + [
        [_cell(i["provider"]), _cell(i["model"]), _cell(i["outcome"]), str(i["count"])] for i in data["by"]]
    widths = [max(width_of(row[c]) for row in cells) for c in range(4)]
    for n, row in enumerate(cells):  # a Markdown table, aligned so it reads as well in a terminal
        click.echo("| " + " | ".join(v + " " * (widths[c] - width_of(v)) for c, v in enumerate(row)) + " |")
        if n == 0:
            click.echo("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _cell(value: Any) -> str:
    """A Markdown table cell: escaped for the terminal, `|` escaped for Markdown."""
    return safe(str(value)).replace("|", "\\|")
