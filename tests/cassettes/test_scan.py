"""``tarash cassette scan``: secrets left in cassettes, exports, vcrpy YAML and HAR files are named."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import sqlite3
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes.scan import scan_paths
from tarash.tarash_gateway.cassettes.scan_rules import scan_text, scan_value
from tarash.tarash_gateway.cli import main

from .conftest import config, request
from .test_scrub import KEYS

ROOT = Path(__file__).resolve().parents[2]
SIGNED = {
    "X-Amz-Signature": "https://b.s3.amazonaws.com/o.mp4?X-Amz-Signature=c0ffee42c0ffee42&X-Amz-Date=20260101",
    "X-Goog-Signature": "https://storage.googleapis.com/b/o.png?X-Goog-Signature=5eed0fdeadbeef01&w=1",
    "sig": "https://acct.blob.core.windows.net/c/v.mp4?sv=2022-11-02&sp=r&sig=AbC%2BdEf%3D0123",
    "Signature": "https://d1.cloudfront.net/v.mp4?Expires=1700000000&Signature=Ab~cD-eF_gH12&Key-Pair-Id=APKA1",
    "_jwt": "https://dnznrvs05pmza.cloudfront.net/o.mp4?_jwt=opaque-token-0123456789",
    "hdnts": "https://x.akamaized.net/v.mp4?hdnts=exp=1700000000~acl=/*~hmac=9f8e7d6c5b4a",
}


def tarash(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["cassette", "scan", *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def cassette(acme, db):
    """A cassette recorded through the gateway, with secrets in its call: clean on disk."""
    acme.video = "https://cdn.test/o.mp4?X-Amz-Signature=live-sig-0123456789&w=1"
    with use_cassette(db, capture_media=False):
        generate_video(config(api_key=KEYS["OpenAI"], provider_config={"auth": {"token": KEYS["xAI"]}}), request())
    return db


def test_a_scrubbed_cassette_is_clean_with_a_one_line_summary(cassette):
    code, out = tarash(str(cassette))
    assert code == 0, out
    assert out.strip().splitlines() == ["scanned 1 file: no secrets found"]


@pytest.mark.parametrize("shape", sorted(KEYS))
def test_each_provider_key_format_is_named_with_its_place(cassette, shape):
    with sqlite3.connect(cassette) as conn:
        row = conn.execute("SELECT id, response FROM recordings").fetchone()
        response = json.loads(row[1])
        response["raw_response"]["echo"] = f"the key {KEYS[shape]} was refused"
        conn.execute("UPDATE recordings SET response = ? WHERE id = ?", (json.dumps(response), row[0]))
    conn.close()
    code, out = tarash(str(cassette))
    assert code == 1
    assert f"{cassette}: recordings #{row[0]}: response.raw_response.echo: " in out
    assert KEYS[shape] not in out  # the report shows only the first characters
    assert "1 secret found in 1 file" in out


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_unredacted_signed_url_parameters_are_named(cassette, name):
    with sqlite3.connect(cassette) as conn:
        conn.execute("DELETE FROM media")
        conn.execute("INSERT INTO media (rowid, recording_id, slot, url, hash, content_type) "
                     "VALUES (1, 1, 'video', ?, ?, 'video/mp4')", (SIGNED[name], "0" * 64))
    conn.close()
    code, out = tarash(str(cassette))
    assert code == 1 and f"media rowid 1: url: secret parameter {name} " in out, out


def test_authorization_headers_userinfo_and_random_values_under_secret_names(tmp_path):
    yaml_path = tmp_path / "cassettes" / "http.yaml"
    yaml_path.parent.mkdir()
    yaml_path.write_text(yaml.safe_dump({"interactions": [{
        "request": {"uri": "https://admin:hunter2-pw@api.test/v1", "method": "GET", "body": None,
                    "headers": {"Authorization": ["Bearer abc123def"], "X-Custom-Token": ["Zq8Wm3Kp7Lr2Tb9N"],
                                "Accept": ["application/json"]}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {},
                     "body": {"string": '{"client_secret": "Hd1Fs6Gj0Ay5Ue3I", "tokens": 12}'}},
    }]}))
    code, out = tarash(str(yaml_path))
    assert code == 1
    lines = out.splitlines()
    assert any(re.search(r"http\.yaml: line \d+: interactions\[0\]\.request\.uri: password in a URL", x) for x in lines)
    assert any("request.headers.Authorization[0]: Authorization header with a real value" in x for x in lines)
    assert any("request.headers.X-Custom-Token[0]: random-looking value under 'X-Custom-Token'" in x for x in lines)
    assert any("response.body.string.client_secret: random-looking value" in x for x in lines)
    assert "3 secrets" not in out and "4 secrets found" in out


@pytest.mark.parametrize("value", [
    {"Authorization": ["<AUTHORIZATION>"], "X-Goog-Api-Key": ["<GEMINI_API_KEY>"], "api-key": ["Sanitized"]},
    {"Authorization": "Bearer [REDACTED]", "token": "[REDACTED]", "cookie": ["DUMMY_COOKIE"], "password": "****"},
    {"key": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "hash": "9f86d08188" * 6,
     "max_tokens": "4096", "keyframes": ["Zq8Wm3Kp7Lr2Tb9N"], "seed": "8675309", "prompt": "a sk-etch of key art"},
    {"uri": "https://api.test/v1?X-Amz-Signature=[REDACTED]&sig=%5BREDACTED%5D&w=1&key_frame=3"},
    {"video": "https://[REDACTED]:[REDACTED]@cdn.test/o.mp4", "mail": "bob@example.com"},
])
def test_placeholders_redactions_and_ordinary_fields_are_clean(value):
    assert list(scan_value(value)) == []


def test_jwts_need_a_header_that_names_its_alg():
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    assert [kind for kind, _ in scan_text(f"t={header}.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig-part")] == ["JWT"]
    fake = base64.urlsafe_b64encode(b'{"typ":"not-a-jwt"}').decode().rstrip("=")
    assert list(scan_text(f"t={fake}.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig-part")) == []


def test_text_blobs_are_streamed_and_scanned_across_chunks_while_media_is_skipped(cassette):
    big = bytearray(b"lorem ipsum " * (3 << 18))
    key = b" " + KEYS["Replicate"].encode() + b" "
    big[(1 << 20) - 10:(1 << 20) - 10 + len(key)] = key  # across the first chunk boundary
    gz = gzip.compress(json.dumps({"detail": "bad key " + KEYS["Google"]}).encode())
    media = b"\x00\x00\x00\x18ftypmp42" + KEYS["fal"].encode() + bytes(range(256))
    with sqlite3.connect(cassette) as conn:
        for data, ctype in ((bytes(big), "text/plain"), (gz, "application/json"), (media, "video/mp4")):
            conn.execute("INSERT INTO blobs (hash, size, content_type, data) VALUES (?, ?, ?, ?)",
                         (hashlib.sha256(data).hexdigest(), len(data), ctype, data))
        conn.execute("INSERT INTO http_interactions (fingerprint, method, uri, request, response, request_body, "
                     "response_body, recorded_at) VALUES ('f#1', 'GET', 'https://api.test/', '{}', '{}', NULL, ?, '')",
                     (hashlib.sha256(gz).hexdigest(),))
    conn.close()
    code, out = tarash(str(cassette))
    assert code == 1
    found = [line for line in out.splitlines() if ": blobs " in line]
    assert len(found) == 2, out
    assert any(f"blobs {hashlib.sha256(bytes(big)).hexdigest()}: data: Replicate token" in x for x in found)
    assert any(f"blobs {hashlib.sha256(gz).hexdigest()} (response body of http_interactions #1): data: Google API key"
               in x for x in found)


def test_jsonl_exports_and_har_files_name_their_lines_and_fields(cassette, tmp_path):
    export = tmp_path / "run.jsonl"
    assert CliRunner().invoke(main, ["cassette", "export", str(cassette), str(export)]).exit_code == 0
    assert tarash(str(export))[0] == 0
    lines = export.read_text().splitlines()
    lines.append(json.dumps({"type": "blob", "sha256": "0" * 64, "content_type": "text/plain",
                             "base64": base64.b64encode(f"leak {KEYS['Runway']}".encode()).decode()}))
    export.write_text("\n".join(lines) + "\n")
    code, out = tarash(str(export))
    assert code == 1 and f"run.jsonl: line {len(lines)}: base64: Runway key" in out

    har = tmp_path / "session.har"
    har.write_text(json.dumps({"log": {"entries": [{
        "request": {"url": SIGNED["X-Goog-Signature"], "headers": [{"name": "x-api-key", "value": "Zq8Wm3Kp7Lr2Tb9N"}],
                    "queryString": [{"name": "key", "value": KEYS["Google"]}]},
        "response": {"content": {"mimeType": "application/json", "text": json.dumps({"id_token": KEYS["JWT"]})}},
    }]}}))
    code, out = tarash(str(har), "--json")
    report = json.loads(out)
    assert code == 1 and not report["clean"]
    fields = sorted((f["field"], f["kind"]) for f in report["findings"])
    assert fields == [
        ("log.entries[0].request.headers[0][x-api-key]", "random-looking value under 'x-api-key'"),
        ("log.entries[0].request.queryString[0][key]", "Google API key"),
        ("log.entries[0].request.url", "secret parameter X-Goog-Signature"),
        ("log.entries[0].response.content.text.id_token", "JWT"),
    ]
    assert all(KEYS["Google"] not in f["preview"] for f in report["findings"])


def test_directories_are_searched_and_unreadable_files_exit_2(cassette, tmp_path):
    (tmp_path / "cassettes" / "notes.txt").write_text(KEYS["OpenAI"])  # not a cassette-like file: not searched
    report = scan_paths([tmp_path])
    assert report.files == [str(cassette)] and report.clean
    broken = tmp_path / "cassettes" / "broken.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    code, out = tarash(str(tmp_path))
    assert code == 2
    assert f"Error: {broken}: cannot be scanned (" in out and "Traceback" not in out
    assert out.strip().splitlines()[-1] == "scanned 2 files: 1 file could not be read"


def test_a_yaml_alias_bomb_is_walked_once(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    layers = ["a0: &a0 [" + ", ".join(["'x'"] * 10) + "]"]
    layers += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    bomb.write_text("\n".join(layers) + f"\nleak: {KEYS['xAI']}\n")
    started = time.perf_counter()
    code, out = tarash(str(bomb))
    assert code == 1 and "leak: xAI key" in out
    assert time.perf_counter() - started < 5  # 10**9 strings if each alias were walked


def test_the_pre_commit_hook_runs_this_command_on_cassette_files():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "tarash-cassette-scan")
    assert hook["language"] == "python" and hook["entry"] == "tarash cassette scan"
    files = re.compile(hook["files"])
    for path in ("cassettes/run.db", "tests/cassettes/http.yaml", "cassettes/x/run.jsonl", "cassettes/s.har",
                 "cassettes/old.yml"):
        assert files.search(path), path
    for path in ("src/tarash/cassettes.py", "mkdocs.yml", "cassettes/README.md", "run.db"):
        assert not files.search(path), path
    assert CliRunner().invoke(main, hook["entry"].split()[1:] + ["--help"]).exit_code == 0


def test_pages_left_in_a_wal_file_are_searched_too(cassette):
    wal = cassette.with_name(cassette.name + "-wal")
    assert not wal.exists()  # a closed cassette is one self-contained file
    conn = sqlite3.connect(cassette)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("INSERT INTO blobs (hash, size, content_type, data) VALUES (?, 5, 'text/plain', ?)",
                 ("1" * 64, f"leak {KEYS['xAI']}".encode()))
    conn.commit()
    try:
        assert wal.stat().st_size > 0
        code, out = tarash(str(cassette))
        assert code == 1
        assert f"{wal}: raw pages: xAI key" in out
        code, out = tarash(str(wal))
        assert code == 1 and f"{wal}: raw pages: xAI key" in out
    finally:
        conn.close()


def test_binary_yaml_bodies_are_decoded_and_their_json_fields_named(tmp_path):
    body = json.dumps({"data": [{"url": SIGNED["sig"]}]}, indent=2).encode()
    zipped = gzip.compress(json.dumps({"detail": f"key {KEYS['Google']}"}).encode())
    path = tmp_path / "vcr.yaml"
    path.write_text(yaml.dump({"interactions": [
        {"request": {"uri": "https://api.test/a", "body": None, "headers": {}},
         "response": {"body": {"string": body}}},
        {"request": {"uri": "https://api.test/b", "body": None, "headers": {}},
         "response": {"body": {"string": zipped}}},
    ]}))
    assert "!!binary" in path.read_text()
    code, out = tarash(str(path))
    assert code == 1
    assert "interactions[0].response.body.string.data[0].url: secret parameter sig" in out
    assert "interactions[1].response.body.string: Google API key" in out
