"""Start-up cost: a mock-only process against the floor, and pytest with and without the plugin.

Each pair of commands runs interleaved (A B A B ...) in fresh interpreters of this
checkout's environment, so a drift of the machine's speed hits both alike; reported are
the median wall and CPU times over the rounds and the ratio A / B of the medians.

- ``cold start``: import the gateway and make one mocked ``generate_video`` (A), against
  the floor (B): import pydantic and define and build one model. Goal: A / B <= 1.3.
- ``pytest start``: ``pytest --co -q`` on an empty directory with the plugin (A) and with
  ``-p no:tarash`` (B). Goal: A - B under 15 ms.

Both sides run with a bytecode cache, as an installed package has (pip compiles at
install): the children write and read theirs under a temporary ``PYTHONPYCACHEPREFIX``
(the warm-up run fills it), whatever ``PYTHONDONTWRITEBYTECODE`` says. An editable
checkout under ``PYTHONDONTWRITEBYTECODE=1`` compiles the package from source at every
start instead (site-packages keep their bytecode): ``--no-bytecode-cache`` measures that.

    python tools/bench/bench_startup.py [--rounds 21] [--no-bytecode-cache]
    python tools/bench/bench_startup.py --instructions

``--instructions`` counts, for each command, the CPU instructions of one whole run under
valgrind's callgrind (after a warm-up run that fills the bytecode cache) and prints the
ratio A / B of the counts: no timer, so the same figure on a busy shared machine (where
the timed medians of the same code spread from 1.22 to 1.35 in one afternoon) as on a
quiet one. Instructions are not time; quote both. Needs ``valgrind`` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

FLOOR = """
from pydantic import BaseModel

class Model(BaseModel):
    x: int

Model(x=1)
"""

MOCKED_CALL = """
from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.mock import MockConfig
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
assert generate_video(config, VideoGenerationRequest(prompt="A cat playing piano")).is_mock
"""


ENV: dict[str, str] | None = None  # the children's environment (main sets it)


def run_once(argv: list[str], cwd: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if done.returncode not in (0, 5):  # 5: pytest collected no tests, as asked
        raise SystemExit(f"{argv} exited {done.returncode}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compare(title: str, a: list[str], b: list[str], rounds: int, cwd: str) -> dict[str, float]:
    """Run ``a`` and ``b`` in turn ``rounds`` times (after one warm-up each); print the medians."""
    run_once(a, cwd), run_once(b, cwd)
    times: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    for _ in range(rounds):
        times["a"].append(run_once(a, cwd))
        times["b"].append(run_once(b, cwd))
    medians = {
        f"{side}_{kind}": statistics.median(t[index] for t in runs)
        for side, runs in times.items()
        for index, kind in enumerate(("wall", "cpu"))
    }
    print(f"{title} ({rounds} rounds, medians)")
    for kind in ("wall", "cpu"):
        a_ms, b_ms = medians[f"a_{kind}"] * 1000, medians[f"b_{kind}"] * 1000
        print(f"  {kind:4}  A {a_ms:7.1f} ms   B {b_ms:7.1f} ms   A/B {a_ms / b_ms:5.2f}   A-B {a_ms - b_ms:+7.1f} ms")
    return medians


def instructions(argv: list[str], cwd: str) -> int:
    """The instructions one run of ``argv`` executes, counted by callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None or done.returncode not in (0, 5):
        raise SystemExit(f"{argv} under valgrind exited {done.returncode}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def compare_instructions(title: str, a: list[str], b: list[str], cwd: str) -> None:
    """One counted run of each (after a warm-up of each), and the ratio of the counts."""
    run_once(a, cwd), run_once(b, cwd)
    a_n, b_n = instructions(a, cwd), instructions(b, cwd)
    print(f"{title} (instructions, callgrind)")
    print(f"  A {a_n / 1e6:9.1f} M   B {b_n / 1e6:9.1f} M   A/B {a_n / b_n:5.3f}   A-B {(a_n - b_n) / 1e6:+8.1f} M")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--no-bytecode-cache", action="store_true", help="run with the environment as it is")
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind) instead of timing")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind on the PATH (Debian: apt-get install valgrind)")
    python = sys.executable
    global ENV
    with tempfile.TemporaryDirectory(prefix="tarash-bench-startup-") as empty, \
            tempfile.TemporaryDirectory(prefix="tarash-bench-pycache-") as pycache:
        if not args.no_bytecode_cache:
            ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            ENV["PYTHONPYCACHEPREFIX"] = pycache
        print("bytecode:", "as the environment has it" if ENV is None else "cached (a fresh PYTHONPYCACHEPREFIX)")
        if args.instructions:
            compare_instructions("cold start: A = import + one mocked generate_video, B = the floor",
                                 [python, "-c", MOCKED_CALL], [python, "-c", FLOOR], empty)
            compare_instructions("pytest start: A = pytest --co -q with the plugin, B = with -p no:tarash",
                                 [python, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"],
                                 [python, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-p", "no:tarash"],
                                 empty)
            return
        compare(
            "cold start: A = import + one mocked generate_video, B = the floor (pydantic + one model)",
            [python, "-c", MOCKED_CALL],
            [python, "-c", FLOOR],
            args.rounds,
            empty,
        )
        env_note = "PYTEST_ADDOPTS" in os.environ and " (PYTEST_ADDOPTS is set: it applies to both)" or ""
        compare(
            f"pytest start: A = pytest --co -q with the plugin, B = with -p no:tarash{env_note}",
            [python, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"],
            [python, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-p", "no:tarash"],
            args.rounds,
            empty,
        )


if __name__ == "__main__":
    main()
