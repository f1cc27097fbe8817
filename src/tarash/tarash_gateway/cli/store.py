"""`tarash cassette pull | push`: between a shared PostgreSQL cassette and a file; and
`show` and `verify` of a PostgreSQL URL. The commands parse and print; the work is
in `..cassettes.transfer` and `..cassettes.store_check`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import click

from ..cassettes.pg_store import parse_url
from ..cassettes.protocol import Store, is_store_url, open_store
from ..cassettes.store_check import store_summary, verify_store
from ..cassettes.transfer import TransferReport, transfer
from ..exceptions import CassetteError
from .cassette import _library_errors, _progress, cassette_group

__all__ = ["pull", "push", "show_url", "verify_url"]


def _copy(source: str, target: str, label: str) -> TransferReport:
    with contextlib.ExitStack() as stack, _library_errors():

        def on_count(n: int) -> Callable[[int], None]:
            return stack.enter_context(_progress(n, label)).update  # type: ignore[no-any-return]

        return transfer(source, target, on_count=on_count)


@cassette_group.command()
@click.argument("url")
@click.argument("file", type=click.Path(dir_okay=False))
def pull(url: str, file: str) -> None:
    """Copy a PostgreSQL cassette's recordings and HTTP exchanges into a cassette file (a local snapshot).

    Recordings the file already holds (same request, same outcome) are not copied
    again, so pulling again only adds what is new.

    \b
    Example:
        tarash cassette pull 'postgresql://ci@db:5432/tarash?cassette=farm' cassettes/farm.db
    """
    if not is_store_url(url) or is_store_url(file):
        raise click.UsageError("pull takes a postgresql:// URL, then a cassette file")
    report = _copy(url, file, "pulling")
    click.echo(f"pulled {report.copied} recording(s) into {file} ({report.skipped} already there)" + _http(report))


@cassette_group.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("url")
def push(file: str, url: str) -> None:
    """Copy a cassette file's recordings and HTTP exchanges into a PostgreSQL cassette (publish a run).

    Recordings the shared cassette already holds are not copied again: pushing twice
    adds nothing.

    \b
    Example:
        tarash cassette push cassettes/run.db 'postgresql://farm@db:5432/tarash?cassette=farm'
    """
    if is_store_url(file) or not is_store_url(url):
        raise click.UsageError("push takes a cassette file, then a postgresql:// URL")
    report = _copy(file, url, "pushing")
    click.echo(f"pushed {report.copied} recording(s) to the shared cassette ({report.skipped} already there)"
               + _http(report))


def _http(report: TransferReport) -> str:
    """The HTTP exchanges a copy carried, when the source held any."""
    if not (report.exchanges_copied or report.exchanges_skipped):
        return ""
    return f"; {report.exchanges_copied} HTTP exchange(s) ({report.exchanges_skipped} already there)"


@contextlib.contextmanager
def _opened_url(url: str) -> Iterator[Store]:
    with _library_errors():
        store = open_store(url, create=False)
        if store is None:
            raise click.ClickException(f"cassette {parse_url(url).display} does not exist")
        try:
            yield store
        finally:
            store.close()


def show_url(url: str, recording_id: int | None, as_json: bool) -> None:
    """`tarash cassette show URL`: what a PostgreSQL cassette holds."""
    from .cassette import _line

    with _opened_url(url) as store:
        if recording_id is not None:
            row = store.get(recording_id)
            if row is None:
                raise click.ClickException(f"{store.path} has no recording #{recording_id}")
            full = {k: row[k] for k in ("id", "key", "seq", "kind", "provider", "model", "outcome", "duration",
                                        "library_version", "recorded_at")}
            for name in ("request", "response", "error", "timeline"):
                full[name] = None if row[name] is None else json.loads(row[name])
            full["media"] = list(store.media(recording_id).values())
            click.echo(json.dumps(full, indent=2, ensure_ascii=False))
            return
        rows, s = store.recordings(), store_summary(store)
        if as_json:
            click.echo(json.dumps({"summary": s, "recordings": [_line(store, r)[0] for r in rows]}, indent=2))
            return
        click.echo(f"{store.path}: {s['recordings']} recordings ({s['errors']} errors)")
        for r in (_line(store, r)[0] for r in rows):
            click.echo(f"#{r['id']:<5} {r['kind']:5} {r['provider']}/{r['model']}  seq {r['seq']}  {r['outcome']:8} "
                       f"{r['duration'] or 0:7.2f}s  {r['updates']} updates  {r['prompt']!r}")


def verify_url(url: str) -> bool:
    """`tarash cassette verify URL`: prints what it found; whether the cassette is whole."""
    try:
        with _opened_url(url) as store:
            report, shown = verify_store(store), store.path
    except click.ClickException as error:
        click.echo(f"DAMAGED {parse_url(url).display if _parses(url) else 'cassette'}: {error.message}")
        return False
    if report.ok:
        click.echo(f"ok {shown}: " + ", ".join(f"{n} {what}" for what, n in report.counts.items()))
    else:
        click.echo(f"DAMAGED {shown}:")
        for problem in report.problems:
            click.echo(f"  - {problem}")
    for note in report.notes:
        click.echo(f"  note: {note}")
    return report.ok


def _parses(url: str) -> bool:
    try:
        parse_url(url)
    except CassetteError:
        return False
    return True
