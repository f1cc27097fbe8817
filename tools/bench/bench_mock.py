"""Per-call cost of a mocked ``generate_video``: tarash-gateway against upstream 0.1.0.

Runs both side by side in one run, interleaved, on the same interpreter version
(Python 3.12: upstream needs it), plain and through a one-step fallback (the first
config's mock fails with GenerationFailedError, its fallback's mock succeeds).

    python tools/bench/bench_mock.py [--rounds 5] [--calls 2000]

The first run creates two virtualenvs under tools/bench/ (ignored by git): upstream
``tarash-gateway==0.1.0`` with the SDKs it imports (fal-client google-genai openai
replicate), and this checkout. Both use the package index; nothing else is fetched.
Reported: the median per-call time over all batches and ours / upstream (the ratio of the
medians), and the median of the per-round ratios (each round's median of ours over its median
of upstream's, both measured moments apart: steadier when the machine's load drifts between
rounds), with their range. The two sides take turns going first.

    python tools/bench/bench_mock.py --instructions

counts instead the CPU instructions one call executes, under valgrind's callgrind (the
difference between a run of 100 and one of 1,100 calls, divided by 1,000): no timer, so the
same figure on a busy shared machine as on a quiet one. It complements the timed ratio
(instructions are not time: upstream spends more of its time in memory and in writing its log)
and needs `valgrind` on the PATH; it takes about three minutes (eight runs, two at a time).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ANCHOR_VENV = HERE / ".anchor-venv"
OURS_VENV = HERE / ".ours312-venv"

WORKER = r"""
import json, logging, sys, time
impl, scenario, calls, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.exceptions import GenerationFailedError
if impl == "upstream":
    VideoGenerationConfig.model_rebuild()   # upstream's forward-reference trap (its own docs' workaround)
from tarash.tarash_gateway import generate_video
ok = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
if scenario == "fallback":
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast",
        mock=MockConfig(enabled=True, responses=[MockResponse(weight=1.0, error=GenerationFailedError("forced fail"))]),
        fallback_configs=[ok])
else:
    config = ok
request = VideoGenerationRequest(prompt="A cat playing piano", aspect_ratio="16:9", resolution="720p", duration_seconds=4)
for _ in range(300):
    response = generate_video(config, request)
assert response.is_mock and (scenario != "fallback" or response.execution_metadata.fallback_triggered)
out = []
for _ in range(batches):
    started = time.perf_counter()
    for _ in range(calls):
        generate_video(config, request)
    out.append((time.perf_counter() - started) / calls * 1e6)
print(json.dumps(out))
"""


def find_python312() -> str:
    for candidate in ("python3.12", str(Path.home() / ".pyenv/versions/3.12.1/bin/python3.12")):
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            try:
                subprocess.run([found, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"], check=True, capture_output=True)
                return found
            except subprocess.CalledProcessError:
                continue
    sys.exit("Python 3.12 is needed (upstream tarash-gateway 0.1.0 requires it): put python3.12 on PATH")


def ensure_venv(venv: Path, packages: list[str], python: str) -> Path:
    py = venv / "bin" / "python"
    stamp = venv / ".ready"
    if not stamp.exists():
        print(f"setting up {venv.name}: pip install {' '.join(packages)}", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages], check=True)
        stamp.write_text("ok")
    return py


def run(py: Path, impl: str, scenario: str, calls: int, batches: int) -> list[float]:
    out = subprocess.run(
        [str(py), "-c", WORKER, impl, scenario, str(calls), str(batches)],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd="/tmp",
    )
    return json.loads(out.stdout)


def instructions(py: Path, impl: str, scenario: str, calls: int) -> int:
    """The instructions a worker of `calls` calls executes in all, counted by callgrind."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(py), "-c", WORKER, impl, scenario,
         str(calls), "1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd="/tmp",
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        sys.exit(f"valgrind printed no instruction count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def per_call_instructions(py: Path, impl: str, scenario: str) -> float:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:  # two processes at once: instruction counts do not mind sharing
        long, short = pool.map(lambda calls: instructions(py, impl, scenario, calls), (1100, 100))
    return (long - short) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--calls", type=int, default=2000, help="calls per batch (default 2000)")
    parser.add_argument("--batches", type=int, default=3, help="batches per round and implementation (default 3)")
    parser.add_argument("--instructions", action="store_true", help="count instructions per call (valgrind) instead of timing")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind on the PATH (Debian: apt-get install valgrind)")
    python = find_python312()
    upstream = ensure_venv(ANCHOR_VENV, ["tarash-gateway==0.1.0", "fal-client", "google-genai", "openai", "replicate"], python)
    ours = ensure_venv(OURS_VENV, [str(ROOT)], python)
    # our checkout may have changed since the venv was made: refresh it (no dependencies re-resolved)
    subprocess.run([str(ours), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", "--disable-pip-version-check", str(ROOT)], check=True)

    if args.instructions:
        print("instructions per mocked generate_video call (callgrind), Python 3.12")
        print(f"{'scenario':<10} {'ours':>10} {'upstream':>10} {'ours/upstream':>14}")
        for scenario in ("plain", "fallback"):
            a, b = per_call_instructions(ours, "ours", scenario), per_call_instructions(upstream, "upstream", scenario)
            print(f"{scenario:<10} {a:>10,.0f} {b:>10,.0f} {a / b:>14.3f}", flush=True)
        return
    print(f"per-call cost of a mocked generate_video, Python 3.12, {args.rounds} rounds x {args.batches} batches x {args.calls} calls")
    print(f"{'scenario':<10} {'ours (us)':>10} {'upstream (us)':>14} {'ours/upstream':>14} {'per round':>10}")
    for scenario in ("plain", "fallback"):
        samples: dict[str, list[float]] = {"ours": [], "upstream": []}
        ratios = []
        for number in range(args.rounds):
            # the order alternates from round to round, so neither side always runs first
            order = (("ours", ours), ("upstream", upstream)) if number % 2 == 0 else (("upstream", upstream), ("ours", ours))
            this_round = {impl: run(py, impl, scenario, args.calls, args.batches) for impl, py in order}
            for impl, batches in this_round.items():
                samples[impl] += batches
            ratios.append(statistics.median(this_round["ours"]) / statistics.median(this_round["upstream"]))
        a, b = statistics.median(samples["ours"]), statistics.median(samples["upstream"])
        print(
            f"{scenario:<10} {a:>10.1f} {b:>14.1f} {a / b:>14.3f} {statistics.median(ratios):>10.3f}"
            f"   (goal <= 0.25; per-round ratios {min(ratios):.3f}-{max(ratios):.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
