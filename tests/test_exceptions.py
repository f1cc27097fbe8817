"""The exception tree and the one fallback predicate."""

from __future__ import annotations

import copy
import pickle

import pytest

from tarash.tarash_gateway import exceptions as exc
from tarash.tarash_gateway.exceptions import (
    exception_from_dict,
    exception_to_dict,
    is_retryable,
)


@pytest.mark.parametrize(
    "error, retryable",
    [
        (exc.GenerationFailedError("x"), True),
        (exc.TimeoutError("x"), True),
        (exc.HTTPConnectionError("x"), True),
        (exc.RateLimitError("x", retry_after=3), True),
        (exc.HTTPError("x", status_code=408), True),
        (exc.HTTPError("x", status_code=409), True),
        (exc.HTTPError("x", status_code=500), True),
        (exc.HTTPError("x", status_code=503), True),
        (exc.HTTPError("x", status_code=529), True),
        (exc.HTTPError("x", status_code=401), False),
        (exc.HTTPError("x", status_code=403), False),
        (exc.HTTPError("x", status_code=None), False),
        (exc.ValidationError("x"), False),
        (exc.ContentModerationError("x"), False),
        (exc.TarashException("x"), False),
        (RuntimeError("x"), False),
    ],
)
def test_is_retryable_table(error, retryable):
    assert is_retryable(error) is retryable


def test_an_error_from_the_progress_callback_is_never_retryable():
    error = exc.GenerationFailedError("raised by my callback")
    exc.mark_callback_error(error)
    assert is_retryable(error) is False


def test_rate_limit_error_keeps_retry_after_and_is_an_http_error():
    error = exc.RateLimitError("slow down", provider="fal", retry_after=2.5)
    assert isinstance(error, exc.HTTPError) and error.status_code == 429 and error.retry_after == 2.5


@pytest.mark.parametrize("clone", [copy.copy, lambda e: pickle.loads(pickle.dumps(e))])
def test_exceptions_copy_with_all_their_fields(clone):
    error = exc.RateLimitError("slow", provider="fal", model="m", request_id="r", retry_after=4)
    again = clone(error)
    assert again is not error
    assert (type(again), str(again), again.provider, again.model, again.request_id, again.retry_after) == (
        exc.RateLimitError, "slow", "fal", "m", "r", 4)


def test_exceptions_round_trip_through_dicts():
    error = exc.TimeoutError("late", provider="p", timeout_seconds=1.5, raw_response={"b": b"xx"})
    data = exception_to_dict(error)
    assert data["raw_response"] == {"b": {"__bytes_len__": 2}}
    again = exception_from_dict(data)
    assert isinstance(again, exc.TimeoutError) and again.timeout_seconds == 1.5 and str(again) == "late"


def test_builtin_errors_round_trip_too():
    again = exception_from_dict(exception_to_dict(ValueError("bad")))
    assert type(again) is ValueError and str(again) == "bad"


def test_unknown_fields_in_an_error_dict_are_refused():
    with pytest.raises(exc.ValidationError, match="takes"):
        exception_from_dict({"type": "GenerationFailedError", "status_code": 3})


def test_an_exception_of_the_users_own_class_is_described_but_never_rebuilt():
    class QuotaExceeded(Exception):
        pass

    data = exception_to_dict(QuotaExceeded("monthly quota used up"))
    assert data["rebuildable"] is False and data["type"] == "QuotaExceeded"
    assert exc.rebuildable(QuotaExceeded()) is False and exc.rebuildable(KeyError("k")) is True
    with pytest.raises(exc.ValidationError, match="QuotaExceeded is not a gateway or built-in exception"):
        exception_from_dict(data)


@pytest.mark.parametrize("error", [KeyError("x"), FileNotFoundError(2, "No such file"), ValueError("bad", 3)])
def test_builtin_errors_keep_their_arguments(error):
    again = exception_from_dict(exception_to_dict(error))
    assert type(again) is type(error) and again.args == error.args and str(again) == str(error)
    assert getattr(again, "errno", None) == getattr(error, "errno", None)
