"""Aligned tables and counted nouns for the commands' text output.

Every cell is escaped (`terminal.safe`) before it is measured, so a column holding
`\\x1b` is as wide as what is shown; wide characters count two columns. When the
output is a terminal, a table is fitted to its width by
shortening one column (a path, a prompt, a URL), never by wrapping; a pipe or a file
gets whole lines.
"""

from __future__ import annotations

import shutil
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from .terminal import safe

__all__ = ["plural", "table", "terminal_width", "width_of"]

def plural(n: int, noun: str, many: str | None = None) -> str:
    """`1 recording`, `2 recordings`, `0 recordings`; `many` for nouns that do not take an s.

    Examples:
        >>> plural(1, "recording"), plural(2, "HTTP interaction"), plural(0, "entry")
        ('1 recording', '2 HTTP interactions', '0 entries')
    """
    if n == 1:
        return f"1 {noun}"
    if many is not None:
        return f"{n} {many}"
    head, _, last = noun.rpartition(" ")
    if last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        last = last[:-1] + "ies"
    else:
        last += "es" if last.endswith(("s", "x", "ch", "sh")) else "s"
    return f"{n} {head} {last}" if head else f"{n} {last}"


def width_of(text: str) -> int:
    """How many terminal columns `text` takes (East Asian wide characters count two,
    combining marks none)."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def terminal_width() -> int | None:
    """The width to fit tables to when stdout is a terminal (`COLUMNS` if set, else the
    terminal's); `None` for a pipe or a file, which get whole lines."""
    if not sys.stdout.isatty():
        return None
    return max(shutil.get_terminal_size().columns, 20)


def _cut(text: str, width: int) -> str:
    if width_of(text) <= width:
        return text
    out, used = "", 0
    for c in text:
        w = width_of(c)
        if used + w > width - 3:
            break
        out, used = out + c, used + w
    return out + "..."


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - width_of(text))
    return gap + text if right else text + gap


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Iterable[int] = (),
          shrink: Sequence[int] = (), width: int | None = None) -> list[str]:
    """Lines of a table with aligned columns, two spaces apart.

    Args:
        headers: the column titles.
        rows: the cells (any value; `None` shows as `-`), escaped before they are measured.
        right: indexes of the columns aligned right (numbers).
        shrink: the columns shortened (with `...`), in this order, when the table is wider
            than `width`; past that, lines are cut at `width`.
        width: the width to fit; by default `terminal_width()` (`None`: no limit).

    Examples:
        >>> table(["name", "n"], [["a", 1], ["bcd", 22]], right=[1], width=80)
        ['name   n', 'a      1', 'bcd   22']
    """
    aligned = set(right)
    cells = [[safe("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([width_of(h)] + [width_of(r[i]) for r in cells]) for i, h in enumerate(headers)]
    limit = terminal_width() if width is None else width
    if limit is not None:
        for column in shrink:
            over = sum(widths) + 2 * (len(widths) - 1) - limit
            if over <= 0:
                break
            widths[column] = max(widths[column] - over, min(width_of(headers[column]), 8), 4)
            cells = [[_cut(v, widths[i]) if i == column else v for i, v in enumerate(r)] for r in cells]
    lines = []
    for row in [list(headers), *cells]:
        line = "  ".join(_pad(v, widths[i], i in aligned) for i, v in enumerate(row)).rstrip()
        lines.append(_cut(line, limit) if limit is not None else line)
    return lines
