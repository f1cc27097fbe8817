"""mypy finds no type error in the package (configuration in pyproject.toml's [tool.mypy])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean():
    # Incremental: mypy keeps its cache in .mypy_cache (git-ignored), so reruns take well under a second.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "src/tarash/tarash_gateway"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
