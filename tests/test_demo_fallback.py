"""The demo's fallback section shows a capability skip and a poll fault rescued by a retry after Retry-After."""

from __future__ import annotations

from tarash.tarash_gateway.demo import fallback


def test_the_demo_fallback_shows_a_skip_then_a_poll_fault_rescued_by_a_retry(capsys):
    fallback()
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.strip().startswith("attempt")]
    assert [(words[2], words[3]) for words in lines] == [
        ("replicate/kwaivgi/kling-v2.1", "skipped"), ("fal/fal-ai/veo3.1/fast", "failed"),
        ("fal/fal-ai/veo3.1/fast", "success"),
    ]
    assert lines[0][4] == "UnsupportedRequestError:" and "duration_seconds=8" in out
    assert lines[1][4] == "RateLimitError:" and lines[1][-6:] == ["(at", "poll),", "retried", "after", "30", "s"]
    # the simulated time is the three status polls of the throttled job (5 s apart) and the 30 s wait
    assert "fallback_triggered=True  successful_attempt=3  45 s simulated (status polls and the retry's wait)" in out
