"""The exception tree of tarash-gateway, and the one rule that decides fallback.

```text
TarashException                 message, provider, model, request_id, raw_response,
│                               execution_metadata (set when a whole chain failed)
├── ValidationError             the request cannot be served as asked (400/422)
│   └── UnsupportedRequestError the model cannot take the request: refused before
│                               any network call (a fallback chain skips the config)
├── ContentModerationError      the provider refused the prompt or the output
├── HTTPError                   status_code
│   └── RateLimitError          status_code=429, retry_after (seconds or None)
├── GenerationFailedError       the job ran and failed
├── HTTPConnectionError         the network failed before an answer came
├── TimeoutError                timeout_seconds; the overall deadline passed
├── CassetteError               a cassette file is damaged, unreadable or misused
│   └── RecordingNotFoundError  replay asked for a call the cassette does not hold
└── BudgetExceededError         a real call would pass the spending budget
                                (limit_usd, spent_usd, estimate_usd)
```

Every exception here can be turned into a plain dict (`to_dict`) and back
(`exception_from_dict`), and copied (`copy.copy`) with all its fields: that is
how mock configs hold errors in JSON and how cassettes replay them.

Whether a failure is transient (worth another try, on the same config with `retry=`
or on the next config of a fallback chain) is decided by `is_retryable`, a pure
function of the exception. A refusal (`UnsupportedRequestError`) is not
retryable: the fallback layer skips that config instead (see `retry`).
"""

from __future__ import annotations

import builtins
from typing import Any, TypedDict

__all__ = [
    "BudgetExceededError",
    "CassetteError",
    "ContentModerationError",
    "GenerationFailedError",
    "HTTPConnectionError",
    "HTTPError",
    "RateLimitError",
    "RecordingNotFoundError",
    "TarashException",
    "TimeoutError",
    "UnsupportedRequestError",
    "ValidationError",
    "exception_from_dict",
    "exception_to_dict",
    "is_retryable",
    "submit_outcome_unknown",
]

RETRYABLE_STATUS_CODES = frozenset({408, 409, 429, 500, 502, 503, 504})


class ErrorSource(TypedDict, total=False):
    """Where an error comes from: keyword fields of `TarashException`, passed as `**where`."""

    provider: str | None
    model: str | None
    request_id: str | None


class ErrorContext(ErrorSource, total=False):
    """`ErrorSource` and the `raw_response`: every shared keyword field, passed as `**where`."""

    raw_response: dict[str, Any] | None


class TarashException(Exception):
    """Base of every error the gateway raises.

    Examples:
        >>> try:
        ...     raise GenerationFailedError("the job failed", provider="fal")
        ... except TarashException as e:
        ...     print(e, e.provider)
        the job failed fal
    """

    _fields: tuple[str, ...] = ("provider", "model", "request_id", "raw_response")

    def __init__(
        self,
        message: str = "",
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        raw_response: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.request_id = request_id
        self.raw_response = raw_response
        #: Set on the error raised when a whole fallback chain failed: every attempt.
        self.execution_metadata: Any = None

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        extras = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields if getattr(self, f) is not None)
        return f"{type(self).__name__}({self.message!r}{', ' + extras if extras else ''})"

    def field_values(self) -> dict[str, Any]:
        """The constructor keyword arguments that rebuild this exception."""
        return {"message": self.message, **{f: getattr(self, f) for f in self._fields}}

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword fields survive pickle (the default keeps only args).
        return (_rebuild, (type(self), self.field_values()))

    def __copy__(self) -> TarashException:
        # Every attribute, no traceback or chaining: a fresh error for each injected failure.
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.args = self.args
        return new


def _rebuild(cls: type[TarashException], values: dict[str, Any]) -> TarashException:
    return cls(**values)


class ValidationError(TarashException):
    """The request or config is not valid for this provider and model."""


class UnsupportedRequestError(ValidationError):
    """The provider or model cannot take the request as asked, found before any network call.

    Raised by the adapters' field mapping (a value the model does not take, a field it
    needs, a model it does not know). Nothing was sent and nothing was billed, so a
    fallback chain skips the config, records the reason on its attempt and goes on;
    a provider's own 400 is a plain `ValidationError` and stops the chain.
    A registered handler may raise it too, for the same effect.
    """


class ContentModerationError(TarashException):
    """The provider's safety system refused the prompt, the input or the output."""


class HTTPError(TarashException):
    """The provider answered with an HTTP error status."""

    _fields = (*TarashException._fields, "status_code")

    def __init__(
        self,
        message: str = "",
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        raw_response: dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, provider, model, request_id, raw_response)
        self.status_code = status_code


class RateLimitError(HTTPError):
    """HTTP 429: the provider asks the caller to slow down, maybe for `retry_after` seconds."""

    _fields = (*HTTPError._fields, "retry_after")

    def __init__(
        self,
        message: str = "",
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        raw_response: dict[str, Any] | None = None,
        status_code: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider, model, request_id, raw_response, status_code)
        self.retry_after = retry_after


class GenerationFailedError(TarashException):
    """The job was accepted and then failed on the provider's side."""


class HTTPConnectionError(TarashException):
    """The connection failed (DNS, refused, reset) before the provider answered."""


class TimeoutError(TarashException):  # noqa: A001 - upstream's name, kept on purpose
    """The overall deadline of one generation (`config.timeout`) passed."""

    _fields = (*TarashException._fields, "timeout_seconds")

    def __init__(
        self,
        message: str = "",
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        raw_response: dict[str, Any] | None = None,
        timeout_seconds: float | None = None,
    ) -> None:
        super().__init__(message, provider, model, request_id, raw_response)
        self.timeout_seconds = timeout_seconds


class CassetteError(TarashException):
    """A cassette file is damaged, of an unknown schema version, or used the wrong way."""


class RecordingNotFoundError(CassetteError):
    """Replay was asked for a call the cassette does not hold; the message names the nearest."""


class BudgetExceededError(TarashException):
    """A real (paid) call was refused: its estimated price would take the spending past the budget.

    Set by `TARASH_BUDGET_USD` or a config's `budget_usd`; never retryable, it stops
    a fallback chain, so a test suite cannot spend money by accident.
    """

    _fields = (*TarashException._fields, "limit_usd", "spent_usd", "estimate_usd")

    def __init__(
        self,
        message: str = "",
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        raw_response: dict[str, Any] | None = None,
        limit_usd: float | None = None,
        spent_usd: float | None = None,
        estimate_usd: float | None = None,
    ) -> None:
        super().__init__(message, provider, model, request_id, raw_response)
        self.limit_usd = limit_usd
        self.spent_usd = spent_usd
        self.estimate_usd = estimate_usd


_BY_NAME: dict[str, type[TarashException]] = {
    cls.__name__: cls
    for cls in (
        TarashException,
        ValidationError,
        UnsupportedRequestError,
        ContentModerationError,
        HTTPError,
        RateLimitError,
        GenerationFailedError,
        HTTPConnectionError,
        TimeoutError,
        CassetteError,
        RecordingNotFoundError,
        BudgetExceededError,
    )
}

_FROM_CALLBACK = "_tarash_raised_by_progress_callback"


def mark_callback_error(error: BaseException) -> BaseException:
    """Tag an exception raised inside the user's progress callback: it is never retried."""
    try:
        setattr(error, _FROM_CALLBACK, True)
    except AttributeError:  # exceptions with __slots__; they still propagate
        pass
    return error


def raised_by_callback(error: BaseException) -> bool:
    return bool(getattr(error, _FROM_CALLBACK, False))


_SUBMIT_UNKNOWN = "_tarash_submit_outcome_unknown"


def mark_submit_unknown(error: BaseException) -> BaseException:
    """Tag a timeout or dropped connection of a *submit* whose request may have reached the
    provider: a job may be running (and billed) that the caller never heard of."""
    try:
        setattr(error, _SUBMIT_UNKNOWN, True)
    except AttributeError:  # exceptions with __slots__; they still propagate
        pass
    return error


def submit_outcome_unknown(error: BaseException) -> bool:
    """Whether the error left unknown if a paid job was submitted (never re-submitted by
    default: see `Retry(resubmit_unknown=True)`)."""
    return bool(getattr(error, _SUBMIT_UNKNOWN, False))


def is_retryable(error: BaseException) -> bool:
    """Whether a failed attempt is transient: worth another try, on the same config or the next.

    Retryable: generation failures, timeouts, connection errors, and HTTP 408, 409,
    429 and 5xx. Not retryable: validation (refusals included), moderation, budget,
    other HTTP statuses (401 and 403 are auth problems the next config will not fix the
    same way twice), anything raised by the user's own progress callback, and
    exceptions foreign to the gateway.
    """
    if raised_by_callback(error):
        return False
    if isinstance(error, HTTPError):
        code = error.status_code
        return code is not None and (code in RETRYABLE_STATUS_CODES or 500 <= code <= 599)
    return isinstance(error, GenerationFailedError | TimeoutError | HTTPConnectionError)


def exception_to_dict(error: BaseException) -> dict[str, Any]:
    """A JSON-safe description of an exception.

    Gateway exceptions and Python's built-in ones are rebuilt by
    `exception_from_dict`; any other class is described (`"rebuildable": False`)
    but cannot be rebuilt, since nothing is imported from what a file names.
    """
    cls = type(error)
    if isinstance(error, TarashException):
        values = {k: v for k, v in error.field_values().items() if v is not None}
        return {"type": cls.__name__, **_json_safe(values)}
    if getattr(builtins, cls.__name__, None) is cls:
        described: dict[str, Any] = {"type": cls.__name__, "message": str(error), "builtin": True}
        if all(isinstance(a, str | int | float | bool) or a is None for a in error.args):
            described["args"] = list(error.args)  # KeyError('x') comes back as KeyError('x'), OSError keeps errno
        return described
    return {"type": cls.__name__, "message": str(error), "module": cls.__module__, "rebuildable": False}


def rebuildable(error: BaseException) -> bool:
    """Whether `exception_from_dict` can rebuild this exception from its dict."""
    return isinstance(error, TarashException) or getattr(builtins, type(error).__name__, None) is type(error)


def exception_from_dict(data: dict[str, Any]) -> BaseException:
    """Rebuild an exception from `exception_to_dict`'s output or a hand-written dict.

    `{"type": "GenerationFailedError", "message": "boom"}` is the smallest form.
    Unknown gateway types are refused with a `ValidationError` listing the known ones.
    """
    values = dict(data)
    if values.get("rebuildable") is False:
        raise ValidationError(
            f"{values.get('module', '?')}.{values.get('type')} is not a gateway or built-in exception and "
            "cannot be rebuilt; raise a gateway exception (e.g. GenerationFailedError) in mock configs and handlers"
        )
    name = values.pop("type", None)
    if name is None:
        raise ValidationError("an error given as a dict needs a 'type', e.g. {'type': 'GenerationFailedError'}")
    if values.pop("builtin", False):
        cls = getattr(builtins, str(name), None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            args = values.get("args")
            return cls(*args) if isinstance(args, list) else cls(values.get("message", ""))
    cls_t = _BY_NAME.get(str(name))
    if cls_t is None:
        known = ", ".join(sorted(_BY_NAME))
        raise ValidationError(f"unknown error type {name!r}; known types: {known}")
    allowed = {"message", *cls_t._fields}
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError(f"{name} takes {sorted(allowed)}, not {sorted(unknown)}")
    return cls_t(**values)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bytes):
        return {"__bytes_len__": len(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
