"""Origin and execution metadata as fields of the responses: validated, dumped and described
through the dataclasses' own schema, which is built on first use."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pydantic
import pytest

from tarash.tarash_gateway.metadata import AttemptMetadata, ExecutionMetadata, Origin
from tarash.tarash_gateway.models import ImageGenerationResponse, VideoGenerationResponse

STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _response() -> VideoGenerationResponse:
    origin = Origin(source="stock", provider="fal", model="m", seed=7, draw=1, stock_file="videos/a.mp4")
    attempt = AttemptMetadata(provider="fal", model="m", attempt_number=1, started_at=STARTED, ended_at=STARTED,
                              status="success", origin=origin)
    metadata = ExecutionMetadata(total_attempts=1, successful_attempt=1, attempts=[attempt],
                                 priced=("video", object()))
    return VideoGenerationResponse(request_id="r", video="file:///a.mp4", origin=origin, execution_metadata=metadata)


def test_a_response_with_metadata_round_trips_through_json_into_the_dataclasses():
    response = _response()
    again = VideoGenerationResponse.model_validate_json(response.model_dump_json())
    assert again == response.model_copy(update={"execution_metadata": again.execution_metadata})
    assert isinstance(again.execution_metadata, ExecutionMetadata)
    attempt = again.execution_metadata.attempts[0]
    assert isinstance(attempt, AttemptMetadata) and isinstance(attempt.origin, Origin)
    assert attempt.started_at == STARTED
    assert again.origin == response.origin


def test_dumping_a_response_dumps_its_metadata_as_plain_data_without_the_pricing_handle():
    dumped = _response().model_dump()
    assert dumped["origin"]["stock_file"] == "videos/a.mp4"
    assert dumped["execution_metadata"]["attempts"][0]["started_at"] == STARTED
    assert "priced" not in dumped["execution_metadata"]
    as_json = json.loads(_response().model_dump_json())
    assert as_json["execution_metadata"]["attempts"][0]["started_at"] == "2026-01-02T03:04:05Z"


def test_dump_options_reach_the_metadata():
    dumped = _response().model_dump(exclude_none=True)
    assert "cassette" not in dumped["origin"]
    assert "error_type" not in dumped["execution_metadata"]["attempts"][0]


def test_a_metadata_instance_is_kept_as_it_is_and_bad_metadata_is_a_validation_error():
    origin = Origin(source="mock")
    assert ImageGenerationResponse(request_id="r", images=[], origin=origin).origin is origin
    with pytest.raises(pydantic.ValidationError, match="source"):
        VideoGenerationResponse(request_id="r", video="v", origin={"source": "elsewhere"})  # type: ignore[arg-type]


def test_the_json_schema_of_a_response_describes_its_metadata():
    schema = VideoGenerationResponse.model_json_schema()
    assert {"Origin", "AttemptMetadata"} <= set(schema["$defs"])
    assert "stock_file" in schema["$defs"]["Origin"]["properties"]


def test_building_the_response_models_leaves_the_metadata_schema_unbuilt():
    # What the deferral is for: a process that builds responses but never loads or dumps one.
    code = (
        "import pydantic._internal._generate_schema as g\n"
        "seen = []\n"
        "original = g.GenerateSchema._dataclass_schema\n"
        "g.GenerateSchema._dataclass_schema = lambda self, cls, *a: seen.append(cls.__name__) or original(self, cls, *a)\n"
        "from tarash.tarash_gateway.models import VideoGenerationResponse\n"
        "from tarash.tarash_gateway.metadata import Origin\n"
        "VideoGenerationResponse(request_id='r', video='v', origin=Origin(source='mock'))\n"
        "print(seen)\n"
        "import pydantic\n"  # the probe sees a dataclass schema being built: a model holding Origin plainly
        "pydantic.create_model('Plain', origin=(Origin, None))\n"
        "print(seen)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["[]", "['Origin']"]


def test_the_field_order_the_gateway_builds_its_metadata_in():
    # The fallback walk and the mock build these with positional arguments (keywords cost as
    # much again on every call): a field moved or added in the middle must fail here first.
    import dataclasses

    assert [f.name for f in dataclasses.fields(AttemptMetadata)] == [
        "provider", "model", "attempt_number", "started_at", "ended_at", "status", "error_type", "error_message",
        "is_retryable", "request_id", "origin", "retry", "retry_wait_seconds",
    ]
    assert [f.name for f in dataclasses.fields(ExecutionMetadata)] == [
        "total_attempts", "successful_attempt", "attempts", "fallback_triggered", "configs_in_chain", "priced",
    ]
    assert [f.name for f in dataclasses.fields(Origin)] == [
        "source", "provider", "model", "outcome", "injected", "seed", "draw", "cassette", "stock_file", "call",
        "schedule", "phase", "recording", "sequence",
    ]
