"""Request fields a model does not take: left out and logged once, or refused in strict mode."""

from __future__ import annotations

import logging

import pytest

from tarash.tarash_gateway.exceptions import ValidationError
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.providers import mapping
from tarash.tarash_gateway.providers.mapping import Field, ModelSpec, map_request, unused_fields

SPEC = ModelSpec("acme/v1", "video", (Field("prompt", "prompt"), Field("duration_seconds", "duration")))


def test_unused_fields_are_the_set_ones_nothing_reads():
    request = VideoGenerationRequest(prompt="p", duration_seconds=4, seed=3, negative_prompt="blur", number_of_videos=1)
    assert unused_fields(SPEC, request) == ["seed", "negative_prompt"]  # number_of_videos=1 is the default
    assert unused_fields(SPEC, request, reads=("seed",)) == ["negative_prompt"]
    assert unused_fields(SPEC, VideoGenerationRequest(prompt="p", extra_params={"x": 1})) == []


def test_strict_mapping_names_the_fields_and_what_the_model_takes():
    with pytest.raises(ValidationError, match=r"acme/v1 does not take seed \(strict_fields\); it takes: duration_seconds, prompt"):
        map_request(SPEC, VideoGenerationRequest(prompt="p", seed=1), provider="acme", model="acme/v1", strict=True)


def test_lenient_mapping_leaves_the_field_out_and_logs_once(caplog, monkeypatch):
    monkeypatch.setattr(mapping, "_reported", set())
    request = VideoGenerationRequest(prompt="p", seed=1)
    with caplog.at_level(logging.WARNING, logger="tarash.tarash_gateway.providers"):
        first = map_request(SPEC, request, provider="acme", model="acme/v1")
        map_request(SPEC, request, provider="acme", model="acme/v1")
    assert first == {"prompt": "p"}
    assert [r.getMessage() for r in caplog.records].count(
        "acme acme/v1 does not take seed: left out of the request (provider_config strict_fields=True or "
        "TARASH_STRICT_FIELDS=1 refuses such requests instead)"
    ) == 1


@pytest.mark.parametrize("how", ["provider_config", "environment"])
def test_strict_fields_refuses_before_any_network_call(face, clock, simulator, monkeypatch, how):
    provider_config = {"strict_fields": True} if how == "provider_config" else {}
    if how == "environment":
        monkeypatch.setenv("TARASH_STRICT_FIELDS", "1")
    config = VideoGenerationConfig(
        provider="openai", model="sora-2", api_key="k", base_url=simulator.base_url("openai"),
        poll_interval=0.01, provider_config=provider_config,
    )
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match="sora-2 does not take seed"):
        face.video(config, VideoGenerationRequest(prompt="a cat", seed=7))
    assert len(simulator.requests) == before


def test_provider_config_false_overrides_the_environment(face, clock, simulator, monkeypatch):
    monkeypatch.setenv("TARASH_STRICT_FIELDS", "1")
    config = VideoGenerationConfig(
        provider="openai", model="sora-2", api_key="k", base_url=simulator.base_url("openai"),
        poll_interval=0.01, provider_config={"strict_fields": False},
    )
    assert face.video(config, VideoGenerationRequest(prompt="a cat", seed=7)).origin.source == "provider"
