"""The served-call counts the pytest plugin reports."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway import stats, use_cassette
from tarash.tarash_gateway.exceptions import GenerationFailedError
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest


@pytest.fixture(autouse=True)
def _session_counts_kept():
    # these tests reset the process-wide counts: put back what the session had counted, so
    # the plugin's summary line at the end of the run still tells the whole run
    before = stats.snapshot()
    yield
    stats.reset()
    for key, n in before.items():
        if n:
            stats.count(key, n)


def test_counts_mocked_faults_recorded_and_replayed(face, clock, tmp_path):
    stats.reset()
    request = VideoGenerationRequest(prompt="p")
    face.video(VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(latency=1)), request)
    with pytest.raises(GenerationFailedError):
        face.video(
            VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(responses=[MockResponse(error=GenerationFailedError("x"))])),
            request,
        )
    assert stats.snapshot() == {"replayed": 0, "recorded": 0, "mocked": 2, "faults": 2}
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig())
    with use_cassette(tmp_path / "c.db", record_mode="once"):
        face.video(config, request)
    with use_cassette(tmp_path / "c.db", record_mode="none"):
        face.video(config, request)
    assert stats.snapshot() == {"replayed": 1, "recorded": 1, "mocked": 3, "faults": 2}
    stats.reset()
    assert stats.snapshot()["mocked"] == 0


def test_count_each_counts_one_of_every_key_given():
    stats.reset()
    stats.count_each(("mocked", "faults"))
    stats.count_each(("mocked",))
    assert stats.snapshot() == {"replayed": 0, "recorded": 0, "mocked": 2, "faults": 1}
