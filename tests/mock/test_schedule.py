"""Seeded schedules: exact call numbers, every Nth, first N, outages on the clock, and
streams per (provider, model) that other calls cannot shift."""

from __future__ import annotations

import itertools

import pytest

from tarash.tarash_gateway import set_global_seed
from tarash.tarash_gateway.exceptions import GenerationFailedError, HTTPError, TarashException
from tarash.tarash_gateway.mock import MockConfig, MockResponse, Outage, Schedule
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

REQUEST = VideoGenerationRequest(prompt="p")
DOWN = MockResponse(error=HTTPError("service unavailable", status_code=503))


def config(*rules, model="fal-ai/veo3.1", **mock):
    return VideoGenerationConfig(provider="fal", model=model, mock=MockConfig(schedule=list(rules), **mock))


def outcomes(face, cfg, n, between=None):
    seen = []
    for _ in range(n):
        try:
            response = face.video(cfg, REQUEST)
            seen.append(("ok", response.origin.call, response.origin.schedule))
        except TarashException as error:
            seen.append((type(error).__name__, error.origin.call, error.origin.schedule))
        if between is not None:
            between()
    return seen


def failed_calls(seen):
    return [call for kind, call, _ in seen if kind != "ok"]


def test_explicit_call_numbers_fail_exactly(face, clock):
    seen = outcomes(face, config(Schedule(calls=[3, 7], response=DOWN)), 9)
    assert failed_calls(seen) == [3, 7]
    assert seen[2] == ("HTTPError", 3, "calls=3,7") and seen[0] == ("ok", 1, None)


def test_every_nth_call_fails(face, clock):
    assert failed_calls(outcomes(face, config(Schedule(every=3, response=DOWN)), 10)) == [3, 6, 9]


def test_the_first_n_calls_fail(face, clock):
    assert failed_calls(outcomes(face, config(Schedule(first=2, response=DOWN)), 5)) == [1, 2]


def test_the_first_matching_rule_wins(face, clock):
    crash = MockResponse(error=GenerationFailedError("runner crashed"))
    seen = outcomes(face, config(Schedule(calls=[2], response=crash), Schedule(every=2, response=DOWN)), 4)
    assert [kind for kind, _, _ in seen] == ["ok", "GenerationFailedError", "ok", "HTTPError"]


def test_a_fixed_outage_takes_the_calls_made_while_it_lasts(face, clock):
    cfg = config(Schedule(outage=Outage(start=10, duration=30), response=DOWN))
    seen = outcomes(face, cfg, 8, between=lambda: clock.sleep(6))  # calls at 0, 6, 12, ... 42 s
    assert failed_calls(seen) == [3, 4, 5, 6, 7]  # 12, 18, 24, 30, 36 s: inside [10, 40)
    assert seen[2][2] == "outage"


def test_an_outage_process_is_down_its_share_of_the_time_and_repeats_with_its_seed(face, clock):
    def run():
        cfg = config(Schedule(outage=Outage(mean_up=90, mean_down=30), response=DOWN), seed=5)
        return outcomes(face, cfg, 600, between=lambda: clock.sleep(10))  # 6000 s on the clock

    first = run()
    share = len(failed_calls(first)) / len(first)
    assert 0.15 < share < 0.35  # 30 / (90 + 30) = 0.25 on average
    runs = [len(list(g)) for k, g in itertools.groupby(kind != "ok" for kind, _, _ in first) if k]
    assert max(runs) >= 3  # outages come in bursts, not scattered calls
    assert run() == first


def test_schedule_position_and_seed_are_on_results_and_errors(face, clock):
    cfg = config(Schedule(calls=[2], response=DOWN), seed=9)
    ok = face.video(cfg, REQUEST)
    with pytest.raises(HTTPError) as caught:
        face.video(cfg, REQUEST)
    assert (ok.origin.seed, ok.origin.call, ok.origin.schedule) == (9, 1, None)
    assert (caught.value.origin.seed, caught.value.origin.call, caught.value.origin.schedule) == (9, 2, "calls=2")
    assert caught.value.origin.outcome is None


def weighted(model):
    return VideoGenerationConfig(provider="fal", model=model, mock=MockConfig(responses=[
        MockResponse(weight=1), MockResponse(weight=1, error=GenerationFailedError("x"))]))


def draws(face, cfg, n, interleave=None):
    seen = []
    for _ in range(n):
        if interleave is not None:
            outcomes(face, interleave, 1)
        seen.append(outcomes(face, cfg, 1)[0][0])
    return seen


def test_calls_to_another_model_do_not_shift_this_models_outcomes(face, clock):
    set_global_seed(1234)
    alone = draws(face, weighted("fal-ai/veo3.1"), 30)
    set_global_seed(1234)
    mixed = draws(face, weighted("fal-ai/veo3.1"), 30, interleave=weighted("fal-ai/kling-video/v2.1/master/text-to-video"))
    assert alone == mixed and {"ok", "GenerationFailedError"} == set(alone)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"response": {}}, "one of calls="),
        ({"response": {}, "calls": [3], "every": 2}, "one of calls="),
        ({"response": {}, "calls": [0]}, "from 1"),
    ],
)
def test_schedules_that_say_nothing_or_too_much_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        Schedule.model_validate(fields)


@pytest.mark.parametrize(
    "fields", [{"start": 1}, {"mean_up": 3}, {"start": 1, "duration": 2, "mean_up": 3, "mean_down": 1}, {}]
)
def test_outages_need_start_and_duration_or_both_means(fields):
    with pytest.raises(ValueError, match="Outage takes|needs both"):
        Outage.model_validate(fields)
