"""Run an app that uses a vendor SDK in a subprocess, linked to tarash only by its environment.

The record and replay tests reuse :func:`run_app` with ``TARASH_CASSETTE`` and
``TARASH_RECORD_MODE`` in ``env``. The child gets a clean environment (no inherited API
keys, proxies or ``TARASH_*`` variables) and a ``HOME`` of its own under the test's
temporary directory, so nothing it does touches the user's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tarash.tarash_gateway.mock.stock import STOCK_DIR

APPS = Path(__file__).parent / "apps"

#: inherited from the test process: what a Python process needs to start, nothing more.
_KEPT = ("PATH", "SYSTEMROOT", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class AppResult:
    """What an app run gave: its exit status, output, and how long it took."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> Any:
        """The JSON the app printed last."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        if not lines:
            raise AssertionError(f"the app printed nothing; stderr:\n{self.stderr}")
        return json.loads(lines[-1])


def run_app(script: str | Path, env: dict[str, str], *, workdir: Path, timeout: float = 60.0,
            check: bool = True) -> AppResult:
    """Run ``script`` (a name in ``apps/`` or a path) with only ``env`` added to a clean environment.

    Args:
        script: ``"openai_app.py"`` or a path to a script.
        env: the variables that link the app to the simulator (and to a cassette).
        workdir: the app's working directory; its ``HOME`` is ``workdir/home``.
        timeout: seconds before the app is killed (a failure).
        check: raise with the app's stderr when it exits non-zero.
    """
    path = Path(script) if Path(script).is_absolute() else APPS / script
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    child = {name: os.environ[name] for name in _KEPT if name in os.environ}
    child.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", **env)
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(path)], env=child, cwd=workdir, capture_output=True, text=True,
                          timeout=timeout, check=False)
    result = AppResult(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
    if check and result.returncode != 0:
        raise AssertionError(f"{path.name} exited {result.returncode}; stderr:\n{result.stderr[-4000:]}")
    return result


def stock_digest(url: str) -> dict[str, Any]:
    """Size and SHA-256 of the stock file a simulator media URL serves."""
    data = (STOCK_DIR / url.split("/media/", 1)[1]).read_bytes()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def digest_of(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


#: what an app prints about its polling: a replay collapses polls, so these differ from the recording.
POLL_TRACE = frozenset({"statuses", "polls", "fetched", "seconds"})


def without_poll_trace(value: Any) -> Any:
    """An app's output less what depends on how many polls it made (:data:`POLL_TRACE`)."""
    if isinstance(value, dict):
        return {key: without_poll_trace(item) for key, item in value.items() if key not in POLL_TRACE}
    if isinstance(value, list):
        return [without_poll_trace(item) for item in value]
    return value


@dataclass(frozen=True)
class Recording:
    """Where a test's cassette lives, and the environment that records into it and replays it."""

    folder: Path
    secret: str

    @property
    def env(self) -> dict[str, str]:
        """Record into ``folder/run.db``; the simulator's host is recorded beside the provider hosts."""
        return {"TARASH_CASSETTE": str(self.folder / "run.db"), "TARASH_CASSETTE_HTTP_HOSTS": "127.0.0.1"}

    def replay_env(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, **self.env, "TARASH_RECORD_MODE": "none"}

    def files_holding_secret(self) -> list[str]:
        """The cassette's files (database, journal, media) that contain the secret: none, or a leak."""
        return [str(path) for path in self.folder.rglob("*")
                if path.is_file() and self.secret.encode() in path.read_bytes()]


def assert_unreachable(*urls: str) -> None:
    """Nothing listens at these ``scheme://host:port`` URLs any more (the replay is offline)."""
    import socket

    for url in urls:
        host, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except ConnectionRefusedError:
            continue
        raise AssertionError(f"something still listens at {url}")


def replay_offline(sim: Any, run: Any, script: str, env: dict[str, str], recording: Recording) -> Any:
    """Stop ``sim``, check nothing listens where it did, replay ``script`` from the cassette alone.

    Also checks the secret the app sent is in none of the cassette's files. Returns the
    replay's output.
    """
    urls = [sim.url, sim.tls_url]
    sim.stop()
    assert_unreachable(*urls)
    replayed = run(script, recording.replay_env(env)).output
    assert recording.files_holding_secret() == []
    return replayed
