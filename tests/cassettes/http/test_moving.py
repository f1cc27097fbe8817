"""HTTP exchanges carried by every move of a cassette file: JSONL export and import
(scrubbed, checked), and the `.db` and JSONL three-way (and two-way) merges."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import CassetteStore, interop
from tarash.tarash_gateway.cassettes.merge import merge_cassettes, merge_exports
from tarash.tarash_gateway.cassettes.stand_in import is_stand_in
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError

from .conftest import AppFace
from .provider_server import MEDIA, SIGNATURE

LOCAL = {"http_hosts": ("127.0.0.1",)}
SYNC = AppFace("sync", "httpx")


def _record(db: Path, base: str, prompt: str) -> dict:
    with use_cassette(db, record_mode="new_episodes", **LOCAL):
        return SYNC.run(base, prompt)


def _count(db: Path) -> int:
    store = CassetteStore.open(db, create=False)
    try:
        return store.count_exchanges()
    finally:
        store.close()


def _export(db: Path, out: Path) -> list[dict]:
    result = CliRunner().invoke(main, ["cassette", "export", str(db), str(out), "--embed-blobs", "--force"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    return path


def _import(export: Path, db: Path) -> tuple[int, int]:
    with interop.importing(db) as store:
        return interop.import_jsonl(export, store)


def test_an_export_carries_the_exchanges_and_imports_into_a_file_that_replays_offline(server, tmp_path):
    db, copy = tmp_path / "run.db", tmp_path / "copy.db"
    recorded = _record(db, server.base, "a red fox")
    lines = _export(db, tmp_path / "run.jsonl")
    exchanges = [line for line in lines if line["type"] == "exchange"]
    assert len(exchanges) == _count(db) and {x["role"] for x in exchanges} >= {"call", "poll", "result", "media"}
    assert _import(tmp_path / "run.jsonl", copy) == (0, len(exchanges))
    assert _import(tmp_path / "run.jsonl", copy) == (0, 0)  # importing twice adds nothing
    assert _export(copy, tmp_path / "again.jsonl") == lines  # the same cassette, the same text
    server.stop()
    with use_cassette(copy, record_mode="none"):
        replayed = SYNC.run(server.base, "a red fox")
    signature = parse_qs(urlsplit(replayed["result"]["images"][0]["url"]).query)["sig"][0]
    assert is_stand_in(signature)  # the signature's stand-in, carried by the export as recorded
    assert replayed["result"] == json.loads(json.dumps(recorded["result"]).replace(SIGNATURE, signature))
    assert bytes.fromhex(replayed["media"]) == MEDIA


def test_an_imported_export_is_scrubbed_of_the_secrets_it_holds_and_still_replays(server, tmp_path):
    db, copy = tmp_path / "run.db", tmp_path / "copy.db"
    _record(db, server.base, "a red fox")
    lines = _export(db, tmp_path / "run.jsonl")
    leaked = b'{"status":"COMPLETED","token":"tok-live-5f3a9c2e7d","note":"Bearer sk-proj-abcdefghijklmnop1234"}'
    digest = hashlib.sha256(leaked).hexdigest()
    lines.insert(1, {"type": "blob", "sha256": digest, "size": len(leaked), "text": leaked.decode()})
    for line in lines:
        if line["type"] == "exchange" and line["role"] == "poll" and line["terminal"]:
            line["response_body"] = digest
            line["url"] += "&sig=sig-leaked-0099887766"
            line["request"]["url"] += "&sig=sig-leaked-0099887766"
            line["headers"].append(["Set-Cookie", "session=cookie-secret-1234567"])
    _import(_write(tmp_path / "leaky.jsonl", lines), copy)
    raw = copy.read_bytes()
    for secret in (b"tok-live-5f3a9c2e7d", b"sk-proj-abcdefghijklmnop1234", b"sig-leaked-0099887766",
                   b"cookie-secret-1234567"):
        assert secret not in raw
    server.stop()
    with use_cassette(copy, record_mode="none"):  # the key was made again from the scrubbed request: it matches
        assert SYNC.run(server.base, "a red fox", fetch_media=False)["polls"] == 1


@pytest.mark.parametrize("edit, message", [
    (lambda x: x.update(response_body="../../etc/passwd"), "is not a sha256 digest"),
    (lambda x: x.update(status=1000), "status 1000 is not an HTTP status"),
    (lambda x: x.update(headers={"a": "b"}), "'headers' is missing or not a list"),
    (lambda x: x.update(headers=[["a", 1]]), "not a list of [name, value] text pairs"),
    (lambda x: x.update(response_body="0" * 64), "neither in the lines before it nor in the cassette"),
    (lambda x: x["request"].pop("url"), "'request' lacks its method or URL"),
])
def test_a_malformed_exchange_line_is_a_one_line_error_naming_it_and_adds_nothing(server, tmp_path, edit, message):
    db, copy = tmp_path / "run.db", tmp_path / "copy.db"
    _record(db, server.base, "a red fox")
    lines = _export(db, tmp_path / "run.jsonl")
    number = next(i for i, line in enumerate(lines) if line["type"] == "exchange")
    edit(lines[number])
    with pytest.raises(CassetteError) as caught:
        _import(_write(tmp_path / "bad.jsonl", lines), copy)
    assert f"bad.jsonl:{number + 1}:" in str(caught.value) and message in str(caught.value)
    assert "\n" not in str(caught.value) and not copy.exists()


def _three_sides(server, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A merge's base (one run, "shared") and two sides that each recorded one run more."""
    base, ours, theirs = tmp_path / "base.db", tmp_path / "ours.db", tmp_path / "theirs.db"
    _record(base, server.base, "shared")
    shutil.copy(base, ours)
    shutil.copy(base, theirs)
    _record(ours, server.base, "ours")
    _record(theirs, server.base, "theirs")
    return base, ours, theirs


def test_a_three_way_merge_keeps_both_sides_exchanges_and_what_one_side_deleted_stays_deleted(server, tmp_path):
    base, ours, theirs = _three_sides(server, tmp_path)
    store = CassetteStore.open(theirs, create=True)  # theirs removes the shared run's captured media
    store.delete_exchanges([x["id"] for x in store.exchanges() if x["role"] == "media" and x["seq"] == 1][:1])
    store.close()
    n_base = _count(base)
    new_ours, new_theirs = _count(ours) - n_base, _count(theirs) - (n_base - 1)
    report = merge_cassettes(base, ours, theirs, tmp_path / "merged.db")
    assert (report.exchanges_added, report.exchanges_dropped) == (new_theirs, 1)
    from tarash.tarash_gateway.cli import main

    said = CliRunner().invoke(main, ["cassette", "merge", str(base), str(ours), str(theirs)])  # the same, as git runs it
    assert said.exit_code == 0, said.output
    assert f"; {new_theirs} HTTP exchanges added, 1 removed" in said.output
    assert _count(ours) == n_base - 1 + new_ours + new_theirs
    server.stop()
    with use_cassette(ours, record_mode="none"):
        for prompt in ("ours", "theirs"):
            assert bytes.fromhex(SYNC.run(server.base, prompt)["media"]) == MEDIA
        assert SYNC.run(server.base, "shared", fetch_media=False)["polls"] == 1


def test_a_two_way_merge_of_files_both_sides_added_is_their_union(server, tmp_path):
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    _record(ours, server.base, "ours")
    _record(theirs, server.base, "theirs")
    before = _count(ours) + _count(theirs)
    merge_cassettes(tmp_path / "missing-base.db", ours, theirs)
    assert _count(ours) == before
    server.stop()
    with use_cassette(ours, record_mode="none"):
        assert [SYNC.run(server.base, p, fetch_media=False)["polls"] for p in ("ours", "theirs")] == [1, 1]


def test_merging_exports_carries_the_exchanges_of_both_sides(server, tmp_path):
    base, ours, theirs = _three_sides(server, tmp_path)
    exports = [tmp_path / f"{p.stem}.jsonl" for p in (base, ours, theirs)]
    for db, export in zip((base, ours, theirs), exports, strict=True):
        _export(db, export)
    merge_exports(*exports)
    merge_cassettes(base, ours, theirs)
    assert _export(ours, tmp_path / "merged.jsonl") == [json.loads(line) for line in
                                                        exports[1].read_text().splitlines()]
