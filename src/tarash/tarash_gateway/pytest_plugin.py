"""The pytest plugin: one cassette per test, replay-only by default, mocks, seeds, instant waits.

Installing the package is enough (`pytest11` entry point `tarash`):

```python
@pytest.mark.tarash_cassette
def test_pipeline(tarash_cassette):
    generate_video(config, request)   # through tests/cassettes/test_mod/test_pipeline.db
```

```console
$ pytest --tarash-record-mode=once    # record what the cassettes do not hold yet
$ pytest                              # replay only: a call not recorded fails the test
```

The test's vendor SDK calls (any `httpx` client) go through the same cassette (see
`docs/record-http.md`); `http_hosts`, `http` and `collapse_polls` are marker options
like the others.

For a `tarash_cassette` test, each setting is taken from the first of: the command line,
the marker (the closest wins: function > class > module), the `tarash_cassette_options`
fixture, the default. The default record mode is `none`, so CI never reaches a provider.

What the options do for the whole run:

- `--tarash-mock`: every call is served by the mock layer (`mock.layer.force_mock`);
  the cassettes of marked tests are not opened (the `tarash_cassette` fixture is `None`).
- `--tarash-seed=N`: seeds the chaos of every mock without a seed of its own, once, at
  the start of the run (`mock.chaos.set_global_seed`).
- Simulated waits are instant: the plugin sets `TARASH_INSTANT_WAITS=1` for the run
  (unless the variable is already set), which covers sync and async tests, every async
  runner and threads alike. `--tarash-real-waits` sets it to `0` instead.
- A marked test whose record mode is `none` runs behind a **network guard**: a
  socket-level patch of `socket.socket.connect`/`connect_ex` and of
  `socket.getaddrinfo` for the duration of the test (its function-scoped fixtures
  included), restored afterwards. It is socket level because arbitrary user code
  (SDKs, media downloads) must be covered, not only the gateway's own calls. Loopback
  (127.0.0.0/8, ::1, `localhost`) stays reachable; anything else raises
  `NetworkRefusedError` before a packet is sent. Opt out with
  `--tarash-allow-network`. Not covered: unconnected UDP `sendto`, and event loops
  or clients that do not go through the `socket` module (uvloop, pycurl).
- At the end, one line: `tarash: 12 replayed, 0 recorded, 40 mocked, 8 faults injected,
  seed 1234` (`stats`, reset when the session starts), and, when replays and
  mocks stood in for priced models, `, about $4.80 of generation avoided` (`cost`).

See `docs/pytest-plugin.md`.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import inspect
import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from pydantic import ValidationError as PydanticValidationError

from . import stats
from .cassettes import use_cassette
from .cassettes.config import CassetteConfig, RecordMode
from .exceptions import ValidationError
from .mock.chaos import global_source, set_global_seed
from .mock.layer import force_mock

__all__ = [
    "MARKER",
    "NetworkRefusedError",
    "RECORD_MODES",
    "SIGNATURE",
    "cassette_file_name",
    "network_guard",
    "summary_line",
]

MARKER = "tarash_cassette"
RECORD_MODES = tuple(mode.value for mode in RecordMode)
DEFAULT_RECORD_MODE = "none"
ENV_INSTANT_WAITS = "TARASH_INSTANT_WAITS"
SIGNATURE = f"{MARKER}(name=None, *, record_mode=None, **options)"
_MARKER_LINE = (
    f"{SIGNATURE}: record and replay every tarash-gateway "
    "call of the test, and the HTTP traffic of its httpx clients (vendor SDKs included), through a "
    "cassette, by default <test dir>/cassettes/<module>/<test>.db. "
    "name: another cassette (relative to tarash_cassette_dir); record_mode: none, once, "
    "new_episodes or all (the command line's --tarash-record-mode wins); options: any other "
    "CassetteConfig field (match_on, capture_media, replay_speed, ...)."
)
_MISSING = object()


class NetworkRefusedError(RuntimeError):
    """A replay-only test tried to reach a host that is not loopback.

    A `RuntimeError` rather than an `OSError` on purpose: code that retries on
    connection errors must not swallow it.
    """


# -- the session ---------------------------------------------------------------------


@dataclass
class _RunState:
    """What the plugin changed for the run, to undo it, and whether tarash was in use."""

    environ_before: str | None
    forced_mock: bool = False
    seeded: bool = False
    in_use: bool = False


_STATE = pytest.StashKey[_RunState]()
_CONTEXT = pytest.StashKey[dict[contextvars.ContextVar[Any], Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tarash", "tarash-gateway record, replay and mock")
    group.addoption(
        "--tarash-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="record mode of every tarash_cassette test, over its marker and the tarash_cassette_options "
        "fixture. Default: the marker's, else the fixture's, else 'none' (replay only; a call not "
        "recorded fails the test). 'once' records cassettes that do not exist yet, 'new_episodes' "
        "records what is missing, 'all' records everything again.",
    )
    group.addoption(
        "--tarash-mock",
        action="store_true",
        default=False,
        help="serve every tarash-gateway call from the mock layer (the stock mock for configs without "
        "an enabled mock of their own); the cassettes of marked tests are not opened.",
    )
    group.addoption(
        "--tarash-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed the chaos of every mock without a seed of its own. Default: TARASH_MOCK_SEED, else a "
        "random seed, printed in the summary line so the run can be repeated.",
    )
    group.addoption(
        "--tarash-real-waits",
        action="store_true",
        default=False,
        help="really sleep through simulated waits (mock latency, polling, real-time replays). "
        "Default: instant waits on a virtual clock.",
    )
    group.addoption(
        "--tarash-max-age",
        default=None,
        metavar="AGE",
        help="recordings older than AGE (days, or '30d', '12h') are expired; what replaying one does is "
        "the cassette's on_expired (default 'warn'). Over the marker and the fixture.",
    )
    group.addoption(
        "--tarash-strict",
        action="store_true",
        default=False,
        help="fail a tarash_cassette test at teardown when it did not replay every recording its cassette "
        "held (play counts are kept for 'tarash cassette prune --unused').",
    )
    group.addoption(
        "--tarash-allow-network",
        action="store_true",
        default=False,
        help="let replay-only tarash_cassette tests reach hosts other than loopback.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_LINE)
    state = _RunState(environ_before=os.environ.get(ENV_INSTANT_WAITS))
    config.stash[_STATE] = state
    if config.getoption("tarash_real_waits"):
        os.environ[ENV_INSTANT_WAITS] = "0"  # the command line wins over the environment
    elif state.environ_before is None:
        os.environ[ENV_INSTANT_WAITS] = "1"
    if config.getoption("tarash_mock"):
        force_mock(True)
        state.forced_mock = state.in_use = True
    seed = config.getoption("tarash_seed")
    if seed is not None:
        set_global_seed(seed)
        state.seeded = state.in_use = True
    if config.getoption("tarash_record_mode") or config.getoption("tarash_allow_network"):
        state.in_use = True


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    if state.environ_before is None:
        os.environ.pop(ENV_INSTANT_WAITS, None)
    else:
        os.environ[ENV_INSTANT_WAITS] = state.environ_before
    if state.forced_mock:
        force_mock(False)
    if state.seeded:
        set_global_seed(None)


def pytest_sessionstart(session: pytest.Session) -> None:
    stats.reset()
    from .cost import reset_avoided, track_avoided

    reset_avoided()
    track_avoided()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    counts = stats.snapshot()
    if state is None or not (state.in_use or any(counts.values())):
        return  # tarash served nothing and was not asked for: stay quiet
    try:
        seed: int | str = global_source().seed
    except ValidationError as error:  # a TARASH_MOCK_SEED that is not a number
        seed = f"unknown ({error})"
    from .cost import avoided_summary

    terminalreporter.write_line(summary_line(counts, seed, avoided_summary()[0]))


def summary_line(counts: Mapping[str, int], seed: int | str, avoided_usd: float = 0.0) -> str:
    """The end-of-run line, e.g. `tarash: 12 replayed, 0 recorded, 40 mocked, 8 faults injected, seed 1234`,
    with `, about $4.80 of generation avoided` when replays and mocks saved priced calls."""
    line = (
        f"tarash: {counts.get('replayed', 0)} replayed, {counts.get('recorded', 0)} recorded, "
        f"{counts.get('mocked', 0)} mocked, {counts.get('faults', 0)} faults injected, seed {seed}"
    )
    return f"{line}, about ${avoided_usd:,.2f} of generation avoided" if avoided_usd >= 0.005 else line


# -- per test ------------------------------------------------------------------------


@pytest.fixture
def tarash_cassette_dir(request: pytest.FixtureRequest) -> str:
    """The directory of the test's cassette: `<test dir>/cassettes/<module>`. Override to move it."""
    path = Path(request.path)
    return str(path.parent / "cassettes" / path.stem)


@pytest.fixture
def tarash_cassette_options() -> dict[str, Any]:
    """Default `CassetteConfig` options of `tarash_cassette` tests
    (the marker and the command line win). Override, e.g. `{"capture_media": False}`."""
    return {}


@pytest.fixture
def tarash_cassette(_tarash_cassette_scope: Any) -> Any:
    """The `CassetteSession` of a `tarash_cassette` test
    (`path`, `replayed`, `recorded`, `refused`); `None` without the marker
    or under `--tarash-mock`."""
    return _tarash_cassette_scope


@pytest.fixture(autouse=True)
def _tarash_cassette_scope(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Opens the cassette of a marked test and puts the network guard up, for the test
    and the function-scoped fixtures set up after this one. Free for unmarked tests."""
    item = request.node
    markers = list(item.iter_markers(MARKER))
    if not markers:
        yield None
        return
    config = request.config
    config.stash[_STATE].in_use = True
    path, options = _resolve(request, markers)
    with contextlib.ExitStack() as stack:
        session = None
        if not config.getoption("tarash_mock"):
            before = contextvars.copy_context()
            session = stack.enter_context(use_cassette(path, **options))
            item.stash[_CONTEXT] = _changed(before, contextvars.copy_context())
        if options["record_mode"] == "none" and not config.getoption("tarash_allow_network"):
            stack.enter_context(network_guard(item.nodeid))
        try:
            yield session
        finally:
            if _CONTEXT in item.stash:
                del item.stash[_CONTEXT]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Async tests: enter the cassette inside the test's own task too.

    Sync tests see the context variables set at setup. An async runner may instead run
    the test in a context copied earlier (anyio's runner task, started with the first
    async fixture); the wrapper sets the same values again inside the coroutine.
    """
    values = item.stash.get(_CONTEXT, None)
    obj = getattr(item, "obj", None)
    if not values or not inspect.iscoroutinefunction(obj):
        return (yield)
    item.obj = _with_context(obj, values)  # type: ignore[attr-defined]
    try:
        return (yield)
    finally:
        item.obj = obj  # type: ignore[attr-defined]


def _with_context(fn: Callable[..., Any], values: dict[contextvars.ContextVar[Any], Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        tokens = [(var, var.set(value)) for var, value in values.items() if var.get(_MISSING) is not value]
        try:
            return await fn(*args, **kwargs)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    return run


def _changed(before: contextvars.Context, after: contextvars.Context) -> dict[contextvars.ContextVar[Any], Any]:
    """The context variables set between two snapshots (only the plugin ran in between)."""
    return {var: value for var, value in after.items() if before.get(var, _MISSING) is not value}


def _marker_arguments(
    name: str | os.PathLike[str] | None = None, *, record_mode: Any = None, **options: Any
) -> tuple[Any, Any, dict[str, Any]]:
    return name, record_mode, options


def _resolve(request: pytest.FixtureRequest, markers: list[pytest.Mark]) -> tuple[str, dict[str, Any]]:
    """The cassette file and the `CassetteConfig` options of a marked test."""
    nodeid = request.node.nodeid
    name, marker_mode, marker_options = None, None, {}
    for mark in reversed(markers):  # farthest first, so the closest marker wins
        try:
            mark_name, mark_mode, mark_options = _marker_arguments(*mark.args, **mark.kwargs)
        except TypeError as error:
            _usage(nodeid, f"@pytest.mark.{SIGNATURE}: {str(error).replace('_marker_arguments()', 'the marker')}")
        name = mark_name if mark_name is not None else name
        marker_mode = mark_mode if mark_mode is not None else marker_mode
        marker_options.update(mark_options)
    fixture_options = dict(request.getfixturevalue("tarash_cassette_options") or {})
    for source, given in (("tarash_cassette_options", fixture_options), (f"@pytest.mark.{MARKER}", marker_options)):
        if "path" in given:
            _usage(nodeid, f"{source}: name the cassette with the marker's name or the tarash_cassette_dir fixture, not path=")
    fixture_mode = fixture_options.pop("record_mode", None)
    options = {**fixture_options, **marker_options}
    try:
        mode = RecordMode.parse(
            request.config.getoption("tarash_record_mode") or marker_mode or fixture_mode or DEFAULT_RECORD_MODE,
            source="record_mode",
        )
    except ValueError as error:
        _usage(nodeid, str(error))
    options["record_mode"] = mode.value
    if request.config.getoption("tarash_max_age"):
        options["max_age"] = request.config.getoption("tarash_max_age")
    if request.config.getoption("tarash_strict"):
        options["strict"] = True
    directory = Path(request.getfixturevalue("tarash_cassette_dir"))
    file = directory / cassette_file_name(request.node.nodeid) if name is None else directory / _with_suffix(name)
    path = os.path.abspath(file)  # absolute: the test may change directory before it calls
    try:
        CassetteConfig(path=path, **options)
    except PydanticValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        _usage(nodeid, f"cassette options: {problems}")
    return path, options


def _with_suffix(name: str | os.PathLike[str]) -> str:
    name = os.fspath(name)
    return name if name.endswith(".db") else f"{name}.db"


def _usage(nodeid: str, message: str) -> NoReturn:
    pytest.fail(f"{MARKER} on {nodeid}: {message}", pytrace=False)


_UNSAFE = re.compile(r"[^\w.\-\[\]]")
_MAX_NAME = 120


def cassette_file_name(nodeid: str) -> str:
    """The default cassette file of a test: its name within the module, made safe for files.

    `test_mod.py::test_x` -> `test_x.db`; `test_mod.py::TestA::test_x[a/b]` ->
    `TestA.test_x[a_b]-<hash>.db`. A name that had to change (parametrize ids may hold
    any character) or be shortened gets a hash of the original, so two tests never
    share a cassette by accident.
    """
    name = ".".join(nodeid.split("::")[1:]) or nodeid
    safe = _UNSAFE.sub("_", name)
    if safe != name or len(safe) > _MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        safe = f"{safe[:_MAX_NAME]}-{digest}"
    return f"{safe}.db"


# -- the network guard ---------------------------------------------------------------

_LOCAL_NAMES = ("", "localhost", "localhost.", "ip6-localhost", "ip6-loopback")  # "": INADDR_ANY


def _is_local(host: Any) -> bool:
    """Loopback (127.0.0.0/8, ::1, `localhost`) or the unspecified address (which
    connects to this machine); not a host name, which only a DNS lookup could place."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.split("%", 1)[0].lower()  # an IPv6 scope id
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name: only a DNS lookup would tell, and that is network access
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return ip.is_loopback or ip.is_unspecified


def _is_numeric(host: Any) -> bool:
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _host_port(host: Any, port: Any) -> str:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _refusal(test: str, action: str) -> NetworkRefusedError:
    return NetworkRefusedError(
        f"tarash: network access refused: {test} tried to {action}. The test replays its cassette "
        "(record mode 'none'), so only loopback (127.0.0.0/8, ::1, localhost) is reachable. Record the "
        "calls with --tarash-record-mode=once (or new_episodes), or pass --tarash-allow-network."
    )


@contextlib.contextmanager
def network_guard(test: str) -> Iterator[None]:
    """Refuse connections and DNS lookups to anything but loopback while the block runs.

    Patches `socket.socket.connect`, `connect_ex` and `socket.getaddrinfo` (so every
    thread is covered) and restores exactly what was there before. `test` is named in
    the `NetworkRefusedError` message.
    """
    cls = socket.socket
    saved = {name: cls.__dict__.get(name, _MISSING) for name in ("connect", "connect_ex")}
    connect, connect_ex, getaddrinfo = cls.connect, cls.connect_ex, socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and len(address) >= 2:
            if not _is_local(address[0]):
                raise _refusal(test, f"connect to {_host_port(address[0], address[1])}")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_numeric(host) and not _is_local(host):
            raise _refusal(test, f"resolve {_host_port(host, port)}")
        return getaddrinfo(host, port, *args, **kwargs)

    # Patching the class on purpose; typeshed declares these on _socket.socket, hence "assignment".
    cls.connect = guarded_connect  # type: ignore[method-assign, assignment]
    cls.connect_ex = guarded_connect_ex  # type: ignore[method-assign, assignment]
    socket.getaddrinfo = guarded_getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = getaddrinfo
        for name, value in saved.items():
            if value is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value)
