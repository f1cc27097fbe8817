"""Option and argument types that refuse what makes no sense before a command runs:
negative ages, ports past 65535, not-a-number, sizes like `512M`; a cassette given as a
file or a `postgresql://` URL."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

__all__ = ["BYTE_SIZE", "ByteSize", "CassetteArgument", "FilePath", "FiniteRange"]


class FiniteRange(click.FloatRange):
    """A `click.FloatRange` that also refuses `nan` and `inf`."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


class ByteSize(click.ParamType):
    """A size in bytes: `1048576`, `64K`, `512M`, `1G` (binary units)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ..cassettes.limits import MAX_BODY_SIZE_LIMIT, parse_size  # imported when a size is given
        from ..exceptions import ValidationError

        if isinstance(value, int):
            if 1 <= value <= MAX_BODY_SIZE_LIMIT:
                return value
            self.fail(f"{value} is not from 1 byte to 1 TiB.", param, ctx)
        try:
            return parse_size(str(value))
        except ValidationError as error:
            self.fail(str(error), param, ctx)


BYTE_SIZE = ByteSize()


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("postgresql://", "postgres://"))  # is_store_url


class FilePath(click.Path):
    """A `click.Path` that refuses a `postgresql://` URL, for what only a file can be
    (an import's target, an export's output, git's files): a usage error that says what
    to do."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if _is_url(value):
            self.fail("a postgresql:// URL is not a file here: use a cassette file (tarash cassette pull and push "
                      "copy between the two)", param, ctx)
        return super().convert(value, param, ctx)


class CassetteArgument(click.ParamType):
    """A cassette on the command line: a file (a `Path`) or a `postgresql://` URL (a `str`)."""

    name = "cassette"

    def __init__(self, *, exists: bool = True, dir_okay: bool = False) -> None:
        self.exists = exists
        self.dir_okay = dir_okay

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if _is_url(value):
            return value
        return click.Path(exists=self.exists, dir_okay=self.dir_okay, path_type=Path).convert(value, param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        """Complete file names (a URL is typed)."""
        return [click.shell_completion.CompletionItem(incomplete, type="dir" if self.dir_okay else "file")]
