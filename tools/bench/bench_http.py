"""HTTP-level record and replay, with vcrpy + ``SQLitePersister`` side by side in one run.

    python tools/bench/bench_http.py                     # sizes 1,000 and 10,000; vcrpy at 1,000
    python tools/bench/bench_http.py --sizes 1000 --vcrpy-sizes 1000
    python tools/bench/bench_http.py --sizes 1000 --vcrpy-sizes 1000 --rounds 5
    git archive main src | tar -x -C /tmp/base && python tools/bench/bench_http.py --baseline /tmp/base/src

Everything is local and bounded: a loopback ``http.server`` (127.0.0.1) answering JSON
like a provider's poll, plain ``httpx.Client`` requests (no transport argument), and a
temporary directory removed at the end. Each measurement runs in a fresh process.

1. Replay per request, per size N: N distinct GETs recorded (``use_cassette`` with
   ``http_hosts=("127.0.0.1",)``), the server stopped, then replayed in shuffled order
   (``record_mode="none"``). Media capture is off (its downloads run beside the app and
   are not what is measured). Median per request, the client's own cost included. vcrpy
   with our ``SQLitePersister`` does the same (at ``--vcrpy-sizes``: vcrpy matches
   linearly, so 10,000 would take a quarter of an hour), and the ratio is printed. Both
   run ``--rounds`` times (default 3), alternately, each in a fresh process; the medians
   over the rounds are compared (vcrpy's time swings with the machine's load).
   Targets: at least x50 faster than vcrpy + SQLitePersister at 1,000; under 0.5 ms at
   10,000.
2. First replayed request in a fresh process, after ``import httpx`` and tarash (median
   of ``--first-runs``), and after importing the cassette store too (sqlite-utils, which
   the first request otherwise loads). Target at 10,000: under 100 ms. With ``--baseline
   SRC``, the same runs of another tree of the package alternate with these, and the
   ratio is printed.
3. Recording overhead: the same N GETs sent live without a cassette and while recording,
   alternating request by request; the median of the per-request differences. Target:
   under 1 ms.
4. The ``.pth`` hook with ``TARASH_CASSETTE`` unset: what ``site`` spends on the file
   (``site.addpackage``), median of 200. Target: under 1 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
BODY = {"request_id": "req-{i}", "status": "COMPLETED", "logs": None,
        "images": [{"url": "http://127.0.0.1:9/files/{i}/out.png", "content_type": "image/png"}],
        "metrics": {"inference_time": 12.5}}


def _serve():  # noqa: ANN202 - local helper
    from local_server import serve_json  # beside this script

    return serve_json(lambda path: json.dumps(BODY).replace("{i}", path.split("/")[-1].split("?")[0]))


def _urls(base: str, n: int) -> list[str]:
    return [f"{base}/fal-ai/flux/requests/{i}?logs=1" for i in range(n)]


def _timed(fn, items) -> list[float]:  # noqa: ANN001
    times = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - started)
    return times


# -- workers (each runs in its own process) -------------------------------------------------


def worker_ours(n: int, workdir: str) -> dict:
    import httpx

    from tarash.tarash_gateway import use_cassette

    server, base = _serve()
    urls = _urls(base, n)
    db = Path(workdir) / f"http-{n}.db"
    with httpx.Client() as client:
        with use_cassette(Path(workdir) / "warm.db", http_hosts=("127.0.0.1",), record_mode="all", capture_media=False):
            for url in urls[:50]:
                client.get(url)
        with use_cassette(db, http_hosts=("127.0.0.1",), capture_media=False):
            record = _timed(lambda u: client.get(u).raise_for_status(), urls)
        server.shutdown()
        server.server_close()  # offline from here on
        random.Random(7).shuffle(urls)
        with use_cassette(db, record_mode="none"):
            replay = _timed(lambda u: client.get(u).raise_for_status(), urls)
    return {"record_ms": statistics.median(record) * 1e3, "replay_ms": statistics.median(replay) * 1e3,
            "replay_total_s": sum(replay), "file_mb": db.stat().st_size / 1e6}


def worker_vcrpy(n: int, workdir: str) -> dict:
    import httpx
    import vcr

    from tarash.tarash_gateway.cassettes import SQLitePersister

    server, base = _serve()
    urls = _urls(base, n)
    path = str(Path(workdir) / f"vcrpy-{n}.db")
    my_vcr = vcr.VCR(match_on=("method", "scheme", "host", "port", "path", "query"))
    my_vcr.register_persister(SQLitePersister)
    with httpx.Client() as client:
        with my_vcr.use_cassette(path, record_mode="once"):
            record = _timed(lambda u: client.get(u).raise_for_status(), urls)
        server.shutdown()
        server.server_close()
        random.Random(7).shuffle(urls)
        with my_vcr.use_cassette(path, record_mode="none"):
            replay = _timed(lambda u: client.get(u).raise_for_status(), urls)
    return {"record_ms": statistics.median(record) * 1e3, "replay_ms": statistics.median(replay) * 1e3,
            "replay_total_s": sum(replay)}


def worker_first(db: str, n: int, preload: int = 0) -> dict:
    """With ``preload``, the modules the first request would load (the HTTP level and the
    cassette store, sqlite-utils) are imported with the rest before the clock starts."""
    started = time.perf_counter()
    import httpx

    from tarash.tarash_gateway import use_cassette

    if preload:
        import tarash.tarash_gateway.cassettes.http.transport  # noqa: F401

    client = httpx.Client()
    ready = time.perf_counter()
    with use_cassette(db, record_mode="none"):
        client.get(f"http://127.0.0.1:1/fal-ai/flux/requests/{n - 1}?logs=1").raise_for_status()
    done = time.perf_counter()
    import tarash.tarash_gateway as package

    return {"import_s": ready - started, "first_s": done - ready, "source": str(Path(package.__file__).parents[2])}


def worker_overhead(n: int, workdir: str) -> dict:
    import httpx

    from tarash.tarash_gateway import use_cassette
    from tarash.tarash_gateway.cassettes.http.hook import own_client

    server, base = _serve()
    live_urls = [f"{base}/fal-ai/flux/requests/live-{i}?logs=1" for i in range(n)]
    rec_urls = _urls(base, n)
    diffs, live_all, rec_all = [], [], []
    # the live client is left out of recording the way the gateway's own clients are
    with httpx.Client() as client, own_client(httpx.Client()) as live_client:
        for url in live_urls[:50]:
            client.get(url)
            live_client.get(url)
        with use_cassette(Path(workdir) / f"overhead-{n}.db", http_hosts=("127.0.0.1",), capture_media=False):
            for live_url, rec_url in zip(live_urls, rec_urls, strict=True):
                started = time.perf_counter()
                live_client.get(live_url)
                live = time.perf_counter() - started
                started = time.perf_counter()
                client.get(rec_url)
                recorded = time.perf_counter() - started
                diffs.append(recorded - live)
                live_all.append(live)
                rec_all.append(recorded)
    server.shutdown()
    return {"live_ms": statistics.median(live_all) * 1e3, "recorded_ms": statistics.median(rec_all) * 1e3,
            "overhead_ms": statistics.median(diffs) * 1e3}


def worker_pth() -> dict:
    import site

    hook = Path(sysconfig.get_paths()["purelib"]) / "tarash_gateway.pth"
    if not hook.is_file():
        return {"missing": str(hook)}
    os.environ.pop("TARASH_CASSETTE", None)
    times = []
    for _ in range(200):
        started = time.perf_counter()
        site.addpackage(str(hook.parent), hook.name, set(sys.path))
        times.append(time.perf_counter() - started)
    return {"pth_ms": statistics.median(times) * 1e3, "imported": "tarash" in sys.modules}


WORKERS = {"ours": worker_ours, "vcrpy": worker_vcrpy, "first": worker_first, "overhead": worker_overhead,
           "pth": worker_pth}

# -- driver ---------------------------------------------------------------------------------

_ENV: dict[str, str] = {}


def spawn(name: str, *args: object, timeout: float = 3600, source: str | None = None) -> dict:
    env = dict(_ENV or os.environ)
    if source:  # another tree of the package, first on the path (the baseline of section 2)
        env["PYTHONPATH"] = source
    result = subprocess.run([sys.executable, str(HERE), "--worker", name, *map(str, args)],
                            capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        sys.exit(f"worker {name} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="cassette sizes, comma separated (default 1000,10000)")
    parser.add_argument("--vcrpy-sizes", default="1000", help="sizes vcrpy + SQLitePersister runs at (default 1000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="section 1: rounds of fresh processes, tarash and vcrpy alternating; medians over rounds")
    parser.add_argument("--first-runs", type=int, default=5, help="fresh processes for the first-request time")
    parser.add_argument("--baseline", metavar="SRC",
                        help="section 2 only: also time this source tree of the package (its src/ directory, e.g. "
                             "from git archive of main), run for run alternately with this one, and print the ratio")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, *rest = args.worker
        print(json.dumps(WORKERS[name](*[int(a) if a.isdigit() else a for a in rest])))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    vcrpy_sizes = sorted(int(s) for s in args.vcrpy_sizes.split(",") if s)
    work = Path(tempfile.mkdtemp(prefix="tarash-bench-http-"))
    _ENV.update({k: v for k, v in os.environ.items() if not k.startswith("TARASH_")},
                PYTHONPYCACHEPREFIX=str(work / "pycache"))
    _ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; scratch dir {work}")
    try:
        print(f"\n1. replay per request (median, httpx.Client included), fresh process per size and round; "
              f"median of {args.rounds} round(s), tarash and vcrpy alternating")
        ours: dict[int, list[dict]] = {n: [] for n in sizes}
        theirs: dict[int, list[dict]] = {n: [] for n in vcrpy_sizes}
        for i in range(args.rounds):  # A B A B ...: a machine whose load drifts moves both alike
            where = work if i == 0 else work / f"round-{i}"  # fresh cassettes; section 2 reads the first round's
            where.mkdir(exist_ok=True)
            for n in sorted({*sizes, *vcrpy_sizes}):
                if n in ours:
                    ours[n].append(spawn("ours", n, where))
                if n in theirs:
                    theirs[n].append(spawn("vcrpy", n, where))
        for n in sizes:
            mine = statistics.median(r["replay_ms"] for r in ours[n])
            total = statistics.median(r["replay_total_s"] for r in ours[n])
            line = f"{n:>8}: tarash {mine:7.3f} ms ({total:6.2f} s total, file {ours[n][-1]['file_mb']:.1f} MB)"
            if n in theirs:
                other = statistics.median(r["replay_ms"] for r in theirs[n])
                ratio = other / mine
                line += (f"   vcrpy+SQLitePersister {other:8.3f} ms "
                         f"({statistics.median(r['replay_total_s'] for r in theirs[n]):6.2f} s)"
                         f"   ratio x{ratio:.1f}" + (f" >= x50 {verdict(ratio >= 50)}" if n == 1000 else ""))
            if n == 10000:
                line += f"   < 0.5 ms {verdict(mine < 0.5)}"
            print(line)
            if args.rounds > 1:
                rounds = "  ".join(f"{r['replay_ms']:.3f}" for r in ours[n])
                if n in theirs:
                    rounds += "   vcrpy " + "  ".join(f"{r['replay_ms']:.2f}" for r in theirs[n])
                print(f"{'':>8}  rounds: tarash {rounds}")

        print(f"\n2. first replayed request in a fresh process, after import (median of {args.first_runs})")
        for n in sizes:
            for preload, what in ((0, "import tarash"), (1, "import tarash and its cassette store")):
                runs, base = [], []
                for _ in range(args.first_runs):  # A B A B ...: a drifting machine moves both alike
                    runs.append(spawn("first", work / f"http-{n}.db", n, preload))
                    if args.baseline:
                        base.append(spawn("first", work / f"http-{n}.db", n, preload, source=args.baseline))
                first = statistics.median(r["first_s"] for r in runs) * 1e3
                imported = statistics.median(r["import_s"] for r in runs) * 1e3
                note = f"  < 100 ms {verdict(first < 100)}" if n == 10000 else ""
                print(f"{n:>8}: {what} {imported:6.1f} ms, then first replayed request {first:6.1f} ms{note}")
                if base:
                    assert all(Path(r["source"]) == Path(args.baseline).resolve() for r in base), base[0]["source"]
                    b_first = statistics.median(r["first_s"] for r in base) * 1e3
                    b_imported = statistics.median(r["import_s"] for r in base) * 1e3
                    print(f"{'':>8}  baseline {b_imported:6.1f} ms, then {b_first:6.1f} ms; first request "
                          f"x{b_first / first:.1f} faster, import + first x{(b_first + b_imported) / (first + imported):.2f}")

        print("\n3. recording overhead per request over the live call (median of per-request differences)")
        for n in sizes[:1]:
            o = spawn("overhead", n, work)
            print(f"{n:>8}: live {o['live_ms']:.3f} ms, recorded {o['recorded_ms']:.3f} ms, overhead "
                  f"{o['overhead_ms']:.3f} ms  < 1 ms {verdict(o['overhead_ms'] < 1)}")

        print("\n4. the .pth hook with TARASH_CASSETTE unset (site.addpackage, median of 200)")
        p = spawn("pth")
        if "missing" in p:
            print(f"   not installed at {p['missing']} (pip install -e . installs it)")
        else:
            print(f"   {p['pth_ms'] * 1e3:.1f} us, tarash imported: {p['imported']}  < 1 ms {verdict(p['pth_ms'] < 1)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
