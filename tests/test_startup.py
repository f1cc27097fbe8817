"""What a process loads at start: the lazy package, the plugin's entry point, a mock-only call.

Each check runs in a fresh interpreter and reads ``sys.modules``: the start-up figures
themselves come from ``tools/bench/bench_startup.py``, not from timed tests.
"""

from __future__ import annotations

import json
import subprocess
import sys

import tarash.tarash_gateway as package

HEAVY = ("httpx", "sqlite_utils", "vcr", "yaml", "click", "asyncio", "urllib.request")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_importing_the_package_imports_none_of_its_modules_but_the_lazy_names_helper():
    modules = loaded_after("import tarash.tarash_gateway")
    assert sorted(m for m in modules if m.startswith("tarash.")) == ["tarash.tarash_gateway", "tarash.tarash_gateway._lazy"]
    assert "pydantic" not in modules


def test_importing_the_plugin_imports_only_the_standard_library_and_pytest():
    modules = loaded_after("import tarash.tarash_gateway.pytest_plugin")
    ours = sorted(m for m in modules if m.startswith("tarash."))
    assert ours == ["tarash.tarash_gateway", "tarash.tarash_gateway._lazy", "tarash.tarash_gateway.pytest_plugin"]
    assert not {"pydantic", "httpx", "sqlite_utils", "vcr"} & modules


MOCKED = (
    "from tarash.tarash_gateway import generate_video\n"
    "from tarash.tarash_gateway.mock import MockConfig\n"
    "from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest\n"
    "config = VideoGenerationConfig(provider='fal', model='fal-ai/veo3.1/fast', mock=MockConfig(enabled=True))\n"
)


def test_a_mocked_generate_video_with_the_default_request_check_loads_neither_httpx_nor_the_cassette_libraries():
    modules = loaded_after(MOCKED + "assert generate_video(config, VideoGenerationRequest(prompt='A cat playing piano')).is_mock\n")
    assert "tarash.tarash_gateway.providers.fal" in modules  # the real adapter's check ran
    assert not set(HEAVY) & modules
    assert not {"tarash.tarash_gateway.providers.http", "certifi", "ssl", "logging"} & modules
    # what the call does not use is not loaded: the price table and budget (real calls), and
    # the mock's schedule, capacity, faults, recorded latency and timeline machinery
    unused = {"cost", "budget", "mock.schedule", "mock.capacity", "mock.faults", "mock.recorded", "mock.job"}
    assert not {f"tarash.tarash_gateway.{name}" for name in unused} & modules


def test_a_mocked_request_the_adapter_refuses_is_refused_without_loading_httpx():
    modules = loaded_after(
        MOCKED
        + "from tarash.tarash_gateway.exceptions import UnsupportedRequestError\n"
        "try:\n"
        "    generate_video(config, VideoGenerationRequest(prompt='p', duration_seconds=5))\n"
        "except UnsupportedRequestError as error:\n"
        "    assert 'duration_seconds' in str(error), error\n"
        "else:\n"
        "    raise AssertionError('the mock took a duration the model refuses')\n"
    )
    assert not set(HEAVY) & modules


def test_the_lazy_package_offers_every_public_name_in_dir_and_as_attributes():
    assert set(package.__all__) <= set(dir(package))
    for name in package.__all__:
        assert getattr(package, name) is not None
    assert isinstance(package.__version__, str)


def test_an_unknown_name_of_the_package_is_an_attribute_error():
    try:
        package.generate_movie  # noqa: B018
    except AttributeError as error:
        assert "generate_movie" in str(error)
    else:
        raise AssertionError("no AttributeError")


def test_the_lazy_table_the_type_checking_block_and_all_agree():
    with open(package.__file__) as file:
        source = file.read()
    checking = source.split("if TYPE_CHECKING:")[1].split("__all__ = [")[0]
    for name in package.__all__:
        if name != "__version__":
            assert name in package._LAZY, name
            assert name in checking, name
    assert sorted(package._LAZY) == sorted(n for n in package.__all__ if n != "__version__")
