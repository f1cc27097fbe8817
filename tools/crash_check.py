"""Crash and concurrency check of the cassette file: nothing committed is ever lost.

1. ``--rounds`` rounds of ``--writers`` processes recording into one cassette at once,
   killed with SIGKILL at a random moment: every call a writer saw return must be in the
   cassette, and the cassette must verify.
2. ``--concurrent`` async generations recorded at once into one cassette, then replayed:
   every one recorded, every one replayed.

Run: ``.venv/bin/python tools/crash_check.py`` (prints the figures; exits 1 on a loss).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from tarash.tarash_gateway import generate_video_async, register_provider, use_cassette
from tarash.tarash_gateway.cassettes.maintenance import verify
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse

WRITER = textwrap.dedent("""
    import sys
    from tarash.tarash_gateway import generate_video, register_provider, use_cassette
    from tarash.tarash_gateway.models import (VideoGenerationConfig, VideoGenerationRequest,
                                              VideoGenerationResponse)
    class Local:
        def generate_video(self, config, request, on_progress=None):
            return VideoGenerationResponse(request_id=request.prompt, video="https://cdn.example/v.mp4")
    register_provider("local", Local())
    path, tag = sys.argv[1], sys.argv[2]
    config = VideoGenerationConfig(provider="local", model="m")
    with use_cassette(path, record_mode="new_episodes", capture_media=False):
        i = 0
        while True:
            generate_video(config, VideoGenerationRequest(prompt=f"{tag}-{i}"))
            print(i, flush=True)
            i += 1
""")


class Local:
    async def generate_video_async(self, config, request, on_progress=None):  # noqa: ANN001, ANN201
        await asyncio.sleep(random.random() / 100)
        return VideoGenerationResponse(request_id=request.prompt, video="https://cdn.example/v.mp4")


def kill_rounds(directory: Path, rounds: int, writers: int) -> tuple[int, int]:
    """Returns (calls seen returning, of them missing from the cassette)."""
    db = directory / "crash.db"
    seen = lost = 0
    for r in range(rounds):
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"r{r}w{w}"], stdout=subprocess.PIPE,
                                  text=True) for w in range(writers)]
        first = [proc.stdout.readline() for proc in procs if proc.stdout is not None]  # all are recording
        time.sleep(random.uniform(0.2, 1.5))
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
        returned = {}
        for w, proc in enumerate(procs):
            out, _ = proc.communicate()
            lines = [line for line in [first[w], *out.splitlines()] if line.strip().isdigit()]
            returned[f"r{r}w{w}"] = int(lines[-1]) + 1 if lines else 0
        store = CassetteStore.open(db, create=False)
        try:
            report = verify(store)
            if not report.ok:
                print(f"round {r}: cassette does not verify: {report.problems}")
                lost += 1
            stored = store.query("SELECT json_extract(request, '$.request.prompt') AS p FROM recordings")
            prompts = {row["p"] for row in stored}
        finally:
            store.close()
        for tag, n in returned.items():
            seen += n
            lost += sum(1 for i in range(n) if f"{tag}-{i}" not in prompts)
        print(f"round {r + 1}/{rounds}: {sum(returned.values())} calls returned, {len(prompts)} recordings in all")
    return seen, lost


async def concurrent(directory: Path, n: int) -> tuple[int, int]:
    """Returns (recorded, replayed) of ``n`` concurrent generations."""
    register_provider("local-async", Local())
    db = directory / "concurrent.db"
    config = VideoGenerationConfig(provider="local-async", model="m")
    with use_cassette(db, record_mode="new_episodes", capture_media=False) as session:
        await asyncio.gather(*(generate_video_async(config, VideoGenerationRequest(prompt=f"c-{i}")) for i in range(n)))
        recorded = session.recorded
    with use_cassette(db, record_mode="none") as session:
        results = await asyncio.gather(
            *(generate_video_async(config, VideoGenerationRequest(prompt=f"c-{i}")) for i in range(n)))
        assert [r.request_id for r in results] == [f"c-{i}" for i in range(n)]
        replayed = session.replayed
    return recorded, replayed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--concurrent", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tarash-crash-") as tmp:
        seen, lost = kill_rounds(Path(tmp), args.rounds, args.writers)
        print(f"kill -9: {args.rounds} rounds x {args.writers} writers: {seen} committed calls, {lost} lost")
        recorded, replayed = asyncio.run(concurrent(Path(tmp), args.concurrent))
        print(f"concurrent: {args.concurrent} async generations: {recorded} recorded, {replayed} replayed, "
              f"{args.concurrent - min(recorded, replayed)} lost")
    return 1 if lost or recorded != args.concurrent or replayed != args.concurrent else 0


if __name__ == "__main__":
    sys.exit(main())
