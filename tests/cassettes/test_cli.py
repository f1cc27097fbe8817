"""``tarash cassette``: every command through click's CliRunner."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cli import main

from .conftest import config, request

#: Real Replicate traffic, committed (cassettes/README.md); the test writes it out as vcrpy YAML.
REAL_RUN = Path(__file__).resolve().parents[2] / "cassettes" / "replicate-real" / "run.db"


def tarash(*args: str, stdout_only: bool = False) -> tuple[int, str]:
    """Exit code and output (stdout and stderr interleaved, or stdout only)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout if stdout_only else result.output


@pytest.fixture
def recorded(acme, db):
    with use_cassette(db):
        generate_video(config(), request("a cat playing piano"))
        generate_video(config(), request("a dog"))
        try:
            generate_video(config(), request("fail this one"))
        except Exception:
            pass
    return db


def test_every_command_has_help_with_an_example():
    for command in ("ls", "show", "verify", "prune", "import", "export"):
        code, out = tarash("cassette", command, "--help")
        assert code == 0 and "Example:" in out and f"tarash cassette {command}" in out


def test_ls(recorded, tmp_path, monkeypatch):
    code, out = tarash("cassette", "ls", str(tmp_path))
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith(str(recorded)))
    assert line.split()[1:4] == ["3", "1", "0"]
    monkeypatch.chdir(tmp_path)
    code, out = tarash("cassette", "ls")
    assert code == 0 and "cassettes/run.db" in out


def test_show(recorded):
    code, out = tarash("cassette", "show", str(recorded))
    assert code == 0 and "3 recordings (1 error)" in out and "'a cat playing piano'" in out
    code, out = tarash("cassette", "show", str(recorded), "--id", "1")
    detail = json.loads(out)
    assert detail["request"]["request"]["prompt"] == "a cat playing piano"
    assert [e["u"]["status"] for e in detail["timeline"]] == ["queued", "processing"]
    assert detail["media"][0]["slot"] == "video"
    code, out = tarash("cassette", "show", str(recorded), "--id", "99")
    assert code == 1 and "no recording #99" in out


def test_verify_passes_a_sound_file_and_fails_a_damaged_one(recorded, tmp_path):
    assert tarash("cassette", "verify", str(recorded))[0] == 0
    with sqlite3.connect(recorded) as conn:  # bit rot in a stored blob
        conn.execute("UPDATE blobs SET data = zeroblob(size)")
    conn.close()
    code, out = tarash("cassette", "verify", str(recorded))
    assert code == 1 and "holds other bytes than its hash says" in out
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 1000)
    code, out = tarash("cassette", "verify", str(junk))
    assert code == 1 and "DAMAGED" in out and "Error: 1 of 1 cassette damaged" in out


def test_verify_fails_on_damaged_pages(recorded):
    data = bytearray(recorded.read_bytes())
    for offset in range(4096 * 2, len(data), 4096):  # scribble over every page after the first two
        data[offset + 100 : offset + 400] = b"\xff" * 300
    recorded.write_bytes(bytes(data))
    code, out = tarash("cassette", "verify", str(recorded))
    assert code == 1 and "DAMAGED" in out


def test_prune(recorded):
    code, out = tarash("cassette", "prune", str(recorded), "--errors", "--dry-run")
    assert code == 0 and "would delete 1 recording " in out
    code, out = tarash("cassette", "prune", str(recorded), "--model", "m1", "--vacuum")
    assert code == 0 and "deleted 3 recordings and 1 unused blob " in out
    assert tarash("cassette", "ls", str(recorded))[1].splitlines()[1].split()[1] == "0"


def _as_vcrpy_yaml(source: Path, target: Path) -> Path:
    """A committed cassette's HTTP interactions, written by vcrpy's own YAML serializer."""
    from vcr.request import Request
    from vcr.serialize import serialize
    from vcr.serializers import yamlserializer

    from tarash.tarash_gateway.cassettes.persister import decode_interaction
    from tarash.tarash_gateway.cassettes.store import CassetteStore

    store = CassetteStore.open(source, create=False)
    try:
        pairs = [decode_interaction(store, row) for row in store.http_interactions()]
    finally:
        store.close()
    requests = [Request(r["method"], r["uri"], r["body"], {k: v[-1] for k, v in r["headers"].items()}) for r, _ in pairs]
    target.write_text(serialize({"requests": requests, "responses": [res for _, res in pairs]}, yamlserializer))
    return target


def test_import_a_real_vcrpy_cassette_and_replay_it_through_vcrpy(tmp_path):
    import httpx
    import vcr

    from tarash.tarash_gateway.cassettes import SQLitePersister

    replicate = _as_vcrpy_yaml(REAL_RUN, tmp_path / "run.yaml")
    target = tmp_path / "replicate.db"
    code, out = tarash("cassette", "import", str(replicate), str(target))
    assert code == 0 and "imported 13 new HTTP interactions of 13" in out
    assert "imported 0 new" in tarash("cassette", "import", str(replicate), str(target))[1]  # twice adds nothing
    my_vcr = vcr.VCR(record_mode="none")
    my_vcr.register_persister(SQLitePersister)
    with my_vcr.use_cassette(str(target)):
        created = httpx.post("https://api.replicate.com/v1/predictions", json={})
        statuses = [httpx.get(created.json()["urls"]["get"]).json()["status"] for _ in range(11)]
    assert created.status_code == 201 and statuses[0] == "starting" and statuses[-1] == "succeeded"


def test_export_is_sorted_readable_and_imports_back(recorded, tmp_path):
    code, first = tarash("cassette", "export", str(recorded), stdout_only=True)
    assert code == 0
    lines = [json.loads(line) for line in first.splitlines()]
    assert lines[0]["type"] == "cassette"
    assert [line["type"] for line in lines[1:]] == ["blob", "recording", "recording", "recording"]
    assert lines[1]["size"] > 0 and "text" not in lines[1]  # binary media: by hash only
    out, blobs = tmp_path / "run.jsonl", tmp_path / "blobs"
    assert tarash("cassette", "export", str(recorded), str(out), "--blobs-dir", str(blobs))[0] == 0
    copy = tmp_path / "copy.db"
    code, msg = tarash("cassette", "import", str(out), str(copy), "--blobs-dir", str(blobs))
    assert code == 0 and "imported 3 recordings" in msg
    assert tarash("cassette", "export", str(copy), stdout_only=True)[1] == first  # same cassette, same text
    assert tarash("cassette", "verify", str(copy))[0] == 0
    code, msg = tarash("cassette", "import", str(out), str(tmp_path / "other.db"))
    assert code == 1 and "--blobs-dir" in msg


def test_library_errors_become_click_errors(tmp_path):
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version=99")
        conn.execute("PRAGMA application_id=1414677331")
    conn.close()
    code, out = tarash("cassette", "show", str(newer))
    assert code == 1 and out.startswith("Error: cassette") and "newer than this tarash-gateway" in out
    code, out = tarash("cassette", "import", str(tmp_path / "newer.db"), str(tmp_path / "x.db"))
    assert code == 1 and "give a vcrpy .yaml/.yml cassette, a .har file or a .jsonl export" in out
