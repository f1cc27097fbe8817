"""Secret scanning speed: the shape search side by side with one big alternation, and
``scan_paths`` over a recorded cassette.

    python tools/bench/bench_scan.py
    python tools/bench/bench_scan.py --mb 4 --recordings 5000 --repeat 7

1. Shapes over text (``--mb`` MiB of prose-like JSON, with and without one key in it):
   :func:`~tarash.tarash_gateway.cassettes.shapes.find_shapes` (each shape searched
   from a literal anchor) against the same shapes as one alternation with a word-edge
   lookbehind, the obvious way to write it. Median of ``--repeat`` runs, and the ratio.
2. A cassette of ``--recordings`` recorded calls plus a text blob of ``--mb`` MiB:
   ``scan_paths`` wall time (median), and MB scanned per second.

Everything runs in a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from tarash.tarash_gateway import InstantClock, generate_video, register_provider, use_cassette, use_clock
from tarash.tarash_gateway.cassettes import close_cassettes
from tarash.tarash_gateway.cassettes.scan import scan_paths
from tarash.tarash_gateway.cassettes.shapes import SHAPES, find_shapes
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse

KEY = "r8_Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Gh5Jk"
ALTERNATION = re.compile("|".join(f"(?<![A-Za-z0-9_\\-])(?P<s{i}>{s.pattern})(?![A-Za-z0-9_\\-])"
                                  for i, s in enumerate(SHAPES)))


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _text(mb: int, with_key: bool) -> str:
    line = '{"id": "job-1842", "status": "succeeded", "url": "https://cdn.example/v.mp4?w=1280&h=720"},\n'
    text = line * (mb * (1 << 20) // len(line))
    if with_key:
        half = len(text) // 2
        text = text[:half] + f' "leak": "{KEY}" ' + text[half:]
    return text


def bench_shapes(mb: int, repeat: int) -> None:
    print(f"1. shapes over {mb} MiB of text: median of {repeat}")
    for with_key in (False, True):
        text = _text(mb, with_key)
        ours = _median(lambda: list(find_shapes(text)), repeat)  # noqa: B023 - run at once
        naive = _median(lambda: list(ALTERNATION.finditer(text)), repeat)  # noqa: B023
        found = [s.name for s, _, _ in find_shapes(text)]
        print(f"   {'one key in it' if with_key else 'no key       '}  find_shapes {ours * 1000:8.1f} ms "
              f"({mb / ours:6.1f} MB/s)   one alternation {naive * 1000:8.1f} ms   x{naive / ours:.1f}   found {found}")


class _Provider:
    def generate_video(self, config, request, on_progress=None):
        return VideoGenerationResponse(request_id=request.prompt, video="https://cdn.example/v.mp4?sig=abc123def",
                                       raw_response={"status": "succeeded", "prompt": request.prompt})


def bench_cassette(workdir: Path, recordings: int, mb: int, repeat: int) -> None:
    db = workdir / "cassettes" / "run.db"
    register_provider("bench-scan", _Provider())
    config = VideoGenerationConfig(provider="bench-scan", model="m", provider_config={"auth": {"token": "t-123456"}})
    with use_clock(InstantClock()), use_cassette(db, capture_media=False):
        for i in range(recordings):
            generate_video(config, VideoGenerationRequest(prompt=f"prompt {i}"))
    close_cassettes()
    body = _text(mb, False).encode()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO blobs (hash, size, content_type, data) VALUES (?, ?, 'application/json', ?)",
                     (hashlib.sha256(body).hexdigest(), len(body), body))
    conn.close()
    size = db.stat().st_size / (1 << 20)
    took = _median(lambda: scan_paths([db]), repeat)
    report = scan_paths([db])
    print(f"2. scan_paths over a cassette of {recordings} recordings and a {mb} MiB JSON blob ({size:.1f} MB file): "
          f"median {took:.2f} s, {size / took:.1f} MB/s, clean={report.clean}")
    print(json.dumps({"recordings": recordings, "file_mb": round(size, 1), "seconds": round(took, 3)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=2, help="MiB of text (default 2)")
    parser.add_argument("--recordings", type=int, default=2000, help="recordings in the cassette (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    args = parser.parse_args()
    bench_shapes(args.mb, args.repeat)
    with tempfile.TemporaryDirectory(prefix="tarash-bench-scan-") as workdir:
        bench_cassette(Path(workdir), args.recordings, args.mb, args.repeat)


if __name__ == "__main__":
    main()
