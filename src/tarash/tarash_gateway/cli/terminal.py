"""Printing what a cassette holds without letting it drive the terminal.

A cassette, an export or a file name may carry bytes meant for a terminal: ESC and the
CSI and OSC sequences it starts (OSC 52 writes the clipboard), other C0 and C1 controls,
bidi overrides such as U+202E that reorder what is shown. Every line the cassette
commands print goes through `safe` (or `safe_json` for JSON): each character
that is not printable, other than the line breaks the command itself writes, is shown as
an escape (`\\x1b`, `\\u202e`), so what is stored can be read but never acts.
"""

from __future__ import annotations

from typing import IO

__all__ = ["JSONTerminal", "one_line", "safe", "safe_json"]


def _printable(text: str) -> bool:
    return all(line.isprintable() for line in text.split("\n"))


def safe(text: str) -> str:
    """`text` with every character that is not printable (but `\\n`) escaped.

    Examples:
        >>> safe("a\\x1b]52;c;aGk=\\x07b\\u202e")
        'a\\\\x1b]52;c;aGk=\\\\x07b\\\\u202e'
    """
    if _printable(text):
        return text
    return "".join(c if c.isprintable() or c == "\n" else _escape(c) for c in text)


def safe_json(text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with the same characters
    escaped as JSON escapes (`\\u202e`), so it stays valid JSON that decodes to the same
    value."""
    if _printable(text):
        return text
    return "".join(c if c.isprintable() or c == "\n" else _json_escape(c) for c in text)


class JSONTerminal:
    """A text stream writing JSON through `safe_json`: an export shown on a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(safe_json(text))


def one_line(text: str) -> str:
    """An error message as one safe line: line breaks and tabs become spaces."""
    return safe(" ".join(text.split()) if not text.isprintable() else text)


def _escape(c: str) -> str:
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json_escape(c: str) -> str:
    code = ord(c)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
