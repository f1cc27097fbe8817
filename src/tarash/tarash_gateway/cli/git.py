"""``tarash cassette diff | textconv | merge | git-setup | summary``: cassettes in a team's
git repository (review, merge, PR descriptions). The commands parse and print; the work is
in :mod:`..cassettes.merge`."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import click

from .cassette import _library_errors, _opened, _size, cassette_group
from .terminal import safe

__all__ = ["GITATTRIBUTES", "git_config_lines"]

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


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@cassette_group.command()
@click.argument("a", type=_FILE)
@click.argument("b", type=_FILE)
def diff(a: Path, b: Path) -> None:
    """What changed from cassette A to cassette B: recordings added (+), removed (-) and
    changed (~, field by field), matched by request and sequence. Exits 1 when they differ.

    \b
    Example:
        tarash cassette diff main.db branch.db
    """
    from ..cassettes.merge import diff_cassettes

    with _opened(a) as left, _opened(b) as right, _library_errors():
        lines = list(diff_cassettes(left, right))
    for line in lines:
        click.echo(safe(line))
    if lines:
        raise SystemExit(1)
    click.echo("no differences")


@cassette_group.command()
@click.argument("path", type=_FILE)
def textconv(path: Path) -> None:
    """Print a cassette as text for git diff: one stable line per recording, media by hash
    and size (set up by `tarash cassette git-setup`).

    \b
    Example:
        tarash cassette textconv cassettes/run.db
    """
    from ..cassettes.merge import textconv_lines

    with _opened(path) as store, _library_errors():
        for line in textconv_lines(store):
            click.echo(safe(line))  # git shows it on a terminal: nothing stored may drive it


@cassette_group.command()
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=_FILE)
@click.argument("theirs", type=_FILE)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
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
    Example (git runs it as `tarash cassette merge %O %A %B --name %P`):
        tarash cassette merge base.db ours.db theirs.db
    """
    from ..cassettes.merge import merge_cassettes, merge_exports

    merger = merge_exports if ours.suffix == ".jsonl" else merge_cassettes
    with _library_errors():
        report = merger(base, ours, theirs, output)
    for key in report.conflicts:
        click.echo(f"warning: both sides recorded a different answer to request {key[:12]}...; both kept, "
                   "ours first", err=True)
    click.echo(f"merged {name or ours.name}: {report.kept} kept, {report.added} added, {report.dropped} removed", err=True)


@cassette_group.command("git-setup")
@click.option("--write", is_flag=True, help="Add the lines to .gitattributes and this repository's git config.")
@click.option("--command", "command", default="tarash", show_default=True,
              help="How git runs tarash (e.g. .venv/bin/tarash).")
def git_setup(write: bool, command: str) -> None:
    """Print (or with --write, install) the .gitattributes lines and git config that make
    git diff show cassettes as text and merge them with `tarash cassette merge`.

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
    click.echo(f"wrote {len(missing)} line(s) to .gitattributes and {len(config)} git config entries")


@cassette_group.command()
@click.argument("path", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of Markdown.")
def summary(path: Path, as_json: bool) -> None:
    """A cassette in a few lines for a PR description: counts per provider, model and
    outcome, media size, oldest and newest recording.

    \b
    Example:
        tarash cassette summary cassettes/run.db >> pr.md
    """
    with _opened(path) as store, _library_errors():
        rows = store.query("SELECT provider, model, outcome, recorded_at FROM recordings")
        media = store.query("SELECT coalesce(sum(size), 0) AS bytes, count(*) AS n FROM blobs")[0]
        https = len(store.http_interactions())
    counts = Counter((r["provider"], r["model"], r["outcome"]) for r in rows)
    times = sorted(r["recorded_at"] for r in rows if r["recorded_at"])
    data = {
        "cassette": str(path), "recordings": len(rows), "http_interactions": https,
        "by": [{"provider": p, "model": m, "outcome": o, "count": n} for (p, m, o), n in sorted(counts.items())],
        "media_blobs": media["n"], "media_bytes": media["bytes"],
        "oldest": times[0] if times else None, "newest": times[-1] if times else None,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(safe(f"**{path}**: {len(rows)} recording(s), {https} HTTP interaction(s), "
               f"{media['n']} blob(s) ({_size(media['bytes'])})"))
    if times:
        click.echo(safe(f"recorded {times[0]} .. {times[-1]}"))
    click.echo("")
    click.echo("| provider | model | outcome | recordings |")
    click.echo("|---|---|---|---|")
    for item in data["by"]:  # type: ignore[attr-defined]
        click.echo(safe(f"| {item['provider']} | {item['model']} | {item['outcome']} | {item['count']} |"))
