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

This module is the entry point and imports only the standard library and pytest: a run
that never uses tarash pays for registering options, a marker and three fixtures, nothing
more. The gateway is imported when a test uses tarash (the marker, one of the
`tarash_cassette*` fixtures, or a `--tarash-*` option); the work is then done by
`pytest_support`.

For a `tarash_cassette` test, each setting is taken from the first of: the command line,
the marker (the closest wins: function > class > module), the `tarash_cassette_options`
fixture, the default. The default record mode is `none`, so CI never reaches a provider.

- `--tarash-mock`: every call is served by the mock layer (`mock.layer.force_mock`);
  the cassettes of marked tests are not opened, and the `tarash_cassette` fixture counts
  the test's mocked calls instead (`pytest_support.MockedCassette`).
- `--tarash-seed=N`: seeds the chaos of every mock without a seed of its own, once, at
  the start of the run (`mock.chaos.set_global_seed`).
- Simulated waits are instant in each test that uses tarash, for that test only (its
  fixtures and threads included, through `clock.use_process_clock`); nothing is
  put in the environment, so subprocesses and other tests keep real time.
  `--tarash-real-waits` keeps real sleeps; a `TARASH_INSTANT_WAITS` set by the user
  is left to decide.
- A marked test whose record mode is `none` runs behind a **network guard**: a
  socket-level patch of `socket.socket.connect`/`connect_ex` and of
  `socket.getaddrinfo` for the duration of the test (its function-scoped fixtures
  included), restored afterwards. It is socket level because arbitrary user code
  (SDKs, media downloads) must be covered, not only the gateway's own calls. Loopback
  (127.0.0.0/8, ::1, `localhost`) stays reachable; anything else raises
  `NetworkRefusedError` before a packet is sent. Opt out with
  `--tarash-allow-network`. Not covered: unconnected UDP `sendto`, and event loops
  or clients that do not go through the `socket` module (uvloop, pycurl).
- A test failing with an error of the gateway shows the test's own frames and the
  message; the gateway's frames (and what they called) are left out (`--fulltrace`
  shows them). A miss names the pytest option that records it.
- At the end, one line: `tarash: 12 replayed, 0 recorded, 40 mocked, 8 faults injected,
  seed 1234` (`stats`, reset when the session starts), added up over the workers
  under pytest-xdist, and, when replays and mocks stood in for priced models,
  `, about $4.80 of generation avoided` (`cost`).

See `docs/pytest-plugin.md`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import ipaddress
import re
import socket
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = [
    "MARKER",
    "NetworkRefusedError",
    "RECORD_MODES",
    "SIGNATURE",
    "cassette_file_name",
    "network_guard",
    "session_counts_avoided_cost",
    "summary_line",
]

MARKER = "tarash_cassette"
#: `RecordMode`'s values, spelled out so the entry point need not import the gateway
#: (a test checks that they agree).
RECORD_MODES = ("none", "once", "new_episodes", "all")
DEFAULT_RECORD_MODE = "none"
ENV_INSTANT_WAITS = "TARASH_INSTANT_WAITS"
SIGNATURE = f"{MARKER}(name=None, *, record_mode=None, **options)"
FIXTURES = ("tarash_cassette", "tarash_cassette_dir", "tarash_cassette_options")
_OPTIONS = (
    "tarash_record_mode",
    "tarash_mock",
    "tarash_seed",
    "tarash_real_waits",
    "tarash_max_age",
    "tarash_strict",
    "tarash_allow_network",
)
_PACKAGE = __name__.rpartition(".")[0]
_MARKER_LINE = (
    f"{SIGNATURE}: record and replay every tarash-gateway "
    "call of the test, and the HTTP traffic of its httpx clients (vendor SDKs included), through a "
    "cassette, by default <test dir>/cassettes/<module>/<test>.db. "
    "name: another cassette (relative to tarash_cassette_dir); record_mode: none, once, "
    "new_episodes or all (the command line's --tarash-record-mode wins); options: any other "
    "CassetteConfig field (match_on, capture_media, replay_speed, ...)."
)
_MISSING = object()
_WORKER_KEY = "tarash_counts"


class NetworkRefusedError(RuntimeError):
    """A replay-only test tried to reach a host that is not loopback.

    A `RuntimeError` rather than an `OSError` on purpose: code that retries on
    connection errors must not swallow it.
    """


# -- the session ---------------------------------------------------------------------


@dataclass
class _RunState:
    """What the plugin changed for the run, to undo it, and whether tarash was in use."""

    optioned: bool = False
    forced_mock: bool = False
    seeded: bool = False
    in_use: bool = False
    workers: Counter[str] = field(default_factory=Counter)
    worker_seeds: set[str] = field(default_factory=set)
    avoided_usd: float = 0.0


_STATE = pytest.StashKey[_RunState]()
#: The context variables a marked test's cassette set at setup (see pytest_runtest_call).
CONTEXT = pytest.StashKey[dict[Any, Any]]()


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
        "Default: instant waits on a virtual clock, in the tests that use tarash.",
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
    state = _RunState()
    config.stash[_STATE] = state
    state.optioned = state.in_use = any(config.getoption(name) not in (None, False) for name in _OPTIONS)
    if config.getoption("tarash_mock"):
        from .mock.layer import force_mock

        force_mock(True)
        state.forced_mock = True
    seed = config.getoption("tarash_seed")
    if seed is not None:
        from .mock.chaos import set_global_seed

        set_global_seed(seed)
        state.seeded = True


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    if state.forced_mock:
        from .mock.layer import force_mock

        force_mock(False)
    if state.seeded:
        from .mock.chaos import set_global_seed

        set_global_seed(None)


def pytest_sessionstart(session: pytest.Session) -> None:
    stats = sys.modules.get(f"{_PACKAGE}.stats")  # nothing was counted if it was never loaded
    if stats is not None:
        stats.reset()
    # The avoided cost is counted from the first call on. The switch is stats' (see
    # `session_counts_avoided_cost`); the gateway is not imported for it.
    global _count_avoided
    _count_avoided = True
    if stats is not None:
        stats.track_avoided_cost()
    cost = sys.modules.get(f"{_PACKAGE}.cost")
    if cost is not None:
        cost.reset_avoided()


_count_avoided = False


def session_counts_avoided_cost() -> bool:
    """Whether a pytest session started with this plugin counts the generation avoided.

    `stats` asks when it loads after the session started (the plugin imports nothing
    of the gateway itself), and turns its `track_avoided_cost` switch on.
    """
    return _count_avoided


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker hands its counts, seed, avoided cost and use to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is None:
        return
    state = session.config.stash[_STATE]
    counts = _counts()
    if state.in_use or any(counts.values()):
        workeroutput[_WORKER_KEY] = {"counts": counts, "seed": str(_seed()), "avoided": _avoided()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: add a finished worker's counts to the controller's."""
    sent = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    state = node.config.stash.get(_STATE, None)
    if sent is None or state is None:
        return
    state.in_use = True
    state.workers.update(sent["counts"])
    state.worker_seeds.add(sent["seed"])
    state.avoided_usd += float(sent.get("avoided") or 0.0)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    counts = Counter(_counts())
    counts.update(state.workers)
    if not (state.in_use or any(counts.values())):
        return  # tarash served nothing and was not asked for: stay quiet
    # Under xdist each worker draws from its own seed (the same one with --tarash-seed).
    seed = ", ".join(sorted(state.worker_seeds)) if state.worker_seeds else _seed()
    terminalreporter.write_line(summary_line(counts, seed, _avoided() + state.avoided_usd))


def _counts() -> dict[str, int]:
    stats = sys.modules.get(f"{_PACKAGE}.stats")
    return stats.snapshot() if stats is not None else {}


def _avoided() -> float:
    cost = sys.modules.get(f"{_PACKAGE}.cost")  # nothing was served for free if it never loaded
    return cost.avoided_summary()[0] if cost is not None else 0.0


def _seed() -> int | str:
    from .exceptions import ValidationError
    from .mock.chaos import global_source

    try:
        return global_source().seed
    except ValidationError as error:  # a TARASH_MOCK_SEED that is not a number
        return f"unknown ({error})"


def summary_line(counts: Mapping[str, int], seed: int | str, avoided_usd: float = 0.0) -> str:
    """The end-of-run line, e.g. `tarash: 12 replayed, 0 recorded, 40 mocked, 8 faults injected, seed 1234`,
    with `, about $4.80 of generation avoided` when replays and mocks saved priced calls."""
    faults = counts.get("faults", 0)
    line = (
        f"tarash: {counts.get('replayed', 0)} replayed, {counts.get('recorded', 0)} recorded, "
        f"{counts.get('mocked', 0)} mocked, {faults} fault{'' if faults == 1 else 's'} injected, seed {seed}"
    )
    return f"{line}, about ${avoided_usd:,.2f} of generation avoided" if avoided_usd >= 0.005 else line


# -- per test ------------------------------------------------------------------------


def uses_tarash(item: pytest.Item) -> bool:
    """Whether a test uses tarash: the marker, a `tarash_cassette*` fixture, or a `--tarash-*` option."""
    if item.get_closest_marker(MARKER) is not None:
        return True
    if any(name in FIXTURES for name in getattr(item, "fixturenames", ())):
        return True
    state = item.config.stash.get(_STATE, None)
    return state is not None and state.optioned


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """A test that uses tarash runs (setup, call and teardown) on the clock the run asks for."""
    if not uses_tarash(item):
        return (yield)
    item.config.stash[_STATE].in_use = True
    from .pytest_support import clock_for_test

    with clock_for_test(real_waits=item.config.getoption("tarash_real_waits")):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failure raised by the gateway: the message first, the library's frames left out."""
    excinfo = call.excinfo
    if excinfo is not None and type(excinfo.value).__module__.startswith(_PACKAGE + "."):
        from .pytest_support import shorten_failure

        config = item.config
        shorten_failure(excinfo, item.path, fulltrace=bool(config.getoption("fulltrace", False) or config.getoption("usepdb", False)))
    return (yield)


@pytest.fixture
def tarash_cassette_dir(request: pytest.FixtureRequest) -> str:
    """The directory of the test's cassette: `<test dir>/cassettes/<module>`. Override to move it."""
    path = request.path
    return str(path.parent / "cassettes" / path.stem)


@pytest.fixture
def tarash_cassette_options() -> dict[str, Any]:
    """Default `cassettes.CassetteConfig` options of `tarash_cassette` tests
    (the marker and the command line win). Override, e.g. `{"capture_media": False}`."""
    return {}


@pytest.fixture
def tarash_cassette(_tarash_cassette_scope: Any) -> Any:
    """The `cassettes.CassetteSession` of a `tarash_cassette` test
    (`path`, `replayed`, `recorded`, `refused`); under `--tarash-mock`, a
    `pytest_support.MockedCassette` with the same counters and `mocked`;
    `None` without the marker."""
    return _tarash_cassette_scope


@pytest.fixture(autouse=True)
def _tarash_cassette_scope(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Opens the cassette of a marked test and puts the network guard up, for the test
    and the function-scoped fixtures set up after this one. Free for unmarked tests."""
    if request.node.get_closest_marker(MARKER) is None:
        yield None
        return
    from .pytest_support import cassette_for

    with cassette_for(request) as session:
        yield session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Async tests: enter the cassette inside the test's own task too.

    Sync tests see the context variables set at setup. An async runner may instead run
    the test in a context copied earlier (anyio's runner task, started with the first
    async fixture); the wrapper sets the same values again inside the coroutine.
    """
    values = item.stash.get(CONTEXT, None)
    obj = getattr(item, "obj", None)
    if not values or not inspect.iscoroutinefunction(obj):
        return (yield)
    item.obj = _with_context(obj, values)  # type: ignore[attr-defined]
    try:
        return (yield)
    finally:
        item.obj = obj  # type: ignore[attr-defined]


def _with_context(fn: Callable[..., Any], values: dict[Any, Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        tokens = [(var, var.set(value)) for var, value in values.items() if var.get(_MISSING) is not value]
        try:
            return await fn(*args, **kwargs)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    return run


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
