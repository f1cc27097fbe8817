"""The record/replay demo runs offline and says what it replayed."""

from __future__ import annotations

from tarash.tarash_gateway.demo_record import PROVIDER, run
from tarash.tarash_gateway.registry import get_handler


def test_demo_records_then_replays_offline(tmp_path):
    lines: list[str] = []
    run(lines.append, tmp_path)
    text = "\n".join(lines)
    assert "recorded 3 calls" in text
    assert text.count("from replay, 3 progress events (same as live)") == 3
    assert "s saved" in text and "DIFFERENT" not in text
    assert (tmp_path / "demo.db").exists() and get_handler(PROVIDER) is None
    run(lines.append, tmp_path)  # runs again on the same directory
