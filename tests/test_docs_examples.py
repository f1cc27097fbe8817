"""Every Python example in the README and docs/ runs, offline, as written.

- Blocks fenced `python` run as scripts.
- Blocks fenced `py` are the pytest page's test files (their first line, `# tests/...`,
  names the file): they run through `pytester`, in record, replay and mock mode, with a
  local stand-in for the provider so nothing leaves the machine.
- Examples in the docstrings the API reference shows: `>>>` examples run as doctests,
  fenced fragments must compile.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from tarash.tarash_gateway import instant_waits

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
FILE_BLOCK = re.compile(r"^```py\n(.*?)^```", re.S | re.M)
PYTEST_PAGE = ROOT / "docs" / "pytest-plugin.md"


def examples() -> list[tuple[str, str]]:
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for i, match in enumerate(BLOCK.finditer(page.read_text())):
            found.append((f"{page.relative_to(ROOT)}#{i + 1}", match.group(1)))
    return found


@pytest.mark.parametrize("name, code", examples(), ids=[n for n, _ in examples()])
def test_docs_example_runs(name, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with instant_waits():
        exec(compile(code, name, "exec"), {"__name__": "__docs__"})


# -- the pytest page ------------------------------------------------------------------------


def pytest_page_files() -> dict[str, str]:
    """The pytest page's `py` blocks by the file their first line names."""
    files = {}
    for i, match in enumerate(FILE_BLOCK.finditer(PYTEST_PAGE.read_text())):
        code = match.group(1)
        header = re.match(r"# (tests/[\w/]+\.py)\n", code)
        assert header, f"py block #{i + 1} of {PYTEST_PAGE.name} must start with '# tests/<file>.py'"
        files[header.group(1)] = code
    return files


def test_every_py_block_of_the_docs_is_a_file_of_the_pytest_page():
    elsewhere = [p for p in (ROOT / "docs").rglob("*.md") if p != PYTEST_PAGE and FILE_BLOCK.search(p.read_text())]
    assert not elsewhere, f"py blocks are run only from {PYTEST_PAGE.name}; fence these as python: {elsewhere}"
    assert len(pytest_page_files()) == len(FILE_BLOCK.findall(PYTEST_PAGE.read_text()))


INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
addopts = -p tarash -p no:cacheprovider
"""

# The page's examples call "fal"; here a registered handler answers for it, with a local
# file as the video, and notes each call so a replay (no call) is told from a recording.
PROVIDER = '''
import pathlib

import pytest

from tarash.tarash_gateway import register_provider, unregister_provider
from tarash.tarash_gateway.models import VideoGenerationResponse

HERE = pathlib.Path(__file__).parent


class LocalFal:
    def generate_video(self, config, request, on_progress=None):
        with (HERE / "provider_calls.txt").open("a") as calls:
            calls.write(request.prompt + "\\n")
        video = HERE / "video.mp4"
        video.write_bytes(b"not really a video")
        return VideoGenerationResponse(request_id=f"job-{request.prompt}", video=video.as_uri())


@pytest.fixture(autouse=True)
def local_fal():
    register_provider("fal", LocalFal())
    yield
    unregister_provider("fal")
'''


@pytest.fixture
def page_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """`page_run(files, *args)`: the page's files written under the run's directory, then one pytest process."""
    monkeypatch.delenv("TARASH_INSTANT_WAITS", raising=False)
    monkeypatch.delenv("TARASH_MOCK_SEED", raising=False)
    pytester.makeini(INI)
    pytester.makeconftest(PROVIDER)
    page = pytest_page_files()

    def run(names: list[str], *args: str) -> pytest.RunResult:
        for name in names:
            path = pytester.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page[name])
        return pytester.runpytest_subprocess(*args, timeout=120)

    return run


def calls(pytester: pytest.Pytester) -> list[str]:
    file = pytester.path / "provider_calls.txt"
    return file.read_text().splitlines() if file.exists() else []


def test_pytest_page_quick_start_records_once_then_replays_and_mocks(page_run, pytester):
    recorded = page_run(["tests/test_pipeline.py"], "--tarash-record-mode=once")
    recorded.assert_outcomes(passed=1)
    assert calls(pytester) == ["a lighthouse at dawn"]
    assert (pytester.path / "tests/cassettes/test_pipeline/test_trailer.db").is_file()  # where the page says

    page_run([]).assert_outcomes(passed=1)  # replay only, behind the network guard
    page_run([], "--tarash-mock").assert_outcomes(passed=1)
    assert calls(pytester) == ["a lighthouse at dawn"]  # neither the replay nor the mock called the provider


def test_pytest_page_examples_run_together_with_its_conftest(page_run, pytester):
    everything = list(pytest_page_files())
    assert "tests/conftest.py" in everything
    first = page_run(everything)  # the conftest's options say record_mode="once": no option needed
    first.assert_outcomes(passed=5)
    assert sorted(calls(pytester)) == ["a lighthouse at dawn", "scene 0", "scene 1", "scene 2"]
    assert (pytester.path / "tests/recordings/test_trailer.db").is_file()  # the conftest's cassette folder

    page_run([]).assert_outcomes(passed=5)
    assert len(calls(pytester)) == 4  # the second run replayed everything


# -- the docstrings the API reference renders ------------------------------------------------


def reference_objects() -> list[tuple[str, Any]]:
    """Every object a `::: path` line of docs/reference/ renders, imported."""
    found = []
    for page in sorted((ROOT / "docs" / "reference").glob("*.md")):
        for path in re.findall(r"^::: ([\w.]+)$", page.read_text(), re.M):
            try:
                found.append((path, importlib.import_module(path)))
            except ImportError:
                module, _, name = path.rpartition(".")
                found.append((path, getattr(importlib.import_module(module), name)))
    return found


def public_names() -> dict[str, Any]:
    """What a reader of the reference has imported: the public names of the main modules."""
    names: dict[str, Any] = {}
    for name in ("exceptions", "cassettes", "mock", "models", ""):
        module = importlib.import_module("tarash.tarash_gateway" + (f".{name}" if name else ""))
        names.update({n: getattr(module, n) for n in module.__all__})
    return names


def docstring_tests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = {}
    for path, obj in reference_objects():
        module = obj if inspect.ismodule(obj) else inspect.getmodule(obj)
        for test in finder.find(obj, path, module=module, globs={**public_names(), **vars(module)}):
            if any(not example.options.get(doctest.SKIP) for example in test.examples):
                tests[test.name] = test
    return [tests[name] for name in sorted(tests)]


@pytest.mark.parametrize("test", docstring_tests(), ids=lambda t: t.name)
def test_reference_docstring_example_runs(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with instant_waits():
        runner.run(test, out=report.append)
    assert runner.tries > 0 and runner.failures == 0, "".join(report)


def docstring_fragments() -> list[tuple[str, str]]:
    found = []
    for path, obj in reference_objects():
        members = [obj, *(m for _, m in inspect.getmembers(obj) if getattr(m, "__module__", None) == getattr(obj, "__name__", None))]
        for member in members:
            for i, code in enumerate(BLOCK.findall(inspect.cleandoc(inspect.getdoc(member) or ""))):
                found.append((f"{path}:{getattr(member, '__qualname__', path)}#{i + 1}", code))
    return sorted(set(found))


@pytest.mark.parametrize("name, code", docstring_fragments(), ids=[n for n, _ in docstring_fragments()])
def test_reference_docstring_fragment_compiles(name, code):
    compile(code, name, "exec")
