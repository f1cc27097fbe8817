"""The exceptions of named provider faults, built the way the real adapters build them.

An HTTP answer (a 404 on the status of a job the provider forgot, a 429 past its
capacity) goes through the adapter's own `error()` mapping, given the answer the
provider would send; a dropped connection and an expired media URL get what the
transport and the media loader raise for the real thing. So an error injected here has
the class, retryability and shape of the real one (`tests/mock/test_phase_faults.py`
checks it against the adapters driven through the same fault).
"""

from __future__ import annotations

import math
from typing import Any

from .. import exceptions as exc
from ..call import Call

__all__ = [
    "MEDIA_EXPIRED_STATUS", "QUEUEING_PROVIDERS", "capacity_refusal", "expired_media_error", "fault_error", "http_answer_error",
    "media_expired_status",
]

#: Providers that queue a job past their concurrency (fal's queue, Replicate's
#: "starting" predictions, Runway's THROTTLED tasks) rather than refuse it with a 429.
QUEUEING_PROVIDERS = frozenset({"fal", "replicate", "runway"})

#: What an output URL answers once it has expired, where it is not a 404: signed URLs
#: (Google's storage, Runway's CDN) answer 403 when their signature has run out; a file
#: gone from a CDN (fal, Replicate, xAI) or an API's content route answers 404. The
#: simulator answers the same.
MEDIA_EXPIRED_STATUS = {"google": 403, "runway": 403}


def media_expired_status(provider: str) -> int:
    """The HTTP status of `provider`'s output URL once it has expired."""
    return MEDIA_EXPIRED_STATUS.get(provider, 404)


def http_answer_error(
    call: Call, status: int, phase: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> exc.TarashException:
    """What the adapter of `call`'s provider raises for this HTTP answer at `phase`."""
    import httpx  # loads httpx: only when a fault is injected

    from ..providers import get_provider
    from ..providers.base import http_error
    config = call.config
    request = httpx.Request("GET", f"{_base_url(call)}/{phase}")
    response = httpx.Response(status, json=body, headers=headers, request=request)
    adapter = get_provider(config.provider)
    protocol = getattr(adapter, "protocol", None)
    if protocol is None:  # a registered handler or an unknown name: the common mapping
        return http_error(config.provider, config.model, response, phase)
    return protocol.error(call, response, phase)


def fault_error(call: Call, fault: str, request_id: str, phase: str) -> exc.TarashException:
    """The exception a real call raises when `fault` happens at `phase`."""
    config = call.config
    where: exc.ErrorSource = {"provider": config.provider, "model": config.model, "request_id": request_id}
    if fault == "job_lost":
        body = {"detail": f"request {request_id} not found"}
        error = http_answer_error(call, 404, phase, body)
        error.request_id = request_id
        return error
    if fault == "connection_dropped":
        # What the transport raises (httpx.RemoteProtocolError, mapped by providers.http.Send).
        method = "POST" if phase == "submit" else "GET"
        return exc.HTTPConnectionError(
            f"{method} {_base_url(call)} failed: Server disconnected without sending a response.", **where
        )
    if fault == "completed_with_error":
        return exc.GenerationFailedError(
            f"{config.provider} request {request_id} failed: the job completed with an error",
            raw_response={"phase": phase, "body": {"status": "COMPLETED", "error": "internal error"}},
            **where,
        )
    if fault == "media_expired":
        return expired_media_error(config.provider, request_id, where)
    raise exc.ValidationError(f"unknown mock fault {fault!r}")  # pragma: no cover - the config's Literal refuses it


def expired_media_error(provider: str, what: str, where: exc.ErrorSource | None = None) -> exc.HTTPError:
    """What `media_io.load_media` raises for an output URL of `provider` that has expired."""
    status = media_expired_status(provider)
    return exc.HTTPError(
        f"downloading the output of {what} gave HTTP {status} (the URL has expired)",
        status_code=status,
        raw_response={"phase": "media", "status_code": status},
        **(where or {"provider": provider}),
    )


def capacity_refusal(call: Call, retry_after: float, limit: str, reason: str) -> exc.TarashException:
    """The 429 the provider answers a submit past its capacity, with its Retry-After.

    `limit` (`rate_limit` or `concurrency`) is noted in `raw_response["capacity"]`.
    """
    seconds = max(math.ceil(retry_after), 1)
    error = http_answer_error(
        call, 429, "submit", {"detail": f"Too many requests: {reason}. Retry after {seconds} s."},
        {"retry-after": str(seconds)},
    )
    error.raw_response = {**(error.raw_response or {}), "capacity": limit}
    return error


def _base_url(call: Call) -> str:
    from ..providers import get_provider
    adapter = get_provider(call.config.provider)
    default = getattr(getattr(adapter, "protocol", None), "default_base_url", "") or "https://mock.invalid"
    return (call.config.base_url or default).rstrip("/")
