"""The mock configuration: weighted outcomes, injected errors and latency, polling timelines.

Everything here loads from plain dicts (JSON, YAML, env) and serializes back, errors included:

```python
MockConfig.model_validate({
    "enabled": True,
    "seed": 7,
    "responses": [
        {"weight": 0.8},
        {"weight": 0.2, "error": {"type": "RateLimitError", "message": "slow down", "retry_after": 2}},
    ],
})
```
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import core_schema

from ..exceptions import exception_from_dict, exception_to_dict
from ..media import MediaType, StatusType
from ..responses import ImageGenerationResponse, VideoGenerationResponse

__all__ = ["Latency", "MockConfig", "MockPollingConfig", "MockResponse", "Outage", "Schedule"]


def _to_exception(value: Any) -> BaseException:
    if isinstance(value, BaseException):
        return value
    if isinstance(value, dict):
        return exception_from_dict(value)
    raise ValueError("error must be an exception instance or a dict like {'type': 'GenerationFailedError', 'message': '...'}")


class _AsDict:
    """Serializes an injected error as its dict (`exception_to_dict`): pydantic's
    `PlainSerializer(exception_to_dict, return_type=dict)`, written against the core schema
    because importing `pydantic.functional_serializers` costs a mocked call's cold start
    a few milliseconds (its dataclasses)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        schema = handler(source)
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(
            exception_to_dict, return_schema=core_schema.dict_schema()
        )
        return schema


InjectedError = Annotated[
    BaseException,
    BeforeValidator(_to_exception),
    _AsDict(),
    WithJsonSchema({"type": "object", "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}),
]


class Latency(BaseModel):
    """Injected latency, drawn from the mock's seeded random source.

    `Latency(seconds=2)` is fixed; `Latency(min=0.5, max=3)` uniform;
    `Latency(mean=1.5, stddev=0.5)` normal (never below zero);
    `Latency(mean=1.5, distribution="exponential")` exponential;
    `Latency(median=40, p99=180)` lognormal (the median and the 99th percentile, in
    seconds, as latency dashboards show them); `Latency(recorded="cassettes/run.db")`
    as recorded: the durations of that cassette's recordings (the call's provider and
    model when it holds any), drawn at random.
    """

    # Built at import, like every model a config's `mock` holds: a deferred model's schema is
    # generated again inside each model that holds it, a built one is reused.
    model_config = ConfigDict(frozen=True)

    distribution: Literal["fixed", "uniform", "normal", "exponential", "lognormal", "recorded"] | None = None
    """`fixed`, `uniform`, `normal`, `exponential`, `lognormal` or `recorded`; inferred from the other fields when left out."""
    seconds: float | None = Field(default=None, ge=0)
    """Fixed latency in seconds."""
    min: float | None = Field(default=None, ge=0)
    """Lower bound of a uniform latency, in seconds."""
    max: float | None = Field(default=None, ge=0)
    """Upper bound of a uniform latency, in seconds."""
    mean: float | None = Field(default=None, ge=0)
    """Mean of a normal or exponential latency, in seconds."""
    stddev: float | None = Field(default=None, ge=0)
    """Standard deviation of a normal latency, in seconds."""
    median: float | None = Field(default=None, gt=0)
    """Median of a lognormal latency, in seconds."""
    p99: float | None = Field(default=None, gt=0)
    """99th percentile of a lognormal latency, in seconds."""
    recorded: str | None = None
    """A cassette path: latency drawn from the durations of its recordings."""

    @model_validator(mode="after")
    def _infer(self) -> Latency:
        kind = self.distribution
        if kind is None:
            if self.recorded is not None:
                kind = "recorded"
            elif self.median is not None:
                kind = "lognormal"
            elif self.seconds is not None:
                kind = "fixed"
            elif self.min is not None and self.max is not None:
                kind = "uniform"
            elif self.mean is not None:
                kind = "normal" if self.stddev is not None else "fixed"
            else:
                raise ValueError(
                    "Latency needs seconds=, min= and max=, mean= (with stddev= for normal), "
                    "median= and p99= (lognormal) or recorded= (a cassette)"
                )
            object.__setattr__(self, "distribution", kind)
        needs = {
            "fixed": (), "uniform": ("min", "max"), "normal": ("mean", "stddev"), "exponential": ("mean",),
            "lognormal": ("median", "p99"), "recorded": ("recorded",),
        }[kind]
        missing = [n for n in needs if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{kind} latency needs {', '.join(missing)}")
        if kind == "fixed" and self.seconds is None and self.mean is None:
            raise ValueError("fixed latency needs seconds=")
        if kind == "uniform" and self.min > self.max:  # type: ignore[operator]
            raise ValueError("uniform latency needs min <= max")
        if kind == "lognormal" and self.p99 < self.median:  # type: ignore[operator]
            raise ValueError("lognormal latency needs median <= p99")
        return self


LatencyValue = Annotated[Latency, BeforeValidator(lambda v: Latency(seconds=v) if isinstance(v, int | float) else v)]


def _default_status_sequence() -> list[StatusType]:
    return ["queued", "processing", "completed"]


class MockPollingConfig(BaseModel):
    """A simulated progress timeline: one update per status, `delay_between_updates` apart.

    With an injected error the last status becomes `failed` and the error is raised after it.
    `enabled=False` turns the timeline off without removing it.
    """

    model_config = ConfigDict(frozen=True)

    enabled: bool = True
    """`False` turns the timeline off without removing it."""
    status_sequence: list[StatusType] = Field(default_factory=_default_status_sequence)
    """The statuses reported, one update each, in order."""
    delay_between_updates: float = Field(default=0.5, ge=0)
    """Seconds between two updates (virtual under instant waits)."""
    progress_percentages: list[int] | None = None
    """A percentage per status; as long as `status_sequence`."""
    custom_updates: list[dict[str, Any]] | None = None
    """A provider-style `update` dict per status; as long as `status_sequence`."""

    @model_validator(mode="after")
    def _lengths(self) -> MockPollingConfig:
        if not self.status_sequence:
            raise ValueError("status_sequence needs at least one status")
        n = len(self.status_sequence)
        for name in ("progress_percentages", "custom_updates"):
            values = getattr(self, name)
            if values and len(values) != n:
                raise ValueError(f"{name} has {len(values)} entries; status_sequence has {n}")
        for p in self.progress_percentages or []:
            if not 0 <= p <= 100:
                raise ValueError(f"progress_percentages must be within 0..100, got {p}")
        return self


Phase = Literal["submit", "poll", "result", "media"]
#: Faults named by what the provider does; each raises what the real adapter raises for it.
Fault = Literal["job_lost", "connection_dropped", "completed_with_error", "media_expired"]
_FAULT_PHASE: dict[str, Phase] = {
    "job_lost": "poll", "connection_dropped": "poll", "completed_with_error": "poll", "media_expired": "media",
}


class MockResponse(BaseModel):
    """One weighted outcome of the mock.

    Give at most one of: `video_url`/`output_video` (a video to return), `image_url`,
    `mock_response` (a whole response), `error` (raised, a fresh copy each call),
    `fault` (a named provider fault), `replay` (a cassette to replay). With none of
    them the stock library answers.

    Where a job fails: `phase` is `submit` (refused before the job exists),
    `poll` (on the status poll after `after_polls` good ones), `result` (the job
    completed, fetching its output fails) or `media` (the output's media cannot be
    fetched). Without `phase`, an error lands at submit, or at the end of a
    configured `polling` timeline, as before. `stall_polls` keeps the job queued
    for that many more polls; `progress_backwards` makes its progress drop once;
    `media_expires_after=T` hands out output URLs that `load_media` (and so the
    gateway) fails to fetch from `T` seconds after the call, with the provider's
    status for an expired URL (see `mock.expiry`).

    Examples:
        >>> MockResponse(error=RateLimitError("slow down", retry_after=2), phase="poll", after_polls=2)  # doctest: +SKIP
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, populate_by_name=True, extra="forbid")

    weight: float = Field(default=1.0, gt=0)
    """Relative chance of this outcome among the config's responses."""
    video_url: str | None = None
    """Return this video URL."""
    image_url: str | None = None
    """Return this image URL."""
    output_video: MediaType | None = None
    """Return this video (URL, data URI, base64 or bytes)."""
    output_type: Literal["url", "content"] = Field(
        default="url", validation_alias=AliasChoices("output_type", "output_video_type")
    )
    """`url` or `content`: how `output_video` is returned (upstream's `output_video_type` is accepted too)."""
    mock_response: VideoGenerationResponse | ImageGenerationResponse | None = None
    """Return this whole response."""
    error: InjectedError | None = None
    """Raise this error (an exception or a dict like `{"type": "RateLimitError", "message": ...}`), a fresh copy each call."""
    fault: Fault | None = None
    """A named provider fault (`job_lost`, `connection_dropped`, `completed_with_error`, `media_expired`), raised as the adapter raises it."""
    replay: str | None = None
    """Replay the matching recording of this cassette path."""
    latency: LatencyValue | None = None
    """Latency of this outcome (seconds or a `Latency`); overrides the config's."""
    polling: MockPollingConfig | None = None
    """Progress timeline of this outcome; overrides the config's."""
    phase: Phase | None = None
    """Where the error or fault lands: `submit`, `poll`, `result` or `media`."""
    after_polls: int = Field(default=0, ge=0)
    """Good status polls before a fault at `phase="poll"`."""
    stall_polls: int = Field(default=0, ge=0)
    """Polls the job stays queued before it runs."""
    progress_backwards: bool = False
    """Progress drops once before the job completes."""
    media_expires_after: float | None = Field(default=None, ge=0)
    """Seconds (on the clock) after the call returns until its output URLs stop working, as real ones do."""

    @property
    def output_video_type(self) -> str:
        """Upstream's name for `output_type`."""
        return self.output_type

    @model_validator(mode="after")
    def _one_outcome(self) -> MockResponse:
        given = [
            name
            for name in ("video_url", "output_video", "image_url", "mock_response", "error", "fault", "replay")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise ValueError(f"a MockResponse takes one outcome, got {', '.join(given)}")
        if self.phase is not None and self.error is None and self.fault is None:
            raise ValueError("phase= says where an error= or fault= lands; this MockResponse has neither")
        if self.after_polls and self.fault_phase != "poll":
            raise ValueError("after_polls= counts the good polls before a fault at phase='poll'")
        if self.media_expires_after is not None and (self.output_type == "content" or self.error or self.fault):
            raise ValueError(
                "media_expires_after= makes the output URLs of a successful call expire; this MockResponse "
                "returns no URL (output_type='content', an error or a fault)"
            )
        if self.error is not None and self.phase == "media" and self.output_type != "content":
            raise ValueError(
                "an error at phase='media' is raised when the gateway fetches the media, which it does in "
                "output_type='content'; in URL mode fault='media_expired' returns a URL that does not work"
            )
        return self

    @property
    def fault_phase(self) -> Phase | None:
        """Where this outcome's error or fault lands (`None`: no phase given, an error's old default)."""
        if self.phase is not None:
            return self.phase
        return _FAULT_PHASE[self.fault] if self.fault is not None else None

    def __eq__(self, other: object) -> bool:
        # Values, errors included: exceptions compare by identity, their dicts by value.
        if not isinstance(other, MockResponse):
            return NotImplemented
        return self is other or self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(self.model_dump_json())

    @property
    def outcome_kind(self) -> str:
        """`stock`, `url`, `response`, `error`, `fault` or `replay`."""
        if self.error is not None:
            return "error"
        if self.fault is not None:
            return "fault"
        if self.replay is not None:
            return "replay"
        if self.mock_response is not None:
            return "response"
        if self.video_url is not None or self.output_video is not None or self.image_url is not None:
            return "url"
        return "stock"


class Outage(BaseModel):
    """When a provider is down, on the clock, counted from the config's first call.

    `Outage(start=10, duration=30)`: down from 10 s to 40 s. `Outage(mean_up=300,
    mean_down=30)`: an on/off process, up and down spells drawn (exponentially, from
    the config's seeded stream) around those means, starting up.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: float | None = Field(default=None, ge=0)
    duration: float | None = Field(default=None, gt=0)
    mean_up: float | None = Field(default=None, gt=0)
    mean_down: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Outage:
        fixed = self.start is not None or self.duration is not None
        process = self.mean_up is not None or self.mean_down is not None
        if fixed == process or (fixed and (self.start is None or self.duration is None)):
            raise ValueError("an Outage takes start= and duration= (seconds), or mean_up= and mean_down= (seconds)")
        if process and (self.mean_up is None or self.mean_down is None):
            raise ValueError("an outage process needs both mean_up= and mean_down= (seconds)")
        return self


class Schedule(BaseModel):
    """Which calls get `response` instead of the drawn outcome.

    Exactly one of: `calls=[3, 7]` (those call numbers, 1-based), `every=5` (calls
    5, 10, 15...), `first=2` (calls 1 and 2), `outage=Outage(...)` (calls made while
    the provider is down). Calls are counted per config and per (provider, model);
    the first rule that matches wins.

    Examples:
        >>> Schedule(calls=[3, 7], response=MockResponse(error=GenerationFailedError("runner crashed")))  # doctest: +SKIP
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    response: MockResponse
    calls: list[int] | None = None
    every: int | None = Field(default=None, ge=1)
    first: int | None = Field(default=None, ge=1)
    outage: Outage | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> Schedule:
        given = [name for name in ("calls", "every", "first", "outage") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a Schedule takes one of calls=, every=, first=, outage=; got {given or 'none'}")
        if self.calls is not None and (not self.calls or min(self.calls) < 1):
            raise ValueError("calls= lists call numbers from 1")
        return self

    @property
    def label(self) -> str:
        """How the rule is reported in `origin.schedule`: `calls=3,7`, `every=5`, `outage`."""
        if self.calls is not None:
            return "calls=" + ",".join(str(n) for n in self.calls)
        if self.every is not None:
            return f"every={self.every}"
        if self.first is not None:
            return f"first={self.first}"
        return "outage"


class MockConfig(BaseModel):
    """Turns a config's calls into mock calls.

    `MockConfig(enabled=True)` answers from the stock library. `responses` are drawn by
    weight; `seed` (or `TARASH_MOCK_SEED` in the environment) makes the sequence of
    draws the same in every process. `latency` and `polling` apply to every outcome
    that does not set its own.

    `order` scripts the outcomes instead of drawing them: `"sequence"` serves the
    responses in order, call after call, then keeps serving the last one (fail twice,
    then succeed); `"cycle"` goes round them again and again. Weights are then ignored.
    `schedule` says which calls get which outcome instead ("calls 3 and 7 fail",
    "every 5th", "the first 2", "a 30 s outage"; see `Schedule`).

    `max_concurrency` and `rate_limit_per_minute` give the provider a capacity:
    beyond it a call is queued (fal, Replicate, Runway) or refused with a 429 and its
    Retry-After (every other provider; every provider past the rate limit), on the
    clock. `validate=False` stops checking requests the way the real adapter does.

    A config is a value: it holds no call state, compares equal to its JSON round trip,
    and two equal configs behave alike. The call state (the count behind `order` and
    `schedule`, the seeded draw streams, the jobs in flight) is kept per config
    object and per (provider, model), across threads and tasks; a copy of a config
    (`model_copy`, a JSON round trip) starts from the beginning.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    enabled: bool = True
    """`False` keeps the settings but sends calls to the provider."""
    responses: list[MockResponse] | None = None
    """The weighted outcomes; none means the stock library answers every call."""
    polling: MockPollingConfig | None = None
    """Progress timeline of every outcome that sets none."""
    latency: LatencyValue | None = None
    """Latency of every outcome that sets none (seconds or a `Latency`)."""
    seed: int | None = None
    """Makes the sequence of draws the same in every process (else `TARASH_MOCK_SEED`)."""
    order: Literal["weighted", "sequence", "cycle"] = "weighted"
    """`weighted` draws by weight; `sequence` serves the responses in order, then keeps the last; `cycle` goes round them."""
    schedule: list[Schedule] | None = None
    """Rules that give chosen calls a chosen outcome (see `Schedule`)."""
    max_concurrency: int | None = Field(default=None, ge=1)
    """Jobs in flight at most; past it the call queues or gets a 429 (per provider)."""
    rate_limit_per_minute: int | None = Field(default=None, ge=1)
    """Submits per sliding minute at most; past it a 429 with Retry-After."""
    # `validate` is BaseModel's (deprecated) classmethod: the field keeps a longer name.
    validate_requests: bool = Field(default=True, validation_alias=AliasChoices("validate", "validate_requests"))
    """`validate=False` stops checking requests the way the real adapter does."""

    @model_validator(mode="after")
    def _default_stock(self) -> MockConfig:
        if not self.responses:
            object.__setattr__(self, "responses", [MockResponse(weight=1.0)])
        return self
