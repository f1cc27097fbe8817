"""The record/replay demo: the committed run replays offline; a new run records against the simulator."""

from __future__ import annotations

import contextlib
import hashlib
import types
from pathlib import Path

import pytest

from tarash.tarash_gateway.demo_record import CALLS, run
from tarash.tarash_gateway.pytest_plugin import network_guard

COMMITTED = Path(__file__).resolve().parents[2] / "cassettes" / "demo.db"


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch):
    for *_, key_var in CALLS:
        monkeypatch.delenv(key_var, raising=False)


def test_the_committed_demo_run_replays_with_the_network_guarded():
    before = hashlib.sha256(COMMITTED.read_bytes()).hexdigest()
    lines: list[str] = []
    with network_guard("the demo's replay"):
        run(lines.append, COMMITTED)
    text = "\n".join(lines)

    assert lines[0] == f"replaying the committed run in {COMMITTED}: no simulator, no network, no key ..."
    assert "recording 3 calls" not in text and "simulator (" not in text
    replayed = [line for line in lines if " from replay, " in line]
    assert [line.split(":")[0].strip() for line in replayed] == ["fal", "replicate", "openai"]
    assert all("KB, local)" in line for line in replayed)
    assert "replayed 3 calls in" in text and "no provider, no network, no credits" in text
    chaos = text.split("chaos over real data")[1]
    assert "replay" in chaos and "RateLimitError" in chaos
    assert hashlib.sha256(COMMITTED.read_bytes()).hexdigest() == before  # a replay writes nothing
    assert not COMMITTED.with_suffix(".media").exists()  # the media went to a scratch directory


class Bars:
    """Progress bars as the demo's recording draws them: each bar's label and its steps."""

    def __init__(self) -> None:
        self.drawn: list[tuple[str, int, list[int]]] = []

    @contextlib.contextmanager
    def __call__(self, length: int, label: str):
        steps: list[int] = []
        self.drawn.append((label, length, steps))
        yield types.SimpleNamespace(update=steps.append)


def test_demo_records_then_replays_offline(tmp_path):
    lines: list[str] = []
    bars = Bars()
    run(lines.append, tmp_path / "demo.db", record_first=True, progress=bars)
    assert [label.strip() for label, _, _ in bars.drawn] == [f"{p}/{m}" for _, p, m, _, _ in CALLS]
    for (_, length, steps), (kind, *_) in zip(bars.drawn, CALLS, strict=True):  # each follows its call to the end
        assert sum(steps) == length == 100 and len([s for s in steps if s]) >= (2 if kind == "video" else 1)
    text = "\n".join(lines)
    assert "against the loopback provider simulator" in text
    assert "recorded 3 calls" in text
    assert text.count("from replay") == 3 and text.count("(same as live)") == 3
    assert "s saved" in text and "DIFFERENT" not in text
    assert "chaos over real data" in text and "replay" in text.split("chaos over real data")[1]
    assert (tmp_path / "demo.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]  # no scratch files left
    lines.clear()
    run(lines.append, tmp_path / "demo.db", record_first=True)  # records afresh over the old run
    assert "recorded 3 calls" in "\n".join(lines)
