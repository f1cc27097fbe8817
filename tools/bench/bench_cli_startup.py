"""Start-up cost of the `tarash` command: lazy command groups against importing every
command module first (what each `tarash` run paid before the groups were lazy).

Each pair runs interleaved (A B A B ...) in fresh interpreters, medians reported with
the ratio A / B (`bench_startup.compare`).

- ``tarash --help``: A as shipped, B with every command module imported before it.
- ``tarash cassette show FILE``: the same, for a command that reads the committed demo
  cassette.

    python tools/bench/bench_cli_startup.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench_startup import compare

EAGER = """
import importlib, sys
from tarash.tarash_gateway.cli import COMMANDS, main
from tarash.tarash_gateway.cli.cassette import COMMANDS as CASSETTE
for where, _ in [*COMMANDS.values(), *CASSETTE.values()]:
    importlib.import_module(where.split(":")[0])
main(sys.argv[1:], prog_name="tarash")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2]
    demo = str(root / "cassettes" / "demo.db")
    lazy, eager = [sys.executable, "-m", "tarash.tarash_gateway.cli"], [sys.executable, "-c", EAGER]
    compare("tarash --help: A = lazy groups, B = every command module imported first",
            [*lazy, "--help"], [*eager, "--help"], args.rounds, str(root))
    compare("tarash cassette show cassettes/demo.db: A = lazy groups, B = every command module imported first",
            [*lazy, "cassette", "show", demo], [*eager, "cassette", "show", demo], args.rounds, str(root))


if __name__ == "__main__":
    main()
