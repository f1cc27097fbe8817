"""``tarash cassette pull | push``: between a shared PostgreSQL cassette and a file.
The commands parse and print; the work is in :mod:`..cassettes.transfer`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import click

from ..cassettes.protocol import is_store_url
from ..cassettes.transfer import TransferReport, transfer
from .cassette import _library_errors, _progress, cassette_group

__all__ = ["pull", "push"]


def _copy(source: str, target: str, label: str) -> TransferReport:
    with contextlib.ExitStack() as stack, _library_errors():

        def on_count(n: int) -> Callable[[int], None]:
            return stack.enter_context(_progress(n, label)).update  # type: ignore[no-any-return]

        return transfer(source, target, on_count=on_count)


@cassette_group.command()
@click.argument("url")
@click.argument("file", type=click.Path(dir_okay=False))
def pull(url: str, file: str) -> None:
    """Copy a PostgreSQL cassette's recordings into a cassette file (a local snapshot).

    Recordings the file already holds (same request, same outcome) are not copied
    again, so pulling again only adds what is new.

    \b
    Example:
        tarash cassette pull 'postgresql://ci@db:5432/tarash?cassette=farm' cassettes/farm.db
    """
    if not is_store_url(url) or is_store_url(file):
        raise click.UsageError("pull takes a postgresql:// URL, then a cassette file")
    report = _copy(url, file, "pulling")
    click.echo(f"pulled {report.copied} recording(s) into {file} ({report.skipped} already there)")


@cassette_group.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("url")
def push(file: str, url: str) -> None:
    """Copy a cassette file's recordings into a PostgreSQL cassette (publish a run).

    Recordings the shared cassette already holds are not copied again: pushing twice
    adds nothing.

    \b
    Example:
        tarash cassette push cassettes/run.db 'postgresql://farm@db:5432/tarash?cassette=farm'
    """
    if is_store_url(file) or not is_store_url(url):
        raise click.UsageError("push takes a cassette file, then a postgresql:// URL")
    report = _copy(file, url, "pushing")
    click.echo(f"pushed {report.copied} recording(s) to the shared cassette ({report.skipped} already there)")
