"""The half of the pytest plugin that needs the gateway, imported when a test uses tarash.

`pytest_plugin` (the entry point) imports only the standard library and pytest;
it calls these when a test carries the marker, asks for a `tarash_cassette*` fixture,
or the run was given a `--tarash-*` option:

- `clock_for_test`: the clock a tarash test runs on (instant unless real waits are asked);
- `cassette_for`: the cassette and network guard of a marked test;
- `MockedCassette`: what the `tarash_cassette` fixture gives under `--tarash-mock`;
- `shorten_failure` and `pytest_advice`: a gateway error as a pytest user needs it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import pytest
from pydantic import ValidationError as PydanticValidationError

from . import stats
from .cassettes import use_cassette
from .cassettes.config import CassetteConfig, RecordMode
from .clock import InstantClock, SystemClock, use_process_clock
from .env import env_value
from .exceptions import RecordingNotFoundError
from .pytest_plugin import CONTEXT, DEFAULT_RECORD_MODE, MARKER, SIGNATURE, cassette_file_name, network_guard

__all__ = ["MockedCassette", "cassette_for", "clock_for_test", "pytest_advice", "shorten_failure"]

_MISSING = object()
_GATEWAY_DIR = Path(__file__).resolve().parent


def clock_for_test(*, real_waits: bool) -> contextlib.AbstractContextManager[Any]:
    """The clock of one test that uses tarash, for every thread while it runs.

    Instant by default; the system clock with `--tarash-real-waits`; left to
    `TARASH_INSTANT_WAITS` when the user set it. A `use_clock` in the test still wins.
    """
    if real_waits:
        return use_process_clock(SystemClock())
    if env_value("TARASH_INSTANT_WAITS"):
        return contextlib.nullcontext()
    return use_process_clock(InstantClock())


class MockedCassette:
    """The `tarash_cassette` fixture of a marked test under `--tarash-mock`.

    No cassette is opened, so nothing is replayed, recorded or refused; `mocked` and
    `faults` count the test's calls served by the mock layer (and the faults injected
    into them), so a test can check `replayed + recorded + mocked` the same way in
    both runs. `path` is the cassette the test would use without `--tarash-mock`.

    Examples:
        >>> cassette = MockedCassette("tests/cassettes/test_mod/test_x.db")
        >>> (cassette.replayed, cassette.recorded, cassette.mocked)
        (0, 0, 0)
    """

    replayed = 0
    recorded = 0
    refused = 0
    replayed_seconds = 0.0

    def __init__(self, path: str) -> None:
        self.path = path
        self._start = stats.snapshot()

    @property
    def mocked(self) -> int:
        """Calls served by the mock layer since the test started."""
        return stats.snapshot()["mocked"] - self._start["mocked"]

    @property
    def faults(self) -> int:
        """Of those, the calls that injected an error or latency."""
        return stats.snapshot()["faults"] - self._start["faults"]

    def __repr__(self) -> str:
        return f"<MockedCassette {self.path} (not opened: --tarash-mock), {self.mocked} mocked>"


@contextlib.contextmanager
def cassette_for(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open the cassette of a marked test (or count its mocks) and put the network guard up."""
    item = request.node
    config = request.config
    path, options = _resolve(request, list(item.iter_markers(MARKER)))
    with contextlib.ExitStack() as stack:
        session: Any
        if config.getoption("tarash_mock"):
            session = MockedCassette(path)
        else:
            before = contextvars.copy_context()
            session = stack.enter_context(use_cassette(path, **options))
            item.stash[CONTEXT] = _changed(before, contextvars.copy_context())
        if options["record_mode"] == "none" and not config.getoption("tarash_allow_network"):
            stack.enter_context(network_guard(item.nodeid))
        try:
            yield session
        finally:
            if CONTEXT in item.stash:
                del item.stash[CONTEXT]


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


# -- failures ----------------------------------------------------------------------------

# record_mode='once' or 'new_episodes' / record_mode='new_episodes' (or 'all') / record_mode='new_episodes'
# where the message advises a mode (not "(record_mode='none')", which says the mode in force).
_ADVICE = re.compile(r"(?<!\()record_mode='(\w+)'(?: or '(\w+)'| \(or '(\w+)'\))?")


def pytest_advice(message: str) -> str:
    """A gateway message as a pytest user acts on it: the command-line option for a record mode.

    Examples:
        >>> pytest_advice("Record it with record_mode='new_episodes' (or 'all'), or change the call to match.")
        'Record it with --tarash-record-mode=new_episodes (or all), or change the call to match.'
    """

    def option(match: re.Match[str]) -> str:
        other = match.group(2) or match.group(3)
        return f"--tarash-record-mode={match.group(1)}" + (f" (or {other})" if other else "")

    message = _ADVICE.sub(option, message)
    return message.replace(
        "Set allow_playback_repeats=True", f"Set @pytest.mark.{MARKER}(allow_playback_repeats=True)"
    )


def shorten_failure(excinfo: pytest.ExceptionInfo[BaseException], test_file: Any, *, fulltrace: bool) -> None:
    """Leave the gateway's frames (and all below them) out of a failure, and advise pytest options.

    The frames down to the test module's last one stay, then the user's own until the
    first frame of the gateway, so the report shows the line that called the gateway and
    then the message. `--fulltrace` keeps every frame.
    """
    error = excinfo.value
    if isinstance(error, RecordingNotFoundError):
        error.message = pytest_advice(error.message)
        error.args = (error.message, *error.args[1:])
    if fulltrace:
        return
    # pytest rebuilds a traceback from the raw one when it cuts it for display, so the
    # raw chain itself ends at the last frame before the gateway (`tb_next` is writable).
    test_path = _resolved(test_file)
    shown = excinfo.traceback
    frames: list[TracebackType] = []
    raw: TracebackType | None = excinfo.tb
    while raw is not None:
        frames.append(raw)
        raw = raw.tb_next
    in_test = [index for index, tb in enumerate(frames) if _resolved(tb.tb_frame.f_code.co_filename) == test_path]
    if not in_test:
        return  # raised outside the test module (a fixture of another file): keep it all
    for index in range(in_test[-1] + 1, len(frames)):
        if _in_gateway(frames[index].tb_frame.f_code.co_filename):
            frames[index - 1].tb_next = None
            excinfo.traceback = shown[: len(shown) - (len(frames) - index)]
            return


def _resolved(path: Any) -> Path | None:
    try:
        return Path(path).resolve()
    except (OSError, TypeError, ValueError):
        return None


def _in_gateway(path: Any) -> bool:
    resolved = _resolved(path)
    return resolved is not None and resolved.is_relative_to(_GATEWAY_DIR)
