"""Every Python example in the README and docs/ runs, offline, as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tarash.tarash_gateway import instant_waits

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


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


PYTEST_FILE_BLOCK = re.compile(r"^```py\n(.*?)^```", re.S | re.M)


def file_examples() -> list[tuple[str, str]]:
    """Blocks fenced ``py``: test files and fragments shown for reading, which need a
    provider, fixtures or a pytest session to run; the pytest plugin's behaviour they
    show is exercised in tests/test_pytest_plugin.py. Here they must at least compile."""
    found = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for i, match in enumerate(PYTEST_FILE_BLOCK.finditer(page.read_text())):
            found.append((f"{page.relative_to(ROOT)}#py{i + 1}", match.group(1)))
    return found


@pytest.mark.parametrize("name, code", file_examples(), ids=[n for n, _ in file_examples()])
def test_docs_file_example_compiles(name, code):
    compile(code, name, "exec")
