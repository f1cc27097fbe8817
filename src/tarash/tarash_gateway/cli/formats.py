"""`tarash cassette import`, `export` and `scan`: cassettes in and out of the formats
of other tools (vcrpy YAML, HAR, JSONL exports), and a look for secrets before any of
them leaves the machine. The commands parse and print; the work is in
`..cassettes.interop`, `..cassettes.har` and `..cassettes.scan`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import echo, emit_json, library_errors, opened, progress
from .output import plural
from .params import BYTE_SIZE, CassetteArgument, FilePath
from .terminal import JSONTerminal, safe

__all__ = ["export", "import_", "scan"]


@click.command("import")
@click.argument("source", type=FilePath(exists=True, dir_okay=False, path_type=Path))
@click.argument("path", type=FilePath(dir_okay=False, path_type=Path))
@click.option("--blobs-dir", type=FilePath(file_okay=False, path_type=Path),
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
    with library_errors():
        if kind == ".jsonl":
            with progress(_count_lines(source), f"importing {source.name}") as bar, \
                    interop.importing(path) as store:
                recordings, https = interop.import_jsonl(source, store, blobs_dir=blobs_dir, progress=bar.update,
                                                         max_body_size=max_body_size)
            echo(f"imported {plural(recordings, 'recording')} and {plural(https, 'HTTP interaction')} from {source} "
                 f"into {path}")
            return
        if kind == ".har":
            from ..cassettes import har

            log = har.load_har(source)
            with progress(len(log.pairs), f"importing {source.name}") as bar, interop.importing(path) as store:
                added = har.import_har(log, store, progress=bar.update)
            skipped = f" ({log.skipped} without a response skipped)" if log.skipped else ""
            echo(f"imported {plural(added, 'new HTTP interaction')} of {len(log.pairs)} from {source} into {path}"
                 f"{skipped}")
            return
        pairs = interop.load_vcr_yaml(source, max_body_size=max_body_size)  # checked before the cassette is made
        with progress(len(pairs), f"importing {source.name}") as bar, interop.importing(path) as store:
            added = interop.import_vcr_pairs(pairs, store, progress=bar.update)
        echo(f"imported {plural(added, 'new HTTP interaction')} of {len(pairs)} from {source} into {path}")


def _count_lines(source: Path) -> int:
    try:
        with source.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError as error:
        raise click.ClickException(f"cannot read {source}: {error.strerror or error}") from error


@click.command()
@click.argument("path", type=CassetteArgument())
@click.argument("output", type=FilePath(dir_okay=False, allow_dash=True, path_type=Path), default="-")
@click.option("--blobs-dir", type=FilePath(file_okay=False, path_type=Path),
              help="Also write each blob to this directory, as a file named by its sha256.")
@click.option("--embed-blobs", is_flag=True, help="Put every blob's bytes in the JSONL (base64 when binary).")
@click.option("--format", "format_", type=click.Choice(["jsonl", "har"]),
              help="jsonl (default), or har: the HTTP interactions and exchanges as HAR 1.2, bodies included "
                   "(default for a .har OUTPUT).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def export(path: Path | str, output: Path, blobs_dir: Path | None, embed_blobs: bool, format_: str | None,
           force: bool) -> None:
    """Write a cassette as sorted JSONL (readable, diffable, importable again), or as HAR.

    PATH is a cassette file or a postgresql:// URL. One object per line: the header,
    blobs by hash (small text bodies inline), then recordings, HTTP interactions and
    HTTP exchanges in a stable order, whichever store holds them. OUTPUT defaults to
    stdout. An existing OUTPUT is replaced only with --force, never the cassette itself;
    the file appears whole or not at all.

    As HAR (--format har, or a .har OUTPUT) it writes one entry per imported HTTP
    interaction, then one per HTTP exchange the HTTP level recorded (vendor SDKs over
    httpx), in recorded order, as stored: for browser devtools or any HAR viewer.

    \b
    Example:
        tarash cassette export cassettes/run.db run.jsonl --blobs-dir run-blobs/
        tarash cassette export cassettes/run.db | less
        tarash cassette export cassettes/run.db run.har
        tarash cassette export 'postgresql://ci@db:5432/tarash?cassette=farm' farm.jsonl
    """
    from ..cassettes import interop

    if (format_ or ("har" if output.suffix.lower() == ".har" else "jsonl")) == "har":
        _export_har(path, output, force)
        return
    to_stdout = str(output) == "-"
    with opened(path) as store, library_errors():
        total = interop.export_size(store)
        if blobs_dir is not None:
            try:
                blobs_dir.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise click.ClickException(f"cannot make {blobs_dir}: {error.strerror or error}") from error
        options: dict[str, Any] = {"blobs_dir": blobs_dir, "embed_blobs": embed_blobs}
        with progress(total, f"exporting {_label(path)}") as bar:
            if to_stdout:
                out = JSONTerminal(sys.stdout) if sys.stdout.isatty() else sys.stdout  # data stays as stored
                lines = interop.export_jsonl(store, out, progress=bar.update, **options)
            else:
                lines = interop.write_export(store, output, force=force, progress=bar.update, **options)
        shown = store.path  # a URL without its password
    if not to_stdout:
        echo(f"exported {plural(lines, 'line')} from {shown} to {output}")


def _export_har(path: Path | str, output: Path, force: bool) -> None:
    from ..cassettes import har, interop

    with opened(path) as store, library_errors():
        total = store.count_http_interactions() + store.count_exchanges()
        with progress(total, f"exporting {_label(path)}") as bar:
            if str(output) == "-":
                har.export_har(store, sys.stdout, progress=bar.update)
                return
            entries = interop.write_output(store, output, lambda out: har.export_har(store, out, progress=bar.update),
                                           force=force)
        shown = store.path
    echo(f"exported {plural(entries, 'entry')} from {shown} to {output} as HAR 1.2")


def _label(path: Path | str) -> str:
    """What a progress bar calls the cassette: a file by its name (a URL is long)."""
    return path.name if isinstance(path, Path) else "cassette"


@click.command()
@click.argument("paths", nargs=-1, required=True, type=CassetteArgument(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def scan(paths: tuple[Path, ...], as_json: bool) -> None:
    """Look for secrets in cassettes, JSONL exports, vcrpy YAML and HAR files.

    Exits 1 naming each place (file, table and row or line, field) that holds a
    provider key, a JWT, an unredacted signed-URL parameter, a URL password, an
    Authorization header with a real value, or a random-looking value under a
    secret-looking name; 2 when a file cannot be read; 0 when all are clean.
    Directories are searched for .db, .jsonl, .yaml, .yml and .har files; a
    postgresql:// URL is scanned recording by recording.

    \b
    Example:
        tarash cassette scan cassettes/
        tarash cassette scan run.db export.jsonl --json
        tarash cassette scan 'postgresql://ci@db/tarash?cassette=farm'
    """
    from ..cassettes.scan import scan_paths

    report = scan_paths(paths)
    if as_json:
        emit_json(report.as_dict())
    else:
        for finding in report.findings:
            echo(str(finding))
        for error in report.errors:
            echo(f"Error: {error}", err=True)
        echo(report.summary())
    if not report.clean:
        sys.exit(2 if report.errors else 1)
