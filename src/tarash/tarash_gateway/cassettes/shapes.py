"""What a secret looks like: the providers' key formats, JWTs, and how random a token is.

One table, used twice: the scrubber (`scrub`) redacts these shapes wherever they
appear in text it writes, and `tarash cassette scan` (`scan`) reports them in
files it did not write. A shape is a regular expression plus, where the pattern alone
would also match ordinary text, a check of the matched value.

Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .stand_in import is_stand_in

__all__ = ["SHAPES", "Shape", "find_shapes", "is_placeholder", "looks_random", "redact_shapes"]

# A key never starts or ends in the middle of a word, nor inside base64 (+ and /): a
# 2 MB base64 image holds "AIza" a few times, and must never be redacted. A JWT holds
# dots, which base64 never does, so it may follow a slash (/verify/eyJ...).
_WORD_CHARS = "A-Za-z0-9_\\-"
_BASE64_CHARS = _WORD_CHARS + "+/"


def looks_random(value: str, *, min_length: int = 8, min_bits: float = 3.0) -> bool:
    """Whether `value` reads like a generated token rather than a word or a placeholder.

    At least `min_length` characters, no whitespace, two character classes among lower
    case, upper case and digits (or a long value mixing letters and symbols), and a
    Shannon entropy of `min_bits` bits per character.

    Examples:
        >>> looks_random("hZ3kP9qLm2Xv8Rt1"), looks_random("keyframes"), looks_random("Sanitized")
        (True, False, False)
    """
    if len(value) < min_length or any(c.isspace() for c in value) or is_placeholder(value):
        return False
    classes = sum(1 for test in (str.islower, str.isupper, str.isdigit) if any(test(c) for c in value))
    if classes < 2 and not (len(value) >= 20 and any(not c.isalnum() for c in value) and classes >= 1):
        return False
    return _bits(value) >= min_bits


def _bits(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


_PLACEHOLDER = re.compile(
    r"^(?:[<\[{$*%#].*|.*REDACTED.*|.*FILTERED.*|[A-Z]+(?:_[A-Z0-9]+)*|[xX]+|\**|"
    r"(?i:sanitized|redacted|filtered|dummy|fake|placeholder|changeme|secret|none|null|test))$"
)


def is_placeholder(value: str) -> bool:
    """Whether `value` is what tools write instead of a secret: `[REDACTED]`,
    `<OPENAI_API_KEY>`, `Sanitized`, `DUMMY_KEY`, `****`, `${TOKEN}`, or the stand-in
    the scrubber gives a signed URL's signature (`stand_in`)..."""
    value = value.strip()
    return bool(_PLACEHOLDER.match(value)) or is_stand_in(value)


def _jwt(value: str) -> bool:
    """A JWT's first part decodes to a JSON header naming its `alg`."""
    head = value.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and "alg" in header


def _random_tail(prefix: str) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        return looks_random(value[len(prefix):].removeprefix("proj-"), min_length=16)

    return check


@dataclass(frozen=True, slots=True)
class Shape:
    """One kind of secret: its name in reports, its pattern, and a check of a match.

    `anchor` (for a pattern that starts with a character class) is a part of every
    match that starts with a literal character, found `back` characters into it:
    regular expressions that start with a literal are searched many times faster.
    """

    name: str
    pattern: str
    check: Callable[[str], bool] | None = None
    anchor: str | None = None
    back: int = 0
    edges: str = _BASE64_CHARS

    def accepts(self, value: str) -> bool:
        return self.check is None or self.check(value)


#: The known shapes, most specific first (a match is reported under the first shape).
SHAPES: tuple[Shape, ...] = (
    Shape("OpenAI key", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}", _random_tail("sk-")),
    Shape("OpenAI or Stability key", r"sk-[A-Za-z0-9]{20,}", _random_tail("sk-")),
    Shape("fal key", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{32,}",
          anchor=r"-[0-9a-f]{12}:[0-9a-f]{32}", back=23),
    Shape("Replicate token", r"r8_[A-Za-z0-9]{32,40}"),
    Shape("Google API key", r"AIza[0-9A-Za-z_\-]{35}"),
    Shape("xAI key", r"xai-[A-Za-z0-9]{20,}", _random_tail("xai-")),
    Shape("Runway key", r"key_[0-9a-f]{64,}"),
    Shape("JWT", r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*", _jwt, edges=_WORD_CHARS),
    Shape("AWS access key id", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
)

_COMPILED = tuple(
    (shape, re.compile(f"{shape.pattern}(?![{shape.edges}])"), re.compile(f"[{shape.edges}]"),
     re.compile(shape.anchor) if shape.anchor else None)
    for shape in SHAPES
)


def _candidates(text: str) -> Iterator[tuple[Shape, int, int]]:
    for shape, full, edge, anchor in _COMPILED:
        if anchor is None:
            matches: Iterator[re.Match[str] | None] = full.finditer(text)
        else:
            matches = (full.match(text, a.start() - shape.back) for a in anchor.finditer(text) if a.start() >= shape.back)
        for match in matches:
            if match is None or (match.start() and edge.match(text, match.start() - 1)):
                continue
            if shape.accepts(match.group(0)):
                yield shape, match.start(), match.end()


def find_shapes(text: str) -> Iterator[tuple[Shape, int, int]]:
    """`(shape, start, end)` of each known secret shape in `text`, in order."""
    if len(text) < 20:
        return
    taken: list[tuple[Shape, int, int]] = []
    for found in sorted(_candidates(text), key=lambda f: (f[1], -f[2])):
        if not taken or found[1] >= taken[-1][2]:  # overlaps: the first, longest match wins
            taken.append(found)
    yield from taken


def redact_shapes(text: str, replacement: str) -> str:
    """`text` with every known secret shape replaced by `replacement`."""
    found = list(find_shapes(text))
    for _, start, end in reversed(found):
        text = text[:start] + replacement + text[end:]
    return text
