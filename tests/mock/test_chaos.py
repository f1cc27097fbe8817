"""Weighted, seeded outcome choice: the pure rule, statistics, and reproducibility."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tarash.tarash_gateway.exceptions import GenerationFailedError, RateLimitError, TarashException
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.mock.chaos import DrawSource, pick, sample_latency
from tarash.tarash_gateway.mock.config import Latency
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tests.conftest import Face


@pytest.mark.parametrize(
    "u, index",
    [(0.0, 0), (0.79, 0), (0.8, 1), (0.999, 1)],
)
def test_pick_is_the_cumulative_share(u, index):
    assert pick([0.8, 0.2], u) == index


def test_pick_handles_unnormalised_weights():
    assert [pick([1, 1, 2], u) for u in (0.1, 0.3, 0.6)] == [0, 1, 2]


def test_draws_match_the_weights_statistically():
    source = DrawSource(seed=99)
    counts = [0, 0, 0]
    n = 20_000
    for _ in range(n):
        counts[source.draw([0.5, 0.3, 0.2]).outcome] += 1
    for count, share in zip(counts, (0.5, 0.3, 0.2), strict=True):
        assert abs(count / n - share) < 0.015


def test_the_same_seed_gives_the_same_sequence():
    a, b = DrawSource(7), DrawSource(7)
    assert [a.draw([1, 1]).outcome for _ in range(50)] == [b.draw([1, 1]).outcome for _ in range(50)]
    assert DrawSource(7).draw([1]).number == 1


SCRIPT = """
from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.exceptions import GenerationFailedError
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.mock import MockConfig, MockResponse
config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(responses=[
    MockResponse(weight=0.7), MockResponse(weight=0.3, error=GenerationFailedError("x"))]))
out = []
for _ in range(40):
    try:
        r = generate_video(config, VideoGenerationRequest(prompt="p")); out.append("ok")
    except GenerationFailedError as e:
        out.append("err")
print(",".join(out))
"""


def test_tarash_mock_seed_makes_the_sequence_the_same_in_every_process(monkeypatch):
    monkeypatch.setenv("TARASH_MOCK_SEED", "2024")
    runs = {subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert len(runs) == 1
    sequence = runs.pop().strip().split(",")
    assert len(sequence) == 40 and "ok" in sequence and "err" in sequence


def test_latency_sampling():
    assert sample_latency(None, 0.5) == 0.0
    assert sample_latency(Latency(seconds=2), 0.9) == 2.0
    assert sample_latency(Latency(min=1, max=3), 0.5) == 2.0
    assert sample_latency(Latency(mean=1, stddev=0.5), 0.5) == pytest.approx(1.0)
    assert sample_latency(Latency(mean=1, stddev=5), 0.01) == 0.0  # never negative
    assert sample_latency(Latency(mean=2, distribution="exponential"), 0.5) == pytest.approx(1.386, abs=1e-3)


def test_latency_needs_enough_parameters():
    with pytest.raises(ValueError, match="needs"):
        Latency()
    with pytest.raises(ValueError, match="min <= max"):
        Latency(min=3, max=1)


@pytest.mark.parametrize(
    "order, calls, expected",
    [
        ("sequence", range(1, 6), [0, 1, 2, 2, 2]),
        ("cycle", range(1, 6), [0, 1, 2, 0, 1]),
    ],
)
def test_ordered_outcomes(order, calls, expected):
    from tarash.tarash_gateway.mock.chaos import ordered_outcome

    assert [ordered_outcome(order, n, 3) for n in calls] == expected



REQUEST = VideoGenerationRequest(prompt="p")


def outcomes(face, config, n):
    out = []
    for _ in range(n):
        try:
            face.video(config, REQUEST)
            out.append("ok")
        except TarashException as error:
            out.append(type(error).__name__)
    return out


def weighted():
    """A fresh config object: its own seeded stream, from its first draw."""
    return VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(seed=11, responses=[
        MockResponse(weight=0.6), MockResponse(weight=0.3, error=GenerationFailedError("x")),
        MockResponse(weight=0.1, error=RateLimitError("slow", retry_after=1)),
    ]))


def test_weighted_outcomes_through_either_face_match_the_weights_and_repeat_with_the_seed(face, clock):
    seen = outcomes(face, weighted(), 600)
    for name, share in (("ok", 0.6), ("GenerationFailedError", 0.3), ("RateLimitError", 0.1)):
        assert abs(seen.count(name) / len(seen) - share) < 0.05
    assert outcomes(face, weighted(), 600) == seen  # the same seed, the same sequence
    other = Face("async" if face.name == "sync" else "sync")
    assert outcomes(other, weighted(), 60) == seen[:60]  # whichever face runs it


def test_the_lognormal_latency_s_99th_percentile_constant_is_the_normal_quantile():
    from statistics import NormalDist

    from tarash.tarash_gateway.mock import chaos

    assert chaos._Z99 == NormalDist().inv_cdf(0.99)
    assert sample_latency(Latency(median=40, p99=180), 0.99) == pytest.approx(180)
