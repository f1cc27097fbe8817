"""CassetteConfig: validation, and the ``cassette=`` field of configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tarash.tarash_gateway.cassettes import CassetteConfig, RecordMode
from tarash.tarash_gateway.models import ImageGenerationConfig, VideoGenerationConfig


def test_a_path_is_enough_on_a_config():
    config = VideoGenerationConfig(provider="fal", model="m", cassette="cassettes/run.db")
    assert config.cassette == CassetteConfig(path="cassettes/run.db")
    assert ImageGenerationConfig(provider="fal", model="m", cassette=Path("a.db")).cassette.path == "a.db"


def test_configs_with_a_cassette_round_trip_through_json():
    config = VideoGenerationConfig(
        provider="fal", model="m",
        cassette=CassetteConfig(path="x.db", record_mode="none", match_on=("kind", "request.prompt"), replay_speed=2),
    )
    again = VideoGenerationConfig.model_validate_json(config.model_dump_json())
    assert again.cassette == config.cassette
    assert again.cassette.record_mode is RecordMode.NONE
    assert VideoGenerationConfig.model_validate({"provider": "a", "model": "b", "cassette": {"path": "y.db"}}).cassette


@pytest.mark.parametrize("speed, factor", [("instant", None), ("realtime", 1.0), (4, 4.0), (0.5, 0.5)])
def test_replay_speed(speed, factor):
    assert CassetteConfig(replay_speed=speed).speed_factor == factor


@pytest.mark.parametrize("bad", [0, -1, "fast"])
def test_replay_speed_must_be_a_mode_or_a_positive_factor(bad):
    with pytest.raises(ValidationError):
        CassetteConfig(replay_speed=bad)


def test_match_on_names_request_fields():
    assert CassetteConfig(match_on="request").match_on == ("request",)
    assert CassetteConfig(match_on=["provider", "request.prompt", "provider_config.region"]).match_on[1] == "request.prompt"
    with pytest.raises(ValidationError, match="not a request field"):
        CassetteConfig(match_on=("prompt",))
    with pytest.raises(ValidationError, match="not a request field"):
        CassetteConfig(match_on=("model.name",))


def test_secret_values_stay_out_of_repr():
    assert "hunter2" not in repr(CassetteConfig(secret_values=("hunter2hunter2",)))
