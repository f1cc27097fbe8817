"""What a replay miss says, at both levels (the gateway's calls: `matching.explain_miss`;
raw HTTP requests: `http.explain.explain_exchange_miss`): the cassette does not exist,
the request was asked for more often than it was recorded, or the nearest recordings and
the fields that differ. Each level says what it matches and how a recording is named;
the sentences are these. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["asked_again", "difference", "nearest_recordings", "no_cassette", "shown"]


def shown(value: Any, limit: int = 60) -> str:
    """A field's value in a message: its repr, cut at `limit` characters (`missing` for `None`)."""
    text = "missing" if value is None else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def difference(field: str, asked: Any, recorded: Any) -> str:
    """One differing field: `body.prompt: 'a blue fox' here, 'a red fox' recorded`."""
    return f"{field}: {shown(asked)} here, {shown(recorded)} recorded"


def no_cassette(path: str, what: str, mode: str) -> str:
    return (f"cassette {path} does not exist, so this {what} cannot be replayed (record_mode={mode!r}); "
            "record it first with record_mode='once' or 'new_episodes'")


def asked_again(path: str, what: str, *, count: int, index: int, mode: str, unit: str) -> str:
    """`unit` (`call`, `request`) asked for the `index`-th time, recorded `count` times."""
    return (f"cassette {path} holds {count} recording(s) of this {what}, and this is {unit} {index} of it since the "
            f"cassette was opened (record_mode={mode!r}). Set allow_playback_repeats=True to replay the last "
            f"recording again, or record_mode='new_episodes' to record this {unit} too.")


def nearest_recordings(path: str, what: str, mode: str, nearest: Sequence[tuple[str, Sequence[str]]], *,
                       heading: str, nothing: str, unit: str) -> str:
    """No recording matches: `nearest` lists `(how a recording is named, its differences)`."""
    lines = [f"cassette {path} holds no recording of this {what} (record_mode={mode!r})."]
    if not nearest:
        lines.append(nothing)
    else:
        lines.append(heading)
        lines += [f"  {name}: {'; '.join(diffs) or 'no difference'}" for name, diffs in nearest]
    lines.append(f"Record it with record_mode='new_episodes' (or 'all'), or change the {unit} to match.")
    return "\n".join(lines)
