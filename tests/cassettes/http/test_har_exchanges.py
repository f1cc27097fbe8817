"""HAR export of a cassette the HTTP level recorded: one entry per exchange, as stored,
structurally HAR 1.2, importable again; a damaged exchange is one clear error."""

from __future__ import annotations

import base64
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import CassetteStore, har
from tarash.tarash_gateway.cassettes.stand_in import is_stand_in
from tarash.tarash_gateway.cassettes.store import BlobSource
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError

from .conftest import AppFace
from .provider_server import API_KEY, MEDIA, POLLS, SIGNATURE, ProviderServer

LOCAL = {"http_hosts": ("127.0.0.1",)}

# What HAR 1.2 requires of each object (http://www.softwareishard.com/blog/har-12-spec/), with its type
_REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "log": {"version": str, "creator": dict, "entries": list},
    "creator": {"name": str, "version": str},
    "entry": {"startedDateTime": str, "time": (int, float), "request": dict, "response": dict, "cache": dict,
              "timings": dict},
    "request": {"method": str, "url": str, "httpVersion": str, "cookies": list, "headers": list, "queryString": list,
                "headersSize": int, "bodySize": int},
    "response": {"status": int, "statusText": str, "httpVersion": str, "cookies": list, "headers": list,
                 "content": dict, "redirectURL": str, "headersSize": int, "bodySize": int},
    "content": {"size": int, "mimeType": str},
    "postData": {"mimeType": str},
    "timings": {"send": (int, float), "wait": (int, float), "receive": (int, float)},
    "pair": {"name": str, "value": str},
}


def har_problems(data: Any) -> list[str]:
    """What keeps `data` from being a HAR 1.2 log: each required key missing or mistyped."""
    problems: list[str] = []

    def check(obj: Any, kind: str, where: str) -> None:
        if not isinstance(obj, dict):
            problems.append(f"{where} is not an object")
            return
        for name, expected in _REQUIRED[kind].items():
            if not isinstance(obj.get(name), expected) or isinstance(obj.get(name), bool):
                problems.append(f"{where}.{name} is {obj.get(name)!r}")

    log = data.get("log") if isinstance(data, dict) else None
    check(log, "log", "log")
    if problems or log["version"] != "1.2":
        return problems + ["not a version 1.2 log"]
    check(log.get("creator"), "creator", "log.creator")
    for n, entry in enumerate(log.get("entries") or []):
        where, before = f"entries[{n}]", len(problems)
        check(entry, "entry", where)
        if len(problems) > before:
            continue  # nothing further to look into
        check(entry.get("request"), "request", f"{where}.request")
        check(entry.get("response"), "response", f"{where}.response")
        check(entry.get("timings"), "timings", f"{where}.timings")
        check(entry["response"].get("content"), "content", f"{where}.response.content")
        if len(problems) > before:
            continue
        if "postData" in entry["request"]:
            check(entry["request"]["postData"], "postData", f"{where}.request.postData")
        for part in ("request", "response"):
            for item in entry[part]["headers"] + entry[part].get("queryString", []):
                check(item, "pair", f"{where}.{part}.headers[]")
    return problems


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def recorded(server: ProviderServer, db: Path) -> Path:
    """A cassette holding one job flow the app made with plain httpx clients: submit, polls, result, media."""
    with use_cassette(db, **LOCAL):
        outcome = AppFace("sync", "httpx").run(server.base)
    assert outcome["polls"] == POLLS
    return db


def exported(cassette: Path) -> dict[str, Any]:
    store = CassetteStore.open(cassette, create=False)
    try:
        out = io.StringIO()
        count = har.export_har(store, out)
        rows = store.count_http_interactions() + store.count_exchanges()
    finally:
        store.close()
    data = json.loads(out.getvalue())
    assert count == len(data["log"]["entries"]) == rows
    return data


def test_each_exchange_is_one_entry_in_recorded_order_with_its_method_url_and_status(recorded, server):
    entries = exported(recorded)["log"]["entries"]
    flow = [(e["request"]["method"], e["request"]["url"].split("?")[0].removeprefix(server.base), e["response"]["status"])
            for e in entries]
    job = json.loads(entries[0]["response"]["content"]["text"])["request_id"]
    root = f"/fal-ai/flux/requests/{job}"
    polls = [("GET", f"{root}/status", 202)] * (POLLS - 1) + [("GET", f"{root}/status", 200)]
    assert flow[: POLLS + 2] == [("POST", "/fal-ai/flux/dev", 200), *polls, ("GET", root, 200)]
    assert set(flow[POLLS + 2 :]) == {("GET", f"/files/{job}.png", 200)}  # the app's download and the capture's
    started = [e["startedDateTime"] for e in entries]
    assert started == sorted(started) and all(s.endswith("+00:00") for s in started)
    assert entries[1]["request"]["queryString"] == [{"name": "logs", "value": "1"}]


def test_bodies_are_what_the_provider_sent_as_stored_json_requests_and_binary_media_as_base64(recorded):
    entries = exported(recorded)["log"]["entries"]
    submit, first_poll, result, media = entries[0], entries[1], entries[POLLS + 1], entries[-1]
    post = submit["request"]["postData"]
    assert post["mimeType"] == "application/json" and "_encoding" not in post
    assert json.loads(post["text"]) == {"prompt": "a red fox", "num_images": 1}
    assert submit["request"]["bodySize"] == len(post["text"].encode())
    # exactly the bytes the provider server wrote (nothing in them to scrub)
    assert first_poll["response"]["content"]["text"] == json.dumps({"status": "IN_PROGRESS", "logs": [{"message": "step 1"}]})
    assert "postData" not in first_poll["request"]
    assert json.loads(submit["response"]["content"]["text"])["echo"] == "[REDACTED]"  # scrubbed as stored
    signature = result["response"]["content"]["text"].split("sig=")[1].split('"')[0]
    assert is_stand_in(signature) and signature != SIGNATURE  # the signed URL's stand-in, as stored
    content = media["response"]["content"]
    assert content["encoding"] == "base64" and base64.b64decode(content["text"]) == MEDIA
    assert content["mimeType"] == "image/png" and content["size"] == media["response"]["bodySize"] == len(MEDIA)
    text = json.dumps(entries)
    assert API_KEY not in text and SIGNATURE not in text


def test_response_headers_are_name_value_pairs_and_request_headers_are_not_invented(recorded):
    store = CassetteStore.open(recorded, create=False)
    try:
        stored = [json.loads(row["headers"]) for row in sorted(store.exchanges(), key=lambda r: r["recorded_ts"])]
    finally:
        store.close()
    entries = exported(recorded)["log"]["entries"]
    assert [[[h["name"], h["value"]] for h in e["response"]["headers"]] for e in entries] == stored
    assert {"name": "x-request-id", "value": "req-abc"} in entries[0]["response"]["headers"]
    assert all(e["request"]["headers"] == [] for e in entries)  # the HTTP level keeps none (they carry the key)
    assert all(e["response"]["statusText"] == "" for e in entries)


def test_the_exported_log_is_structurally_har_1_2(recorded):
    data = exported(recorded)
    assert len(data["log"]["entries"]) >= POLLS + 3
    assert har_problems(data) == []
    assert har_problems({"log": {"version": "1.2", "creator": {}, "entries": [{}]}})  # the check can fail


def test_imported_interactions_come_first_then_the_exchanges(recorded, tmp_path):
    entry = {"startedDateTime": "2025-03-01T10:00:00.000Z", "time": 1, "cache": {}, "timings": {},
             "request": {"method": "GET", "url": "https://api.example.com/v1/ping", "headers": []},
             "response": {"status": 200, "statusText": "OK", "headers": [], "content": {"text": "pong"}}}
    source = tmp_path / "browser.har"
    source.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}), encoding="utf-8")
    store = CassetteStore.open(recorded, create=False)
    try:
        assert har.import_har(source, store) == 1
        exchanges = store.count_exchanges()
    finally:
        store.close()
    entries = exported(recorded)["log"]["entries"]
    assert len(entries) == 1 + exchanges
    assert entries[0]["request"]["url"] == "https://api.example.com/v1/ping"
    assert entries[1]["request"]["method"] == "POST"


def test_the_cli_exports_the_exchanges_and_counts_the_entries_it_wrote(recorded, tmp_path):
    output = tmp_path / "run.har"
    done = invoke("cassette", "export", str(recorded), str(output))
    assert done.exit_code == 0, done.output
    entries = json.loads(output.read_text(encoding="utf-8"))["log"]["entries"]
    assert done.stdout == f"exported {len(entries)} entries from {recorded} to {output} as HAR 1.2\n"
    printed = invoke("cassette", "export", str(recorded), "--format", "har")
    assert printed.exit_code == 0 and json.loads(printed.stdout)["log"]["entries"] == entries


def test_an_exported_har_of_exchanges_imports_into_a_fresh_file_with_as_many_entries(recorded, tmp_path):
    output, fresh = tmp_path / "run.har", tmp_path / "fresh" / "run.db"
    assert invoke("cassette", "export", str(recorded), str(output)).exit_code == 0
    count = len(json.loads(output.read_text(encoding="utf-8"))["log"]["entries"])
    imported = invoke("cassette", "import", str(output), str(fresh))
    assert imported.exit_code == 0, imported.output
    store = CassetteStore.open(fresh, create=False)
    try:
        assert store.count_http_interactions() == count
        media = [r for r in store.http_interactions() if "/files/" in r["uri"]]
        assert media and all(store.read_blob(r["response_body"]) == MEDIA for r in media)
    finally:
        store.close()


@pytest.mark.parametrize("damage, message", [
    ("UPDATE http_exchanges SET headers = 'not json' WHERE id = {id}", "headers or request are not valid JSON"),
    ("UPDATE http_exchanges SET request_body = 'abc' WHERE id = {id}", "is not a sha256 digest"),
    ("DELETE FROM blobs WHERE hash = (SELECT response_body FROM http_exchanges WHERE id = {id})", "lacks blob"),
    ("UPDATE blobs SET data = CAST('other bytes' AS BLOB) "
     "WHERE hash = (SELECT response_body FROM http_exchanges WHERE id = {id})", "does not hold the bytes its hash says"),
], ids=["headers not JSON", "bad digest", "missing blob", "altered blob"])
def test_a_damaged_exchange_is_one_error_line_naming_it_and_writes_no_har(recorded, tmp_path, damage, message):
    with sqlite3.connect(recorded) as conn:
        target = conn.execute("SELECT id FROM http_exchanges WHERE method = 'POST'").fetchone()[0]
        conn.execute(damage.format(id=target))
    conn.close()
    output = tmp_path / "run.har"
    result = invoke("cassette", "export", str(recorded), str(output))
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 1 and result.stderr.splitlines() == errors and len(errors) == 1, result.output
    assert f"HTTP exchange #{target}" in errors[0]
    assert not list(tmp_path.glob("*.har*"))  # nor a temporary file
    store = CassetteStore.open(recorded, create=False)
    try:
        with pytest.raises(CassetteError, match=message):
            har.export_har(store, io.StringIO())
    finally:
        store.close()


def _add(store: CassetteStore, key: str, *, request: str = '{"body":null}', body: bytes | None = None,
         recorded_ts: float = 1767312000.0) -> None:
    blobs = [BlobSource.of(body)] if body else []
    store.add_exchange({"key": key, "method": "POST" if body else "GET", "url": f"https://api.example.com/{key}",
                        "host": "api.example.com", "path": f"/{key}", "request": request, "status": 200,
                        "headers": '[["content-type","application/json"]]',
                        "request_body": blobs[0].hash if blobs else None, "response_body": None,
                        "provider": "example", "role": "submit", "terminal": 0,
                        "recorded_at": "2026-01-02T00:00:00.000+00:00", "recorded_ts": recorded_ts}, blobs)


def test_exchanges_recorded_at_the_same_moment_are_ordered_by_key_and_seq_not_by_id(tmp_path):
    cassette = tmp_path / "ties.db"
    store = CassetteStore.open(cassette, create=True)
    try:
        for key in ("c", "a", "b", "a"):  # ids 1..4: the order a pull would not keep
            _add(store, key)
        _add(store, "z", recorded_ts=1767311999.5)  # earlier, though written last
    finally:
        store.close()
    urls = [e["request"]["url"].rsplit("/", 1)[1] for e in exported(cassette)["log"]["entries"]]
    assert urls == ["z", "a", "a", "b", "c"]


def test_a_multipart_request_body_keeps_its_boundary_in_the_mime_type(tmp_path):
    cassette = tmp_path / "upload.db"
    body = b'--XyZ\r\nContent-Disposition: form-data; name="prompt"\r\n\r\na cat\r\n--XyZ--\r\n'
    store = CassetteStore.open(cassette, create=True)
    try:
        _add(store, "upload", request='{"body":{"multipart":[]},"method":"POST","url":"https://api.example.com/upload"}',
             body=body)
        _add(store, "form", request='{"body":{"form":[["n","2"]]},"method":"POST","url":"https://api.example.com/form"}',
             body=b"n=2")
    finally:
        store.close()
    posts = [e["request"]["postData"] for e in exported(cassette)["log"]["entries"]]
    assert posts == [{"mimeType": "application/x-www-form-urlencoded", "text": "n=2"},
                     {"mimeType": "multipart/form-data; boundary=XyZ", "text": body.decode()}]
