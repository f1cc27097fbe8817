"""vcrpy YAML import (both of vcrpy's response formats) and the JSONL export's properties."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

from tarash.tarash_gateway.cassettes import interop
from tarash.tarash_gateway.cassettes.persister import decode_interaction
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.exceptions import CassetteError

from .hostile import build_cassette, export_text


def _yaml(tmp_path: Path, interactions: list) -> Path:
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    return path


@pytest.fixture
def store(tmp_path):
    store = CassetteStore.open(tmp_path / "c.db", create=True)
    yield store
    store.close()


REQUEST = {"body": "", "headers": {"authorization": ["Bearer r8_secretsecret"]}, "method": "GET",
           "uri": "https://api.example.com/v1/x?api_key=k-12345678"}


def test_old_httpx_format_with_decoded_text_is_normalised(tmp_path, store):
    old = {"content": '{"status": "ok"}', "headers": {"Content-Encoding": ["gzip"], "Content-Length": ["9"]},
           "http_version": "HTTP/1.1", "status_code": 200}
    assert interop.import_vcr_yaml(_yaml(tmp_path, [{"request": REQUEST, "response": old}]), store) == 1
    request, response = decode_interaction(store, store.http_interactions()[0])
    assert response["status"] == {"code": 200, "message": "OK"}
    assert response["body"]["string"] == b'{"status": "ok"}'
    assert "Content-Encoding" not in response["headers"] and response["headers"]["Content-Length"] == ["16"]
    assert request["headers"]["authorization"] == ["[REDACTED]"] and "k-12345678" not in request["uri"]


def test_todays_format_with_a_gzipped_body_is_kept_as_recorded(tmp_path, store):
    body = gzip.compress(b'{"status": "ok"}', mtime=0)
    new = {"status": {"code": 201, "message": "Created"}, "headers": {"Content-Encoding": ["gzip"]},
           "body": {"string": body}}
    interop.import_vcr_yaml(_yaml(tmp_path, [{"request": REQUEST, "response": new}]), store)
    _, response = decode_interaction(store, store.http_interactions()[0])
    assert response["body"]["string"] == body and response["status"]["code"] == 201


def test_a_file_that_is_not_a_vcrpy_cassette_is_refused(tmp_path, store):
    (tmp_path / "x.yaml").write_text("just: text\n")
    with pytest.raises(CassetteError, match="no 'interactions' list"):
        interop.import_vcr_yaml(tmp_path / "x.yaml", store)
    (tmp_path / "y.yaml").write_text("interactions: [{request: {}}]\n")
    with pytest.raises(CassetteError, match="interaction 1 is malformed"):
        interop.import_vcr_yaml(tmp_path / "y.yaml", store)


def test_repeated_polls_keep_their_order_through_export_and_import(tmp_path, store):
    statuses = ["starting", "processing", "processing", "succeeded"]
    interactions = [{"request": {**REQUEST, "uri": "https://api.example.com/v1/p/1"}, "response": {
        "status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": json.dumps({"s": s})}}}
        for s in statuses]
    interop.import_vcr_yaml(_yaml(tmp_path, interactions), store)
    export = tmp_path / "e.jsonl"
    with export.open("w") as out:
        interop.export_jsonl(store, out)
    copy = CassetteStore.open(tmp_path / "copy.db", create=True)
    try:
        assert interop.import_jsonl(export, copy) == (0, 4)
        bodies = [json.loads(decode_interaction(copy, row)[1]["body"]["string"])["s"] for row in copy.http_interactions()]
        assert bodies == statuses
        assert interop.import_jsonl(export, copy) == (0, 0)  # importing twice adds nothing
        assert interop.import_jsonl(export, store) == (0, 0)  # nor into the cassette it came from
    finally:
        copy.close()


def test_an_edited_export_is_refused(tmp_path, store):
    interop.import_vcr_yaml(_yaml(tmp_path, [{"request": REQUEST, "response": {
        "status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "hello"}}}]), store)
    export = tmp_path / "e.jsonl"
    with export.open("w") as out:
        interop.export_jsonl(store, out)
    export.write_text(export.read_text().replace('"text":"hello"', '"text":"HELLO"'))
    copy = CassetteStore.open(tmp_path / "copy.db", create=True)
    try:
        with pytest.raises(CassetteError, match="does not hold the bytes its hash says"):
            interop.import_jsonl(export, copy)
    finally:
        copy.close()


def test_an_export_line_missing_a_field_names_the_line(tmp_path, store):
    export = tmp_path / "bad.jsonl"
    export.write_text(
        json.dumps({"format": interop.FORMAT, "schema_version": 1, "type": "cassette"}) + "\n"
        + json.dumps({"type": "recording", "kind": "video"}) + "\n"
    )
    with pytest.raises(CassetteError, match=r"bad.jsonl:2: a recording line lacks or mangles a field"):
        interop.import_jsonl(export, store)


def test_merging_two_cassettes_keeps_different_recordings_of_the_same_request(tmp_path, acme):
    from tarash.tarash_gateway import generate_video, use_cassette

    from .conftest import config, request

    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for path in (first, second):
        with use_cassette(path):
            generate_video(config(), request())  # same request, a different answer (acme-1, acme-2)
    export = tmp_path / "b.jsonl"
    source = CassetteStore.open(second, create=False)
    try:
        with export.open("w") as out:
            interop.export_jsonl(source, out, embed_blobs=True)
    finally:
        source.close()
    target = CassetteStore.open(first, create=False)
    try:
        assert interop.import_jsonl(export, target) == (1, 0)
        assert interop.import_jsonl(export, target) == (0, 0)  # and importing it again adds nothing
        rows = target.query("SELECT response FROM recordings ORDER BY seq")
        assert [json.loads(r["response"])["request_id"] for r in rows] == ["acme-1", "acme-2"]
    finally:
        target.close()


def test_importing_its_own_export_into_a_cassette_adds_nothing(tmp_path, acme):
    from tarash.tarash_gateway import generate_video, use_cassette
    from tarash.tarash_gateway.exceptions import RecordingNotFoundError

    from .conftest import config, request

    db, export = tmp_path / "a.db", tmp_path / "a.jsonl"
    with use_cassette(db):
        for prompt in ("alpha", "beta", "fail gamma"):
            try:
                generate_video(config(), request(prompt))  # progress timelines, media, an error
            except Exception:  # noqa: BLE001 - the recorded error
                pass
    store = CassetteStore.open(db, create=True)
    try:
        with export.open("w") as out:
            interop.export_jsonl(store, out, embed_blobs=True)
        assert interop.import_jsonl(export, store) == (0, 0)  # the export sorts keys; the content is the same
        assert store.count_recordings() == 3
    finally:
        store.close()
    with use_cassette(db, record_mode="none"):
        generate_video(config(), request("alpha"))
        with pytest.raises(RecordingNotFoundError):
            generate_video(config(), request("alpha"))  # recorded once, so replayed once


def test_export_size_counts_every_line_after_the_header_of_a_file(tmp_path):
    path = build_cassette(tmp_path / "built.db")
    store = CassetteStore.open(path, create=False)
    try:
        assert store.count_http_interactions() == 2
        assert interop.export_size(store) == len(export_text(path).splitlines()) - 1
    finally:
        store.close()
