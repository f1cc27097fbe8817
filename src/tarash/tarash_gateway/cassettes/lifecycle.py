"""A recording's life in a team's repository: its age against `max_age`, and which
recordings a strict run played.

Pure functions over plain values (the record layer and the CLI do the I/O):

- `parse_max_age`: `30` (days), `"30d"`, `"12h"`, `"90m"` or a `timedelta`;
- `recorded_time`: when a recording was made, from its `recorded_at` (kept by
  imports and merges) or its `recorded_ts`;
- `is_expired`: older than the maximum age (a recording of unknown age counts as
  expired: nothing vouches for it);
- `unplayed`: the recordings a strict run did not replay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

__all__ = ["describe_age", "is_expired", "parse_max_age", "recorded_time", "unplayed"]

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|days?|hours?|minutes?)?")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_max_age(value: Any, source: str = "max_age") -> timedelta | None:
    """`value` as a maximum age; a number is days. `None` or `""` means no limit.

    Examples:
        >>> parse_max_age("12h"), parse_max_age(30)
        (datetime.timedelta(seconds=43200), datetime.timedelta(days=30))
    """
    if value is None or value == "":
        return None
    if isinstance(value, timedelta):
        age = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        age = timedelta(days=value)
    elif isinstance(value, str) and (match := _AGE.fullmatch(value.strip().lower())):
        number, unit = match.groups()
        age = timedelta(**{_UNITS[(unit or "d")[0]]: float(number)})
    else:
        raise ValueError(f"{source}={value!r} is not an age: give days (30), or '30d', '12h', '90m', or a timedelta")
    if age <= timedelta(0):
        raise ValueError(f"{source}={value!r}: a maximum age must be more than zero")
    return age


def recorded_time(row: Mapping[str, Any]) -> float | None:
    """When a recording was made (POSIX seconds), or `None` when the row does not say."""
    text = row.get("recorded_at")
    if isinstance(text, str):
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            pass
    ts = row.get("recorded_ts")
    return float(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) and ts > 0 else None


def is_expired(row: Mapping[str, Any], now: float, max_age: timedelta | None) -> bool:
    """Whether a recording is older than `max_age` at `now` (unknown age: expired)."""
    if max_age is None:
        return False
    made = recorded_time(row)
    return made is None or now - made > max_age.total_seconds()


def describe_age(row: Mapping[str, Any], now: float) -> str:
    made = recorded_time(row)
    if made is None:
        return "of unknown age"
    days = (now - made) / 86400
    if days >= 1:
        return f"{days:.0f} day old" if round(days) == 1 else f"{days:.0f} days old"
    return f"{(now - made) / 3600:.1f} hours old"


def unplayed(held: Iterable[int], played: Mapping[int, int]) -> list[int]:
    """The recording ids among `held` that `played` (id -> replays) never replayed."""
    return sorted(i for i in held if not played.get(i))
