"""The price table, the estimate of a call, the cost on execution_metadata, and the avoided-cost tally."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from tarash.tarash_gateway.cost import (
    PriceTable,
    avoided_summary,
    avoided_tracking,
    estimate,
    load_price_table,
    note_served,
    price_table,
    set_price_table,
    track_avoided,
)
from tarash.tarash_gateway.exceptions import GenerationFailedError, ValidationError
from tarash.tarash_gateway.metadata import Origin
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)


@pytest.fixture(autouse=True)
def _builtin_prices(monkeypatch):
    monkeypatch.delenv("TARASH_PRICES", raising=False)
    set_price_table(None)
    yield
    set_price_table(None)


def video(**fields):
    return VideoGenerationRequest(prompt="p", **fields)


def image(**fields):
    return ImageGenerationRequest(prompt="p", **fields)


def test_every_builtin_price_names_its_source_and_date():
    raw = json.loads(resources.files("tarash.tarash_gateway").joinpath("prices.json").read_text())
    assert "estimate" in raw["about"].lower()
    assert len(raw["prices"]) == len(price_table().prices) >= 30
    for entry in raw["prices"]:
        assert entry["source"] and entry["as_of"][:2] == "20", entry


@pytest.mark.parametrize(
    "kind, provider, model, request_, usd",
    [
        ("video", "openai", "sora-2", video(duration_seconds=8), 0.8),
        ("video", "openai", "sora-2", video(), 0.4),  # the model's default duration
        ("video", "openai", "sora-2-pro", video(duration_seconds=4, resolution="1080p"), 2.0),  # by resolution
        ("video", "openai", "sora-2-pro", video(duration_seconds=4, resolution="720p"), 1.2),  # the default price
        ("video", "fal", "fal-ai/veo3.1/fast", video(duration_seconds=4, number_of_videos=2), 1.2),
        ("video", "fal", "fal-ai/veo3.1/image-to-video", video(duration_seconds=4), 1.6),  # the family's price
        ("video", "google", "veo-3.1-fast-generate-preview", video(duration_seconds=8), 1.2),
        ("video", "replicate", "kwaivgi/kling-v2.1:abc123", video(duration_seconds=10), 0.5),  # owner/name:version
        ("image", "openai", "gpt-image-1", image(quality="high", n=2), 0.334),
        ("image", "fal", "fal-ai/flux/dev", image(size="1000x1000"), 0.025),  # per megapixel
        ("image", "stability", "sd3.5-large", image(), 0.065),
        ("video", "fal", "fal-ai/unknown-model", video(), None),
        ("image", "openai", "sora-2", image(), None),  # the kind must match
    ],
)
def test_estimate_table(kind, provider, model, request_, usd):
    assert estimate(kind, provider, model, request_) == (pytest.approx(usd) if usd is not None else None)


def test_a_users_prices_merge_over_the_builtin_table(tmp_path, monkeypatch):
    own = {"prices": [
        {"provider": "openai", "model": "sora-2", "kind": "video", "per_second": 0.08, "default_seconds": 4,
         "source": "our contract", "as_of": "2026-01-10"},
        {"provider": "acme", "model": "a1", "kind": "video", "per_video": 1.25, "source": "acme", "as_of": "2026-01-10"},
    ]}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(own))
    monkeypatch.setenv("TARASH_PRICES", str(path))
    assert estimate("video", "openai", "sora-2", video(duration_seconds=8)) == pytest.approx(0.64)
    assert estimate("video", "acme", "a1", video()) == 1.25
    assert estimate("video", "fal", "fal-ai/veo3.1", video(duration_seconds=1)) == pytest.approx(0.4)  # still built in
    set_price_table({"prices": [own["prices"][1]]}, merge=False)  # code wins over the environment
    assert estimate("video", "openai", "sora-2", video()) is None and estimate("video", "acme", "a1", video()) == 1.25


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", r"price table .*prices.json is not JSON"),
        ('{"prices": [{"provider": "a", "model": "m", "kind": "video", "source": "s", "as_of": "2026-01-01"}]}',
         r"prices\.0: Value error, give exactly one of per_second"),
        ('{"prices": [{"provider": "a", "model": "m", "kind": "video", "per_second": 1, "source": "s", "as_of": "soon"}]}',
         r"prices\.0\.as_of: String should match pattern"),
        ('{"prices": [{"provider": "a", "model": "m", "kind": "audio", "per_second": 1, "source": "s", "as_of": "2026-01-01"}]}',
         r"prices\.0\.kind: Input should be 'video' or 'image'"),
    ],
)
def test_a_bad_price_file_is_one_clear_error_naming_the_place(tmp_path, content, message):
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(ValidationError, match=message):
        load_price_table(path)


def test_a_missing_price_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TARASH_PRICES", str(tmp_path / "nope.json"))
    with pytest.raises(ValidationError, match=r"cannot read price table .*nope.json"):
        price_table()


def test_a_mocked_call_reports_the_cost_it_avoided(face):
    config = VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(validate=False))
    meta = face.video(config, video(duration_seconds=8)).execution_metadata
    assert (meta.estimated_cost_usd, meta.cost_avoided_usd) == (0.0, pytest.approx(0.8))


def test_a_real_call_reports_its_estimated_cost(face, clock, simulator):
    config = VideoGenerationConfig(provider="openai", model="sora-2", api_key="k", base_url=simulator.base_url("openai"),
                                   poll_interval=0.01)
    meta = face.video(config, video(duration_seconds=8)).execution_metadata
    assert (meta.estimated_cost_usd, meta.cost_avoided_usd) == (pytest.approx(0.8), 0.0)


def test_the_cost_is_that_of_the_config_that_served(face):
    failing = MockConfig(validate=False, responses=[MockResponse(error=GenerationFailedError("x"))])
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=failing, fallback_configs=[
        VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(validate=False)),
    ])
    assert face.video(config, video(duration_seconds=4)).execution_metadata.cost_avoided_usd == pytest.approx(0.4)


def test_an_unpriced_model_reports_no_cost_rather_than_zero(face):
    meta = face.image(ImageGenerationConfig(provider="studio", model="v1", mock=MockConfig(validate=False)), image()).execution_metadata
    assert meta.cost_avoided_usd is None and meta.estimated_cost_usd == 0.0


@pytest.fixture
def tally():
    """The avoided-cost tally on, and what it counted during the test (as a difference)."""
    was = avoided_tracking()
    track_avoided()
    before = avoided_summary()
    yield lambda: tuple(round(after - first, 6) for after, first in zip(avoided_summary(), before, strict=True))
    track_avoided(was)


def test_the_avoided_tally_prices_what_mocks_served(face, tally):
    sora = VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(validate=False))
    for seconds in (4, 8, 8):
        face.video(sora, video(duration_seconds=seconds))
    face.image(ImageGenerationConfig(provider="studio", model="v1", mock=MockConfig(validate=False)), image())
    assert tally() == (2.0, 4, 1)


def test_real_calls_are_not_counted_as_avoided(tally):
    config = VideoGenerationConfig(provider="openai", model="sora-2")
    note_served("video", config, video(), Origin(source="provider"))
    note_served("video", config, video(), Origin(source="replay"))
    assert tally()[1] == 1


def test_the_tally_is_off_and_free_unless_started(face):
    was = avoided_tracking()
    track_avoided(False)
    try:
        before = avoided_summary()
        face.video(VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(validate=False)), video())
        assert avoided_summary() == before
    finally:
        track_avoided(was)


def test_a_price_table_loads_from_a_dict():
    table = load_price_table({"prices": []})
    assert isinstance(table, PriceTable) and table.find("openai", "sora-2", "video") is None
