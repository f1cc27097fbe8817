"""The committed real cassettes: each one is replayed by a test, carries its notice, and rebuilds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from tarash.tarash_gateway.cassettes.store import CassetteStore
from tests.support.real_cassettes import ROOT

HERE = Path(__file__).parent
SETS = ("real", "replicate-real")
CASSETTES = sorted(path for folder in SETS for path in (ROOT / folder).glob("*.db"))


def test_the_sets_are_committed_whole():
    assert len([p for p in CASSETTES if p.parent.name == "real"]) == 20
    assert len([p for p in CASSETTES if p.parent.name == "replicate-real"]) == 3
    for folder in SETS:
        assert (ROOT / folder / "NOTICE.md").is_file()
        assert sorted(p.name for p in (ROOT / folder / "licenses").glob("*.txt"))


@pytest.mark.parametrize("cassette", CASSETTES, ids=[f"{p.parent.name}/{p.stem}" for p in CASSETTES])
def test_every_cassette_is_replayed_by_a_provider_test_and_named_in_its_notice(cassette):
    sources = "".join(p.read_text(encoding="utf-8") for p in HERE.glob("test_re*.py") if p.name != Path(__file__).name)
    assert f'"{cassette.stem}"' in sources  # the name a test hands to replay()
    notice = (cassette.parent / "NOTICE.md").read_text(encoding="utf-8")
    assert f"{cassette.stem}.yaml" in notice
    store = CassetteStore.open(cassette, create=False)
    try:
        assert store.http_interactions()  # a replayable file, not an empty shell
    finally:
        store.close()


def _build_module():
    spec = importlib.util.spec_from_file_location("build_real_cassettes", ROOT.parent / "tools" / "build_real_cassettes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_the_build_script_imports_each_yaml_and_copies_the_notices(tmp_path):
    source, out = tmp_path / "shared", tmp_path / "cassettes"
    for name in ("real", "replicate-real"):
        (source / name / "licenses").mkdir(parents=True)
        (source / name / "NOTICE.md").write_text(f"# {name}\n")
    (source / "real" / "licenses" / "replicate+replicate-python.txt").write_text("Apache License 2.0\n")
    poll = {"request": {"method": "GET", "uri": "https://api.example.com/v1/p/1", "body": None,
                        "headers": {"Authorization": ["Bearer r8_0123456789abcdef"]}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": '{"s": 1}'}}}
    (source / "real" / "one.yaml").write_text(yaml.safe_dump({"version": 1, "interactions": [poll, poll]}))

    assert _build_module().main(["--source", str(source), "--out", str(out)]) == 0
    first = (out / "real" / "one.db").read_bytes()
    assert _build_module().main(["--source", str(source), "--out", str(out)]) == 0  # rebuilds in place
    assert (out / "real" / "one.db").read_bytes() == first  # the same recordings: the file is left as it was

    store = CassetteStore.open(out / "real" / "one.db", create=False)
    try:
        assert len(store.http_interactions()) == 2  # the repeated poll is kept once per repeat, not doubled
    finally:
        store.close()
    assert b"r8_0123456789abcdef" not in (out / "real" / "one.db").read_bytes()
    assert (out / "real" / "NOTICE.md").read_text() == "# real\n"
    assert (out / "replicate-real" / "licenses" / "replicate+replicate-python.txt").is_file()
    assert sorted(p.name for p in (out / "real").iterdir()) == ["NOTICE.md", "licenses", "one.db"]

    poll["response"]["body"]["string"] = '{"s": 2}'  # a recording that changed is rebuilt
    (source / "real" / "one.yaml").write_text(yaml.safe_dump({"version": 1, "interactions": [poll]}))
    assert _build_module().main(["--source", str(source), "--out", str(out)]) == 0
    store = CassetteStore.open(out / "real" / "one.db", create=False)
    try:
        assert len(store.http_interactions()) == 1
    finally:
        store.close()


def test_the_committed_cassettes_hold_no_secret():
    from tarash.tarash_gateway.cassettes.scan import scan_paths

    report = scan_paths([ROOT])
    assert len(report.files) == len(CASSETTES) + 1  # and demo.db
    assert report.clean, report.summary()
