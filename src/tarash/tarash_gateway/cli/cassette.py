"""`tarash cassette`: list, show, verify, prune, import and export cassette files.

Thin by design: each command parses its options, calls the cassette library, and
prints. Library errors (`CassetteError`, a `ValidationError` of
a setting) become `click.ClickException` (a one-line `Error: ...` and exit status 1);
bad options are click's usage errors (exit status 2). Everything printed goes through
`terminal`, so nothing stored in a cassette can drive the terminal.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ..cassettes.protocol import Store
from ..cassettes.store import CassetteStore
from ..exceptions import CassetteError, TarashException
from .params import BYTE_SIZE, CassetteArgument, FiniteRange
from .serve import serve_command
from .terminal import JSONTerminal, one_line, safe, safe_json

__all__ = ["cassette_group"]

_ROW_ID = click.IntRange(1, 2**63 - 1)


@contextlib.contextmanager
def _library_errors() -> Iterator[None]:
    try:
        yield
    except TarashException as error:
        raise click.ClickException(one_line(str(error))) from error
    except KeyError as error:  # a row without a column of the schema: the file's schema was damaged
        raise click.ClickException(one_line(f"a table lacks its column {error}: the cassette is damaged "
                                            "(run tarash cassette verify)")) from error
    except json.JSONDecodeError as error:  # a stored row that is not JSON (the commands take no JSON of their own)
        raise click.ClickException(one_line(f"a row of the cassette is not valid JSON ({error}): it is damaged "
                                            "(run tarash cassette verify)")) from error


def _echo(text: str = "", *, err: bool = False) -> None:
    click.echo(safe(text), err=err)


def _open(path: Path, *, create: bool) -> CassetteStore:
    """`CassetteStore.open`, closing what it opened when it refuses the file, so no
    `-wal`/`-shm` stays behind a file that is not a cassette."""
    store = CassetteStore(path)
    try:
        store.check(create=create)
    except BaseException:
        store.close()
        raise
    return store


@contextlib.contextmanager
def _opened(path: Path, *, create: bool = False) -> Iterator[CassetteStore]:
    with _library_errors():
        store = _open(path, create=create)
        try:
            yield store
        finally:
            store.close()


def _progress(length: int, label: str) -> Any:
    # On stderr, so an export to stdout stays clean; click draws it only on a terminal.
    return click.progressbar(length=length, label=label, file=sys.stderr)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


@click.group("cassette")
def cassette_group() -> None:
    """Inspect and maintain SQLite cassettes.

    \b
    Example:
        tarash cassette verify cassettes/run.db
    """


@cassette_group.command("ls")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--expired", is_flag=True, help="List the recordings older than --max-age instead.")
@click.option("--max-age", "max_age", metavar="AGE", envvar="TARASH_CASSETTE_MAX_AGE",
              help="The age past which a recording is expired: days, or '30d', '12h' (env TARASH_CASSETTE_MAX_AGE).")
def ls(paths: tuple[Path, ...], expired: bool, max_age: str | None) -> None:
    """List cassettes (default: the `cassettes/` directory) with their contents.

    \b
    Example:
        tarash cassette ls
        tarash cassette ls cassettes/ other/run.db
        tarash cassette ls --expired --max-age 90
    """
    from ..cassettes.maintenance import summary

    if not paths:
        default = Path("cassettes")
        if not default.is_dir():
            raise click.ClickException("no cassettes/ directory here; name the cassettes or directories to list")
        paths = (default,)
    try:
        files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*.db"))})
    except OSError as error:
        raise click.ClickException(one_line(f"cannot list {error.filename}: {error.strerror or error}")) from error
    if not files:
        _echo("no cassettes found")
        return
    if expired:
        _ls_expired(files, max_age)
        return
    _echo(f"{'cassette':40} {'recordings':>10} {'errors':>6} {'http':>6} {'blobs':>6} {'size':>10}")
    for file in files:
        try:
            store = _open(file, create=False)
            try:
                s = summary(store)
            finally:
                store.close()
        except CassetteError as error:
            _echo(f"{str(file):40} unreadable: {one_line(str(error))}")
            continue
        _echo(
            f"{str(file):40} {s['recordings']:>10} {s['errors']:>6} {s['http_interactions']:>6} "
            f"{s['blobs']:>6} {_size(s['file_bytes']):>10}"
        )


def _ls_expired(files: list[Path], max_age: str | None) -> None:
    from ..cassettes.lifecycle import describe_age, is_expired, parse_max_age

    try:
        age = parse_max_age(max_age, source="--max-age")
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if age is None:
        raise click.UsageError("--expired needs --max-age (or TARASH_CASSETTE_MAX_AGE)")
    now, found = time.time(), 0
    for file in files:
        with _opened(file) as store:
            for row in store.query("SELECT id, provider, model, outcome, recorded_at, recorded_ts FROM recordings"):
                if is_expired(row, now, age):
                    found += 1
                    _echo(f"{file}  #{row['id']!s:<6} {row['provider']}/{row['model']!s:30} {row['outcome']!s:8} "
                          f"{row['recorded_at']}  {describe_age(row, now)}")
    _echo(f"{found} expired recording(s) in {len(files)} cassette(s)")


@cassette_group.command()
@click.argument("path", type=CassetteArgument())
@click.option("--id", "recording_id", type=_ROW_ID, help="Show one recording in full.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def show(path: Path, recording_id: int | None, as_json: bool) -> None:
    """Show what a cassette holds: one line per recording, or one recording in full.

    Control characters stored in the cassette are printed as escapes (\\x1b, \\u202e).
    A damaged row is shown as such, and the command then exits 1.

    \b
    Example:
        tarash cassette show cassettes/run.db
        tarash cassette show cassettes/run.db --id 3
    """
    from ..cassettes.maintenance import summary

    if isinstance(path, str):  # a postgresql:// URL
        from .store import show_url

        return show_url(path, recording_id, as_json)
    with _opened(path) as store, _library_errors():
        if recording_id is not None:
            full, damage = _full(store, recording_id)
            if full is None:
                raise click.ClickException(f"{safe(str(path))} has no recording #{recording_id}")
            click.echo(safe_json(json.dumps(full, indent=2, ensure_ascii=False, default=str)))
        else:
            lines = [_line(store, r) for r in store.recordings()]
            damage = [problem for _, problem in lines if problem]
            rows = [row for row, _ in lines]
            if as_json:
                out = {"summary": summary(store), "recordings": rows}
                click.echo(safe_json(json.dumps(out, indent=2, ensure_ascii=False, default=str)))
            else:
                _table(path, summary(store), rows)
    if damage:
        raise click.ClickException(one_line(f"{damage[0]}" + (f" (and {len(damage) - 1} more)" if damage[1:] else "")))


def _full(store: CassetteStore, recording_id: int) -> tuple[dict[str, Any] | None, list[str]]:
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


def _decoded(store: Store, row: dict[str, Any], name: str) -> tuple[Any, str | None]:
    from ..cassettes.maintenance import decode_field

    try:
        return decode_field(store, row, name), None
    except CassetteError as error:
        text = str(row[name])
        return {"damaged": text if len(text) <= 200 else text[:197] + "..."}, str(error)


def _table(path: Path, s: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    _echo(f"{path}: {s['recordings']} recordings ({s['errors']} errors), {s['http_interactions']} HTTP "
          f"interactions, {s['blobs']} blobs ({_size(s['blob_bytes'] or 0)})")
    for r in rows:
        duration = r["duration"] if isinstance(r["duration"], int | float) else 0
        _echo(f"#{r['id']!s:<5} {r['kind']!s:5} {r['provider']}/{r['model']}  seq {r['seq']}  {r['outcome']!s:8} "
              f"{duration:7.2f}s  {r['updates']} updates  {r['prompt']!r}")


def _line(store: Store, row: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """One recording's table line, and the damage met (shown as `<damaged>`)."""
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


@cassette_group.command()
@click.argument("paths", nargs=-1, required=True, type=CassetteArgument(exists=False))
def verify(paths: tuple[Path, ...]) -> None:
    """Check cassettes page by page and re-hash every stored blob; exit 1 if one is damaged.

    \b
    Example:
        tarash cassette verify cassettes/*.db
    """
    from ..cassettes.maintenance import verify as verify_store

    damaged = 0
    for path in paths:
        if isinstance(path, str):  # a postgresql:// URL
            from .store import verify_url

            damaged += not verify_url(path)
            continue
        try:
            store = _open(path, create=False)
            try:
                report = verify_store(store)
            finally:
                store.close()
        except CassetteError as error:
            _echo(f"DAMAGED {path}: {one_line(str(error))}")
            damaged += 1
            continue
        if report.ok:
            counts = ", ".join(f"{n} {table}" for table, n in report.counts.items())
            _echo(f"ok {path}: {counts}")
        else:
            damaged += 1
            _echo(f"DAMAGED {path}: {len(report.problems)} problem(s)")
            for problem in report.problems:
                _echo(f"  - {one_line(problem)}")
        for note in report.notes:
            _echo(f"  note: {one_line(note)}")
    if damaged:
        raise click.ClickException(f"{damaged} of {len(paths)} cassette(s) damaged")


@cassette_group.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", help="Only recordings of this provider.")
@click.option("--model", help="Only recordings of this model.")
@click.option("--older-than", "older_than", type=FiniteRange(min=0), metavar="DAYS",
              help="Only recordings older than DAYS (0 or more).")
@click.option("--errors", is_flag=True, help="Only recorded errors.")
@click.option("--unused", is_flag=True, help="Only recordings the last strict run (--tarash-strict) did not replay.")
@click.option("--dry-run", is_flag=True, help="Say what would go, delete nothing.")
@click.option("--vacuum", is_flag=True, help="Give the freed space back to the disk.")
def prune(path: Path, provider: str | None, model: str | None, older_than: float | None, errors: bool,
          unused: bool, dry_run: bool, vacuum: bool) -> None:
    """Delete recordings matching every filter given, then blobs nothing uses.

    With no filter, only unused blobs are deleted.

    \b
    Example:
        tarash cassette prune cassettes/run.db --provider fal --older-than 90 --vacuum
    """
    from ..cassettes.maintenance import prune as prune_store

    with _opened(path) as store, _library_errors():
        result = prune_store(store, provider=provider, model=model, older_than_days=older_than, errors_only=errors,
                             unused=unused, dry_run=dry_run, vacuum=vacuum)
    verb = "would delete" if dry_run else "deleted"
    _echo(f"{verb} {result.recordings} recording(s) and {result.blobs} unused blob(s) ({_size(result.blob_bytes)})")


@cassette_group.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--blobs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="For a JSONL export: the directory its blobs were written to.")
@click.option("--max-body-size", type=BYTE_SIZE, metavar="SIZE",
              help="Refuse a body larger than SIZE, stored or decompressed (like 64M; default "
                   "$TARASH_MAX_BODY_SIZE or 512M).")
def import_(source: Path, path: Path, blobs_dir: Path | None, max_body_size: int | None) -> None:
    """Add a vcrpy YAML cassette (.yaml, .yml), a HAR file (.har) or a JSONL export (.jsonl) to a cassette.

    Secrets are scrubbed on the way in. Importing the same file twice adds nothing. The
    file is checked first and imported in one transaction: a malformed or oversized
    file adds nothing, and a cassette the import would have created is not left behind.

    \b
    Example:
        tarash cassette import tests/cassettes/run.yaml cassettes/replicate.db
        tarash cassette import run.jsonl cassettes/run.db --blobs-dir run-blobs/
        tarash cassette import session.har cassettes/browser.db
    """
    from ..cassettes import interop

    kind = source.suffix.lower()
    if kind not in (".yaml", ".yml", ".jsonl", ".har"):
        raise click.ClickException(f"{safe(str(source))}: give a vcrpy .yaml/.yml cassette, a .har file or a .jsonl export")
    with _library_errors():
        if kind == ".jsonl":
            with _progress(_count_lines(source), f"importing {source.name}") as bar, \
                    interop.importing(path) as store:
                recordings, https = interop.import_jsonl(source, store, blobs_dir=blobs_dir, progress=bar.update,
                                                         max_body_size=max_body_size)
            _echo(f"imported {recordings} recording(s) and {https} HTTP interaction(s) from {source} into {path}")
            return
        if kind == ".har":
            from ..cassettes import har

            log = har.load_har(source)
            with _progress(len(log.pairs), f"importing {source.name}") as bar, interop.importing(path) as store:
                added = har.import_har(log, store, progress=bar.update)
            skipped = f" ({log.skipped} without a response skipped)" if log.skipped else ""
            _echo(f"imported {added} new HTTP interaction(s) of {len(log.pairs)} from {source} into {path}{skipped}")
            return
        pairs = interop.load_vcr_yaml(source, max_body_size=max_body_size)  # checked before the cassette is made
        with _progress(len(pairs), f"importing {source.name}") as bar, interop.importing(path) as store:
            added = interop.import_vcr_pairs(pairs, store, progress=bar.update)
        _echo(f"imported {added} new HTTP interaction(s) of {len(pairs)} from {source} into {path}")


def _count_lines(source: Path) -> int:
    try:
        with source.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError as error:
        raise click.ClickException(one_line(f"cannot read {source}: {error.strerror or error}")) from error


@cassette_group.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default="-")
@click.option("--blobs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each blob to this directory, as a file named by its sha256.")
@click.option("--embed-blobs", is_flag=True, help="Put every blob's bytes in the JSONL (base64 when binary).")
@click.option("--format", "format_", type=click.Choice(["jsonl", "har"]),
              help="jsonl (default), or har: the HTTP interactions as HAR 1.2, bodies included (default for a .har OUTPUT).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def export(path: Path, output: Path, blobs_dir: Path | None, embed_blobs: bool, format_: str | None,
           force: bool) -> None:
    """Write a cassette as sorted JSONL (readable, diffable, importable again), or as HAR.

    One object per line: the header, blobs by hash (small text bodies inline), then
    recordings and HTTP interactions in a stable order. OUTPUT defaults to stdout. An
    existing OUTPUT is replaced only with --force, never the cassette itself; the file
    appears whole or not at all.

    \b
    Example:
        tarash cassette export cassettes/run.db run.jsonl --blobs-dir run-blobs/
        tarash cassette export cassettes/run.db | less
        tarash cassette export cassettes/run.db run.har
    """
    from ..cassettes import interop

    if (format_ or ("har" if output.suffix.lower() == ".har" else "jsonl")) == "har":
        _export_har(path, output)
        return
    to_stdout = str(output) == "-"
    with _opened(path) as store, _library_errors():
        total = interop.export_size(store)
        if blobs_dir is not None:
            try:
                blobs_dir.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise CassetteError(f"cannot make {blobs_dir}: {error.strerror or error}") from error
        options: dict[str, Any] = {"blobs_dir": blobs_dir, "embed_blobs": embed_blobs}
        with _progress(total, f"exporting {path.name}") as bar:
            if to_stdout:
                out = JSONTerminal(sys.stdout) if sys.stdout.isatty() else sys.stdout  # data stays as stored
                lines = interop.export_jsonl(store, out, progress=bar.update, **options)
            else:
                lines = interop.write_export(store, output, force=force, progress=bar.update, **options)
    if not to_stdout:
        _echo(f"exported {lines} line(s) from {path} to {output}")


def _export_har(path: Path, output: Path) -> None:
    from ..cassettes import har

    with _opened(path) as store, _library_errors():
        total = len(store.http_interactions())
        with _progress(total, f"exporting {path.name}") as bar, _output(output) as out:
            entries = har.export_har(store, out, progress=bar.update)
    if str(output) != "-":
        click.echo(f"exported {entries} HTTP interaction(s) from {path} to {output} as HAR 1.2")


@contextlib.contextmanager
def _output(output: Path) -> Iterator[Any]:
    if str(output) == "-":
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8") as handle:
        yield handle


@cassette_group.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def scan(paths: tuple[Path, ...], as_json: bool) -> None:
    """Look for secrets in cassettes, JSONL exports, vcrpy YAML and HAR files.

    Exits 1 naming each place (file, table and row or line, field) that holds a
    provider key, a JWT, an unredacted signed-URL parameter, a URL password, an
    Authorization header with a real value, or a random-looking value under a
    secret-looking name; 2 when a file cannot be read; 0 when all are clean.
    Directories are searched for .db, .jsonl, .yaml, .yml and .har files.

    \b
    Example:
        tarash cassette scan cassettes/
        tarash cassette scan run.db export.jsonl --json
    """
    from ..cassettes.scan import scan_paths

    report = scan_paths(paths)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for finding in report.findings:
            click.echo(str(finding))
        for error in report.errors:
            click.echo(f"Error: {error}", err=True)
        click.echo(report.summary())
    if not report.clean:
        sys.exit(2 if report.errors else 1)


cassette_group.add_command(serve_command)
