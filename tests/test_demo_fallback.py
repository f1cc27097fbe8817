"""The demo's fallback section shows a retry after Retry-After, a capability skip and the fallback that serves."""

from __future__ import annotations

from tarash.tarash_gateway.demo import fallback


def test_the_demo_fallback_shows_a_retry_a_skip_and_the_serving_fallback(capsys):
    fallback()
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("attempt")]
    assert [(words[2], words[3]) for words in lines] == [
        ("fal/fal-ai/veo3.1/fast", "failed"), ("fal/fal-ai/veo3.1/fast", "failed"),
        ("replicate/kwaivgi/kling-v2.1", "skipped"), ("openai/sora-2", "success"),
    ]
    assert lines[0][-4:] == ["(retried", "after", "30", "s)"]
    assert lines[2][4] == "UnsupportedRequestError:"
