"""The pytest plugin, in isolated sessions (``pytester``, one subprocess per run).

Each run's test files get a provider ``studio`` that writes every call it serves to
``provider_calls.txt``, so a test can tell a replay (no line added) from a real call.
Nothing leaves the machine: the only provider is in-process and the network-guard tests
run behind a tripwire that refuses any connection the guard would have let through.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from tarash.tarash_gateway import (
    generate_video,
    register_provider,
    unregister_provider,
    use_cassette,
)
from tarash.tarash_gateway.mock import MockConfig
from tarash.tarash_gateway.mock.layer import _ENV_MOCK, effective_mock, force_mock
from tarash.tarash_gateway.models import (
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)
from tarash.tarash_gateway.pytest_plugin import (
    NetworkRefusedError,
    cassette_file_name,
    network_guard,
    summary_line,
)

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
addopts = -p tarash -p no:cacheprovider
"""

CONFTEST = '''
import json
import pathlib

import pytest

from tarash.tarash_gateway import register_provider, unregister_provider
from tarash.tarash_gateway.models import VideoGenerationResponse

HERE = pathlib.Path(__file__).parent


class Studio:
    """The provider of these tests: it notes every call it serves."""

    def generate_video(self, config, request, on_progress=None):
        with (HERE / "provider_calls.txt").open("a") as calls:
            calls.write(request.prompt + "\\n")
        return VideoGenerationResponse(request_id=f"job-{request.prompt}", video="https://cdn.example/v.mp4")


@pytest.fixture(autouse=True)
def studio():
    register_provider("studio", Studio())
    yield
    unregister_provider("studio")


@pytest.fixture
def note(request):
    """note(**fields): one JSON line per test in seen.jsonl, for the outer test to read."""

    def write(**fields):
        with (HERE / "seen.jsonl").open("a") as seen:
            seen.write(json.dumps({"test": request.node.name, **fields}) + "\\n")

    return write
'''


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Write the shared ini and conftest; ``run(*args)`` is one isolated pytest process."""
    monkeypatch.delenv("TARASH_INSTANT_WAITS", raising=False)
    monkeypatch.delenv("TARASH_MOCK_SEED", raising=False)
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)

    def run_pytest(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*args, timeout=60)

    return run_pytest


def provider_calls(pytester: pytest.Pytester) -> list[str]:
    calls = pytester.path / "provider_calls.txt"
    return calls.read_text().splitlines() if calls.exists() else []


def seen(pytester: pytest.Pytester) -> dict[str, dict]:
    """What each test noted in its last run (seen.jsonl is emptied after reading)."""
    file = pytester.path / "seen.jsonl"
    if not file.exists():
        return {}
    lines = [json.loads(line) for line in file.read_text().splitlines()]
    file.unlink()
    return {line.pop("test"): line for line in lines}


def summary(result: pytest.RunResult) -> str:
    lines = [line for line in result.outlines if line.startswith("tarash: ")]
    assert len(lines) == 1, result.outlines
    return lines[0]


# -- record, replay, naming, sync and async ---------------------------------------------

REPLAY_TESTS = '''
import pytest

from tarash.tarash_gateway import generate_video, generate_video_async
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

CONFIG = VideoGenerationConfig(provider="studio", model="v1")


def call(prompt, cassette, note):
    response = generate_video(CONFIG, VideoGenerationRequest(prompt=prompt))
    note(source=response.origin.source, recorded=cassette.recorded, replayed=cassette.replayed)


async def acall(prompt, cassette, note):
    response = await generate_video_async(CONFIG, VideoGenerationRequest(prompt=prompt))
    note(source=response.origin.source, recorded=cassette.recorded, replayed=cassette.replayed)


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
async def warm_runner():
    # anyio starts its runner task here, in a context copied before the test's setup
    yield


@pytest.mark.tarash_cassette(capture_media=False)
def test_sync(tarash_cassette, note):
    call("sync", tarash_cassette, note)


@pytest.mark.asyncio
@pytest.mark.tarash_cassette(capture_media=False)
async def test_asyncio(tarash_cassette, note):
    await acall("asyncio", tarash_cassette, note)


@pytest.mark.anyio
@pytest.mark.tarash_cassette(capture_media=False)
async def test_anyio(warm_runner, tarash_cassette, note):
    await acall("anyio", tarash_cassette, note)


@pytest.mark.tarash_cassette(capture_media=False)
class TestPipeline:
    def test_method(self, tarash_cassette, note):
        call("method", tarash_cassette, note)


@pytest.mark.parametrize("prompt", ["a/b", "a:b"])
@pytest.mark.tarash_cassette(capture_media=False)
def test_param(prompt, tarash_cassette, note):
    call(prompt, tarash_cassette, note)


def test_without_marker(tarash_cassette):
    assert tarash_cassette is None
'''


def test_records_once_then_replays_without_calling_the_provider(run, pytester):
    pytester.makepyfile(test_replay=REPLAY_TESTS)

    first = run("--tarash-record-mode=once")
    first.assert_outcomes(passed=7)
    assert sorted(provider_calls(pytester)) == ["a/b", "a:b", "anyio", "asyncio", "method", "sync"]
    notes = seen(pytester)
    assert len(notes) == 6
    assert all(s == {"source": "provider", "recorded": 1, "replayed": 0} for s in notes.values())
    folder = pytester.path / "cassettes" / "test_replay"
    expected = {"test_sync.db", "test_asyncio.db", "test_anyio.db", "TestPipeline.test_method.db"}
    expected |= {cassette_file_name(f"test_replay.py::test_param[{i}]") for i in ("a/b", "a:b")}
    assert {p.name for p in folder.iterdir() if p.suffix == ".db"} == expected
    assert summary(first) == f"tarash: 0 replayed, 6 recorded, 0 mocked, 0 faults injected, seed {seed_of(first)}"

    second = run()  # the default record mode: none
    second.assert_outcomes(passed=7)
    assert len(provider_calls(pytester)) == 6  # not one more call
    notes = seen(pytester)
    assert len(notes) == 6
    assert all(s == {"source": "replay", "recorded": 0, "replayed": 1} for s in notes.values())
    assert summary(second).startswith("tarash: 6 replayed, 0 recorded, 0 mocked, 0 faults injected, seed ")


def seed_of(result: pytest.RunResult) -> int:
    match = re.search(r", seed (\d+)$", summary(result))
    assert match, summary(result)
    return int(match.group(1))


def test_a_miss_fails_the_test_with_the_nearest_recordings(run, pytester):
    class Studio:
        def generate_video(self, config, request, on_progress=None):
            return VideoGenerationResponse(request_id="job-1", video="https://cdn.example/v.mp4")

    register_provider("studio", Studio())
    try:
        with use_cassette(pytester.path / "cassettes" / "test_miss" / "test_other_prompt.db", capture_media=False):
            generate_video(VideoGenerationConfig(provider="studio", model="v1"), VideoGenerationRequest(prompt="a cat"))
    finally:
        unregister_provider("studio")
    pytester.makepyfile(
        test_miss='''
        import pytest

        from tarash.tarash_gateway import generate_video
        from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

        CONFIG = VideoGenerationConfig(provider="studio", model="v1")


        @pytest.mark.tarash_cassette
        def test_other_prompt():
            generate_video(CONFIG, VideoGenerationRequest(prompt="a dog"))


        @pytest.mark.tarash_cassette
        def test_never_recorded():
            generate_video(CONFIG, VideoGenerationRequest(prompt="a cat"))
        '''
    )
    result = run()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*RecordingNotFoundError: cassette *test_other_prompt.db holds no recording of this video call "
            "to studio/v1 (record_mode='none').",
            "*Nearest recordings:",
            "*#1 studio/v1 recorded *: request.prompt: 'a dog' here, 'a cat' recorded",
        ]
    )
    result.stdout.fnmatch_lines(["*RecordingNotFoundError: cassette *test_never_recorded.db does not exist*"])
    assert provider_calls(pytester) == []
    assert not (pytester.path / "cassettes" / "test_miss" / "test_never_recorded.db").exists()


# -- precedence: command line > marker > fixture ----------------------------------------

PRECEDENCE_CONFTEST = '''
import pathlib

import pytest


@pytest.fixture
def tarash_cassette_options():
    return {"record_mode": "once", "capture_media": False}


@pytest.fixture
def tarash_cassette_dir(request):
    return str(pathlib.Path(request.path).parent / "recordings")
'''

PRECEDENCE_TESTS = '''
import pytest

from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.exceptions import RecordingNotFoundError
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest


def call(prompt, cassette, note):
    try:
        response = generate_video(VideoGenerationConfig(provider="studio", model="v1"),
                                  VideoGenerationRequest(prompt=prompt))
    except RecordingNotFoundError:
        note(outcome="refused")
        raise
    note(outcome=response.origin.source)


@pytest.mark.tarash_cassette
def test_fixture_mode(tarash_cassette, note):
    call("fixture", tarash_cassette, note)


@pytest.mark.tarash_cassette(record_mode="none")
def test_marker_none(tarash_cassette, note):
    call("marker none", tarash_cassette, note)


@pytest.mark.tarash_cassette("shared", record_mode="once")
def test_marker_once(tarash_cassette, note):
    call("marker once", tarash_cassette, note)
'''


def test_command_line_wins_over_marker_which_wins_over_fixture(run, pytester):
    pytester.makeconftest(CONFTEST + PRECEDENCE_CONFTEST)
    pytester.makepyfile(test_precedence=PRECEDENCE_TESTS)
    recordings = pytester.path / "recordings"

    run().assert_outcomes(passed=2, failed=1)
    assert {t: s["outcome"] for t, s in seen(pytester).items()} == {
        "test_fixture_mode": "provider",  # the fixture's "once" over the default "none"
        "test_marker_none": "refused",  # the marker's "none" over the fixture's "once"
        "test_marker_once": "provider",
    }
    assert sorted(p.name for p in recordings.iterdir()) == ["shared.db", "test_fixture_mode.db"]

    run("--tarash-record-mode=all").assert_outcomes(passed=3)  # over both: everything recorded again
    assert {s["outcome"] for s in seen(pytester).values()} == {"provider"}
    assert len(provider_calls(pytester)) == 5

    (recordings / "shared.db").unlink()
    (recordings / "test_fixture_mode.db").unlink()
    run("--tarash-record-mode=none").assert_outcomes(passed=1, failed=2)
    assert {t: s["outcome"] for t, s in seen(pytester).items()} == {
        "test_fixture_mode": "refused",  # "once" would have recorded the missing cassette
        "test_marker_none": "replay",
        "test_marker_once": "refused",
    }
    assert len(provider_calls(pytester)) == 5


def test_marker_misuse_fails_the_test_with_the_reason(run, pytester):
    pytester.makepyfile(
        test_usage='''
        import pytest


        @pytest.mark.tarash_cassette("a", "b")
        def test_two_names():
            pass


        @pytest.mark.tarash_cassette(record_mode="sometimes")
        def test_bad_mode():
            pass


        @pytest.mark.tarash_cassette(replay_sped="instant")
        def test_unknown_option():
            pass


        @pytest.mark.tarash_cassette(path="x.db")
        def test_path_option():
            pass
        '''
    )
    result = run("--strict-markers")
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines_random(
        [
            "*tarash_cassette on test_usage.py::test_two_names: @pytest.mark.tarash_cassette(name*positional*",
            "*tarash_cassette on test_usage.py::test_bad_mode: record_mode='sometimes' is not a record mode; "
            "use one of: none, once, new_episodes, all*",
            "*tarash_cassette on test_usage.py::test_unknown_option: cassette options:*replay_sped*",
            "*tarash_cassette on test_usage.py::test_path_option: *not path=*",
        ]
    )


def test_marker_is_registered_with_its_full_signature(pytestconfig):
    lines = [line for line in pytestconfig.getini("markers") if line.startswith("tarash_cassette")]
    assert lines and lines[0].startswith("tarash_cassette(name=None, *, record_mode=None, **options): ")


# -- --tarash-mock, --tarash-seed, instant waits ---------------------------------------


def test_tarash_mock_serves_every_call_from_the_mock(run, pytester):
    pytester.makepyfile(
        test_mock='''
        import pytest

        from tarash.tarash_gateway import generate_video
        from tarash.tarash_gateway.exceptions import RateLimitError
        from tarash.tarash_gateway.mock import MockConfig, MockResponse
        from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

        REQUEST = VideoGenerationRequest(prompt="a lighthouse")


        def test_config_without_mock():
            response = generate_video(VideoGenerationConfig(provider="studio", model="v1"), REQUEST)
            assert response.is_mock and response.origin.source == "stock"


        def test_config_with_a_disabled_mock():
            config = VideoGenerationConfig(provider="studio", model="v1", mock=MockConfig(enabled=False))
            assert generate_video(config, REQUEST).is_mock


        def test_config_keeps_its_own_mock():
            mock = MockConfig(responses=[MockResponse(error=RateLimitError("slow down"))])
            with pytest.raises(RateLimitError):
                generate_video(VideoGenerationConfig(provider="studio", model="v1", mock=mock), REQUEST)


        @pytest.mark.tarash_cassette
        def test_marked_test_opens_no_cassette(tarash_cassette):
            # replay-only, yet no RecordingNotFoundError; the fixture counts the test's mocks
            assert generate_video(VideoGenerationConfig(provider="studio", model="v1"), REQUEST).is_mock
            generate_video(VideoGenerationConfig(provider="studio", model="v1"), REQUEST)
            assert (tarash_cassette.replayed, tarash_cassette.recorded, tarash_cassette.refused) == (0, 0, 0)
            assert (tarash_cassette.mocked, tarash_cassette.faults) == (2, 0)
            assert tarash_cassette.path.endswith("cassettes/test_mock/test_marked_test_opens_no_cassette.db")
        '''
    )
    result = run("--tarash-mock")
    result.assert_outcomes(passed=4)
    assert provider_calls(pytester) == []
    assert summary(result).startswith("tarash: 0 replayed, 0 recorded, 5 mocked, 1 fault injected, seed ")
    assert not (pytester.path / "cassettes").exists()


SEED_TESTS = '''
import pathlib

from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.exceptions import RateLimitError
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

CHAOS = VideoGenerationConfig(provider="studio", model="v1", mock=MockConfig(responses=[
    MockResponse(weight=1), MockResponse(weight=1, error=RateLimitError("slow down")),
]))


def test_draws():
    draws = []
    for _ in range(40):
        try:
            generate_video(CHAOS, VideoGenerationRequest(prompt="p"))
            draws.append("ok")
        except RateLimitError:
            draws.append("429")
    (pathlib.Path(__file__).parent / "draws.txt").write_text(" ".join(draws))
'''


def test_tarash_seed_repeats_the_chaos_of_a_run(run, pytester):
    pytester.makepyfile(test_seed=SEED_TESTS)
    draws_file = pytester.path / "draws.txt"

    def draws(*args: str) -> tuple[str, int]:
        result = run(*args)
        result.assert_outcomes(passed=1)
        return draws_file.read_text(), seed_of(result)

    seeded, seed = draws("--tarash-seed=1234")
    assert seed == 1234 and {"ok", "429"} <= set(seeded.split())
    assert draws("--tarash-seed=1234") == (seeded, 1234)

    unseeded, reported = draws()  # a random seed, reported in the summary line...
    assert draws(f"--tarash-seed={reported}") == (unseeded, reported)  # ...repeats that run
    if reported != 1234:
        assert unseeded != seeded


WAIT_TESTS = '''
import concurrent.futures
import os
import subprocess
import sys
import time

import pytest

from tarash.tarash_gateway import generate_video, generate_video_async
from tarash.tarash_gateway.clock import InstantClock, SystemClock, current_clock
from tarash.tarash_gateway.mock import MockConfig, MockPollingConfig
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

SLOW = VideoGenerationConfig(provider="studio", model="v1", mock=MockConfig(
    latency=100, polling=MockPollingConfig(delay_between_updates=50)))
REQUEST = VideoGenerationRequest(prompt="slow")
EXPECT = os.environ["EXPECT_WAITS"]  # instant | real | instant-for-tarash-tests


def expect(clock_kind, call=None):
    assert type(current_clock()).__name__ == clock_kind
    if clock_kind == "InstantClock" and call is not None:
        started = time.monotonic()
        call()
        assert time.monotonic() - started < 10


def tarash_clock():
    return "SystemClock" if EXPECT == "real" else "InstantClock"


def other_clock():
    return "InstantClock" if EXPECT == "instant" else "SystemClock"


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.mark.tarash_cassette(record_mode="once", capture_media=False)
def test_marked():
    expect(tarash_clock(), lambda: generate_video(SLOW, REQUEST))


def test_with_a_fixture(tarash_cassette_options):
    expect(tarash_clock(), lambda: generate_video(SLOW, REQUEST))


@pytest.mark.tarash_cassette(record_mode="once", capture_media=False)
def test_in_a_thread():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(expect, tarash_clock(), lambda: generate_video(SLOW, REQUEST)).result(timeout=30)


@pytest.mark.asyncio
@pytest.mark.tarash_cassette(record_mode="once", capture_media=False)
async def test_asyncio_marked():
    expect(tarash_clock())
    if tarash_clock() == "InstantClock":
        started = time.monotonic()
        await generate_video_async(SLOW, REQUEST)
        assert time.monotonic() - started < 10


@pytest.mark.anyio
async def test_anyio_unmarked():
    expect(other_clock())


def test_unrelated_and_its_subprocesses():
    expect(other_clock())
    assert "TARASH_INSTANT_WAITS" not in os.environ
    child = "from tarash.tarash_gateway.clock import current_clock; print(type(current_clock()).__name__)"
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "SystemClock"
'''


def test_simulated_waits_are_instant_only_in_tests_that_use_tarash(run, pytester, monkeypatch):
    pytester.makepyfile(test_waits=WAIT_TESTS)
    monkeypatch.setenv("EXPECT_WAITS", "instant-for-tarash-tests")
    result = run()  # four calls, each with 100 s of latency and 100 s of polling
    result.assert_outcomes(passed=6)
    assert summary(result).startswith("tarash: 0 replayed, 2 recorded, 4 mocked, 4 faults injected, seed ")


def test_a_tarash_option_makes_every_test_of_the_run_a_tarash_test(run, pytester, monkeypatch):
    pytester.makepyfile(test_waits=WAIT_TESTS)
    monkeypatch.setenv("EXPECT_WAITS", "instant")
    run("--tarash-seed=7").assert_outcomes(passed=6)


def test_real_waits_keep_the_system_clock_in_tarash_tests(run, pytester, monkeypatch):
    pytester.makepyfile(test_waits=WAIT_TESTS)
    monkeypatch.setenv("EXPECT_WAITS", "real")
    run("--tarash-real-waits", "-k", "not test_marked and not in_a_thread and not with_a_fixture").assert_outcomes(
        passed=3, deselected=3
    )


# -- the network guard ------------------------------------------------------------------

TRIPWIRE_CONFTEST = '''
import ipaddress
import socket

import pytest


def _numeric(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _remote(sock, address):
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    host = address[0]
    return host != "localhost" and not (_numeric(host) and ipaddress.ip_address(host).is_loopback)


class Tripwire:
    """Installed before the plugin's guard, so the guard wraps it: whatever the guard lets
    through reaches the tripwire, which refuses it instead of sending a packet."""

    def __init__(self):
        self.connect, self.connect_ex, self.getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
        real = self

        def connect(sock, address):
            assert not _remote(sock, address), f"TRIPWIRE: the guard let connect({address}) through"
            return real.connect(sock, address)

        def connect_ex(sock, address):
            assert not _remote(sock, address), f"TRIPWIRE: the guard let connect_ex({address}) through"
            return real.connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            assert host in (None, "localhost") or _numeric(host), f"TRIPWIRE: lookup of {host}"
            return real.getaddrinfo(host, *args, **kwargs)

        self.wires = {"connect": connect, "connect_ex": connect_ex}
        self.gai = getaddrinfo

    def __enter__(self):
        socket.socket.connect, socket.socket.connect_ex = self.wires["connect"], self.wires["connect_ex"]
        socket.getaddrinfo = self.gai
        return self

    def __exit__(self, *exc):
        del socket.socket.connect, socket.socket.connect_ex
        socket.getaddrinfo = self.getaddrinfo


@pytest.fixture(scope="session", autouse=True)
def tripwire():
    with Tripwire() as wire:
        yield wire


@pytest.fixture
def guarded(tripwire):
    return lambda: socket.socket.connect is not tripwire.wires["connect"]
'''

GUARD_TESTS = '''
import asyncio
import os
import socket

import pytest


@pytest.mark.tarash_cassette
def test_remote_connect():
    with socket.socket() as sock:
        sock.connect(("10.255.255.1", 9))


@pytest.mark.tarash_cassette
def test_remote_connect_ex():
    with socket.socket() as sock:
        sock.connect_ex(("10.255.255.1", 9))


@pytest.mark.tarash_cassette
def test_remote_name():
    socket.getaddrinfo("api.example.com", 443)


@pytest.mark.tarash_cassette
def test_remote_ipv6():
    try:
        sock = socket.socket(socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 here")
    with sock:
        sock.connect(("2001:db8::1", 443, 0, 0))


@pytest.mark.asyncio
@pytest.mark.tarash_cassette
async def test_remote_async():
    await asyncio.open_connection("10.255.255.1", 9)


@pytest.mark.tarash_cassette
def test_loopback_stays_reachable(guarded):
    assert guarded() == (os.environ["EXPECT_GUARD"] == "1")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        socket.create_connection(("localhost", port), timeout=5).close()
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) == 0
    if socket.has_ipv6:
        try:
            server6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
        except OSError:
            return
        with server6:
            socket.create_connection(("::1", server6.getsockname()[1]), timeout=5).close()


@pytest.mark.asyncio
@pytest.mark.tarash_cassette
async def test_loopback_stays_reachable_async():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    async with server:
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        writer.close()


@pytest.mark.tarash_cassette(record_mode="once")
def test_recording_test_is_not_guarded(guarded):
    assert not guarded()


def test_unmarked_test_is_not_guarded(guarded):
    assert not guarded()
'''


def test_network_guard_refuses_remote_hosts_in_replay_only_tests(run, pytester, monkeypatch):
    pytester.makeconftest(CONFTEST + TRIPWIRE_CONFTEST)
    pytester.makepyfile(test_guard=GUARD_TESTS)
    monkeypatch.setenv("EXPECT_GUARD", "1")
    result = run()
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 4 and outcomes["failed"] + outcomes.get("skipped", 0) == 5, outcomes
    assert "TRIPWIRE" not in result.stdout.str()
    refused = "*NetworkRefusedError: tarash: network access refused: test_guard.py::{} tried to {}. The test replays*"
    result.stdout.fnmatch_lines_random(
        [
            refused.format("test_remote_connect", "connect to 10.255.255.1:9"),
            refused.format("test_remote_connect_ex", "connect to 10.255.255.1:9"),
            refused.format("test_remote_name", "resolve api.example.com:443"),
            refused.format("test_remote_async", "connect to 10.255.255.1:9"),
            "*--tarash-record-mode=once (or new_episodes), or pass --tarash-allow-network.",
        ]
    )
    if not outcomes.get("skipped"):
        assert "test_guard.py::test_remote_ipv6 tried to connect to [2001:db8::1]:443." in result.stdout.str()

    monkeypatch.setenv("EXPECT_GUARD", "0")
    run("--tarash-allow-network", "-k", "loopback or not_guarded").assert_outcomes(passed=4)


# -- in process: the pure parts ---------------------------------------------------------


@pytest.mark.parametrize(
    "nodeid, name",
    [
        ("test_mod.py::test_x", "test_x.db"),
        ("sub/test_mod.py::TestA::test_x", "TestA.test_x.db"),
        ("test_mod.py::TestA::TestB::test_x[1-fast]", "TestA.TestB.test_x[1-fast].db"),
    ],
)
def test_cassette_file_name_is_the_test_name_within_its_module(nodeid, name):
    assert cassette_file_name(nodeid) == name


def test_cassette_file_name_makes_parametrize_ids_safe_and_distinct():
    names = [cassette_file_name(f"t.py::test_x[{i}]") for i in ("a/b", "a:b", "a b", "a\\b", "ü?*")]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"test_x\[[\w.\-]+\]-[0-9a-f]{8}\.db", name), name
    long = cassette_file_name("t.py::test_x[" + "x" * 500 + "]")
    assert len(long) < 140 and long != cassette_file_name("t.py::test_x[" + "x" * 499 + "]")


def test_summary_line_format():
    counts = {"replayed": 12, "recorded": 0, "mocked": 40, "faults": 8}
    assert summary_line(counts, 1234) == "tarash: 12 replayed, 0 recorded, 40 mocked, 8 faults injected, seed 1234"
    assert summary_line({**counts, "faults": 1}, 7) == "tarash: 12 replayed, 0 recorded, 40 mocked, 1 fault injected, seed 7"


def test_force_mock_sends_every_config_to_the_mock_until_turned_off():
    own = MockConfig(seed=3)
    plain = VideoGenerationConfig(provider="studio", model="v1")
    disabled = VideoGenerationConfig(provider="studio", model="v1", mock=MockConfig(enabled=False))
    mocked = VideoGenerationConfig(provider="studio", model="v1", mock=own)
    force_mock(True)
    try:
        assert effective_mock(plain) is _ENV_MOCK
        assert effective_mock(disabled) is _ENV_MOCK
        assert effective_mock(mocked) is own
    finally:
        force_mock(False)
    assert effective_mock(plain) is None and effective_mock(disabled) is None and effective_mock(mocked) is own


class _Tripwire:
    """Stands where the real ``connect`` was: reached only if the guard let a call through."""

    def __init__(self) -> None:
        self.reached: list[object] = []

    def __call__(self, sock: socket.socket, address: object) -> int:
        self.reached.append(address)
        return 0


@pytest.mark.parametrize("method", ["connect", "connect_ex"])
@pytest.mark.parametrize(
    "address, refused",
    [
        (("10.255.255.1", 9), True),
        (("93.184.216.34", 443), True),
        (("api.example.com", 443), True),
        (("0.0.0.0", 80), False),  # the unspecified address connects to this machine
        (("127.0.0.1", 80), False),
        (("127.8.9.10", 80), False),
        (("localhost", 80), False),
    ],
)
def test_network_guard_decides_before_the_real_connect(monkeypatch, method, address, refused):
    wire = _Tripwire()
    monkeypatch.setattr(socket.socket, method, wire)
    with socket.socket() as sock, network_guard("t.py::test_x"):
        if refused:
            with pytest.raises(NetworkRefusedError, match=rf"t\.py::test_x tried to connect to {re.escape(address[0])}:"):
                getattr(sock, method)(address)
        else:
            getattr(sock, method)(address)
    assert wire.reached == ([] if refused else [address])
    assert socket.socket.__dict__[method] is wire  # put back exactly


@pytest.mark.parametrize(
    "address, refused",
    [(("2001:db8::1", 443, 0, 0), True), (("::1", 80, 0, 0), False), (("::ffff:127.0.0.1", 80, 0, 0), False)],
)
def test_network_guard_on_ipv6_addresses(monkeypatch, address, refused):
    try:
        sock = socket.socket(socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 here")
    wire = _Tripwire()
    monkeypatch.setattr(socket.socket, "connect", wire)
    with sock, network_guard("t.py::test_x"):
        if refused:
            with pytest.raises(NetworkRefusedError, match=r"connect to \[2001:db8::1\]:443"):
                sock.connect(address)
        else:
            sock.connect(address)
    assert wire.reached == ([] if refused else [address])


def test_network_guard_refuses_lookups_of_remote_names_only(monkeypatch):
    looked_up: list[object] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host) or [])
    with network_guard("t.py::test_x"):
        with pytest.raises(NetworkRefusedError, match=r"tried to resolve api\.example\.com:443"):
            socket.getaddrinfo("api.example.com", 443)
        for host in ("localhost", "127.0.0.1", "10.0.0.1", "::1", None):
            socket.getaddrinfo(host, 80)
    assert looked_up == ["localhost", "127.0.0.1", "10.0.0.1", "::1", None]


def test_network_guard_leaves_unix_sockets_alone(tmp_path):
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no unix sockets")
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        with network_guard("t.py::test_x"), socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
    assert "connect" not in socket.socket.__dict__


def test_network_guard_is_removed_when_the_block_fails():
    with pytest.raises(ZeroDivisionError), network_guard("t.py::test_x"):
        raise ZeroDivisionError("the test body failed")
    assert "connect" not in socket.socket.__dict__ and "connect_ex" not in socket.socket.__dict__
    assert socket.getaddrinfo.__module__ == "socket"


def test_docs_page_exists_and_names_every_option():
    page = (Path(__file__).resolve().parents[1] / "docs" / "pytest-plugin.md").read_text()
    for word in ("--tarash-record-mode", "--tarash-mock", "--tarash-seed", "--tarash-real-waits",
                 "--tarash-allow-network", "tarash_cassette_dir", "tarash_cassette_options", "tarash_cassette("):
        assert word in page, word


# -- a paid result is never thrown away --------------------------------------------------

WRITE_FAILURE_TESTS = '''
import pytest

from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

CONFIG = VideoGenerationConfig(provider="studio", model="v1")


@pytest.mark.tarash_cassette(record_mode="new_episodes")
def test_disk_fills_up(tarash_cassette, note):
    generate_video(CONFIG, VideoGenerationRequest(prompt="one"))
    conn = tarash_cassette.store.db().conn  # no page more: SQLite's disk-full error
    conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
    response = generate_video(CONFIG, VideoGenerationRequest(prompt="two" + "x" * 200_000))
    note(got=response.request_id)
'''


def test_a_recording_that_could_not_be_written_fails_the_test_at_teardown_with_the_reason(run, pytester):
    pytester.makepyfile(test_full=WRITE_FAILURE_TESTS)
    result = run("--tarash-record-mode=new_episodes")
    result.assert_outcomes(passed=1, errors=1)
    assert seen(pytester)["test_disk_fills_up"]["got"].startswith("job-two")  # the test got the paid response
    assert len(provider_calls(pytester)) == 2
    errors = "\n".join(result.outlines)
    assert "ERROR at teardown of test_disk_fills_up" in errors
    assert "could not be recorded" in errors and "the disk is full" in errors


# -- strict replay and expiry from the command line -------------------------------------

STRICT_TESTS = '''
import pytest

from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

CONFIG = VideoGenerationConfig(provider="studio", model="v1")


@pytest.mark.tarash_cassette("shared", capture_media=False)
def test_first(request):
    prompts = ["a", "b"] if request.config.getoption("--tarash-record-mode") == "once" else ["a"]
    for prompt in prompts:
        generate_video(CONFIG, VideoGenerationRequest(prompt=prompt))
'''


def test_strict_fails_a_test_that_left_a_recording_unplayed_and_max_age_expires_old_ones(run, pytester):
    import sqlite3

    pytester.makepyfile(test_strict=STRICT_TESTS)
    run("--tarash-record-mode=once").assert_outcomes(passed=1)
    result = run("--tarash-strict")
    result.assert_outcomes(passed=1, errors=1)
    assert any("strict replay: 1 of the 2 recording(s)" in line and "prompt 'b'" in line for line in result.outlines)
    assert run().ret == 0  # not strict: the same run passes

    db = next(pytester.path.rglob("shared.db"))
    conn = sqlite3.connect(db)
    conn.execute("UPDATE recordings SET recorded_at = '2020-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()
    pytester.makeini(INI + "log_level = WARNING\n")
    warned = run("--tarash-max-age=30", "-rA", "-o", "log_cli=true")
    warned.assert_outcomes(passed=1)
    assert any("older than max_age=30 day(s)" in line for line in warned.outlines)


# -- lazy loading, short failures, xdist --------------------------------------------------


def test_record_modes_of_the_entry_point_are_the_gateways():
    from tarash.tarash_gateway.cassettes.config import RecordMode
    from tarash.tarash_gateway.pytest_plugin import RECORD_MODES

    assert RECORD_MODES == tuple(mode.value for mode in RecordMode)


def test_a_run_that_never_uses_tarash_never_imports_the_gateway(pytester):
    pytester.makeini("[pytest]\naddopts = -p tarash -p no:cacheprovider\n")
    pytester.makepyfile(
        test_plain='''
        import sys


        def test_unrelated():
            assert "tarash.tarash_gateway.pytest_plugin" in sys.modules  # the plugin is loaded...
            loaded = sorted(m for m in sys.modules if m.startswith("tarash."))
            assert loaded == ["tarash.tarash_gateway", "tarash.tarash_gateway._lazy", "tarash.tarash_gateway.pytest_plugin"]  # ...and nothing else
            assert "pydantic" not in sys.modules
        '''
    )
    result = pytester.runpytest_subprocess(timeout=60)
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if line.startswith("tarash: ")]


def test_pytest_advice_names_the_command_line_option():
    from tarash.tarash_gateway.pytest_support import pytest_advice

    assert pytest_advice("record it first with record_mode='once' or 'new_episodes'") == (
        "record it first with --tarash-record-mode=once (or new_episodes)"
    )
    assert pytest_advice("holds no recording of this call (record_mode='none').") == (
        "holds no recording of this call (record_mode='none')."
    )
    assert pytest_advice("Set allow_playback_repeats=True to replay it, or record_mode='new_episodes' to record") == (
        "Set @pytest.mark.tarash_cassette(allow_playback_repeats=True) to replay it, "
        "or --tarash-record-mode=new_episodes to record"
    )


def test_a_gateway_failure_shows_the_test_line_and_the_message_without_library_frames(run, pytester):
    pytester.makepyfile(
        test_short='''
        import pytest

        from tarash.tarash_gateway import generate_video
        from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest


        @pytest.mark.tarash_cassette
        def test_never_recorded():
            generate_video(VideoGenerationConfig(provider="studio", model="v1"), VideoGenerationRequest(prompt="p"))
        '''
    )
    result = run()
    result.assert_outcomes(failed=1)
    text = "\n".join(result.outlines)
    assert "tarash_gateway/" not in text.split("short test summary")[0].replace("tarash_gateway-", "")
    lines = result.outlines
    call = next(i for i, line in enumerate(lines) if line.startswith(">") and "generate_video(" in line)
    assert re.match(r"E +tarash\.tarash_gateway\.exceptions\.RecordingNotFoundError: cassette ", lines[call + 1])
    assert "record it first with --tarash-record-mode=once (or new_episodes)" in lines[call + 1]
    assert "record_mode='once'" not in text

    full = run("--fulltrace")
    assert "tarash_gateway/api.py" in "\n".join(full.outlines)


def test_counts_are_added_up_over_xdist_workers(run, pytester):
    pytester.makepyfile(
        test_spread='''
        import pytest

        from tarash.tarash_gateway import generate_video
        from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest


        @pytest.mark.parametrize("n", range(6))
        def test_call(n):
            generate_video(VideoGenerationConfig(provider="studio", model="v1"), VideoGenerationRequest(prompt=str(n)))
        '''
    )
    result = run("--tarash-mock", "--tarash-seed=5", "-n", "2")
    result.assert_outcomes(passed=6)
    assert summary(result) == "tarash: 0 replayed, 0 recorded, 6 mocked, 0 faults injected, seed 5"
