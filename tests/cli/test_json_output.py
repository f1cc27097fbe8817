"""`--json` on `ls`, `show`, `verify` and `summary`: one JSON document on stdout in the
documented shape, nothing else there; errors still one line on stderr with exit 1. And
`show` lists HTTP exchanges and imported interactions beside the recordings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tarash.tarash_gateway.cassettes.store import BlobSource, CassetteStore
from tarash.tarash_gateway.cli import main
from tests.cassettes.hostile import build_cassette

SUMMARY_KEYS = {"cassette", "recordings", "errors", "http_interactions", "http_exchanges", "blobs", "blob_bytes",
                "first_recorded", "last_recorded", "by_model", "stored_bytes", "schema_version"}


def with_exchange(path: Path) -> Path:
    """`build_cassette` plus one HTTP-level exchange (a vendor SDK's call)."""
    build_cassette(path)
    body = BlobSource.of(b'{"id": "img-1"}', "application/json")
    store = CassetteStore.open(path, create=True)
    try:
        store.add_exchange({"key": "x-1", "method": "POST", "url": "https://api.openai.com/v1/images/generations",
                            "host": "api.openai.com", "path": "/v1/images/generations", "request": "{}",
                            "status": 200, "headers": "[]", "response_body": body.hash, "provider": "openai",
                            "role": "submit", "terminal": 1, "recorded_at": "2026-01-02T00:00:00+00:00",
                            "recorded_ts": 1767312000.0}, [body])
    finally:
        store.close()
    return path


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return with_exchange(tmp_path / "run.db")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def test_ls_json_is_one_document_with_each_cassettes_summary(cassette, tmp_path):
    (tmp_path / "junk.db").write_bytes(b"not sqlite" * 100)
    code, out, err = run("cassette", "ls", str(tmp_path), "--json")
    data = json.loads(out)
    good, junk = sorted(data["cassettes"], key=lambda c: c["cassette"])[::-1]
    assert set(good) == SUMMARY_KEYS and good["recordings"] == 2 and good["errors"] == 1
    assert good["http_interactions"] == 2 and good["http_exchanges"] == 1 and good["stored_bytes"] > 0
    assert good["by_model"] == [{"provider": "fal", "model": "fal-ai/veo3.1", "recordings": 2}]
    assert set(junk) == {"cassette", "error"} and "junk.db" in junk["error"]
    assert code == 1 and err == "Error: 1 of 2 cassettes cannot be read\n"


def test_show_json_lists_recordings_http_exchanges_and_imported_interactions(cassette):
    code, out, err = run("cassette", "show", str(cassette), "--json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert set(data) == {"summary", "recordings", "http_exchanges", "http_interactions"}
    assert set(data["summary"]) == SUMMARY_KEYS
    assert [r["prompt"] for r in data["recordings"]] == ["a cat playing piano", "a dog"]
    assert set(data["recordings"][0]) == {"id", "seq", "kind", "provider", "model", "outcome", "duration", "updates",
                                          "prompt", "recorded_at"}
    assert data["recordings"][0]["updates"] == 2 and data["recordings"][0]["recorded_at"].startswith("2026-01-01")
    [exchange] = data["http_exchanges"]
    assert exchange["url"] == "https://api.openai.com/v1/images/generations" and exchange["status"] == 200
    assert [(h["method"], h["status"]) for h in data["http_interactions"]] == [("POST", 200), ("GET", 200)]


def test_show_prints_the_http_exchanges_and_imported_interactions_as_tables(cassette):
    code, out, _ = run("cassette", "show", str(cassette))
    assert code == 0
    assert out.splitlines()[0].startswith(f"{cassette}: 2 recordings (1 error), 1 HTTP exchange, "
                                          "2 imported HTTP interactions, 6 blobs (")
    assert any(line.startswith("#1") and "api.openai.com/v1/images/generations" in line and " 200 " in line
               for line in out.splitlines())
    assert any("https://queue.fal.run/fal-ai/veo3.1/requests/r-1" in line for line in out.splitlines())
    header, first = out.splitlines()[2], out.splitlines()[3]
    assert header.split()[:7] == ["id", "kind", "model", "seq", "outcome", "duration", "updates"]
    assert first.split()[6:9] == ["2", "2026-01-01", "00:00:00"]  # the updates and the recorded time


def test_verify_json_reports_each_cassette_and_a_damaged_one_exits_1(cassette, tmp_path):
    code, out, err = run("cassette", "verify", str(cassette), "--json")
    data = json.loads(out)
    assert code == 0 and err == "" and data["ok"] is True
    [entry] = data["cassettes"]
    assert entry["ok"] and entry["problems"] == [] and entry["counts"]["http_exchanges"] == 1
    with sqlite3.connect(cassette) as conn:
        conn.execute("UPDATE blobs SET data = zeroblob(size)")
    conn.close()
    code, out, err = run("cassette", "verify", str(cassette), str(tmp_path / "gone.db"), "--json")
    data = json.loads(out)
    assert code == 1 and err == "Error: 2 of 2 cassettes damaged\n" and data["ok"] is False
    assert any("holds other bytes than its hash says" in p for p in data["cassettes"][0]["problems"])
    assert "does not exist" in data["cassettes"][1]["problems"][0]


def test_summary_json_counts_by_provider_model_and_outcome(cassette):
    code, out, err = run("cassette", "summary", str(cassette), "--json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert data["by"] == [{"provider": "fal", "model": "fal-ai/veo3.1", "outcome": "error", "count": 1},
                          {"provider": "fal", "model": "fal-ai/veo3.1", "outcome": "response", "count": 1}]
    assert data["http_exchanges"] == 1 and data["http_interactions"] == 2 and data["oldest"] == data["newest"]


@pytest.mark.parametrize("command", [["ls"], ["show"], ["verify"], ["summary"]], ids=" ".join)
def test_json_errors_stay_one_line_on_stderr(tmp_path, command):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00" * 4096)
    code, out, err = run("cassette", *command, str(junk), "--json")
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith("Error: ")
    if out:  # ls and verify report what they found before the error
        json.loads(out)


def test_json_escapes_control_characters_and_decodes_to_the_stored_text(tmp_path):
    path = build_cassette(tmp_path / "hostile.db")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE recordings SET model = 'm\x1b]52;c;aGk=\x07\u202e'")
    conn.close()
    code, out, _ = run("cassette", "show", str(path), "--json")
    assert code == 0 and "\x1b" not in out and "\u202e" not in out
    assert json.loads(out)["recordings"][0]["model"] == "m\x1b]52;c;aGk=\x07\u202e"
