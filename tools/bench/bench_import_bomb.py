"""Peak memory of importing a gzip bomb: a small vcrpy YAML whose body inflates past the cap.

    python tools/bench/bench_import_bomb.py                  # a 520 MiB bomb (about 790 KB of YAML)
    python tools/bench/bench_import_bomb.py --inflated-mb 1024 --runs 3

Writes the YAML into a temporary directory (removed at the end), runs
``tarash cassette import`` on it ``--runs`` times, each in a fresh process, and prints
the median peak RSS of those processes (``resource.getrusage(RUSAGE_CHILDREN)``, read in a
small parent that starts each run), with the command's exit status and error line. With
the default cap (512 MiB) the import is refused; ``--max-body-size`` above the bomb lets it
through, which shows what the cap saves.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import yaml

_MEASURE = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(result.returncode, peak, (result.stderr.strip().splitlines() or [''])[-1][:160], sep='\\t')
"""


def bomb(path: Path, inflated_mb: int) -> None:
    """A vcrpy YAML with one gzip body of ``inflated_mb`` MiB of zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    body = b"".join([packer.compress(zeros) for _ in range(inflated_mb)] + [packer.flush()])
    doc = {"interactions": [{
        "request": {"method": "GET", "uri": "https://api.example.com/x", "body": None, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"},
                     "headers": {"Content-Encoding": ["gzip"], "Content-Type": ["application/json"]},
                     "body": {"string": body}}}]}
    path.write_text(yaml.safe_dump(doc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inflated-mb", type=int, default=520)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-body-size", default=None, help="passed to the import (like 2G)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tarash-bomb-") as tmp:
        source = Path(tmp) / "bomb.yaml"
        bomb(source, args.inflated_mb)
        peaks, lines = [], []
        for run in range(args.runs):
            command = [sys.executable, "-m", "tarash.tarash_gateway.cli", "cassette", "import", str(source),
                       str(Path(tmp) / f"run{run}.db")]
            if args.max_body_size:
                command += ["--max-body-size", args.max_body_size]
            out = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True,
                                 check=True).stdout.strip().split("\t")
            peaks.append(int(out[1]))
            lines.append((out[0], out[2] if len(out) > 2 else ""))
        print(f"bomb: {source.stat().st_size / 1000:.0f} KB of YAML, {args.inflated_mb} MiB inflated")
        print(f"import exit status {lines[0][0]}: {lines[0][1]}")
        print(f"peak RSS, median of {args.runs}: {statistics.median(peaks) / 1024:.1f} MiB "
              f"(runs: {', '.join(f'{p / 1024:.1f}' for p in peaks)})")


if __name__ == "__main__":
    main()
