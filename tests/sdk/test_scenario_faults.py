"""A vendor SDK pointed at the simulator meets its scenarios' faults as it would meet the real ones."""

from __future__ import annotations

import openai
import pytest

from tarash.tarash_gateway.simulator import ProviderSimulator, Scenario

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


@pytest.fixture(scope="module")
def client():
    with ProviderSimulator(max_lifetime=120) as sim:
        yield sim, openai.OpenAI(base_url=sim.base_url("openai"), api_key="k", max_retries=0)


def test_the_openai_sdk_gets_not_found_for_a_video_the_provider_forgot(client):
    sim, sdk = client
    sim.push(Scenario(fault="job_lost", after_polls=1))
    video = sdk.videos.create(prompt="a cat", model="sora-2")
    assert sdk.videos.retrieve(video.id).status in ("queued", "in_progress")
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)


def test_the_openai_sdk_gets_a_rate_limit_with_retry_after_on_a_poll_then_the_job_goes_on(client):
    sim, sdk = client
    sim.push(Scenario(fault="rate_limit", retry_after=2))
    video = sdk.videos.create(prompt="a cat", model="sora-2")
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.videos.retrieve(video.id)
    assert caught.value.response.headers["retry-after"] == "2"
    assert sdk.videos.retrieve(video.id).status in ("queued", "in_progress")


def test_the_openai_sdk_sees_a_dropped_connection_as_a_connection_error(client):
    sim, sdk = client
    sim.push(Scenario(fault="connection_dropped"))
    video = sdk.videos.create(prompt="a cat", model="sora-2")
    with pytest.raises(openai.APIConnectionError):
        sdk.videos.retrieve(video.id)
