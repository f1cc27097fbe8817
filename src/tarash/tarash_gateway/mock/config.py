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

import itertools
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)

from ..exceptions import exception_from_dict, exception_to_dict
from ..media import MediaType, StatusType
from ..responses import ImageGenerationResponse, VideoGenerationResponse

__all__ = ["Latency", "MockConfig", "MockPollingConfig", "MockResponse"]


def _to_exception(value: Any) -> BaseException:
    if isinstance(value, BaseException):
        return value
    if isinstance(value, dict):
        return exception_from_dict(value)
    raise ValueError("error must be an exception instance or a dict like {'type': 'GenerationFailedError', 'message': '...'}")


InjectedError = Annotated[
    BaseException,
    BeforeValidator(_to_exception),
    PlainSerializer(exception_to_dict, return_type=dict),
    WithJsonSchema({"type": "object", "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}),
]


class Latency(BaseModel):
    """Injected latency, drawn from the mock's seeded random source.

    `Latency(seconds=2)` is fixed; `Latency(min=0.5, max=3)` uniform;
    `Latency(mean=1.5, stddev=0.5)` normal (never below zero);
    `Latency(mean=1.5, distribution="exponential")` exponential.
    """

    model_config = ConfigDict(frozen=True)

    distribution: Literal["fixed", "uniform", "normal", "exponential"] | None = None
    """`fixed`, `uniform`, `normal` or `exponential`; inferred from the other fields when left out."""
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

    @model_validator(mode="after")
    def _infer(self) -> Latency:
        kind = self.distribution
        if kind is None:
            if self.seconds is not None:
                kind = "fixed"
            elif self.min is not None and self.max is not None:
                kind = "uniform"
            elif self.mean is not None:
                kind = "normal" if self.stddev is not None else "fixed"
            else:
                raise ValueError("Latency needs seconds=, min= and max=, or mean= (with stddev= for normal)")
            object.__setattr__(self, "distribution", kind)
        needs = {"fixed": (), "uniform": ("min", "max"), "normal": ("mean", "stddev"), "exponential": ("mean",)}[kind]
        missing = [n for n in needs if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{kind} latency needs {', '.join(missing)}")
        if kind == "fixed" and self.seconds is None and self.mean is None:
            raise ValueError("fixed latency needs seconds=")
        if kind == "uniform" and self.min > self.max:  # type: ignore[operator]
            raise ValueError("uniform latency needs min <= max")
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


class MockResponse(BaseModel):
    """One weighted outcome of the mock.

    Give at most one of: `video_url`/`output_video` (a video to return), `image_url`,
    `mock_response` (a whole response), `error` (raised, a fresh copy each call),
    `replay` (a cassette to replay). With none of them the stock library answers.

    Examples:
        >>> MockResponse(weight=0.2, error=GenerationFailedError("rate limited"))  # doctest: +SKIP
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
    replay: str | None = None
    """Replay the matching recording of this cassette path."""
    latency: LatencyValue | None = None
    """Latency of this outcome (seconds or a `Latency`); overrides the config's."""
    polling: MockPollingConfig | None = None
    """Progress timeline of this outcome; overrides the config's."""

    @property
    def output_video_type(self) -> str:
        """Upstream's name for `output_type`."""
        return self.output_type

    @model_validator(mode="after")
    def _one_outcome(self) -> MockResponse:
        given = [
            name
            for name in ("video_url", "output_video", "image_url", "mock_response", "error", "replay")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise ValueError(f"a MockResponse takes one outcome, got {', '.join(given)}")
        return self

    @property
    def outcome_kind(self) -> str:
        """`stock`, `url`, `response`, `error` or `replay`."""
        if self.error is not None:
            return "error"
        if self.replay is not None:
            return "replay"
        if self.mock_response is not None:
            return "response"
        if self.video_url is not None or self.output_video is not None or self.image_url is not None:
            return "url"
        return "stock"


class MockConfig(BaseModel):
    """Turns a config's calls into mock calls.

    `MockConfig(enabled=True)` answers from the stock library. `responses` are drawn by
    weight; `seed` (or `TARASH_MOCK_SEED` in the environment) makes the sequence of
    draws the same in every process. `latency` and `polling` apply to every outcome
    that does not set its own.

    `order` scripts the outcomes instead of drawing them: `"sequence"` serves the
    responses in order, call after call, then keeps serving the last one (fail twice,
    then succeed); `"cycle"` goes round them again and again. Weights are then ignored.
    The count is kept per config object, across threads and tasks.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

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

    # The seeded draw sequence of this config object (see mock.chaos.source_for).
    _source: Any = PrivateAttr(default=None)
    _cumulative: Any = PrivateAttr(default=None)
    _calls: Any = PrivateAttr(default_factory=lambda: itertools.count(1))

    def next_call(self) -> int:
        """1 for this config's first call, 2 for the next... (thread-safe in CPython)."""
        private = self.__pydantic_private__
        assert private is not None  # a dict on every model with private attributes
        return next(private["_calls"])

    @property
    def cumulative_weights(self) -> list[float]:
        """Running totals of the response weights (computed once: configs are immutable)."""
        private = self.__pydantic_private__  # direct: pydantic's private-attribute lookup is slow
        assert private is not None  # a dict on every model with private attributes
        cumulative = private.get("_cumulative")
        if cumulative is None:
            cumulative = private["_cumulative"] = list(itertools.accumulate(r.weight for r in self.responses or ()))
        return cumulative

    @model_validator(mode="after")
    def _default_stock(self) -> MockConfig:
        if not self.responses:
            object.__setattr__(self, "responses", [MockResponse(weight=1.0)])
        return self
