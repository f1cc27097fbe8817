"""The SDK tests' simulator, cassette, app runner and Vertex AI credentials."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tarash.tarash_gateway.simulator import ProviderSimulator, Scenario, SimulatorTLS

from .harness import AppResult, Recording
from .harness import run_app as _run_app

#: jobs queue one poll and run two, so every app polls a few times.
SCENARIO = Scenario(queue_polls=1, run_polls=2)
#: the key every app sends: the cassette's files must never hold it.
SECRET = "sk-sim-5ecret-4f1c9e0b7d2a"


@pytest.fixture
def fresh_sim(tmp_path: Path) -> Iterator[ProviderSimulator]:
    """A simulator of the test's own, to stop before a replay; its TLS files stay in ``tmp_path``
    (``SSL_CERT_FILE`` must still name a file when the replay runs)."""
    sim = ProviderSimulator(SCENARIO, tls=SimulatorTLS.generate(tmp_path / "tls"), max_lifetime=300).start()
    yield sim
    sim.stop()


@pytest.fixture
def recording(tmp_path: Path) -> Recording:
    """The test's cassette folder and the environment that records into it and replays it."""
    return Recording(tmp_path / "cassettes", SECRET)


@pytest.fixture
def run_app(tmp_path: Path) -> Callable[..., AppResult]:
    """``run_app(script, env, **options)``: the app's result; it runs in this test's temporary directory."""

    def run(script: str | Path, env: dict[str, str], **options: object) -> AppResult:
        return _run_app(script, env, workdir=tmp_path, **options)  # type: ignore[arg-type]

    return run


@pytest.fixture
def vertex_credentials(tmp_path: Path) -> dict[str, str]:
    """Environment for google-genai on Vertex AI: an authorized-user file whose token never expires.

    The SDK then never asks Google's token endpoint for one (which no replay could serve).
    """
    path = tmp_path / "vertex-credentials.json"
    path.write_text(json.dumps({
        "type": "authorized_user", "client_id": "sim", "client_secret": "sim", "refresh_token": "sim",
        "token": "ya29.sim-access-token", "expiry": "2099-01-01T00:00:00Z",
    }))
    return {"GOOGLE_APPLICATION_CREDENTIALS": str(path), "APP_PROJECT": "sim-project", "APP_LOCATION": "us-central1"}
