"""Concurrent async generations against the loopback provider simulator, and the adapter's own cost.

    python tools/bench/bench_providers.py [--concurrency 200] [--latency 0.05] [--provider fal]

1. The simulator runs in a child process (its CPU is not ours); every answer it gives is
   delayed by ``--latency`` seconds. ``--concurrency`` generations run at once with
   ``generate_video_async``. Reported: errors (goal: zero), wall time, and this
   process's CPU time per generation: everything the gateway, httpx and asyncio spend.
2. The adapter's own cost per call (goal: under 2 ms): the provider protocol is sans-I/O,
   so one generation's exchange with the simulator is captured, then the same
   generation flow is driven again and again with those answers handed straight back:
   request building, mapping, parsing, the poll loop and the response, with no network
   stack and no waiting. Median of several batches.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time


def serve(latency: float, queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    from tarash.tarash_gateway.simulator import ProviderSimulator, Scenario

    with ProviderSimulator(Scenario(queue_polls=1, run_polls=2, latency=latency), max_lifetime=600) as sim:
        queue.put(sim.url)
        stop.wait(600)


async def round_(url: str, provider: str, model: str, concurrency: int) -> tuple[int, int, float, float]:
    from tarash.tarash_gateway import generate_video_async
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

    config = VideoGenerationConfig(
        provider=provider, model=model, api_key="bench-key", base_url=f"{url}/{provider}", poll_interval=0.01, timeout=120
    )
    request = VideoGenerationRequest(prompt="a cat", duration_seconds=8 if "veo" in model else None)
    cpu, wall = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(generate_video_async(config, request) for _ in range(concurrency)), return_exceptions=True)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"  first error: {errors[0]!r}")
    return len(results) - len(errors), len(errors), wall, cpu / concurrency * 1000


def capture(url: str, provider: str, model: str) -> tuple[object, list[object]]:
    """One generation against the simulator; the call and the answers it got, in order."""
    from tarash.tarash_gateway.call import Call
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
    from tarash.tarash_gateway.providers import get_provider
    from tarash.tarash_gateway.providers.base import generation_flow

    config = VideoGenerationConfig(
        provider=provider, model=model, api_key="bench-key", base_url=f"{url}/{provider}", poll_interval=0.01, timeout=120
    )
    call = Call("video", config, VideoGenerationRequest(prompt="a cat", duration_seconds=8 if "veo" in model else None))
    protocol = get_provider(provider).protocol
    answers: list[object] = []
    flow, value = generation_flow(protocol, call), None
    while True:
        try:
            effect = flow.send(value)
        except StopIteration:
            return call, answers
        value = effect.run()
        if hasattr(effect, "request"):
            answers.append(value)


def adapter_cost(call: object, answers: list[object], provider: str, batches: int = 7, per_batch: int = 300) -> float:
    """Median microseconds per generation, driving the flow with the captured answers."""
    from tarash.tarash_gateway.providers import get_provider
    from tarash.tarash_gateway.providers.base import generation_flow

    protocol = get_provider(provider).protocol
    samples = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(per_batch):
            flow, value, i = generation_flow(protocol, call), None, 0
            while True:
                try:
                    effect = flow.send(value)
                except StopIteration:
                    break
                if hasattr(effect, "request"):
                    value, i = answers[i], i + 1
                else:
                    value = None  # waits and progress reports: nothing to do here
        samples.append((time.perf_counter() - started) / per_batch * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each simulator answer is delayed")
    parser.add_argument("--provider", default="fal", choices=["fal", "replicate", "openai"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = {"fal": "fal-ai/veo3.1", "replicate": "google/veo-3", "openai": "sora-2"}[args.provider]

    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(args.latency, queue, stop), daemon=True)
    server.start()
    try:
        url = queue.get(timeout=30)
        print(f"{args.concurrency} concurrent {args.provider} generations, simulator latency {args.latency}s per answer")
        costs = []
        for n in range(1, args.rounds + 1):
            ok, failed, wall, cost = asyncio.run(round_(url, args.provider, model, args.concurrency))
            costs.append(cost)
            print(f"  round {n}: {ok} ok, {failed} errors, wall {wall:.2f}s, process CPU {cost:.2f} ms/generation")
        print(f"median process CPU: {statistics.median(costs):.2f} ms per generation (gateway + httpx + asyncio)")
        call, answers = capture(url, args.provider, model)
        cost = adapter_cost(call, answers, args.provider)
        print(f"adapter's own cost: {cost / 1000:.3f} ms per generation ({len(answers)} HTTP exchanges; goal < 2 ms)")
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
