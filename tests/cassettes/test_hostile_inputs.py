"""Property tests: damaged exports, hostile YAML and damaged cassette files fed to import,
export, verify, ls and show. Every operation either does its job or raises CassetteError
(a command exits 1 with one line), never another exception, and never writes outside the
cassette's own paths, the output it was given and digest-named files in the blobs dir."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tarash.tarash_gateway.cassettes import interop
from tarash.tarash_gateway.cassettes.maintenance import summary, verify
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError

from .hostile import build_cassette, export_text, tree

PROPERTY = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

HOSTILE_NAMES = st.sampled_from(["../../conftest", "../../../../tmp/owned", "/tmp/owned", "/etc/passwd", "..", ".",
                                 "a" * 63, "A" * 64, "a" * 64 + "/x", "", "\x00", "~/.bashrc", "a" * 64])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=20)
    | HOSTILE_NAMES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


class Base(dict):
    """The sound cassette's bytes and export, with a short repr for failure reports."""

    def __repr__(self) -> str:
        return "<sound cassette>"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    root = tmp_path_factory.mktemp("base")
    cassette = build_cassette(root / "base.db")
    return Base(db=cassette.read_bytes(), export=export_text(cassette, embed_blobs=True))


@contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh directory two levels under its own temporary root; asserts nothing new
    appeared outside it (``../../x`` from the work directory lands inside the root)."""
    root = Path(tempfile.mkdtemp(prefix="tarash-hostile-"))
    try:
        work = root / "a" / "b"
        work.mkdir(parents=True)
        yield work
        outside = {p for p in tree(root) if not p.startswith("a/b/") and p not in ("a", "a/b")}
        assert not outside, outside
        assert not Path("/tmp/owned").exists()
    finally:
        shutil.rmtree(root)


def allowed(work: Path, *cassettes: Path, outputs: tuple[Path, ...] = (), blobs: Path | None = None) -> None:
    """Only the cassettes' own paths, the outputs and digest-named blob files are in ``work``."""
    own = {f"{c.name}{end}" for c in cassettes for end in ("", "-wal", "-shm", "-journal")}
    own |= {o.name for o in outputs}
    for name in tree(work):
        path = Path(name)
        if blobs is not None and path.parts[0] == blobs.name:
            assert len(path.parts) == 1 or (len(path.parts) == 2 and len(path.name) == 64), name
            continue
        assert name in own or name.startswith("input"), name


def either(operation: Callable[[], object]) -> bool:
    """Run it: True if it did its job, False if it raised CassetteError (anything else fails)."""
    try:
        operation()
    except CassetteError as error:
        assert str(error)  # (SQLite's own text may span lines; the commands print it on one)
        return False
    return True


# -- damaged exports ---------------------------------------------------------------------


def _edit_line(text: str, index: int, key_index: int, value: object) -> str:
    lines = text.splitlines()
    line = json.loads(lines[index % len(lines)])
    keys = sorted(line) + ["media"]
    key = keys[key_index % len(keys)]
    if key == "media" and line.get("media"):
        line["media"][0]["sha256"] = value
    else:
        line[key] = value
    lines[index % len(lines)] = json.dumps(line)
    return "\n".join(lines) + "\n"


DAMAGED_EXPORT = st.one_of(
    st.tuples(st.just("truncate"), st.integers(min_value=0), st.none(), st.none()),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1,
                                        max_size=4), st.none(), st.none()),
    st.tuples(st.just("edit"), st.integers(min_value=0), st.integers(min_value=0), VALUES),
)


def damage_export(text: str, how: tuple) -> bytes:
    kind, a, b, value = how
    data = text.encode()
    if kind == "truncate":
        return data[: a % (len(data) + 1)]
    if kind == "flip":
        flipped = bytearray(data)
        for offset, byte in a:
            flipped[offset % len(flipped)] = byte
        return bytes(flipped)
    return _edit_line(text, a, b, value).encode()


@PROPERTY
@given(how=DAMAGED_EXPORT, into_existing=st.booleans())
def test_a_damaged_export_imports_or_is_refused_and_leaves_no_trace(base, how, into_existing):
    with sandbox() as work:
        export, blobs, target = work / "input.jsonl", work / "blobs", work / "target.db"
        export.write_bytes(damage_export(base["export"], how))
        blobs.mkdir()
        if into_existing:
            target.write_bytes(base["db"])
            before = export_text(target)

        def run() -> None:
            with interop.importing(target) as store:
                interop.import_jsonl(export, store, blobs_dir=blobs)

        if not either(run):
            assert export_text(target) == before if into_existing else not target.exists()
        allowed(work, target, blobs=blobs)


# -- hostile YAML ------------------------------------------------------------------------

GOOD_INTERACTION = {
    "request": {"method": "POST", "uri": "https://api.replicate.com/v1/predictions",
                "headers": {"Content-Type": ["application/json"]}, "body": '{"prompt": "a cat"}'},
    "response": {"status": {"code": 201, "message": "Created"}, "headers": {"Content-Type": ["application/json"]},
                 "body": {"string": '{"id": "p1"}'}},
}
PLACES = [(), ("request",), ("response",), ("request", "method"), ("request", "uri"), ("request", "headers"),
          ("request", "body"), ("response", "status"), ("response", "status", "code"), ("response", "headers"),
          ("response", "body"), ("response", "body", "string")]


def _hostile_doc(place: tuple[str, ...], value: object) -> object:
    interaction = json.loads(json.dumps(GOOD_INTERACTION))
    if not place:
        return {"interactions": [interaction, value]}
    node = interaction
    for key in place[:-1]:
        node = node[key]
    node[place[-1]] = value
    return {"interactions": [interaction]}


@PROPERTY
@given(place=st.sampled_from(PLACES), value=VALUES | st.binary(max_size=64))
def test_a_hostile_vcrpy_yaml_value_imports_or_is_refused(place, value):
    with sandbox() as work:
        source, target = work / "input.yaml", work / "target.db"
        source.write_text(yaml.safe_dump(_hostile_doc(place, value)))

        def run() -> None:
            pairs = interop.load_vcr_yaml(source)
            with interop.importing(target) as store:
                interop.import_vcr_pairs(pairs, store)

        if not either(run):
            assert not target.exists()
        allowed(work, target)


@PROPERTY
@given(cut=st.integers(min_value=0), flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)),
                                                    max_size=4))
def test_a_damaged_vcrpy_yaml_text_imports_or_is_refused(cut, flips):
    good = bytearray(yaml.safe_dump({"interactions": [GOOD_INTERACTION] * 2}).encode())
    for offset, byte in flips:
        good[offset % len(good)] = byte
    with sandbox() as work:
        source, target = work / "input.yaml", work / "target.db"
        source.write_bytes(bytes(good[: cut % (len(good) + 1)]))

        def run() -> None:
            with interop.importing(target) as store:
                interop.import_vcr_yaml(source, store)

        if not either(run):
            assert not target.exists()
        allowed(work, target)


# -- damaged cassette files --------------------------------------------------------------

COLUMNS = {"recordings": ["key", "kind", "provider", "model", "request", "outcome", "response", "error", "timeline",
                          "duration", "seq"],
           "blobs": ["hash", "size", "data", "content_type"], "media": ["hash", "slot", "url", "recording_id"],
           "http_interactions": ["method", "uri", "request", "response", "request_body", "response_body"]}
CELL_VALUES = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=False),
                        st.text(max_size=30), st.binary(max_size=30), HOSTILE_NAMES,
                        VALUES.map(lambda v: json.dumps(v)[:200]))
DAMAGED_FILE = st.one_of(
    st.tuples(st.just("truncate"), st.integers(min_value=0), st.none()),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1,
                                        max_size=8), st.none()),
    st.tuples(st.just("sql"), st.sampled_from([(t, c) for t, cs in COLUMNS.items() for c in cs]), CELL_VALUES),
)


def damage_file(path: Path, data: bytes, how: tuple) -> None:
    kind, a, b = how
    if kind == "truncate":
        path.write_bytes(data[: a % (len(data) + 1)])
    elif kind == "flip":
        flipped = bytearray(data)
        for offset, byte in a:
            flipped[offset % len(flipped)] = byte
        path.write_bytes(bytes(flipped))
    else:
        path.write_bytes(data)
        table, column = a
        conn = sqlite3.connect(path)
        try:
            with conn:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = (SELECT min(rowid) FROM {table})", (b,))
        except sqlite3.IntegrityError:
            pass  # a NOT NULL or unique column refused the edit: the file stays as it was
        finally:
            conn.close()


def _library(path: Path, blobs: Path, output: Path) -> None:
    def opened(use: Callable[[CassetteStore], object]) -> Callable[[], None]:
        def run() -> None:
            store = CassetteStore.open(path, create=False)
            try:
                use(store)
            finally:
                store.close()
        return run

    either(opened(summary))
    either(opened(verify))
    either(opened(lambda store: interop.write_export(store, output, force=True, blobs_dir=blobs)))


@PROPERTY
@given(how=DAMAGED_FILE)
def test_a_damaged_cassette_is_exported_verified_listed_and_shown_or_refused(base, how):
    with sandbox() as work:
        path, blobs, output = work / "input.db", work / "blobs", work / "out.jsonl"
        damage_file(path, base["db"], how)
        blobs.mkdir()
        _library(path, blobs, output)
        runner = CliRunner()
        for args in (["ls", str(path)], ["show", str(path)], ["show", str(path), "--id", "1"],
                     ["export", str(path), str(work / "cli.jsonl"), "--blobs-dir", str(blobs)]):
            result = runner.invoke(main, ["cassette", *args])
            assert result.exit_code in (0, 1) and result.exception is None or isinstance(result.exception, SystemExit), \
                (args, result.output, result.exception)
            assert "Traceback" not in result.output
            if result.exit_code:
                assert result.output.rstrip().splitlines()[-1].startswith("Error:"), result.output
        allowed(work, path, outputs=(output, work / "cli.jsonl"), blobs=blobs)
