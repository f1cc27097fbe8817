"""`tarash cassette pull | push`: between a shared PostgreSQL cassette and a file, with a
progress bar. The commands parse and print; the work is in `..cassettes.transfer`."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from ..cassettes.protocol import is_store_url
from .common import echo, library_errors, ticker
from .output import plural
from .params import FilePath

if TYPE_CHECKING:
    from ..cassettes.transfer import TransferReport

__all__ = ["pull", "push"]


def _copy(source: str, target: str, label: str) -> TransferReport:
    from ..cassettes.transfer import transfer

    with contextlib.ExitStack() as stack, library_errors():
        return transfer(source, target, on_count=ticker(stack, label))


@click.command()
@click.argument("url")
@click.argument("file", type=FilePath(dir_okay=False))
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
    echo(f"pulled {plural(report.copied, 'recording')} into {file} ({report.skipped} already there)" + _http(report))


@click.command()
@click.argument("file", type=FilePath(exists=True, dir_okay=False))
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
    echo(f"pushed {plural(report.copied, 'recording')} to the shared cassette ({report.skipped} already there)"
         + _http(report))


def _http(report: TransferReport) -> str:
    """The HTTP exchanges a copy carried, when the source held any."""
    if not (report.exchanges_copied or report.exchanges_skipped):
        return ""
    return f"; {plural(report.exchanges_copied, 'HTTP exchange')} ({report.exchanges_skipped} already there)"
