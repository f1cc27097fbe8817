"""`tarash cassette ls` and `show`: what cassettes hold, as aligned tables or as JSON.

Both take cassette files and `postgresql://` URLs and speak only the store protocol.
The JSON shapes (`--json`) are documented in docs/cli.md and kept stable: one document
on stdout, nothing else there.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from .common import echo, emit_json, library_errors, open_cassette, opened, size
from .output import plural, table
from .params import CassetteArgument

__all__ = ["exchange_line", "ls", "recording_line", "show", "summary_line"]

_ROW_ID = click.IntRange(1, 2**63 - 1)


def _cassettes(paths: tuple[Path | str, ...]) -> list[Path | str]:
    """The cassettes named: URLs and files as given, directories searched for `*.db`."""
    if not paths:
        default = Path("cassettes")
        if not default.is_dir():
            raise click.ClickException("no cassettes/ directory here; name the cassettes or directories to list")
        paths = (default,)
    found: list[Path | str] = []
    try:
        for p in paths:
            if isinstance(p, str):
                found.append(p)
            else:
                found.extend([p] if p.is_file() else sorted(p.rglob("*.db")))
    except OSError as error:
        raise click.ClickException(f"cannot list {error.filename}: {error.strerror or error}") from error
    return list(dict.fromkeys(found))


@click.command("ls")
@click.argument("paths", nargs=-1, type=CassetteArgument(dir_okay=True))
@click.option("--expired", is_flag=True, help="List the recordings older than --max-age instead.")
@click.option("--max-age", "max_age", metavar="AGE", envvar="TARASH_CASSETTE_MAX_AGE",
              help="The age past which a recording is expired: days, or '30d', '12h' (env TARASH_CASSETTE_MAX_AGE).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
def ls(paths: tuple[Path | str, ...], expired: bool, max_age: str | None, as_json: bool) -> None:
    """List cassettes (default: the cassettes/ directory) with their contents.

    PATHS are cassette files, directories (searched for *.db) or postgresql:// URLs.
    The http column counts HTTP-level exchanges, imported the vcrpy and HAR
    interactions. A cassette that cannot be read is listed as such after the others,
    and the command then exits 1.

    \b
    Example:
        tarash cassette ls
        tarash cassette ls cassettes/ 'postgresql://ci@db/tarash?cassette=farm'
        tarash cassette ls --expired --max-age 90 --json
    """
    files = _cassettes(paths)
    if expired:
        _ls_expired(files, max_age, as_json)
        return
    listed = [_listed(f) for f in files]
    if as_json:
        emit_json({"cassettes": listed})
    elif not files:
        echo("no cassettes found")
    else:
        rows = [[c["cassette"], c["recordings"], c["errors"], c["http_exchanges"], c["http_interactions"], c["blobs"],
                 size(c["stored_bytes"] if c["stored_bytes"] is not None else c["blob_bytes"])]
                for c in listed if "error" not in c]
        for line in table(["cassette", "recordings", "errors", "http", "imported", "blobs", "size"], rows,
                          right=range(1, 7), shrink=[0]) if rows else []:
            echo(line)
        for c in listed:
            if "error" in c:
                echo(f"unreadable: {' '.join(c['error'].split())}")
    unreadable = sum("error" in c for c in listed)
    if unreadable:  # listed above (the others too); the exit status says not all could be read
        raise click.ClickException(f"{unreadable} of {plural(len(listed), 'cassette')} cannot be read")


def _listed(path: Path | str) -> dict[str, Any]:
    """One cassette's `ls` entry: its summary, or the reason it cannot be read."""
    from ..cassettes.maintenance import summary
    from ..cassettes.protocol import display_name
    from ..exceptions import CassetteError

    try:
        store = open_cassette(path)
    except CassetteError as error:
        return {"cassette": display_name(str(path)), "error": str(error)}
    try:
        return {"cassette": store.path, **summary(store)}
    except CassetteError as error:
        return {"cassette": store.path, "error": str(error)}
    finally:
        store.close()


def _ls_expired(files: list[Path | str], max_age: str | None, as_json: bool) -> None:
    from ..cassettes.lifecycle import describe_age, is_expired, parse_max_age

    try:
        age = parse_max_age(max_age, source="--max-age")
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if age is None:
        raise click.UsageError("--expired needs --max-age (or TARASH_CASSETTE_MAX_AGE)")
    now, found = time.time(), []
    for file in files:
        with opened(file) as store, library_errors():
            found += [{"cassette": store.path, "id": r["id"], "provider": r["provider"], "model": r["model"],
                       "outcome": r["outcome"], "recorded_at": r["recorded_at"], "age": describe_age(r, now)}
                      for r in store.recordings() if is_expired(r, now, age)]
    if as_json:
        emit_json({"max_age_seconds": age, "cassettes": len(files), "expired": found})
        return
    rows = [[f["cassette"], f"#{f['id']}", f"{f['provider']}/{f['model']}", f["outcome"], f["recorded_at"], f["age"]]
            for f in found]
    if rows:
        for line in table(["cassette", "id", "model", "outcome", "recorded", "age"], rows, shrink=[0, 2]):
            echo(line)
    echo(f"{plural(len(found), 'expired recording')} in {plural(len(files), 'cassette')}")


@click.command()
@click.argument("path", type=CassetteArgument())
@click.option("--id", "recording_id", type=_ROW_ID, help="Show one recording in full.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
def show(path: Path | str, recording_id: int | None, as_json: bool) -> None:
    """Show what a cassette holds: its recordings, HTTP exchanges and imported HTTP
    interactions, one line each, or one recording in full.

    PATH is a cassette file or a postgresql:// URL. Control characters stored in the
    cassette are printed as escapes (\\x1b, \\u202e). A damaged row is shown as such,
    and the command then exits 1.

    \b
    Example:
        tarash cassette show cassettes/run.db
        tarash cassette show cassettes/run.db --id 3
        tarash cassette show 'postgresql://ci@db/tarash?cassette=farm' --json
    """
    from ..cassettes.maintenance import summary

    with opened(path) as store, library_errors():
        if recording_id is not None:
            full, damage = _full(store, recording_id)
            if full is None:
                raise click.ClickException(f"{store.path} has no recording #{recording_id}")
            emit_json(full)
        else:
            lines = [recording_line(store, r) for r in store.recordings()]
            damage = [problem for _, problem in lines if problem]
            out = {"summary": {"cassette": store.path, **summary(store)}, "recordings": [row for row, _ in lines],
                   "http_exchanges": [exchange_line(x) for x in store.exchanges()],
                   "http_interactions": [_interaction_line(h) for h in store.http_interactions()]}
            if as_json:
                emit_json(out)
            else:
                _tables(out)
    if damage:
        raise click.ClickException(f"{damage[0]}" + (f" (and {len(damage) - 1} more)" if damage[1:] else ""))


def _full(store: Any, recording_id: int) -> tuple[dict[str, Any] | None, list[str]]:
    """One recording in full, and the damage met (a column that is not JSON is shown as text)."""
    row = store.get(recording_id)
    if row is None:
        return None, []
    full = {k: row[k] for k in ("id", "key", "seq", "kind", "provider", "model", "outcome", "duration",
                                "library_version", "recorded_at")}
    damage = []
    for name in ("request", "response", "error", "timeline"):
        full[name], problem = _decoded(store, row, name)
        if problem:
            damage.append(problem)
    full["media"] = list(store.media(recording_id).values())
    return full, damage


def _decoded(store: Any, row: dict[str, Any], name: str) -> tuple[Any, str | None]:
    from ..cassettes.maintenance import decode_field
    from ..exceptions import CassetteError

    try:
        return decode_field(store, row, name), None
    except CassetteError as error:
        text = str(row[name])
        return {"damaged": text if len(text) <= 200 else text[:197] + "..."}, str(error)


def summary_line(s: dict[str, Any]) -> str:
    """`run.db: 3 recordings (1 error), 2 HTTP exchanges, 13 imported HTTP interactions, 4 blobs (1.2 MB)`."""
    parts = [plural(s["http_exchanges"], "HTTP exchange"), plural(s["http_interactions"], "imported HTTP interaction"),
             f"{plural(s['blobs'], 'blob')} ({size(s['blob_bytes'] or 0)})"]
    return f"{s['cassette']}: {plural(s['recordings'], 'recording')} ({plural(s['errors'], 'error')}), " + ", ".join(parts)


def _tables(out: dict[str, Any]) -> None:
    echo(summary_line(out["summary"]))
    if out["recordings"]:
        echo()
        rows = [[f"#{r['id']}", r["kind"], f"{r['provider']}/{r['model']}", r["seq"], r["outcome"],
                 f"{r['duration']:.2f}s" if isinstance(r["duration"], int | float) else "-", r["updates"],
                 _when(r["recorded_at"]), repr(r["prompt"])] for r in out["recordings"]]
        for line in table(["id", "kind", "model", "seq", "outcome", "duration", "updates", "recorded", "prompt"],
                          rows, right=[3, 5, 6], shrink=[8, 2]):
            echo(line)
    if out["http_exchanges"]:
        echo()
        rows = [[f"#{x['id']}", x["method"], x["status"], x["role"], x["seq"], _when(x["recorded_at"]), x["url"]]
                for x in out["http_exchanges"]]
        for line in table(["exchange", "method", "status", "role", "seq", "recorded", "url"], rows, right=[2, 4],
                          shrink=[6]):
            echo(line)
    if out["http_interactions"]:
        echo()
        rows = [[f"#{h['id']}", h["method"], h["status"], _when(h["recorded_at"]), h["uri"]]
                for h in out["http_interactions"]]
        for line in table(["imported", "method", "status", "recorded", "uri"], rows, right=[2], shrink=[4]):
            echo(line)


def _when(recorded_at: Any) -> Any:
    """`2026-01-01 00:00:00` of an ISO time (UTC, as recorded; `--json` has it in full)."""
    text = str(recorded_at) if recorded_at is not None else None
    return text[:19].replace("T", " ") if text and len(text) >= 19 and text[10] == "T" else text


def recording_line(store: Any, row: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """One recording's entry in `show`, and the damage met (shown as `<damaged>`)."""
    request, problem = _decoded(store, row, "request")
    timeline, timeline_problem = _decoded(store, row, "timeline")
    inner = request.get("request") if isinstance(request, dict) and not problem else None
    prompt = "<damaged>" if problem else str(inner.get("prompt", "")) if isinstance(inner, dict) else ""
    line = {
        "id": row["id"], "seq": row["seq"], "kind": row["kind"], "provider": row["provider"], "model": row["model"],
        "outcome": row["outcome"], "duration": row["duration"],
        "updates": len(timeline) if isinstance(timeline, list) and not timeline_problem else 0,
        "prompt": prompt if len(prompt) <= 50 else prompt[:47] + "...", "recorded_at": row["recorded_at"],
    }
    return line, problem or timeline_problem


def exchange_line(row: dict[str, Any]) -> dict[str, Any]:
    """One HTTP exchange's entry in `show`."""
    return {k: row.get(k) for k in ("id", "key", "seq", "method", "url", "status", "provider", "role", "recorded_at")}


def _interaction_line(row: dict[str, Any]) -> dict[str, Any]:
    import json

    try:
        response = json.loads(row["response"])
        status = response.get("status", {}).get("code") if isinstance(response, dict) else None
    except (ValueError, TypeError, AttributeError):
        status = None
    return {"id": row["id"], "method": row["method"], "uri": row["uri"],
            "status": status if isinstance(status, int) else None, "recorded_at": row["recorded_at"]}
