"""`tarash cassette verify` and `prune`: checking and trimming cassettes, files and
`postgresql://` URLs alike, through the store protocol, with progress bars."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from .common import echo, emit_json, library_errors, open_cassette, opened, progress, size, ticker
from .output import plural
from .params import CassetteArgument, FiniteRange

__all__ = ["prune", "verify"]

#: How `verify` names what it counted, by table.
_NOUNS = {"recordings": "recording", "blobs": "blob", "media": "media item", "http_interactions": "HTTP interaction",
          "http_exchanges": "HTTP exchange"}


def _checked(path: Path | str) -> dict[str, Any]:
    """`verify`'s entry for one cassette: `cassette`, `ok`, `counts`, `problems`, `notes`."""
    from ..cassettes.protocol import display_name
    from ..cassettes.store_check import verify_cassette
    from ..exceptions import CassetteError

    try:
        store = open_cassette(path)
    except CassetteError as error:
        return {"cassette": display_name(str(path)), "ok": False, "counts": {}, "problems": [str(error)], "notes": []}
    try:
        total = store.stats()["blob_bytes"] or 0
        with progress(total, f"verifying {Path(path).name if isinstance(path, Path) else 'cassette'}") as bar:
            report = verify_cassette(store, bar.update)
    except CassetteError as error:
        return {"cassette": store.path, "ok": False, "counts": {}, "problems": [str(error)], "notes": []}
    finally:
        store.close()
    return {"cassette": store.path, "ok": report.ok, "counts": report.counts, "problems": report.problems,
            "notes": report.notes}


@click.command()
@click.argument("paths", nargs=-1, required=True, type=CassetteArgument(exists=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document of what was found.")
def verify(paths: tuple[Path | str, ...], as_json: bool) -> None:
    """Check cassettes and re-hash every stored blob; exit 1 if one is damaged.

    A file is checked page by page, row by row; a postgresql:// URL recording by
    recording, with the blobs they refer to.

    \b
    Example:
        tarash cassette verify cassettes/*.db
        tarash cassette verify 'postgresql://ci@db/tarash?cassette=farm' --json
    """
    checked = [_checked(p) for p in paths]
    damaged = sum(not c["ok"] for c in checked)
    if as_json:
        emit_json({"ok": not damaged, "cassettes": checked})
    else:
        for c in checked:
            if c["ok"]:
                counts = ", ".join(plural(n, _NOUNS.get(t, t)) for t, n in c["counts"].items())
                echo(f"ok {c['cassette']}: {counts}")
            elif not c["counts"] and len(c["problems"]) == 1:
                echo(f"DAMAGED {c['cassette']}: {c['problems'][0]}")
            else:
                echo(f"DAMAGED {c['cassette']}: {plural(len(c['problems']), 'problem')}")
                for problem in c["problems"]:
                    echo(f"  - {' '.join(problem.split())}")
            for note in c["notes"]:
                echo(f"  note: {' '.join(note.split())}")
    if damaged:
        raise click.ClickException(f"{damaged} of {plural(len(paths), 'cassette')} damaged")


@click.command()
@click.argument("path", type=CassetteArgument())
@click.option("--provider", help="Only recordings of this provider.")
@click.option("--model", help="Only recordings of this model.")
@click.option("--older-than", "older_than", type=FiniteRange(min=0), metavar="DAYS",
              help="Only recordings older than DAYS (0 or more).")
@click.option("--errors", is_flag=True, help="Only recorded errors.")
@click.option("--unused", is_flag=True, help="Only recordings the last strict run (--tarash-strict) did not replay.")
@click.option("--dry-run", is_flag=True, help="Say what would go, delete nothing.")
@click.option("--vacuum", is_flag=True, help="Give the freed space back to the disk.")
def prune(path: Path | str, provider: str | None, model: str | None, older_than: float | None, errors: bool,
          unused: bool, dry_run: bool, vacuum: bool) -> None:
    """Delete recordings matching every filter given, then blobs nothing uses.

    With no filter, only unused blobs are deleted. PATH is a cassette file or a
    postgresql:// URL (whose blobs are shared by the database's cassettes: one goes
    only when no cassette uses it).

    \b
    Example:
        tarash cassette prune cassettes/run.db --provider fal --older-than 90 --vacuum
    """
    from ..cassettes.maintenance import prune as prune_store

    with opened(path) as store, library_errors(), contextlib.ExitStack() as bars:
        result = prune_store(store, provider=provider, model=model, older_than_days=older_than, errors_only=errors,
                             unused=unused, dry_run=dry_run, vacuum=vacuum, on_count=ticker(bars, "pruning"))
    verb = "would delete" if dry_run else "deleted"
    echo(f"{verb} {plural(result.recordings, 'recording')} and {plural(result.blobs, 'unused blob')} "
         f"({size(result.blob_bytes)})")
