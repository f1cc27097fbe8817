"""Issue 11's scenarios, one line each: `python tools/chaos_scenarios.py` (offline: mocks and the loopback simulator).

Each line is what the gateway does with one of the scenarios listed at the top of issue 11;
run it against an older checkout (`PYTHONPATH=<checkout>/src`) to see the difference.
"""

import asyncio
import tempfile

from tarash.tarash_gateway import generate_video, generate_video_async, instant_waits
from tarash.tarash_gateway.exceptions import HTTPError, RateLimitError, TarashException
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.simulator import ProviderSimulator


def show(name, fn):
    try:
        print(f"{name}: {fn()}")
    except Exception as e:
        print(f"{name}: {type(e).__name__}: {str(e)[:150]}")

R = VideoGenerationRequest(prompt="a cat")

def poll_fault():
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(responses=[
        MockResponse(error=RateLimitError("slow", retry_after=3), phase="poll", after_polls=2)]))
    ev = []
    try:
        generate_video(cfg, R, ev.append)
    except RateLimitError as e:
        return f"RateLimitError at {e.origin.phase} after {[x.status for x in ev]}"

def sim_poll_fault(sim):
    from tarash.tarash_gateway.simulator import Scenario
    sim.push(Scenario(fault="connection_dropped", after_polls=1))
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", api_key="k", base_url=sim.base_url("fal"), poll_interval=0.01)
    try:
        generate_video(cfg, R)
        return "succeeded"
    except TarashException as e:
        return f"{type(e).__name__} at {e.origin.phase}"

def schedule():
    from tarash.tarash_gateway.mock import Schedule
    down = MockResponse(error=HTTPError("down", status_code=503))
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(schedule=[Schedule(calls=[3, 7], response=down)]))
    out = []
    for _ in range(8):
        try:
            generate_video(cfg, R)
            out.append(".")
        except HTTPError:
            out.append("x")
    return "".join(out)

def capacity(sim):
    try:
        from tarash.tarash_gateway.simulator import Capacity
        sim.set_capacity("openai", Capacity(max_concurrency=4))
    except ImportError:
        pass
    from tarash.tarash_gateway.simulator import Scenario
    cfg = VideoGenerationConfig(provider="openai", model="sora-2", api_key="k", base_url=sim.base_url("openai"), poll_interval=0.01, max_poll_attempts=10000)
    for _ in range(20):
        sim.push(Scenario(queue_polls=200, run_polls=2))
    async def main():
        return await asyncio.gather(*(generate_video_async(cfg, R) for _ in range(20)), return_exceptions=True)
    res = asyncio.run(main())
    ok = sum(1 for r in res if not isinstance(r, BaseException))
    names = sorted({type(r).__name__ for r in res if isinstance(r, BaseException)})
    return f"{ok} of 20 succeeded; errors: {names} " + (f"retry_after={[r.retry_after for r in res if isinstance(r, RateLimitError)][0]}" if names else "")

def kling_chain():
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(responses=[MockResponse(error=HTTPError("boom", status_code=500))]),
        fallback_configs=[VideoGenerationConfig(provider="replicate", model="kwaivgi/kling-v2.1", api_key="r8"),
                          VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig())])
    r = generate_video(cfg, VideoGenerationRequest(prompt="p", duration_seconds=8))
    return " -> ".join(f"{a.provider}:{a.status}" for a in r.execution_metadata.attempts)

def mock_fall():
    generate_video(VideoGenerationConfig(provider="fall", model="x", mock=MockConfig()), R)
    return "accepted"

def mock_minimax7():
    generate_video(VideoGenerationConfig(provider="fal", model="fal-ai/minimax/video-01", mock=MockConfig()), VideoGenerationRequest(prompt="p", duration_seconds=7))
    return "accepted"

def stock_progress():
    ev = []
    generate_video(VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig()), R, ev.append)
    return f"{len(ev)} events {[(e.status, e.progress_percent) for e in ev]}"

def live_error_origin(sim):
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", api_key="k", base_url=sim.base_url("fal"), poll_interval=0.01,
                                fallback_configs=[VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig())])
    r = generate_video(cfg, VideoGenerationRequest(prompt="x #sim:server_error"))
    a = r.execution_metadata.attempts[0]
    o = a.origin
    return f"failed attempt origin={None if o is None else (o.source, o.phase)}"

def replay_ids(tmp):
    from tarash.tarash_gateway import use_cassette
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig())
    with use_cassette(f"{tmp}/c.db", record_mode="all"):
        generate_video(cfg, R)
    with use_cassette(f"{tmp}/c.db", record_mode="none"):
        o = generate_video(cfg, R).origin
    return f"source={o.source} recording={getattr(o, 'recording', 'n/a')} sequence={getattr(o, 'sequence', 'n/a')}"

def vcr_replay(sim, tmp):
    import vcr

    from tarash.tarash_gateway.cassettes import SQLitePersister
    v = vcr.VCR(record_mode="once")
    v.register_persister(SQLitePersister)
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", api_key="k", base_url=sim.base_url("fal"), poll_interval=0.01)
    with v.use_cassette(f"{tmp}/v.db"):
        generate_video(cfg, R)
    v2 = vcr.VCR(record_mode="none")
    v2.register_persister(SQLitePersister)
    with v2.use_cassette(f"{tmp}/v.db"):
        o = generate_video(cfg, R).origin
    return f"source={o.source!r} cassette={'set' if o.cassette else None}"

def cost():
    cfg = VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig())
    m = generate_video(cfg, VideoGenerationRequest(prompt="p", duration_seconds=8)).execution_metadata
    return f"estimated_cost_usd={m.estimated_cost_usd} cost_avoided_usd={m.cost_avoided_usd}"

def expiring_url():
    from tarash.tarash_gateway.media_io import load_media
    cfg = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(responses=[MockResponse(media_expires_after=30)]))
    with instant_waits() as clock:
        url = generate_video(cfg, R).video
        load_media(url, "video/mp4")
        clock.sleep(30)
        try:
            load_media(url, "video/mp4")
            return "still opens"
        except HTTPError as e:
            return f"HTTPError {e.status_code} after 30 s"



def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, instant_waits(), ProviderSimulator(max_lifetime=120) as sim:
        run_all(sim, tmp)


def run_all(sim, tmp):
    show("1 poll fault (mock)", poll_fault)
    show("1 dropped connection mid-poll (simulator)", lambda: sim_poll_fault(sim))
    show("1 media URL expiring after 30 s (mock)", expiring_url)
    show("2 schedule calls 3 and 7", schedule)
    show("3 20 concurrent jobs, capacity 4 (simulator)", lambda: capacity(sim))
    show("4 fal(500) -> kling -> sora, 8 s", kling_chain)
    show("5 mock provider='fall'", mock_fall)
    show("5 mock fal-ai/minimax 7 s", mock_minimax7)
    show("5 stock mock progress", stock_progress)
    show("6 live error on a failed attempt", lambda: live_error_origin(sim))
    show("6 call-level replay names its recording", lambda: replay_ids(tmp))
    show("6 vcrpy replay", lambda: vcr_replay(sim, tmp))
    show("7 cost", cost)


if __name__ == "__main__":
    main()
