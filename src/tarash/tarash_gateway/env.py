"""Reading the `TARASH_*` environment switches, on every call, cheaply.

Apps flip the gateway with environment variables and expect a change to apply to the
next call, so they are read per call rather than once at import. `os.environ.get`
encodes the name and decodes the value each time; reading the underlying bytes
mapping where CPython has one keeps this off the profile of the hot path.
"""

from __future__ import annotations

import os

__all__ = ["env_flag", "env_value"]

_RAW = getattr(os.environ, "_data", None)
_FAST = os.name == "posix" and isinstance(_RAW, dict)
_TRUE = {"1", "true", "yes", "on"}


_KEYS: dict[str, bytes] = {}


def env_value(name: str) -> str | None:
    if _FAST:
        key = _KEYS.get(name)
        if key is None:
            key = _KEYS[name] = os.fsencode(name)
        raw = _RAW.get(key)  # type: ignore[union-attr]
        return None if raw is None else os.fsdecode(raw)
    return os.environ.get(name)


def env_flag(name: str) -> bool:
    value = env_value(name)
    return value is not None and value.lower() in _TRUE
