"""Cassette settings: where the cassette lives, the record mode, how calls match, how
fast a replay runs, what happens to the generated media, and which secrets to scrub.

This module imports nothing from `models` (the models import it, for the
`cassette=` field of video and image configs).

Example:

```python
CassetteConfig(path="cassettes/run.db", record_mode="none", replay_speed="realtime")
VideoGenerationConfig(provider="fal", model="m", cassette="cassettes/run.db")  # a path is enough
```
"""

from __future__ import annotations

import os
from datetime import timedelta
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = ["CassetteConfig", "CassetteField", "DEFAULT_MATCH_ON", "HttpMode", "MATCH_FIELDS", "MediaMode", "RecordMode"]


class RecordMode(str, Enum):
    """vcrpy's record modes, with vcrpy's meanings (decided in `policy.decide`).

    - `none`: replay only; a call that is not recorded raises `RecordingNotFoundError`.
    - `once`: a cassette that does not exist yet is recorded; an existing one is only
      replayed, and a call it does not hold raises `RecordingNotFoundError`.
    - `new_episodes`: replay what is recorded, record what is not.
    - `all`: record every call and never replay; each request recorded in this run
      replaces its recordings from earlier runs.
    """

    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"

    @classmethod
    def parse(cls, value: str | RecordMode, *, source: str = "record_mode") -> RecordMode:
        """`value` as a record mode; a wrong value is refused with the valid ones listed."""
        if isinstance(value, RecordMode):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise ValueError(f"{source}={value!r} is not a record mode; use one of: {valid}") from None


MediaMode = Literal["url", "file", "content"]
HttpMode = Literal["providers", "all", "off"]

#: The fields of a call's canonical request; ``request.<name>`` and
#: ``provider_config.<name>`` select one field inside the last two.
MATCH_FIELDS = ("kind", "provider", "model", "api_version", "provider_config", "request")
DEFAULT_MATCH_ON = MATCH_FIELDS


def _record_mode(value: Any) -> Any:
    return RecordMode.parse(value) if isinstance(value, str) else value


class CassetteConfig(BaseModel):
    """Where and how calls are recorded and replayed.

    Attributes:
        path: the cassette file (`.db`). Relative paths are taken from the working
            directory. May be left out on a per-config cassette that only changes
            options of the `use_cassette` block or `TARASH_CASSETTE` in force.
        enabled: `False` turns recording off for a config inside a block or under
            `TARASH_CASSETTE`.
        record_mode: `none`, `once` (default), `new_episodes` or `all`.
        match_on: the canonical request fields that must be equal for a recording to
            match; the default is all of them. `("kind", "provider", "model",
            "request.prompt")` matches on the prompt alone.
        allow_playback_repeats: when a request has been replayed as many times as it
            was recorded, replay its last recording again instead of missing.
        replay_speed: `"instant"` (default: no waits), `"realtime"` (the recorded
            gaps between progress updates), or a factor (`2.0` = twice as fast).
        capture_media: download the generated media while recording and keep it in
            the cassette, so replays work after the provider's URL has expired.
        media: what a replay returns for captured media: the original `"url"`
            (default), a local `"file"` (written to `media_dir`), or the
            `"content"` bytes.
        media_dir: where `media="file"` writes files; by default a directory beside
            the cassette named after it (`run.db` -> `run.media/`).
        secret_keys: more key, header and query-parameter names to scrub.
        secret_values: literal secret values to scrub wherever they appear.
        max_age: recordings older than this are expired: a `timedelta`, a number of
            days, or `"30d"`/`"12h"`/`"90m"` (env `TARASH_CASSETTE_MAX_AGE`).
        on_expired: what replaying an expired recording does: `"warn"` (default:
            replay it and log a warning), `"error"` (a `CassetteError` naming it), or
            `"rerecord"` (record it afresh where the record mode records new calls,
            `new_episodes`; an error where it does not, so CI never re-records silently).
        strict: when the block ends, recordings the block did not replay are a
            `CassetteError` naming them (and the play counts are kept in the cassette
            for `tarash cassette prune --unused`).
        http: which raw HTTP traffic of `httpx`/`httpx2` clients is recorded and
            replayed too (vendor SDKs included): `"providers"` (default: the known
            provider API hosts, the media URLs their answers point to, and
            `http_hosts`), `"all"`, or `"off"`. See `docs/record-http.md`.
        http_hosts: more hosts for `http="providers"`, e.g. `("127.0.0.1",
            "api.example.com", "*.example.net")`.
        collapse_polls: on replay, the first poll of a recorded job gets its terminal
            answer (`False` replays every recorded poll in order).

    Examples:
        >>> CassetteConfig(path="cassettes/run.db", record_mode="new_episodes").record_mode
        <RecordMode.NEW_EPISODES: 'new_episodes'>
    """

    model_config = ConfigDict(frozen=True, extra="forbid")  # built at import: every config's schema holds it

    path: str | None = None
    enabled: bool = True
    record_mode: Annotated[RecordMode, BeforeValidator(_record_mode)] = RecordMode.ONCE
    match_on: tuple[str, ...] = DEFAULT_MATCH_ON
    allow_playback_repeats: bool = False
    replay_speed: Literal["instant", "realtime"] | Annotated[float, Field(gt=0)] = "instant"
    capture_media: bool = True
    media: MediaMode = "url"
    media_dir: str | None = None
    secret_keys: tuple[str, ...] = ()
    secret_values: tuple[str, ...] = Field(default=(), repr=False)
    max_age: timedelta | None = None
    on_expired: Literal["warn", "error", "rerecord"] = "warn"
    strict: bool = False

    @field_validator("max_age", mode="before")
    @classmethod
    def _max_age(cls, value: Any) -> Any:
        from .lifecycle import parse_max_age

        if isinstance(value, str) and value.strip().upper().startswith("P"):
            return value  # ISO 8601 ("P30D"), as the model serializes it: pydantic reads it
        return parse_max_age(value)
    http: HttpMode = "providers"
    http_hosts: tuple[str, ...] = ()
    collapse_polls: bool = True

    @field_validator("http_hosts", mode="before")
    @classmethod
    def _http_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(h.strip().lower() for h in value if h.strip())

    @field_validator("path", "media_dir", mode="before")
    @classmethod
    def _path(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("match_on", mode="before")
    @classmethod
    def _match_on(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = (value,)
        fields = tuple(value)
        for name in fields:
            head, _, rest = str(name).partition(".")
            if head not in MATCH_FIELDS or (rest and head not in ("request", "provider_config")):
                raise ValueError(
                    f"match_on: {name!r} is not a request field; use {', '.join(MATCH_FIELDS)}, "
                    "'request.<field>' or 'provider_config.<key>'"
                )
        if not fields:
            raise ValueError("match_on needs at least one field")
        return fields

    @property
    def speed_factor(self) -> float | None:
        """`None` for instant replays, else how many times faster than recorded."""
        if self.replay_speed == "instant":
            return None
        if self.replay_speed == "realtime":
            return 1.0
        return float(self.replay_speed)

    @property
    def default_match(self) -> bool:
        return self.match_on == DEFAULT_MATCH_ON


def _cassette(value: Any) -> Any:
    if isinstance(value, str | os.PathLike):
        return CassetteConfig(path=os.fspath(value))
    return value


#: The type of the ``cassette=`` field of configs: a :class:`CassetteConfig` or a path.
CassetteField = Annotated[CassetteConfig, BeforeValidator(_cassette)]
