"""Which cassette serves a call: per config > `with use_cassette(...)` > environment >
defaults, field by field.

Each level sets only the fields it names, and a higher level wins for those fields:

```text
TARASH_CASSETTE=cassettes/app.db TARASH_RECORD_MODE=none python app.py
    every call replays from cassettes/app.db (no code change)
with use_cassette("cassettes/run.db"):
    calls inside use run.db; its record mode comes from TARASH_RECORD_MODE if set,
    else the default "once"
VideoGenerationConfig(..., cassette=CassetteConfig(record_mode="all"))
    this config records (into the block's or the environment's cassette),
    while the other links of the chain replay
VideoGenerationConfig(..., cassette=CassetteConfig(enabled=False))
    this config is never recorded or replayed
```

The resolution is cheap when nothing is set (three lookups), so calls without a cassette
pay nothing for the feature.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from ..env import env_flag, env_value
from ..exceptions import CassetteError
from .config import CassetteConfig, RecordMode
from .protocol import cassette_identity

if TYPE_CHECKING:  # the session loads sqlite-utils: imported on first use only
    from .session import CassetteSession

__all__ = ["ActiveCassette", "CassetteScope", "effective_cassette", "use_cassette"]

F = TypeVar("F", bound=Callable[..., Any])
ENV_CASSETTE = "TARASH_CASSETTE"
ENV_RECORD_MODE = "TARASH_RECORD_MODE"
ENV_REPEATS = "TARASH_CASSETTE_REPEATS"
ENV_MAX_AGE = "TARASH_CASSETTE_MAX_AGE"
ENV_HTTP = "TARASH_CASSETTE_HTTP"
ENV_HTTP_HOSTS = "TARASH_CASSETTE_HTTP_HOSTS"


# Two small records, as slotted classes rather than dataclasses: a dataclass is compiled
# from generated source when its module loads, and every process that imports the gateway
# loads this one (to ask whether a cassette is in force). Treat both as read-only.


class _Scoped:
    """A `use_cassette` block in force: its settings, its session, the file it names."""

    __slots__ = ("config", "file", "session")

    def __init__(self, config: CassetteConfig, session: CassetteSession | None, file: str | None) -> None:
        self.config, self.session, self.file = config, session, file


_scope: ContextVar[_Scoped | None] = ContextVar("tarash_cassette", default=None)


class ActiveCassette:
    """The merged settings of one call and the session that serves it."""

    __slots__ = ("config", "session")

    def __init__(self, config: CassetteConfig, session: CassetteSession) -> None:
        self.config, self.session = config, session

    def __repr__(self) -> str:
        return f"ActiveCassette(config={self.config!r}, session={self.session!r})"


def effective_cassette(config: Any) -> ActiveCassette | None:
    """The cassette in force for one config, or `None` (the common, free case).

    The last answer is kept with what it was worked out from (the config's and the
    block's own objects, both frozen, and the environment's values): the HTTP level asks
    once per request, with the same inputs each time.
    """
    global _last
    own = config.cassette
    scoped = _scope.get()
    env_path = env_value(ENV_CASSETTE)
    if own is None and scoped is None and not env_path:
        return None
    env = (
        env_path or None,
        env_value(ENV_RECORD_MODE) or None,
        env_flag(ENV_REPEATS),
        env_value(ENV_MAX_AGE) or None,
        env_value(ENV_HTTP) or None,
        env_value(ENV_HTTP_HOSTS) or None,
    )
    last = _last
    if last is not None and last.own is own and last.scoped is scoped and last.env == env:
        active = last.active
        if active is None or last.shared is None or last.shared is _shared_session_of(last.file):
            return active  # still the process's session of that file (close_cassettes drops them)
    scoped_config = scoped.config if scoped is not None else None
    merged = _merge(own, _fields(own), scoped_config, _fields(scoped_config), *env)
    if merged is None:
        _last = _Last(own, scoped, env, None, None, None)
        return None
    from .session import shared_session

    assert merged.path is not None
    file = cassette_identity(merged.path)
    if scoped is not None and scoped.session is not None and scoped.file == file:
        active = ActiveCassette(merged, scoped.session)
        shared = None
    else:
        active = ActiveCassette(merged, shared_session(merged.path))
        shared = active.session
    if file == merged.path or os.path.isabs(merged.path):  # a relative path's file moves with the directory
        _last = _Last(own, scoped, env, active, shared, file)
    return active


class _Last:
    """The last answer of `effective_cassette` and what it came from (a plain slotted
    class: a dataclass costs about a millisecond to create, on the first request)."""

    __slots__ = ("active", "env", "file", "own", "scoped", "shared")

    def __init__(
        self,
        own: CassetteConfig | None,
        scoped: _Scoped | None,
        env: tuple[Any, ...],
        active: ActiveCassette | None,
        shared: CassetteSession | None,
        file: str | None,
    ) -> None:
        self.own, self.scoped, self.env, self.active, self.shared, self.file = own, scoped, env, active, shared, file


_last: _Last | None = None


def _shared_session_of(file: str | None) -> CassetteSession | None:
    """The process-wide session of a cassette identity, if one is open (no I/O)."""
    session_module = sys.modules.get(f"{__package__}.session")
    return None if session_module is None or file is None else session_module.opened_shared(file)


def _fields(config: CassetteConfig | None) -> frozenset[str] | None:
    # Part of the cache key: equal configs may differ in which fields they set.
    return None if config is None else frozenset(config.model_fields_set)


@functools.lru_cache(maxsize=256)
def _merge(
    own: CassetteConfig | None,
    own_fields: frozenset[str] | None,
    scoped: CassetteConfig | None,
    scoped_fields: frozenset[str] | None,
    env_path: str | None,
    env_mode: str | None,
    env_repeats: bool = False,
    env_max_age: str | None = None,
    env_http: str | None = None,
    env_http_hosts: str | None = None,
) -> CassetteConfig | None:
    values: dict[str, Any] = {}
    if env_max_age:
        from .lifecycle import parse_max_age

        try:
            values["max_age"] = parse_max_age(env_max_age, source=ENV_MAX_AGE)
        except ValueError as error:
            raise CassetteError(str(error)) from None
    if env_http:
        if env_http.strip().lower() not in ("providers", "all", "off"):
            raise CassetteError(f"{ENV_HTTP}={env_http!r} is not an HTTP recording mode; use one of: providers, all, off")
        values["http"] = env_http.strip().lower()
    if env_http_hosts:
        values["http_hosts"] = env_http_hosts
    if env_repeats:
        values["allow_playback_repeats"] = True
    if env_path:
        values["path"] = env_path
    if env_mode:
        try:
            values["record_mode"] = RecordMode.parse(env_mode, source=ENV_RECORD_MODE)
        except ValueError as error:
            raise CassetteError(str(error)) from None
    for level in (scoped, own):
        if level is not None:
            values.update({name: getattr(level, name) for name in level.model_fields_set})
    merged = CassetteConfig(**values)
    if not merged.enabled:
        return None
    if merged.path is None:
        raise CassetteError(
            "a cassette setting without a path is in force: give CassetteConfig(path=...), "
            f"use_cassette(path) or set {ENV_CASSETTE}"
        )
    return merged


class CassetteScope:
    """What `use_cassette` returns: a context manager (`with` and `async with`)
    and a decorator for sync and async functions."""

    def __init__(self, config: CassetteConfig) -> None:
        self.config = config
        self._tokens: list[Any] = []
        self._sessions: list[CassetteSession | None] = []

    def __enter__(self) -> CassetteSession | None:
        from .http.hook import install
        from .session import CassetteSession

        install()  # every httpx client of the process goes through the cassette in force
        path = self.config.path
        session = CassetteSession(path) if path is not None else None
        file = cassette_identity(path) if path is not None else None
        self._tokens.append(_scope.set(_Scoped(self.config, session, file)))
        self._sessions.append(session)
        return session

    def __exit__(self, exc_type: object, *exc: object) -> None:
        _scope.reset(self._tokens.pop())
        session = self._sessions.pop()
        if session is not None:
            strict = session.strict_failure() if self.config.strict and exc_type is None else None
            _finish_http(session)
            session.close()
            if strict is not None:
                raise strict
            failures = session.write_failures
            if failures and exc_type is None:
                more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
                raise CassetteError(
                    f"{len(failures)} call(s) inside use_cassette({session.path!r}) returned their provider's "
                    f"response but could not be recorded: {failures[0]}{more}"
                )

    async def __aenter__(self) -> CassetteSession | None:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        session = self._sessions[-1] if self._sessions else None
        if session is not None:  # media downloads finish in a thread, not on the event loop
            import asyncio  # only an async block with HTTP-level recording gets here

            await asyncio.to_thread(_finish_http, session)
        self.__exit__(*exc)

    def __call__(self, fn: F) -> F:
        config = self.config
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with CassetteScope(config):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with CassetteScope(config):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _finish_http(session: CassetteSession) -> None:
    """Wait for the media downloads the block's HTTP recordings started (if any were)."""
    recorder = sys.modules.get("tarash.tarash_gateway.cassettes.http.recorder")  # loaded only by HTTP traffic
    if recorder is not None:
        recorder.finish(session)


def use_cassette(path: str | os.PathLike[str] | None = None, **options: Any) -> CassetteScope:
    """Record and replay every call made inside a block (sync or async code) or a function.

    Args:
        path: the cassette file, e.g. `"cassettes/run.db"`. May be left out to change
            only options of the cassette set by `TARASH_CASSETTE`.
        **options: any `CassetteConfig` field: `record_mode`, `match_on`,
            `allow_playback_repeats`, `replay_speed`, `capture_media`, `media`,
            `media_dir`, `secret_keys`, `secret_values`, `enabled`.

    The `with` statement gives the block's `CassetteSession`
    (`replayed`, `recorded`, `replayed_seconds`). Threads started inside the
    block do not inherit it; give those calls `cassette=` on their config.

    Example:

    ```python
    with use_cassette("cassettes/run.db", record_mode="once") as cassette:
        generate_video(config, request)
    print(cassette.recorded, cassette.replayed)

    @use_cassette("cassettes/run.db", record_mode="none")
    async def test_pipeline(): ...
    ```
    """
    if path is not None:
        options["path"] = path
    return CassetteScope(CassetteConfig(**options))

