"""The record/replay demo records against the simulator, replays offline and says what it did."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway.demo_record import CALLS, run


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch):
    for *_, key_var in CALLS:
        monkeypatch.delenv(key_var, raising=False)


def test_demo_records_then_replays_offline(tmp_path):
    lines: list[str] = []
    run(lines.append, tmp_path)
    text = "\n".join(lines)
    assert "against the loopback provider simulator" in text
    assert "recorded 3 calls" in text
    assert text.count("from replay") == 3 and text.count("(same as live)") == 3
    assert "s saved" in text and "DIFFERENT" not in text
    assert "chaos over real data" in text and "replay" in text.split("chaos over real data")[1]
    assert (tmp_path / "demo.db").exists()
    run(lines.append, tmp_path)  # runs again on the same directory
