"""What every cassette command shares: opening a cassette (a file or a `postgresql://`
URL) through the store protocol, turning library errors into one `Error: ...` line,
progress bars, and printing.

A command is written once for both stores: it opens with `opened` and then speaks only
`protocol.Store`. Library errors (`CassetteError`, a `ValidationError` of a setting)
become `click.ClickException`: one line on stderr, exit status 1.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .terminal import one_line, safe, safe_json

if TYPE_CHECKING:
    from ..cassettes.protocol import Store
    from ..cassettes.store import CassetteStore

__all__ = ["echo", "emit_json", "library_errors", "open_cassette", "opened", "opened_file", "progress", "size", "ticker"]


@contextlib.contextmanager
def library_errors() -> Iterator[None]:
    """Library errors met inside as one-line `click.ClickException`s (exit status 1)."""
    from ..exceptions import TarashException

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


def open_cassette(path: Path | str) -> Store:
    """A cassette file or a `postgresql://` cassette, opened for reading.

    A file is checked before use and closed again when refused, so no `-wal`/`-shm`
    stays behind a file that is not a cassette.

    Raises:
        CassetteError: the cassette does not exist, is damaged, foreign or newer, or
            its server cannot be reached.
    """
    from ..cassettes.protocol import is_store_url, open_store

    if isinstance(path, str) and is_store_url(path):
        from ..cassettes.pg_store import parse_url
        from ..exceptions import CassetteError

        store = open_store(path, create=False)
        if store is None:
            raise CassetteError(f"cassette {parse_url(path).display} does not exist")
        return store
    from ..cassettes.store import CassetteStore

    file = CassetteStore(path)
    try:
        file.check(create=False)
    except BaseException:
        file.close()
        raise
    return file


@contextlib.contextmanager
def opened(path: Path | str) -> Iterator[Store]:
    """`open_cassette` for the length of a block, with library errors as one line."""
    with library_errors():
        store = open_cassette(path)
        try:
            yield store
        finally:
            store.close()


@contextlib.contextmanager
def opened_file(path: Path) -> Iterator[CassetteStore]:
    """`opened` for the commands only a file serves (textconv: git's format)."""
    from ..cassettes.store import CassetteStore

    with opened(path) as store:
        assert isinstance(store, CassetteStore)
        yield store


class _Silent:
    """A progress bar that draws nothing: stderr is not a terminal."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def progress(length: int, label: str) -> Any:
    """A progress bar on stderr, drawn only when stderr is a terminal: stdout (an export,
    `--json`) stays clean, and a log or a pipe gets no bar at all."""
    if not sys.stderr.isatty():
        return _Silent()
    return click.progressbar(length=length, label=label, file=sys.stderr)


def ticker(stack: contextlib.ExitStack, label: str) -> Callable[[int], Callable[[int], None]]:
    """An `on_count(n)` for the library's long operations: opens a bar of `n` steps
    (closed with `stack`) and returns its per-step callback."""

    def on_count(n: int) -> Callable[[int], None]:
        return stack.enter_context(progress(n, label)).update  # type: ignore[no-any-return]

    return on_count


def size(n: float | None) -> str:
    """A byte count for people: `512 B`, `1.5 KB`, `3.2 MB`; `-` when unknown."""
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def echo(text: str = "", *, err: bool = False) -> None:
    """Print one line with what is not printable escaped (`terminal.safe`)."""
    click.echo(safe(text), err=err)


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout, control characters as JSON escapes."""
    click.echo(safe_json(json.dumps(data, indent=2, ensure_ascii=False, default=str)))
