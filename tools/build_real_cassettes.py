"""Rebuild the committed real cassettes under `cassettes/` from the shared vcrpy recordings.

    python tools/build_real_cassettes.py                     # from ../shared/cassettes
    python tools/build_real_cassettes.py --source DIR --out DIR

Each vcrpy YAML file `<source>/<set>/<name>.yaml` becomes `<out>/<set>/<name>.db`
through `tarash cassette import` (secrets scrubbed on the way in), and the set's
`NOTICE.md` and `licenses/` are copied beside the cassettes. A cassette is built
afresh, so a rebuild holds exactly what the YAML holds; when it holds the same
interactions as the file already there, that file is kept as it is, so a rebuild
changes in git only the cassettes whose recordings changed.
The sets are `real` and `replicate-real`; the Replicate license of the second set
is the one the first set carries for replicate-python.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ("real", "replicate-real")
#: The license a set's recordings come under, where the set carries none of its own.
BORROWED_LICENSES = {"replicate-real": ("real", "replicate+replicate-python.txt")}


def import_yaml(source: Path, target: Path) -> None:
    """`tarash cassette import SOURCE TARGET`, in this process."""
    from tarash.tarash_gateway.cli import main

    main(["cassette", "import", str(source), str(target)], standalone_mode=False)


def fingerprints(path: Path) -> list[str]:
    """What a cassette's HTTP interactions are, by content (not when they were imported)."""
    from tarash.tarash_gateway.cassettes.store import CassetteStore

    store = CassetteStore.open(path, create=False)
    try:
        return sorted(row["fingerprint"] for row in store.http_interactions())
    finally:
        store.close()


def build_set(source_root: Path, out_root: Path, name: str) -> list[Path]:
    """Import one set's YAML files into fresh cassettes and copy its notices; the cassettes built."""
    source, out = source_root / name, out_root / name
    out.mkdir(parents=True, exist_ok=True)
    built = []
    for yaml_file in sorted(source.glob("*.yaml")):
        target = out / f"{yaml_file.stem}.db"
        with tempfile.TemporaryDirectory(dir=out) as scratch:  # the old file stays until the new one is whole
            fresh = Path(scratch) / target.name
            import_yaml(yaml_file, fresh)
            if not target.exists() or fingerprints(fresh) != fingerprints(target):
                fresh.replace(target)  # else the committed file stays byte for byte: git sees no change
        built.append(target)
    shutil.copyfile(source / "NOTICE.md", out / "NOTICE.md")
    licenses = out / "licenses"
    licenses.mkdir(exist_ok=True)
    for text in sorted((source / "licenses").glob("*.txt")) if (source / "licenses").is_dir() else []:
        shutil.copyfile(text, licenses / text.name)
    if name in BORROWED_LICENSES:
        other, file = BORROWED_LICENSES[name]
        shutil.copyfile(source_root / other / "licenses" / file, licenses / file)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "cassettes",
                        help="the directory holding the real/ and replicate-real/ YAML sets")
    parser.add_argument("--out", type=Path, default=ROOT / "cassettes", help="where the cassettes go")
    args = parser.parse_args(argv)
    missing = [name for name in SETS if not (args.source / name).is_dir()]
    if missing:
        print(f"error: {args.source} lacks {', '.join(missing)}", file=sys.stderr)
        return 1
    for name in SETS:
        built = build_set(args.source, args.out, name)
        print(f"{args.out / name}: {len(built)} cassette(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
