"""The fallback layer's one decision after a failed attempt, and the backoff, as tables."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway.exceptions import (
    BudgetExceededError,
    ContentModerationError,
    GenerationFailedError,
    HTTPConnectionError,
    HTTPError,
    RateLimitError,
    TimeoutError,
    UnsupportedRequestError,
    ValidationError,
    mark_submit_unknown,
)
from tarash.tarash_gateway.retry import Retry, backoff, decide

R3 = Retry(attempts=3, wait_initial=1, wait_multiplier=2, wait_max=10, wait_jitter=0, wait_total_max=30)
UNKNOWN = mark_submit_unknown(TimeoutError("submit read timed out"))
RESUBMIT = R3.model_copy(update={"resubmit_unknown": True})


@pytest.mark.parametrize(
    "error, retry, tries, waited, has_next, expected",
    [
        # refusals before the network: skip, whatever the retry policy
        (UnsupportedRequestError("does not take duration_seconds=8"), R3, 1, 0, True, ("skip", 0)),
        (UnsupportedRequestError("does not take duration_seconds=8"), None, 1, 0, False, ("stop", 0)),
        # not retryable: stop at once, retry or not
        (ValidationError("provider said 400"), R3, 1, 0, True, ("stop", 0)),
        (ContentModerationError("no"), R3, 1, 0, True, ("stop", 0)),
        (HTTPError("auth", status_code=401), R3, 1, 0, True, ("stop", 0)),
        (BudgetExceededError("over budget"), R3, 1, 0, True, ("stop", 0)),
        (KeyError("a bug"), R3, 1, 0, True, ("stop", 0)),
        # transient, no retry policy: fall back as before, or stop at the end of the chain
        (GenerationFailedError("x"), None, 1, 0, True, ("fall_back", 0)),
        (GenerationFailedError("x"), None, 1, 0, False, ("stop", 0)),
        # transient, with retries left: exponential backoff 1, 2, 4 (capped at 10)
        (HTTPError("down", status_code=503), R3, 1, 0, True, ("retry", 1)),
        (HTTPError("down", status_code=503), R3, 2, 1, True, ("retry", 2)),
        (HTTPError("down", status_code=503), R3, 3, 3, True, ("fall_back", 0)),
        (HTTPError("down", status_code=503), R3, 3, 3, False, ("stop", 0)),
        # Retry-After longer than the backoff wins; one past the total wait falls back
        (RateLimitError("slow", retry_after=7), R3, 1, 0, True, ("retry", 7)),
        (RateLimitError("slow", retry_after=0.5), R3, 1, 0, True, ("retry", 1)),
        (RateLimitError("slow", retry_after=25), R3, 2, 7, True, ("fall_back", 25)),
        (RateLimitError("slow", retry_after=25), R3, 2, 5, True, ("retry", 25)),
        # a submit whose outcome is unknown is never sent again unless asked
        (UNKNOWN, R3, 1, 0, True, ("stop", 0)),
        (UNKNOWN, None, 1, 0, True, ("stop", 0)),
        (UNKNOWN, RESUBMIT, 1, 0, True, ("retry", 1)),
        (UNKNOWN, RESUBMIT, 3, 3, True, ("fall_back", 0)),
        # timeouts and connection errors that are not submit-unknown stay transient
        (TimeoutError("poll deadline"), R3, 1, 0, True, ("retry", 1)),
        (HTTPConnectionError("refused"), None, 1, 0, True, ("fall_back", 0)),
    ],
)
def test_decide_table(error, retry, tries, waited, has_next, expected):
    decision = decide(error, retry=retry, tries=tries, waited=waited, has_next=has_next)
    assert (decision.action, decision.wait) == expected
    assert decision.reason


def test_a_skip_says_why():
    decision = decide(UnsupportedRequestError("m does not take x=1"), retry=None, tries=1, waited=0, has_next=True)
    assert decision.reason == "skipped: m does not take x=1"


def test_an_unknown_submit_names_the_opt_in():
    decision = decide(UNKNOWN, retry=None, tries=1, waited=0, has_next=True)
    assert "resubmit_unknown=True" in decision.reason


@pytest.mark.parametrize(
    "retries_done, jitter_u, expected",
    [(0, 0.0, 0.5), (1, 0.0, 1.5), (2, 0.0, 4.5), (3, 0.0, 5.0), (9, 0.0, 5.0), (0, 0.5, 1.0), (3, 0.999, 5.999)],
)
def test_backoff_is_exponential_capped_then_jittered(retries_done, jitter_u, expected):
    retry = Retry(attempts=10, wait_initial=0.5, wait_multiplier=3, wait_max=5, wait_jitter=1)
    assert backoff(retry, retries_done, jitter_u) == pytest.approx(expected)


def test_retry_options_are_checked_and_listed():
    with pytest.raises(ValueError, match="wait_max"):
        Retry(wait_initial=5, wait_max=1)
    with pytest.raises(ValueError, match="attempts"):
        Retry(attempts=0)
    with pytest.raises(ValueError, match="extra"):
        Retry(tries=3)


def test_retry_round_trips_through_a_config_as_json():
    from tarash.tarash_gateway.models import VideoGenerationConfig

    config = VideoGenerationConfig(provider="fal", model="m", retry=Retry(attempts=4, seed=7), budget_usd=1.5)
    assert VideoGenerationConfig.model_validate_json(config.model_dump_json()) == config
    assert VideoGenerationConfig.model_validate({"provider": "fal", "model": "m", "retry": {"attempts": 2}}).retry == Retry(attempts=2)
