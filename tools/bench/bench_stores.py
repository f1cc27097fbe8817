"""The two cassette stores side by side: the SQLite file and PostgreSQL, on loopback.

    python tools/bench/bench_stores.py                      # throwaway server, full sizes
    python tools/bench/bench_stores.py --calls 500 --haystack 20000 --fleet 8x100
    python tools/bench/bench_stores.py --url 'postgresql://u:pw@127.0.0.1:5432/db'   # a server of yours

Without `--url` a throwaway PostgreSQL (default settings: `fsync` on) is started with `initdb`/`pg_ctl` (as `nobody`
when run as root) in a temporary directory, on a free loopback port, and removed at the
end (`tests.support.pgserver`). Everything else is local: a registered in-process
provider that answers at once, so the figures are the store's cost plus the stack's.

1. Per call (`--calls` N): N distinct `generate_video` calls recorded into a new
   cassette, then replayed in shuffled order; median per call, for each store.
2. Fleet (`--fleet` PxN): P processes start together and record N calls each into one
   PostgreSQL cassette (record mode `all`; every fifth prompt is shared by all, so
   equal requests contend for the same key). Reports recordings lost (goal 0), whether
   every key's seqs are dense (1..k), wall time and recordings per second.
3. Haystack (`--haystack` M): 100 real recordings among M in one cassette (the rest
   bulk-inserted), replayed in a fresh session; median per replayed call. Goal < 2 ms
   at 100,000.
4. HTTP level (`--requests` N): N distinct GETs of a plain `httpx.Client` to a loopback
   `http.server`, sent live without a cassette, then recorded into a new cassette of
   each store, the server stopped, and replayed in shuffled order; median per request
   (the client's own cost included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve()
PROVIDER = "bench-stores"


def _provider() -> None:
    from tarash.tarash_gateway import register_provider
    from tarash.tarash_gateway.models import VideoGenerationResponse

    class Instant:
        def generate_video(self, config, request, on_progress=None):  # noqa: ANN001, ANN201
            return VideoGenerationResponse(request_id=f"{request.prompt}@{os.getpid()}",
                                           video="https://cdn.example.test/out.mp4", raw_response={"ok": True})

    register_provider(PROVIDER, Instant())


def _config():  # noqa: ANN202
    from tarash.tarash_gateway.models import VideoGenerationConfig

    return VideoGenerationConfig(provider=PROVIDER, model="m1")


def _request(prompt: str):  # noqa: ANN202
    from tarash.tarash_gateway.models import VideoGenerationRequest

    return VideoGenerationRequest(prompt=prompt, aspect_ratio="16:9")


def per_call(cassette: str, n: int) -> dict[str, float]:
    from tarash.tarash_gateway import generate_video, use_cassette

    config, prompts = _config(), [f"a cat playing piano, take {i}" for i in range(n)]
    record, replay = [], []
    with use_cassette(cassette, capture_media=False):
        for prompt in prompts:
            started = time.perf_counter()
            generate_video(config, _request(prompt))
            record.append(time.perf_counter() - started)
    random.Random(7).shuffle(prompts)
    with use_cassette(cassette, record_mode="none") as session:
        for prompt in prompts:
            started = time.perf_counter()
            generate_video(config, _request(prompt))
            replay.append(time.perf_counter() - started)
    assert session is not None and session.replayed == n
    return {"record_ms": statistics.median(record) * 1e3, "replay_ms": statistics.median(replay) * 1e3}


def fleet_worker(url: str, tag: str, count: int, go: str) -> None:
    """One process of the fleet (run as `bench_stores.py --worker URL TAG COUNT GO`)."""
    from tarash.tarash_gateway import generate_video, use_cassette

    _provider()
    config = _config()
    with use_cassette(url, record_mode="all", capture_media=False):
        print("ready", flush=True)
        while not os.path.exists(go):
            time.sleep(0.002)
        for i in range(count):
            generate_video(config, _request(f"shared-{i}" if i % 5 == 0 else f"{tag}-{i}"))
    print("done", flush=True)


def fleet(url: str, processes: int, count: int, workdir: Path) -> dict[str, object]:
    from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore

    go = workdir / "go"
    workers = [subprocess.Popen([sys.executable, str(HERE), "--worker", url, f"p{p}", str(count), str(go)],
                                stdout=subprocess.PIPE, text=True, cwd=ROOT) for p in range(processes)]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    go.touch()
    for worker in workers:
        worker.communicate(timeout=1800)
        assert worker.returncode == 0
    wall = time.perf_counter() - started
    store = PgCassetteStore.open(url, create=False)
    assert store is not None
    try:
        seqs: dict[str, list[int]] = {}
        for row in store.recordings():
            seqs.setdefault(row["key"], []).append(row["seq"])
    finally:
        store.close()
    stored = sum(len(s) for s in seqs.values())
    return {"expected": processes * count, "stored": stored, "lost": processes * count - stored,
            "dense": all(s == list(range(1, len(s) + 1)) for s in seqs.values()),
            "wall_s": wall, "per_s": stored / wall}


_FILLER_REQUEST = json.dumps({"kind": "video", "provider": PROVIDER, "model": "m1", "request": {"prompt": "filler"}})


def _fill_sqlite(path: str, m: int) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
            "INSERT INTO recordings (key, seq, kind, provider, model, request, outcome, response, timeline, "
            "recorded_at, recorded_ts) SELECT printf('filler-%08d', i), 1, 'video', ?, 'm1', ?, 'response', "
            "'{}', '[]', '2026-01-01T00:00:00+00:00', 0 FROM g", (m, PROVIDER, _FILLER_REQUEST))
    conn.close()


def _fill_pg(url: str, m: int) -> None:
    from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore

    store = PgCassetteStore.open(url, create=True)
    assert store is not None
    try:
        with store._transaction("filling") as conn:
            conn.execute(
                "INSERT INTO recordings (cassette_id, key, seq, kind, provider, model, request, outcome, response, "
                "timeline, recorded_at, recorded_ts) SELECT %s, 'filler-' || g, 1, 'video', %s, 'm1', %s, "
                "'response', '{}', '[]', '2026-01-01T00:00:00+00:00', 0 FROM generate_series(1, %s) g",
                (store.cassette_id, PROVIDER, _FILLER_REQUEST, m))
            conn.execute("ANALYZE recordings")
    finally:
        store.close()


def haystack(cassette: str, m: int, *, pg: bool) -> dict[str, float]:
    from tarash.tarash_gateway import generate_video, use_cassette
    from tarash.tarash_gateway.cassettes import close_cassettes

    config, prompts = _config(), [f"needle {i}" for i in range(100)]
    with use_cassette(cassette, capture_media=False):
        for prompt in prompts:
            generate_video(config, _request(prompt))
    (_fill_pg if pg else _fill_sqlite)(cassette, m - len(prompts))
    close_cassettes()
    timings = []
    with use_cassette(cassette, record_mode="none") as session:
        for prompt in prompts:
            started = time.perf_counter()
            generate_video(config, _request(prompt))
            timings.append(time.perf_counter() - started)
    assert session is not None and session.replayed == len(prompts)
    return {"replay_ms": statistics.median(timings) * 1e3, "p95_ms": sorted(timings)[94] * 1e3}


def per_request(cassettes: dict[str, str], n: int) -> dict[str, dict[str, float]]:
    import httpx
    from local_server import serve_json  # beside this script

    from tarash.tarash_gateway import use_cassette

    server, base = serve_json(lambda path: json.dumps({"status": "COMPLETED", "path": path, "logs": None}))
    paths = [f"/v1/jobs/job-{i}/status" for i in range(n)]

    def timed(client: httpx.Client, order: list[str]) -> float:
        took = []
        for path in order:
            started = time.perf_counter()
            client.get(base + path).raise_for_status()
            took.append(time.perf_counter() - started)
        return statistics.median(took) * 1e3

    with httpx.Client() as client:
        live = timed(client, paths)
    results = {}
    for label, cassette in cassettes.items():
        with use_cassette(cassette, http_hosts=("127.0.0.1",), capture_media=False), httpx.Client() as client:
            results[label] = {"live_ms": live, "record_ms": timed(client, paths)}
    server.shutdown()
    server.server_close()
    shuffled = random.Random(7).sample(paths, len(paths))
    for label, cassette in cassettes.items():
        with use_cassette(cassette, record_mode="none") as session, httpx.Client() as client:
            results[label]["replay_ms"] = timed(client, shuffled)
        assert session is not None
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a PostgreSQL server of yours (postgresql://user:pw@host:port/db)")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--fleet", default="8x500", help="PROCESSESxCALLS")
    parser.add_argument("--haystack", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000, help="HTTP-level requests per store")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fleet_worker(args.worker[0], args.worker[1], int(args.worker[2]), args.worker[3])
        return
    sys.path.insert(0, str(ROOT))
    from tests.support.pgserver import PgServer, find_bindir

    _provider()
    server = None
    workdir = Path(tempfile.mkdtemp(prefix="tarash-bench-stores-"))
    try:
        if args.url:
            base = args.url
        else:
            bindir = find_bindir()
            if bindir is None:
                sys.exit("no initdb found: apt-get install postgresql, or pass --url")
            server = PgServer(bindir, durable=True)
            with server.admin() as conn:
                conn.execute("CREATE DATABASE bench")
            base = server.url("x", database="bench").split("?")[0]

        def url(name: str) -> str:
            return f"{base}?cassette={name}-{uuid.uuid4().hex[:6]}"

        print(f"per call, {args.calls} distinct calls (median ms):")
        for label, cassette in (("sqlite", str(workdir / "calls.db")), ("postgresql", url("calls"))):
            result = per_call(cassette, args.calls)
            print(f"  {label:<11} record {result['record_ms']:.3f}  replay {result['replay_ms']:.3f}")
        processes, count = (int(x) for x in args.fleet.split("x"))
        result = fleet(url("fleet"), processes, count, workdir)
        print(f"fleet, {processes} processes x {count} recordings into one PostgreSQL cassette:")
        print(f"  stored {result['stored']} of {result['expected']} (lost {result['lost']}), seqs dense: "
              f"{result['dense']}, {result['wall_s']:.1f} s, {result['per_s']:.0f} recordings/s")
        print(f"one recording among {args.haystack:,} (median / p95 ms per replayed call):")
        for label, cassette, pg in (("sqlite", str(workdir / "haystack.db"), False),
                                    ("postgresql", url("haystack"), True)):
            result = haystack(cassette, args.haystack, pg=pg)
            print(f"  {label:<11} {result['replay_ms']:.3f} / {result['p95_ms']:.3f}")
        print(f"HTTP level, {args.requests} distinct GETs of an httpx client (median ms per request):")
        rows = per_request({"sqlite": str(workdir / "http.db"), "postgresql": url("http")}, args.requests)
        for label, result in rows.items():
            print(f"  {label:<11} live {result['live_ms']:.3f}  record {result['record_ms']:.3f}  "
                  f"replay {result['replay_ms']:.3f}")
    finally:
        from tarash.tarash_gateway.cassettes import close_cassettes

        close_cassettes()
        if server is not None:
            server.remove()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
