"""Where a response came from, and what every attempt of a fallback chain did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field
from pydantic_core import core_schema

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
    from pydantic.json_schema import JsonSchemaValue

__all__ = ["AttemptMetadata", "ExecutionMetadata", "ExecutionMetadataField", "Origin", "OriginField"]

Source = Literal["provider", "mock", "stock", "replay"]


@dataclass(slots=True)
class Origin:
    """Where one result (or one failure) came from.

    `source` is `provider` for a real call, `stock` for the built-in library,
    `mock` for a configured outcome, `replay` for a cassette recording. For chaos,
    `outcome` is the index of the chosen `MockResponse`, `injected` says what was
    injected, and `seed`/`draw` let the run be repeated exactly
    (`TARASH_MOCK_SEED=<seed>`); `call` is the schedule position (the config's
    n-th call for this provider and model) and `schedule` the rule that chose the
    outcome, if one did. `phase` is where a failure landed (`submit`, `poll`,
    `result`, `media`). A replay names its `cassette`, `recording` (id) and
    `sequence` (its position among the recordings of the same request).

    A slot dataclass like the execution metadata (one is built on every call); it
    serializes with the response. Treat it as read-only.
    """

    source: Source
    """`provider`, `stock`, `mock` or `replay`."""
    provider: str | None = None
    """The provider of the config that produced the result."""
    model: str | None = None
    """The model of that config."""
    outcome: int | None = None
    """For chaos: the index of the chosen `MockResponse`."""
    injected: str | None = None
    """For chaos: what was injected, e.g. `error:RateLimitError,latency:1.500s`."""
    seed: int | None = None
    """The seed of the mock's draw sequence; `TARASH_MOCK_SEED=<seed>` repeats the run."""
    draw: int | None = None
    """The position of this call's draw in that sequence."""
    cassette: str | None = None
    """For a replay: the cassette the recording came from."""
    stock_file: str | None = None
    """For stock media: the bundled file served."""
    call: int | None = None
    """For mocks: the schedule position, the config's n-th call for this provider and model."""
    schedule: str | None = None
    """For mocks: the schedule rule that chose the outcome (`calls=3,7`, `every=5`, `outage`...)."""
    phase: str | None = None
    """Where a failure landed: `submit`, `poll`, `result` or `media`."""
    recording: int | None = None
    """For a replay: the id of the recording replayed."""
    sequence: int | None = None
    """For a replay: its position among the recordings of the same request."""


@dataclass(slots=True)
class AttemptMetadata:
    """One try of one config in the chain. Timestamps are UTC.

    `status` is `skipped` for a config whose model cannot take the request (refused
    before any network call; `error_message` is the reason). `retry` counts the
    retries of the same config before this try (`0` for its first) and
    `retry_wait_seconds` the wait after this try before the next one.

    A plain dataclass, as upstream's is: one is built for every attempt of every call,
    and a dataclass costs a fraction of a validated model. Treat it as read-only.
    """

    provider: str
    """The provider of this attempt's config."""
    model: str
    """The model of this attempt's config."""
    attempt_number: int
    """1-based position of the config in the fallback chain."""
    started_at: datetime
    """When the attempt started (UTC)."""
    ended_at: datetime | None = None
    """When it ended (UTC); `None` while it runs."""
    status: Literal["success", "failed", "skipped"] = "failed"
    """`success`, `failed` or `skipped`."""
    error_type: str | None = None
    """The class name of the error, on a failed attempt."""
    error_message: str | None = None
    """The message of the error, on a failed attempt."""
    is_retryable: bool | None = None
    """Whether that error lets the chain fall back to the next config."""
    request_id: str | None = None
    """The provider's job id, when the attempt got one."""
    origin: Origin | None = None
    """Where the attempt's result (or failure) came from."""
    retry: int = 0
    """How many times this config had been retried before this attempt (0 for the first try)."""
    retry_wait_seconds: float | None = None
    """How long the chain waited (on the clock) before this retry, honouring Retry-After."""

    @property
    def elapsed_seconds(self) -> float | None:
        """How long the attempt took; `None` while it runs."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(slots=True)
class ExecutionMetadata:
    """The whole walk over a fallback chain: on every response and on a chain's final error.

    A plain dataclass like `AttemptMetadata`; it serializes with the response.
    `estimated_cost_usd` (what the real calls cost) and `cost_avoided_usd` (what the
    replays and mocks would have cost for real) are priced when read, from the price
    table in force (`cost`), so calls that never read them pay nothing for them.
    """

    total_attempts: int
    """How many configs were tried."""
    successful_attempt: int | None = None
    """The 1-based number of the attempt that succeeded; `None` when none did."""
    attempts: list[AttemptMetadata] = field(default_factory=list)
    """Every attempt, in order."""
    fallback_triggered: bool = False
    """True when a config after the first was tried."""
    configs_in_chain: int = 1
    """How many configs the chain holds (the config and its fallbacks)."""
    priced: Annotated[Any, Field(exclude=True)] = field(default=None, repr=False, compare=False)
    """What the cost estimate prices: `(kind, request)`, set by the fallback layer; not serialized."""

    @property
    def estimated_cost_usd(self) -> float | None:
        """The estimated price of the real (paid) call that served the result; `0.0` when a
        replay or mock served it, `None` when no price is known."""
        return self._cost_of(real=True)

    @property
    def cost_avoided_usd(self) -> float | None:
        """What the real call would have cost, when a replay or mock served the result
        instead; `0.0` for a real call, `None` when no price is known."""
        return self._cost_of(real=False)

    def _cost_of(self, *, real: bool) -> float | None:
        if self.successful_attempt is None or self.priced is None:
            return 0.0 if self.successful_attempt is None else None
        attempt = next((a for a in self.attempts if a.status == "success"), None)
        if attempt is None:
            return None
        source = attempt.origin.source if attempt.origin is not None else "provider"
        if (source == "provider") != real:
            return 0.0
        from .cost import estimate  # the price table loads on first use only

        kind, request = self.priced
        return estimate(kind, attempt.provider, attempt.model, request)

    @property
    def total_elapsed_seconds(self) -> float | None:
        """From the first attempt's start to the last end; `None` before any attempt ended."""
        if not self.attempts:
            return None
        ends = [a.ended_at for a in self.attempts if a.ended_at is not None]
        if not ends:
            return None
        return (max(ends) - self.attempts[0].started_at).total_seconds()


class _SchemaOnUse:
    """A metadata dataclass as a field of the response models, its schema built on first use.

    Pydantic builds a plain dataclass's schema again inside every model that holds one (a
    model's is built once and shared); the responses are built in every process that
    imports the gateway, and most never load a response from data or dump one (a mocked
    call does neither). So the field validates and serializes through one `TypeAdapter`
    of the dataclass, made when first needed. An instance passes as it is, as it would
    through the dataclass's own schema; a dict (JSON, a cassette) is validated by it.
    """

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        self._adapter: TypeAdapter[Any] | None = None

    def adapter(self) -> TypeAdapter[Any]:
        if self._adapter is None:
            from pydantic import TypeAdapter

            self._adapter = TypeAdapter(self.cls)
        return self._adapter

    def validate(self, value: Any) -> Any:
        return value if isinstance(value, self.cls) else self.adapter().validate_python(value)

    def serialize(self, value: Any, info: core_schema.SerializationInfo) -> Any:
        return self.adapter().dump_python(
            value, mode="json" if info.mode == "json" else "python", by_alias=info.by_alias, exclude_unset=info.exclude_unset,
            exclude_defaults=info.exclude_defaults, exclude_none=info.exclude_none, round_trip=info.round_trip,
        )

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        serialization = core_schema.plain_serializer_function_ser_schema(self.serialize, info_arg=True)
        return core_schema.no_info_plain_validator_function(self.validate, serialization=serialization)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self.adapter().core_schema)


ExecutionMetadataField = Annotated[ExecutionMetadata, _SchemaOnUse(ExecutionMetadata)]
"""`ExecutionMetadata` as a response field (its schema built on first use)."""
OriginField = Annotated[Origin, _SchemaOnUse(Origin)]
"""`Origin` as a response field (its schema built on first use)."""
