"""Headless Chromium driven over the DevTools protocol, for values only a live page has.

`chromium.dump_dom` shows markup; whether an image really decoded (`naturalWidth`) or
a video read its metadata (`readyState`, `duration`) is known only inside the page.
This talks to Chromium over `--remote-debugging-pipe` (JSON messages, NUL-separated,
on file descriptors 3 and 4), so it needs no websocket library and no port.

    with Page(server.url) as page:
        page.wait_for("document.readyState === 'complete'")
        widths = page.evaluate("[...document.images].map(i => i.naturalWidth)")
        page.screenshot(tmp_path / "page.png")
        page.goto(f"{server.url}?outcome=error")  # the same browser, another page
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .chromium import FLAGS, chromium

__all__ = ["Page"]


def _above_9(fd: int) -> int:
    """The same pipe end on a number above 9, so putting one end on 3 or 4 never overwrites the other."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Page:
    """One headless Chromium showing one page; closed (process and profile) on exit."""

    def __init__(self, url: str, *, width: int = 1280, height: int = 900, timeout: float = 30) -> None:
        self.url, self.width, self.height, self.timeout = url, width, height, timeout
        self._ids = 0
        self._buffer = b""

    def __enter__(self) -> Page:
        self._profile = tempfile.mkdtemp(prefix="tarash-chromium-")
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        to_browser, from_browser = _above_9(to_browser), _above_9(from_browser)
        command = [chromium(), *FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-pipe",
                   f"--window-size={self.width},{self.height}", "about:blank"]
        # bash (dash takes one-digit descriptors only) puts the pipes on 3 and 4, where Chromium
        # expects them, then becomes Chromium.
        self._process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser} 4>&{from_browser}', *command],
            pass_fds=(to_browser, from_browser), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        os.close(to_browser)
        os.close(from_browser)
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._call("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                              "deviceScaleFactor": 1, "mobile": False}, session=True)
            self._call("Page.navigate", {"url": self.url}, session=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._call("Browser.close")  # a clean exit takes Chromium's helper processes with it
        except (AssertionError, OSError):
            pass
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever of its process group is still there
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def _call(self, method: str, params: dict[str, Any] | None = None, *, session: bool = False) -> dict[str, Any]:
        self._ids += 1
        message: dict[str, Any] = {"id": self._ids, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._ids:
                    if "error" in answer:
                        raise AssertionError(f"chromium: {method} failed: {answer['error']}")
                    return answer["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise AssertionError(f"chromium did not answer {method} in {self.timeout} s")
            data = os.read(self._read, 1 << 20)
            if not data:
                raise AssertionError(f"chromium exited (status {self._process.poll()}) during {method}")
            self._buffer += data

    def goto(self, url: str) -> None:
        """Load another page in the same browser, and wait until it has loaded."""
        self.url = url
        self.evaluate("window.__left = true")
        self._call("Page.navigate", {"url": url}, session=True)
        self.wait_for("!window.__left && document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self._call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                 "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float | None = None) -> Any:
        """Poll until ``expression`` is truthy in the page; its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                value = self.evaluate(expression)
            except AssertionError:
                value = None  # the page is navigating: its context comes and goes
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{expression} never held on {self.url}")
            time.sleep(0.05)

    def screenshot(self, out: Path, *, full_page: bool = True) -> Path:
        """A PNG of the page (all of it with ``full_page``), written to ``out``."""
        height = self.evaluate("document.documentElement.scrollHeight") if full_page else self.height
        clip = {"x": 0, "y": 0, "width": self.width, "height": max(int(height), 1), "scale": 1}
        data = self._call("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True},
                          session=True)["data"]
        out.write_bytes(base64.b64decode(data))
        return out
