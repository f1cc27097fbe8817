"""Cassette speed and memory, with vcrpy's YAML cassettes side by side in one run.

    python tools/bench/bench_cassettes.py                       # sizes 1,000 and 10,000, vcrpy at 1,000
    python tools/bench/bench_cassettes.py --sizes 1000,10000,100000
    python tools/bench/bench_cassettes.py --media-mb 500 --anchor 0   # the memory check only

Everything is local and bounded: a registered in-process provider, loopback HTTP servers
(127.0.0.1) and a temporary directory that is removed at the end. Each measurement runs
in a fresh Python process.

1. Call level, per cassette size N: N distinct ``generate_video`` calls recorded into a
   new cassette (``record_mode="once"``), then replayed in shuffled order
   (``record_mode="none"``). Median per call. The provider answers at once, so this is
   the cassette's own cost plus the stack's.
   Targets at 10,000: under 1 ms per recorded call, under 0.5 ms per replayed call.
2. First replayed call in a fresh process, after ``import tarash.tarash_gateway``
   (median of ``--first-runs``). Target at 10,000: under 100 ms.
3. Linear growth: the per-call medians across the sizes (flat means linear totals).
4. The vcrpy anchor at ``--anchor`` N: the same N httpx GETs to a loopback
   ``http.server`` recorded and replayed by vcrpy with YAML (its default) and with our
   ``SQLitePersister``, and by tarash at the call level with a provider that makes that
   same GET. Median per call, and vcrpy-YAML / tarash.
5. Memory (``--media-mb``): a cassette holding that much captured media (50 MB videos
   served by a loopback server), replayed in a fresh process with ``media="file"``
   (every blob streamed out to a file) and ``media="url"``; peak RSS from
   ``resource.getrusage``. Target: under 150 MB at 500 MB of media.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
BODY = {"id": "req-{i}", "status": "COMPLETED", "model": "fal-ai/flux/dev",
        "output": {"video": {"url": "https://v3.fal.media/files/{i}/output.mp4", "content_type": "video/mp4"}},
        "metrics": {"inference_time": 12.5}, "logs": [{"message": "done", "level": "INFO"}]}


# -- workers (each runs in its own process) -------------------------------------------------


def _serve(payload_for):  # noqa: ANN001, ANN202 - local helper
    from local_server import serve  # beside this script

    return serve(payload_for)


def _json_body(path: str) -> tuple[str, bytes]:
    i = path.split("/")[-1].split("?")[0]
    return "application/json", json.dumps(BODY).replace("{i}", i).encode()


def worker_calls(n: int, workdir: str) -> dict:
    """Record N calls into a new cassette, then replay them shuffled."""
    import random

    from tarash.tarash_gateway import generate_video, register_provider, use_cassette
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse

    class Instant:
        def generate_video(self, config, request, on_progress=None):  # noqa: ANN001, ANN201
            i = request.prompt.rsplit(" ", 1)[-1]
            raw = json.loads(json.dumps(BODY).replace("{i}", i))
            return VideoGenerationResponse(request_id=f"req-{i}", video=raw["output"]["video"]["url"], raw_response=raw)

    register_provider("bench", Instant())
    config = VideoGenerationConfig(provider="bench", model="fal-ai/flux/dev")
    requests = [VideoGenerationRequest(prompt=f"a cat playing piano, take {i}", aspect_ratio="16:9") for i in range(n)]
    db = Path(workdir) / f"calls-{n}.db"
    for _ in range(50):  # warm the interpreter on a scratch cassette
        with use_cassette(Path(workdir) / "warm.db", capture_media=False, record_mode="all"):
            generate_video(config, requests[0])
    record = []
    with use_cassette(db, capture_media=False):
        for request in requests:
            started = time.perf_counter()
            generate_video(config, request)
            record.append(time.perf_counter() - started)
    random.Random(7).shuffle(requests)
    replay = []
    with use_cassette(db, record_mode="none") as cassette:
        for request in requests:
            started = time.perf_counter()
            generate_video(config, request)
            replay.append(time.perf_counter() - started)
    assert cassette.replayed == n
    return {"record_ms": statistics.median(record) * 1e3, "replay_ms": statistics.median(replay) * 1e3,
            "record_total_s": sum(record), "replay_total_s": sum(replay), "file_mb": db.stat().st_size / 1e6}


def worker_first(db: str, n: int) -> dict:
    """Import, then time the first replayed call of a fresh process."""
    started = time.perf_counter()
    from tarash.tarash_gateway import generate_video, register_provider, use_cassette
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

    imported = time.perf_counter()

    class Never:
        def generate_video(self, config, request, on_progress=None):  # noqa: ANN001, ANN201
            raise AssertionError("a replay must not call the provider")

    register_provider("bench", Never())
    config = VideoGenerationConfig(provider="bench", model="fal-ai/flux/dev")
    request = VideoGenerationRequest(prompt=f"a cat playing piano, take {n - 1}", aspect_ratio="16:9")
    ready = time.perf_counter()
    with use_cassette(db, record_mode="none"):
        response = generate_video(config, request)
    first = time.perf_counter() - ready
    assert response.origin.source == "replay"
    return {"import_s": imported - started, "first_s": first}


def worker_anchor(n: int, workdir: str) -> dict:
    """vcrpy YAML, vcrpy + SQLitePersister and tarash call level, over the same loopback GETs."""
    import httpx
    import vcr

    from tarash.tarash_gateway import generate_video, register_provider, use_cassette
    from tarash.tarash_gateway.cassettes import SQLitePersister
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse

    work = Path(workdir)
    server, base = _serve(_json_body)
    urls = [f"{base}/v1/requests/{i}?model=fal-ai/flux/dev" for i in range(n)]
    out: dict = {}

    def timed(fn, items):  # noqa: ANN001, ANN202
        times = []
        for item in items:
            started = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - started)
        return times

    def run_vcr(name: str, my_vcr: vcr.VCR, path: Path, live: bool) -> None:
        with httpx.Client() as client:
            started = time.perf_counter()
            with my_vcr.use_cassette(str(path), record_mode="once" if live else "none"):
                loaded = time.perf_counter() - started
                times = timed(lambda u: client.get(u).raise_for_status(), urls)
            total = time.perf_counter() - started
        out[name] = {"ms": statistics.median(times) * 1e3, "total_s": total, "load_s": loaded}

    yaml_vcr = vcr.VCR(match_on=("method", "scheme", "host", "port", "path", "query"))
    sqlite_vcr = vcr.VCR(match_on=("method", "scheme", "host", "port", "path", "query"))
    sqlite_vcr.register_persister(SQLitePersister)

    class OverHTTP:  # a provider making the same GET, recorded at the call level
        def __init__(self) -> None:
            self.client = httpx.Client()

        def generate_video(self, config, request, on_progress=None):  # noqa: ANN001, ANN201
            raw = self.client.get(urls[int(request.prompt.rsplit(" ", 1)[-1])]).json()
            return VideoGenerationResponse(request_id=raw["id"], video=raw["output"]["video"]["url"], raw_response=raw)

    provider = OverHTTP()
    register_provider("bench", provider)
    config = VideoGenerationConfig(provider="bench", model="fal-ai/flux/dev")
    requests = [VideoGenerationRequest(prompt=f"take {i}") for i in range(n)]

    run_vcr("vcrpy_yaml_record", yaml_vcr, work / "anchor.yaml", live=True)
    run_vcr("vcrpy_sqlite_record", sqlite_vcr, work / "anchor-http.db", live=True)
    with use_cassette(work / "anchor-calls.db", capture_media=False):
        times = timed(lambda r: generate_video(config, r), requests)
    out["tarash_record"] = {"ms": statistics.median(times) * 1e3, "total_s": sum(times)}
    server.shutdown()
    server.server_close()  # offline from here on
    run_vcr("vcrpy_yaml_replay", yaml_vcr, work / "anchor.yaml", live=False)
    run_vcr("vcrpy_sqlite_replay", sqlite_vcr, work / "anchor-http.db", live=False)
    with use_cassette(work / "anchor-calls.db", record_mode="none"):
        times = timed(lambda r: generate_video(config, r), requests)
    out["tarash_replay"] = {"ms": statistics.median(times) * 1e3, "total_s": sum(times)}
    provider.client.close()
    return out


def worker_media_record(db: str, mb: int, workdir: str) -> dict:
    """Record calls whose videos (50 MB each, distinct bytes) are captured into the cassette."""
    import resource

    from tarash.tarash_gateway import generate_video, register_provider, use_cassette
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse

    each = 50
    files = []
    for k in range(max(1, mb // each)):
        path = Path(workdir) / f"video-{k}.mp4"
        with path.open("wb") as handle:
            for _ in range(each):
                handle.write(os.urandom(1 << 20))
        files.append(path)
    server, base = _serve(lambda p: ("video/mp4", files[int(p.split("/")[-1].split(".")[0])]))

    class Studio:
        def generate_video(self, config, request, on_progress=None):  # noqa: ANN001, ANN201
            return VideoGenerationResponse(request_id=request.prompt, video=f"{base}/{request.prompt}.mp4?sig=x")

    register_provider("bench", Studio())
    config = VideoGenerationConfig(provider="bench", model="m")
    started = time.perf_counter()
    with use_cassette(db):
        for k in range(len(files)):
            generate_video(config, VideoGenerationRequest(prompt=str(k)))
    elapsed = time.perf_counter() - started
    server.shutdown()
    for path in files:
        path.unlink()
    return {"videos": len(files), "record_s": elapsed, "file_mb": Path(db).stat().st_size / 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def worker_media_replay(db: str, videos: int, media: str, workdir: str) -> dict:
    import resource

    from tarash.tarash_gateway import generate_video, register_provider, use_cassette
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

    class Never:
        def generate_video(self, config, request, on_progress=None):  # noqa: ANN001, ANN201
            raise AssertionError("replay only")

    register_provider("bench", Never())
    config = VideoGenerationConfig(provider="bench", model="m")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    written = 0
    with use_cassette(db, record_mode="none", media=media, media_dir=str(Path(workdir) / f"out-{media}")):
        for k in range(videos):
            video = generate_video(config, VideoGenerationRequest(prompt=str(k))).video
            if media == "file":
                written += Path(video[len("file://"):]).stat().st_size
    return {"replay_s": time.perf_counter() - started, "written_mb": written / 1e6, "rss_before_mb": before,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


WORKERS = {"calls": worker_calls, "first": worker_first, "anchor": worker_anchor,
           "media-record": worker_media_record, "media-replay": worker_media_replay}


# -- driver ---------------------------------------------------------------------------------


_ENV: dict[str, str] = {}


def spawn(name: str, *args: object, timeout: float = 3600) -> dict:
    result = subprocess.run([sys.executable, str(HERE), "--worker", name, *map(str, args)],
                            capture_output=True, text=True, timeout=timeout, env=_ENV or None)
    if result.returncode != 0:
        sys.exit(f"worker {name} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="cassette sizes, comma separated (default 1000,10000)")
    parser.add_argument("--anchor", type=int, default=1000, help="N for the vcrpy comparison (0: skip)")
    parser.add_argument("--first-runs", type=int, default=5, help="fresh processes for the first-call time")
    parser.add_argument("--media-mb", type=int, default=0, help="MB of captured media for the memory check (0: skip)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, *rest = args.worker
        converted = [int(a) if a.isdigit() else a for a in rest]
        print(json.dumps(WORKERS[name](*converted)))
        return

    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = Path(tempfile.mkdtemp(prefix="tarash-bench-"))
    # Workers keep compiled bytecode (in the scratch dir), as an installed package does,
    # even where PYTHONDONTWRITEBYTECODE is set: else every import recompiles the sources.
    _ENV.update(os.environ, PYTHONPYCACHEPREFIX=str(work / "pycache"))
    _ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; scratch dir {work}")
    try:
        print("\n1. call level: median per call, fresh process per size")
        print(f"{'N':>8} {'record ms':>10} {'replay ms':>10} {'record total s':>15} {'replay total s':>15} {'file MB':>8}")
        results = {}
        for n in sizes:
            r = results[n] = spawn("calls", n, work)
            print(f"{n:>8} {r['record_ms']:>10.3f} {r['replay_ms']:>10.3f} {r['record_total_s']:>15.2f} "
                  f"{r['replay_total_s']:>15.2f} {r['file_mb']:>8.1f}")
        if 10000 in results:
            r = results[10000]
            print(f"   at 10,000: record {r['record_ms']:.3f} ms < 1 ms {verdict(r['record_ms'] < 1)}; "
                  f"replay {r['replay_ms']:.3f} ms < 0.5 ms {verdict(r['replay_ms'] < 0.5)}")

        print(f"\n2. first replayed call in a fresh process (median of {args.first_runs})")
        spawn("first", work / f"calls-{sizes[0]}.db", sizes[0])  # compiles the bytecode once
        for n in sizes:
            runs = [spawn("first", work / f"calls-{n}.db", n) for _ in range(args.first_runs)]
            first = statistics.median(r["first_s"] for r in runs) * 1e3
            imported = statistics.median(r["import_s"] for r in runs) * 1e3
            note = f"  < 100 ms {verdict(first < 100)}" if n == 10000 else ""
            print(f"{n:>8}: import {imported:6.1f} ms, then first replayed call {first:6.1f} ms{note}")

        if len(sizes) > 1:
            low, high = sizes[0], sizes[-1]
            for what in ("record", "replay"):
                ratio = results[high][f"{what}_ms"] / results[low][f"{what}_ms"]
                total_ratio = results[high][f"{what}_total_s"] / results[low][f"{what}_total_s"]
                print(f"\n3. {what}: per-call median x{ratio:.2f} from {low:,} to {high:,} recordings; total time "
                      f"x{total_ratio:.1f} for x{high // low} calls ({'linear' if ratio < 1.5 else 'NOT linear'})",
                      end="")
            print()

        if args.anchor:
            n = args.anchor
            print(f"\n4. vcrpy anchor at {n:,} interactions (loopback httpx GETs): median per call")
            a = spawn("anchor", n, work)
            for what in ("record", "replay"):
                yaml_, sqlite_, ours = a[f"vcrpy_yaml_{what}"], a[f"vcrpy_sqlite_{what}"], a[f"tarash_{what}"]
                print(f"   {what:6}  vcrpy YAML {yaml_['ms']:8.3f} ms ({yaml_['total_s']:6.2f} s total)   "
                      f"vcrpy+SQLitePersister {sqlite_['ms']:8.3f} ms ({sqlite_['total_s']:6.2f} s)   "
                      f"tarash call level {ours['ms']:7.3f} ms ({ours['total_s']:5.2f} s)   "
                      f"vcrpy YAML / tarash = x{yaml_['ms'] / ours['ms']:.1f} per call, "
                      f"x{yaml_['total_s'] / ours['total_s']:.1f} total")
            print(f"   (vcrpy YAML cassette load before replay: {a['vcrpy_yaml_replay']['load_s'] * 1e3:.0f} ms; "
                  f"vcrpy matches linearly, so both vcrpy columns grow with N)")

        if args.media_mb:
            print(f"\n5. memory: replaying a cassette holding {args.media_mb} MB of captured media")
            db = work / "media.db"
            rec = spawn("media-record", db, args.media_mb, work)
            print(f"   recorded {rec['videos']} x 50 MB videos in {rec['record_s']:.1f} s; cassette "
                  f"{rec['file_mb']:.0f} MB; recording process peak RSS {rec['peak_rss_mb']:.0f} MB")
            for media in ("file", "url"):
                r = spawn("media-replay", db, rec["videos"], media, work)
                print(f"   replay media={media!r}: {r['replay_s']:.2f} s, {r['written_mb']:.0f} MB written, peak RSS "
                      f"{r['peak_rss_mb']:.0f} MB (after imports {r['rss_before_mb']:.0f} MB) < 150 MB "
                      f"{verdict(r['peak_rss_mb'] < 150)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
