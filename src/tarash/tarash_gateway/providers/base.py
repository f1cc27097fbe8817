"""Sans-I/O provider protocols and the one loop that runs them all.

A provider is a `ProviderProtocol`: it *builds* requests and *parses* responses,
and never performs I/O. `generation_flow` is the submit / poll / result / cancel
loop, written once as a flow; `HttpProvider` runs it on either face with the
shared drivers (`run_sync`/`run_async`). No provider writes its loop twice.

The loop honours, for every provider: `poll_interval` (fractions of a second),
`max_poll_attempts`, and `timeout` as the overall deadline. When the deadline or
the poll budget runs out, the job is cancelled where the provider allows it and
`TimeoutError` is raised.
"""

from __future__ import annotations

import email.utils
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from .. import exceptions as exc
from ..call import Call
from ..flow import Flow, run_async, run_sync
from ..media import StatusType
from ..metadata import Origin

if TYPE_CHECKING:
    import httpx

__all__ = [
    "HttpProvider",
    "Job",
    "ProviderProtocol",
    "generation_flow",
    "http_error",
    "json_or_empty",
    "parse_retry_after",
]


@dataclass(frozen=True)
class Job:
    """A provider job as last seen. `done` jobs hold a `result` or an `error`."""

    id: str
    status: StatusType = "queued"
    progress: int | None = None
    update: dict[str, Any] = field(default_factory=dict)
    data: Any = None
    urls: dict[str, str] = field(default_factory=dict)
    error: exc.TarashException | None = None
    result: Any = None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)


class ProviderProtocol:
    """Base of every provider: request builders and response parsers, no I/O.

    Subclasses set `name` and `default_base_url` and implement at least
    `submit` and `parse_submit`. Jobs that finish at submit (synchronous
    APIs) return a `done` job from `parse_submit` and never poll.
    """

    name: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ("video", "image")

    # -- building blocks -------------------------------------------------------------
    def base_url(self, call: Call) -> str:
        return (call.config.base_url or self.default_base_url).rstrip("/")

    def headers(self, call: Call) -> dict[str, str]:
        """Auth and protocol headers (the API key is added here and nowhere else)."""
        return {}

    def request(self, call: Call, method: str, url: str, **kwargs: Any) -> httpx.Request:
        """An `httpx.Request` with this provider's headers and a timeout cut to the deadline.

        Headers merge case-insensitively: the defaults every client sends
        (`default_headers`), then the provider's, then the request's own.
        """
        import httpx  # the first request of the process loads the HTTP machinery

        from .http import default_headers

        headers = default_headers()
        headers.update(self.headers(call))
        headers.update(kwargs.pop("headers", {}))
        if not url.startswith(("http://", "https://")):
            url = f"{self.base_url(call)}/{url.lstrip('/')}"
        request = httpx.Request(method, url, headers=headers, **kwargs)
        remaining = call.remaining()
        seconds = max(min(remaining if remaining is not None else 60.0, 60.0), 0.05)
        request.extensions["timeout"] = httpx.Timeout(seconds).as_dict()
        return request

    # -- the protocol ------------------------------------------------------------------
    def check_kind(self, call: Call) -> None:
        """Refuse a kind of generation the provider does not offer (a `ValidationError`)."""
        if call.kind not in self.kinds:
            raise exc.ValidationError(
                f"{self.name} does not generate {call.kind}s", provider=self.name, model=call.config.model
            )

    def prepare(self, call: Call) -> Flow[Any]:
        """Validate and map the request to the provider's payload, before any network call.

        A flow, so media inputs can be converted without blocking the event loop.
        """
        raise NotImplementedError
        yield  # pragma: no cover

    def submit(self, call: Call, payload: Any) -> httpx.Request:
        raise NotImplementedError

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        raise NotImplementedError

    def poll(self, call: Call, job: Job) -> httpx.Request:
        raise NotImplementedError(f"{self.name} jobs finish at submit")

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        raise NotImplementedError(f"{self.name} jobs finish at submit")

    def fetch_result(self, call: Call, job: Job) -> httpx.Request | None:
        """A request that fetches the output once the job completed, if one is needed."""
        return None

    def parse_result(self, call: Call, job: Job, response: httpx.Response | None) -> Any:
        """The gateway response for a completed job (`job.result` when already built)."""
        if job.result is None:
            raise exc.GenerationFailedError(
                f"{self.name} finished without a result", provider=self.name, model=call.config.model, request_id=job.id
            )
        return job.result

    def cancel(self, call: Call, job: Job) -> httpx.Request | None:
        """A request that cancels the job, where the provider allows it."""
        return None

    def poll_delay(self, call: Call, job: Job, response: httpx.Response | None) -> float:
        """Seconds to wait before the next poll (the config's `poll_interval`)."""
        return call.config.poll_interval

    def json_object(self, call: Call, response: httpx.Response, phase: str) -> dict[str, Any]:
        """The JSON object of a successful answer; anything else is a clear
        `GenerationFailedError` naming the phase (never a bare decode error)."""
        body = json_or_empty(response) if response.content else None
        if not isinstance(body, dict) or (not body and response.content):
            raise exc.GenerationFailedError(
                f"{self.name} {phase} answered HTTP {response.status_code} without a JSON object",
                provider=self.name,
                model=call.config.model,
                raw_response={"phase": phase, "status_code": response.status_code, "text": response.text[:500]},
            )
        return body

    def job_id(self, call: Call, body: dict[str, Any], field: str, what: str, shown: Any = None) -> str:
        """The job id a submit answer holds in `field`; without one, a clear
        `GenerationFailedError` (`what` names it, `shown` is the body to report)."""
        value = body.get(field)
        if not value:
            raise exc.GenerationFailedError(
                f"{self.name} submit answered without {what}",
                provider=self.name,
                model=call.config.model,
                raw_response={"phase": "submit", "body": body if shown is None else shown},
            )
        return str(value)

    def error(self, call: Call, response: httpx.Response, phase: str) -> exc.TarashException:
        """The gateway exception for an HTTP error answer (override to spot moderation)."""
        return http_error(self.name, call.config.model, response, phase)


def generation_flow(protocol: ProviderProtocol, call: Call) -> Flow[Any]:
    """Submit, poll until done, fetch the result; cancel on timeout. Written once for all."""
    config = call.config
    payload = yield from _prepared(protocol, call)
    response = yield from _send(protocol, call, protocol.submit(call, payload), "submit")
    job = protocol.parse_submit(call, response)
    polls = 0
    try:
        yield from _report(call, job)
        while not job.done:
            if polls >= config.max_poll_attempts:
                raise exc.TimeoutError(
                    f"{protocol.name} job {job.id} was not done after {polls} polls",
                    provider=protocol.name,
                    model=config.model,
                    request_id=job.id,
                    timeout_seconds=config.timeout,
                )
            yield from call.wait(protocol.poll_delay(call, job, response))
            polls += 1
            response = yield from _send(protocol, call, protocol.poll(call, job), "poll")
            previous, job = job, protocol.parse_poll(call, job, response)
            if (job.status, job.progress, job.update) != (previous.status, previous.progress, previous.update):
                yield from _report(call, job)
    except GeneratorExit:  # the flow is being closed: nothing more may be sent
        raise
    except BaseException as error:
        # Whatever ends the wait (the deadline, a failed poll, the caller's own timeout or
        # cancellation, Ctrl-C, the progress callback), the job would go on running and
        # costing on the provider's side: cancel it where the provider allows, then raise.
        if isinstance(error, exc.TimeoutError):
            error.request_id = error.request_id or job.id
        if not job.done:
            yield from _cancel(protocol, call, job)
        raise
    if job.error is not None:
        raise job.error
    fetch = protocol.fetch_result(call, job)
    result_response = (yield from _send(protocol, call, fetch, "result")) if fetch is not None else None
    result = protocol.parse_result(call, job, result_response)
    origin = Origin(source="provider", provider=protocol.name, model=config.model)
    return result.model_copy(update={"origin": origin})


def _prepared(protocol: ProviderProtocol, call: Call) -> Flow[Any]:
    """The payload, or the refusal of a request this model cannot take.

    The pre-network validation boundary: every `ValidationError` raised here, before
    anything was sent, is an `UnsupportedRequestError`, which a
    fallback chain skips (a provider's own 400 later is a plain `ValidationError`).
    """
    try:
        protocol.check_kind(call)
        return (yield from protocol.prepare(call))
    except exc.UnsupportedRequestError:
        raise
    except exc.ValidationError as error:
        raise exc.UnsupportedRequestError(**error.field_values()) from None


def _never_sent(cause: BaseException | None) -> bool:
    """Whether an httpx failure says the request surely never reached the provider."""
    import httpx  # loaded already: a request was built

    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.UnsupportedProtocol)


def _send(protocol: ProviderProtocol, call: Call, request: httpx.Request, phase: str) -> Flow[httpx.Response]:
    """One request; an HTTP error answer becomes the provider's exception for that phase.

    A submit that timed out or lost its connection once the request may have arrived is
    tagged (`submit_outcome_unknown`): a job may be running and billed.
    """
    from .http import Send

    try:
        response = yield Send(request, protocol.name, call.config.model)
    except (exc.TimeoutError, exc.HTTPConnectionError) as error:
        if phase == "submit" and not _never_sent(error.__cause__):
            exc.mark_submit_unknown(error)
        if error.raw_response is None:  # the phase it failed at, for its origin (as HTTP answers have)
            error.raw_response = {"phase": phase}
        raise
    if response.status_code >= 400:
        raise protocol.error(call, response, phase)
    return response


def _report(call: Call, job: Job) -> Flow[None]:
    yield from call.emit(
        request_id=job.id,
        status=job.status,
        progress_percent=100 if job.status == "completed" and job.progress is None else job.progress,
        update=job.update,
        error=str(job.error) if job.error is not None else None,
    )


def _cancel(protocol: ProviderProtocol, call: Call, job: Job) -> Flow[None]:
    request = protocol.cancel(call, job) if job.id else None
    if request is None:
        return
    import httpx

    from .http import Send

    request.extensions["timeout"] = httpx.Timeout(5.0).as_dict()  # past the deadline on purpose
    try:
        yield Send(request, protocol.name, call.config.model)
    except exc.TarashException:
        pass  # best effort: the timeout is what the caller needs to hear about


class HttpProvider:
    """Adapter that serves a built-in provider in the stack (`handle`/`ahandle`)."""

    def __init__(self, protocol: ProviderProtocol) -> None:
        self.protocol = protocol

    def handle(self, call: Call) -> Any:
        return run_sync(generation_flow(self.protocol, call))

    async def ahandle(self, call: Call) -> Any:
        from .http import async_call_client

        async with async_call_client():
            return await run_async(generation_flow(self.protocol, call))


def parse_retry_after(response: httpx.Response) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    value = response.headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def json_or_empty(response: httpx.Response) -> Any:
    """The JSON body of an answer, or `{}` when it has none or it is not JSON (tolerant parsers)."""
    try:
        return response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return {}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return {"text": response.text[:2000]} if response.content else {}


def _message(body: Any) -> str:
    """The human part of a provider's error body, whichever of the usual shapes it has."""
    if isinstance(body, dict):
        for key in ("detail", "message", "error", "title", "text", "errors", "name"):
            value = body.get(key)
            if isinstance(value, dict):
                return _message(value)
            if isinstance(value, list) and value:
                first = value[0]
                return first.get("msg") or first.get("message") or json.dumps(first) if isinstance(first, dict) else str(first)
            if value:
                return str(value)
    return json.dumps(body)[:500] if body else ""


def http_error(provider: str, model: str, response: httpx.Response, phase: str) -> exc.TarashException:
    """The common mapping of an HTTP error answer.

    401/403 -> `HTTPError` (no fallback); 429 -> `RateLimitError` with
    `retry_after`; 400/422 -> `ValidationError`; others -> `HTTPError`
    (5xx falls back). `phase` (submit, poll, result) is part of the message and of
    `raw_response`, so a failed submit and a failed job are told apart.
    """
    code = response.status_code
    body = _body(response)
    detail = _message(body)
    message = f"{provider} {phase} failed with HTTP {code}" + (f": {detail}" if detail else "")
    raw = {"status_code": code, "phase": phase, "body": body}
    where: exc.ErrorContext = {"provider": provider, "model": model, "raw_response": raw}
    if code == 429:
        return exc.RateLimitError(message, status_code=code, retry_after=parse_retry_after(response), **where)
    if code in (400, 422):
        return exc.ValidationError(message, **where)
    return exc.HTTPError(message, status_code=code, **where)
