"""The spending budget: real calls past it are refused before they are sent; replays and mocks go on."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tarash.tarash_gateway import generate_video, generate_video_async, register_provider, unregister_provider
from tarash.tarash_gateway.budget import budget_limit, reset_spending, spent_usd
from tarash.tarash_gateway.cost import set_price_table
from tarash.tarash_gateway.exceptions import BudgetExceededError, ValidationError, is_retryable
from tarash.tarash_gateway.mock import MockConfig
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse

EIGHT = VideoGenerationRequest(prompt="a harbour at dawn", duration_seconds=8)


@pytest.fixture(autouse=True)
def _fresh_account():
    reset_spending()
    yield
    reset_spending()
    set_price_table(None)


def sora(simulator, **fields):
    return VideoGenerationConfig(provider="openai", model="sora-2", api_key="k", base_url=simulator.base_url("openai"),
                                 poll_interval=0.01, **fields)


def test_a_zero_budget_refuses_every_real_call_before_it_is_sent(face, clock, simulator, monkeypatch):
    monkeypatch.setenv("TARASH_BUDGET_USD", "0")
    before = len(simulator.requests)
    with pytest.raises(BudgetExceededError) as caught:
        face.video(sora(simulator), EIGHT)
    error = caught.value
    assert "refused a real video call to openai/sora-2: about $0.80" in str(error)
    assert (error.limit_usd, error.spent_usd, error.estimate_usd) == (0.0, 0.0, 0.8)
    assert not is_retryable(error) and len(simulator.requests) == before


def test_replays_and_mocks_go_on_under_a_zero_budget(face, monkeypatch):
    monkeypatch.setenv("TARASH_BUDGET_USD", "0")
    response = face.video(VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(validate=False)), EIGHT)
    assert response.is_mock and response.execution_metadata.cost_avoided_usd == pytest.approx(0.8)


def test_a_refusal_stops_the_fallback_chain(face, clock, simulator, monkeypatch):
    monkeypatch.setenv("TARASH_BUDGET_USD", "0")
    config = sora(simulator, fallback_configs=[VideoGenerationConfig(provider="b", model="m", mock=MockConfig(validate=False))])
    with pytest.raises(BudgetExceededError) as caught:
        face.video(config, EIGHT)
    assert caught.value.execution_metadata.total_attempts == 1


def test_calls_go_through_until_the_next_would_pass_the_budget(face, clock, simulator, monkeypatch):
    monkeypatch.setenv("TARASH_BUDGET_USD", "2.00")
    face.video(sora(simulator), EIGHT)
    face.video(sora(simulator), EIGHT)
    assert spent_usd() == pytest.approx(1.6)
    with pytest.raises(BudgetExceededError, match=r"take the spending to \$2.40, past the budget of \$2.00"):
        face.video(sora(simulator), EIGHT)
    assert spent_usd() == pytest.approx(1.6)


def test_a_submit_answered_with_an_error_is_refunded(face, clock, simulator, monkeypatch):
    monkeypatch.setenv("TARASH_BUDGET_USD", "1")
    simulator.push("server_error")
    with pytest.raises(Exception, match="HTTP 500"):
        face.video(sora(simulator), EIGHT)
    assert spent_usd() == 0


def test_a_config_budget_wins_over_the_environment(face, clock, simulator, monkeypatch):
    monkeypatch.setenv("TARASH_BUDGET_USD", "100")
    with pytest.raises(BudgetExceededError):
        face.video(sora(simulator, budget_usd=0.5), EIGHT)
    assert budget_limit(sora(simulator)) == 100 and budget_limit(sora(simulator, budget_usd=0)) == 0


def test_a_model_without_a_price_is_refused_under_a_budget(face, clock, simulator, monkeypatch):
    monkeypatch.setenv("TARASH_BUDGET_USD", "50")
    config = sora(simulator).model_copy(update={"model": "sora-3-preview"})
    with pytest.raises(BudgetExceededError, match="the price table has no price for this model"):
        face.video(config, EIGHT)


@pytest.mark.parametrize("value", ["lots", "-1", "nan"])
def test_a_bad_budget_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("TARASH_BUDGET_USD", value)
    with pytest.raises(ValidationError, match="TARASH_BUDGET_USD must be"):
        budget_limit(VideoGenerationConfig(provider="openai", model="sora-2"))


def test_no_budget_no_account(face, clock, simulator):
    face.video(sora(simulator), EIGHT)
    assert spent_usd() == 0 and budget_limit(sora(simulator)) is None


# -- racing for the last dollar ------------------------------------------------------------


class Priced:
    """A registered provider whose calls take a moment, so concurrent calls overlap."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def _served(self) -> VideoGenerationResponse:
        with self.lock:
            self.calls += 1
        return VideoGenerationResponse(request_id="r", video="https://example.invalid/v.mp4")

    def generate_video(self, config, request, on_progress=None):
        threading.Event().wait(0.01)
        return self._served()

    async def generate_video_async(self, config, request, on_progress=None):
        await asyncio.sleep(0.01)
        return self._served()


@pytest.fixture
def priced():
    handler = Priced()
    register_provider("paid", handler)
    set_price_table({"prices": [{"provider": "paid", "model": "p1", "kind": "video", "per_video": 1.0,
                                 "source": "test", "as_of": "2026-01-01"}]})
    yield handler
    unregister_provider("paid")


def outcomes(results):
    return sorted("ok" if isinstance(r, VideoGenerationResponse) else type(r).__name__ for r in results)


def test_threads_racing_for_the_budget_never_pass_it(priced):
    config = VideoGenerationConfig(provider="paid", model="p1", budget_usd=5)
    request = VideoGenerationRequest(prompt="p")

    def one(_):
        try:
            return generate_video(config, request)
        except BudgetExceededError as error:
            return error

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert outcomes(results) == ["BudgetExceededError"] * 15 + ["ok"] * 5
    assert priced.calls == 5 and spent_usd() == 5


def test_tasks_racing_for_the_budget_never_pass_it(priced):
    config = VideoGenerationConfig(provider="paid", model="p1", budget_usd=5)

    async def main():
        calls = [generate_video_async(config, VideoGenerationRequest(prompt="p")) for _ in range(20)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(main())
    assert outcomes(results) == ["BudgetExceededError"] * 15 + ["ok"] * 5
    assert priced.calls == 5 and spent_usd() == 5


def test_a_budget_refusal_is_never_recorded_and_a_replay_costs_nothing(face, clock, simulator, monkeypatch, tmp_path):
    from tarash.tarash_gateway import use_cassette

    db = tmp_path / "run.db"
    monkeypatch.setenv("TARASH_BUDGET_USD", "0")
    with use_cassette(db, record_mode="new_episodes") as session, pytest.raises(BudgetExceededError):
        face.video(sora(simulator), EIGHT)
    assert session.recorded == 0
    monkeypatch.setenv("TARASH_BUDGET_USD", "1")
    with use_cassette(db, record_mode="new_episodes"):
        face.video(sora(simulator), EIGHT)  # recorded: charged
    monkeypatch.setenv("TARASH_BUDGET_USD", "0")
    with use_cassette(db, record_mode="none") as replay:
        response = face.video(sora(simulator), EIGHT)  # replayed under a zero budget
    assert replay.replayed == 1 and response.execution_metadata.cost_avoided_usd == pytest.approx(0.8)
    assert spent_usd() == pytest.approx(0.8)
