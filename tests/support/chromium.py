"""Headless Chromium for tests that look at a page as a browser renders it.

Debian's `chromium` package (`.ci/run` installs it when missing). Every run gets its
own profile directory, no network beyond what the page itself loads, and a hard timeout.

    from tests.support.chromium import dump_dom, screenshot, with_script

    html = dump_dom(page.as_uri())                   # the DOM after the page's scripts ran
    shot = screenshot(page.as_uri(), tmp_path / "p.png")

Computed styles are read by `with_script`: it writes a copy of a page beside it with a
script appended, which records what it measures into the DOM; `dump_dom` then shows it.

Without Chromium the tests that need it skip locally and fail under CI (`CI=true`),
where it must be there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["FLAGS", "chromium", "dump_dom", "screenshot", "with_script"]

# Root-safe, quiet, offline: no sandbox (CI runs as root), no GPU, no background fetches.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)


def chromium() -> str:
    """The Chromium executable; skips the test when there is none (fails under CI)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        message = "headless Chromium is needed: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """One Chromium run in a session of its own, so a hung run's helper processes go with it."""
    with tempfile.TemporaryDirectory(prefix="tarash-chromium-") as profile:
        command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise AssertionError(f"chromium did not finish in {timeout} s: {' '.join(command)}") from exc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # helpers it left behind, if any
    if process.returncode != 0:
        raise AssertionError(f"chromium exited {process.returncode}:\n{stderr[-2000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def dump_dom(url: str, *, budget_ms: int = 3000, width: int = 1280, height: int = 1600, timeout: float = 60) -> str:
    """The serialized DOM of `url` once it loaded and its scripts ran for `budget_ms` of virtual time."""
    args = [f"--virtual-time-budget={budget_ms}", f"--window-size={width},{height}", "--dump-dom", url]
    return _run(args, timeout=timeout).stdout


def screenshot(url: str, out: Path, *, width: int = 1280, height: int = 1600, timeout: float = 60) -> Path:
    """A PNG of `url` at `width` x `height`, written to `out`."""
    _run(
        ["--virtual-time-budget=3000", f"--window-size={width},{height}", f"--screenshot={out}", url],
        timeout=timeout,
    )
    if not out.exists() or out.stat().st_size == 0:
        raise AssertionError(f"chromium wrote no screenshot of {url}")
    return out


def with_script(page: Path, script: str) -> Path:
    """A copy of the HTML file `page`, beside it (its relative links still work), running `script` at the end."""
    html = page.read_text(encoding="utf-8")
    marker = "</body>"
    if marker not in html:
        raise AssertionError(f"{page} has no </body> to append a script to")
    copy = page.with_name(f"{page.stem}.measured{page.suffix}")
    copy.write_text(html.replace(marker, f"<script>{script}</script>{marker}", 1), encoding="utf-8")
    return copy
