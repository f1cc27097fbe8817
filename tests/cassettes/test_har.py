"""HAR 1.2 import and export: browser-style files, idempotence, round trips, vcrpy replay, malformed shapes."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
from click.testing import CliRunner

from tarash.tarash_gateway.cassettes import SQLitePersister, har
from tarash.tarash_gateway.cassettes.persister import decode_interaction
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError
from tests.support.real_cassettes import cassette_path

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
SECRET = "sk-live-0123456789abcdef"


def _entry(method: str, url: str, status: int, *, text: str | None = None, encoding: str | None = None,
           post: dict[str, Any] | None = None, headers: list[dict[str, str]] | None = None,
           started: str = "2025-03-01T10:00:00.123Z") -> dict[str, Any]:
    content: dict[str, Any] = {"size": len(text or ""), "mimeType": "application/json"}
    if text is not None:
        content["text"] = text
    if encoding:
        content["encoding"] = encoding
    request: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/2", "cookies": [],
                               "headers": [{"name": ":authority", "value": "api.example.com"},
                                           {"name": "authorization", "value": f"Bearer {SECRET}"}],
                               "queryString": [], "headersSize": -1, "bodySize": 0}
    if post is not None:
        request["postData"] = post
    return {"startedDateTime": started, "time": 12.5, "request": request,
            "response": {"status": status, "statusText": "" if status == 0 else "OK", "httpVersion": "HTTP/2",
                         "cookies": [], "headers": headers or [], "content": content, "redirectURL": "",
                         "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1.5}, "_id": "polly-1", "_order": 0}


def browser_har() -> dict[str, Any]:
    """What a browser, Playwright or Polly.js writes: decoded bodies, binary as base64, a blocked request."""
    gzip_header = [{"name": "content-type", "value": "application/json"}, {"name": "content-encoding", "value": "gzip"},
                   {"name": "content-length", "value": "31"}]
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [], "entries": [
        _entry("POST", "https://api.example.com/v1/jobs", 201, text='{"id": "job-1", "status": "queued"}',
               headers=gzip_header, post={"mimeType": "application/json",
                                          "text": json.dumps({"prompt": "a cat", "api_key": SECRET})}),
        _entry("GET", "https://api.example.com/v1/jobs/job-1?logs=1", 200, text='{"id": "job-1", "status": "running"}'),
        _entry("GET", "https://api.example.com/v1/jobs/job-1?logs=1", 200, text='{"id": "job-1", "status": "done"}'),
        _entry("GET", "https://cdn.example.com/out.png", 200, text=base64.b64encode(PNG).decode(), encoding="base64",
               headers=[{"name": "content-type", "value": "image/png"}]),
        _entry("GET", "https://tracker.example.com/pixel", 0),
    ]}}


def _write(tmp_path: Path, data: Any, name: str = "session.har") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path):
    store = CassetteStore.open(tmp_path / "c.db", create=True)
    yield store
    store.close()


def _interactions(store: CassetteStore) -> list[tuple[Any, ...]]:
    return [(r["fingerprint"], r["method"], r["uri"], r["request"], r["response"], r["request_body"],
             r["response_body"], r["recorded_at"]) for r in store.http_interactions()]


def test_a_browser_har_imports_decoded_bodies_binary_media_and_skips_the_unanswered(tmp_path, store):
    log = har.load_har(_write(tmp_path, browser_har()))
    assert (len(log.pairs), log.skipped) == (4, 1)
    assert har.import_har(log, store) == 4

    pairs = [decode_interaction(store, row) for row in store.http_interactions()]
    (create_req, create_res), _, (_, done), (_, image) = pairs
    assert create_res["status"] == {"code": 201, "message": "OK"}
    assert create_res["body"]["string"] == b'{"id": "job-1", "status": "queued"}'
    # the text is stored decoded, so the wire's Content-Encoding goes and the length is the body's
    assert "content-encoding" not in create_res["headers"] and create_res["headers"]["content-length"] == ["35"]
    assert json.loads(done["body"]["string"])["status"] == "done"
    assert image["body"]["string"] == PNG
    assert ":authority" not in create_req["headers"]
    assert store.http_interactions()[0]["recorded_at"] == "2025-03-01T10:00:00.123+00:00"


def test_secrets_are_scrubbed_before_the_write(tmp_path, store):
    har.import_har(_write(tmp_path, browser_har()), store)
    request, _ = decode_interaction(store, store.http_interactions()[0])
    assert request["headers"]["authorization"] == ["[REDACTED]"]
    assert json.loads(request["body"]) == {"prompt": "a cat", "api_key": "[REDACTED]"}
    raw = (tmp_path / "c.db").read_bytes()
    store.close()
    assert SECRET.encode() not in raw and SECRET.encode() not in (tmp_path / "c.db").read_bytes()


def test_importing_the_same_har_twice_adds_nothing(tmp_path, store):
    source = _write(tmp_path, browser_har())
    assert har.import_har(source, store) == 4
    assert har.import_har(source, store) == 0
    assert len(store.http_interactions()) == 4  # the two equal polls are both kept, once each


def test_import_export_import_gives_the_same_interactions(tmp_path, store):
    har.import_har(_write(tmp_path, browser_har()), store)
    exported = tmp_path / "out.har"
    with exported.open("w", encoding="utf-8") as out:
        assert har.export_har(store, out) == 4
    data = json.loads(exported.read_text())
    assert data["log"]["version"] == "1.2" and data["log"]["creator"]["name"] == "tarash-gateway"
    image = data["log"]["entries"][3]["response"]["content"]
    assert image["encoding"] == "base64" and base64.b64decode(image["text"]) == PNG
    assert data["log"]["entries"][1]["request"]["queryString"] == [{"name": "logs", "value": "1"}]

    fresh = CassetteStore.open(tmp_path / "fresh.db", create=True)
    try:
        assert har.import_har(exported, fresh) == 4
        assert _interactions(fresh) == _interactions(store)
        assert har.import_har(exported, store) == 0  # and into the cassette it came from, nothing
    finally:
        fresh.close()


def test_a_binary_request_body_survives_the_round_trip(tmp_path, store):
    data = browser_har()
    data["log"]["entries"][0]["request"]["postData"] = {
        "mimeType": "multipart/form-data", "text": base64.b64encode(PNG).decode(), "_encoding": "base64"}
    har.import_har(_write(tmp_path, data), store)
    exported = tmp_path / "out.har"
    with exported.open("w", encoding="utf-8") as out:
        har.export_har(store, out)
    post = json.loads(exported.read_text())["log"]["entries"][0]["request"]["postData"]
    assert post["_encoding"] == "base64" and base64.b64decode(post["text"]) == PNG
    request, _ = decode_interaction(store, store.http_interactions()[0])
    assert request["body"] == PNG


def test_a_har_we_export_replays_through_vcrpy_after_import(tmp_path):
    # a real Replicate run (with gzip bodies as they came off the wire) out as HAR, and back in
    real = CassetteStore.open(cassette_path("run", "replicate-real"), create=False)
    exported = tmp_path / "run.har"
    try:
        with exported.open("w", encoding="utf-8") as out:
            har.export_har(real, out)
    finally:
        real.close()
    result = CliRunner().invoke(main, ["cassette", "import", str(exported), str(tmp_path / "run.db")])
    assert result.exit_code == 0, result.output
    assert "imported 13 new HTTP interactions of 13" in result.output

    recorder = vcr.VCR(record_mode="none")
    recorder.register_persister(SQLitePersister)
    with recorder.use_cassette(str(tmp_path / "run.db")) as cassette, httpx.Client() as client:
        created = client.post("https://api.replicate.com/v1/predictions", json={})
        polls = [client.get("https://api.replicate.com/v1/predictions/azaq55dbukgxg6kubr4k6g3pby") for _ in range(11)]
    assert created.status_code == 201 and created.json()["id"] == "azaq55dbukgxg6kubr4k6g3pby"
    assert [p.json()["status"] for p in polls][-1] == "succeeded"
    assert polls[-1].json()["output"] == [
        "https://replicate.delivery/pbxt/gDoc64M9pRaQNdZb0evCRgm57WZJ5BKi0T5kzV6qm2tGmd8IA/out-0.png"]
    assert cassette.play_count == 12


def test_cli_export_writes_har_by_suffix_or_format(tmp_path):
    source = str(cassette_path("openai-dotnet__GenerateImagesCanParseServiceError"))
    runner = CliRunner()
    result = runner.invoke(main, ["cassette", "export", source, str(tmp_path / "e.har")])
    assert result.exit_code == 0 and "exported 1 entry from " in result.output
    assert json.loads((tmp_path / "e.har").read_text())["log"]["entries"][0]["response"]["status"] == 401
    result = runner.invoke(main, ["cassette", "export", source, "--format", "har"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["log"]["entries"][0]["request"]["url"] == "https://api.openai.com/v1/images/generations"


def _malformed() -> list[tuple[str, Any, str]]:
    good = browser_har()

    def edit(change: Any) -> dict[str, Any]:
        data = copy.deepcopy(good)
        change(data["log"]["entries"][0])
        return data

    def set_(path: str, value: Any) -> Any:
        def change(entry: dict[str, Any]) -> None:
            *parents, last = path.split(".")
            target = entry
            for name in parents:
                target = target[name]
            if value is KeyError:
                del target[last]
            else:
                target[last] = value
        return change

    return [
        ("not json", "{log: ", "not readable JSON"),
        ("a list", [], "top level must be an object"),
        ("no log", {"entries": []}, "log must be a dict"),
        ("log a string", {"log": "x"}, "log must be a dict"),
        ("entries missing", {"log": {"version": "1.2"}}, "log.entries must be a list"),
        ("entries an object", {"log": {"entries": {}}}, "log.entries must be a list"),
        ("entry a string", {"log": {"entries": ["x"]}}, "entry 1: an entry must be an object"),
        ("no request", edit(set_("request", KeyError)), "request must be a dict"),
        ("no response", edit(set_("response", KeyError)), "response must be a dict"),
        ("method a number", edit(set_("request.method", 7)), "request.method must be a str"),
        ("method with a space", edit(set_("request.method", "GE T")), "is not an HTTP method"),
        ("url missing", edit(set_("request.url", KeyError)), "request.url must be a str"),
        ("url ftp", edit(set_("request.url", "ftp://x/y")), "is not an http(s) URL"),
        ("url without host", edit(set_("request.url", "https:///v1")), "is not an http(s) URL"),
        ("url with a newline", edit(set_("request.url", "https://a.example/x\nHost: b")), "is not an http(s) URL"),
        ("url a bad port", edit(set_("request.url", "https://a.example:99999999/")), "is not an http(s) URL"),
        ("headers an object", edit(set_("request.headers", {"a": "b"})), "request.headers must be a list"),
        ("header a string", edit(set_("request.headers", ["a: b"])), "not a {name, value} object"),
        ("header value a number", edit(set_("request.headers", [{"name": "a", "value": 1}])), "value must be a str"),
        ("header name with a colon", edit(set_("request.headers", [{"name": "a:b", "value": "c"}])), "not a valid HTTP header"),
        ("header value with CRLF", edit(set_("response.headers", [{"name": "a", "value": "b\r\nSet-Cookie: x"}])),
         "not a valid HTTP header"),
        ("postData a string", edit(set_("request.postData", "x")), "request.postData must be a dict"),
        ("postData text a list", edit(set_("request.postData", {"text": []})), "request.postData.text must be a str"),
        ("status a string", edit(set_("response.status", "200")), "response.status must be an int"),
        ("status true", edit(set_("response.status", True)), "response.status must be an int"),
        ("status 999", edit(set_("response.status", 999)), "is not an HTTP status"),
        ("statusText a number", edit(set_("response.statusText", 1)), "statusText must be a one-line string"),
        ("content missing", edit(set_("response.content", KeyError)), "response.content must be a dict"),
        ("content text a number", edit(set_("response.content.text", 5)), "response.content.text must be a str"),
        ("encoding unknown", edit(set_("response.content.encoding", "rot13")), "is not supported (only base64)"),
        ("base64 damaged", edit(set_("response.content.encoding", "base64")), "is not valid base64"),
        ("date a number", edit(set_("startedDateTime", 5)), "startedDateTime must be a string"),
        ("date not a date", edit(set_("startedDateTime", "yesterday")), "is not an ISO 8601 date"),
        ("params not a list", edit(set_("request.postData", {"params": "a=b"})), "params must be a list"),
        ("a param without a name", edit(set_("request.postData", {"params": [{"value": "b"}]})), "params must be a list"),
        ("content in a side file", edit(set_("response.content", {"size": 3, "_file": "abc.json"})),
         "content is kept in a file beside the HAR"),
    ]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in _malformed()], ids=[n for n, _, _ in _malformed()])
def test_a_malformed_har_is_a_one_line_cassette_error(tmp_path, store, data, message):
    source = _write(tmp_path, data)
    with pytest.raises(CassetteError) as caught:
        har.import_har(source, store)
    text = str(caught.value)
    assert message in text and str(source) in text and "\n" not in text
    assert store.http_interactions() == []  # nothing half-imported

    result = CliRunner().invoke(main, ["cassette", "import", str(source), str(tmp_path / "cli.db")])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "Traceback" not in result.output


def test_bodies_past_the_cap_are_refused_before_they_are_decoded(tmp_path):
    source = _write(tmp_path, browser_har())
    with pytest.raises(CassetteError, match=r"entry 4: response.content.text decodes to more than 100 bytes"):
        har.load_har(source, max_body_bytes=100)
    assert len(har.load_har(source, max_body_bytes=len(PNG)).pairs) == 4
    with pytest.raises(CassetteError, match=r"entry 1: request.postData.text is larger than 10 bytes"):
        har.load_har(source, max_body_bytes=10)


def test_a_damaged_cassette_exports_as_a_cassette_error(tmp_path, store):
    har.import_har(_write(tmp_path, browser_har()), store)
    with store.transaction("editing") as db:
        db.execute("UPDATE http_interactions SET response = '{\"headers\": {}}' WHERE id = 1")
    with (tmp_path / "x.har").open("w", encoding="utf-8") as out, \
            pytest.raises(CassetteError, match=r"HTTP interaction #1 is malformed"):
        har.export_har(store, out)


def test_a_har_we_export_from_a_scrubbed_import_holds_no_secret(tmp_path, store):
    from tarash.tarash_gateway.cassettes.scan import scan_paths

    raw = _write(tmp_path, browser_har())
    assert not scan_paths([raw]).clean  # the browser's file carries the key
    har.import_har(raw, store)
    with (tmp_path / "out.har").open("w", encoding="utf-8") as out:
        har.export_har(store, out)
    report = scan_paths([tmp_path / "out.har"])
    assert report.clean, report.summary()


def test_a_form_logged_as_params_only_is_encoded_again(tmp_path, store):
    data = browser_har()
    data["log"]["entries"][0]["request"]["postData"] = {
        "mimeType": "application/x-www-form-urlencoded", "params": [{"name": "prompt", "value": "a cat & a dog"},
                                                                    {"name": "n", "value": "2"}]}
    har.import_har(_write(tmp_path, data), store)
    request, _ = decode_interaction(store, store.http_interactions()[0])
    assert request["body"] == b"prompt=a+cat+%26+a+dog&n=2"


def test_cli_har_export_replaces_an_existing_file_only_with_force(tmp_path):
    source = str(cassette_path("openai-dotnet__GenerateImagesCanParseServiceError"))
    out = tmp_path / "e.har"
    out.write_text("keep me\n")
    result = CliRunner().invoke(main, ["cassette", "export", source, str(out)])
    assert result.exit_code == 1 and "exists; give --force to replace it" in result.output
    assert out.read_text() == "keep me\n"
    result = CliRunner().invoke(main, ["cassette", "export", source, str(out), "--force"])
    assert result.exit_code == 0 and json.loads(out.read_text())["log"]["entries"][0]["response"]["status"] == 401


def test_a_failed_cli_har_export_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, store):
    har.import_har(_write(tmp_path, browser_har()), store)
    with store.transaction("editing") as db:
        db.execute("UPDATE http_interactions SET response = '{\"headers\": {}}' WHERE id = 2")
    store.close()
    out = tmp_path / "e.har"
    out.write_text("keep me\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(main, ["cassette", "export", str(store.file), str(out), "--force"])
    assert result.exit_code == 1 and "HTTP interaction #2 is malformed" in result.output
    assert "Traceback" not in result.output
    assert out.read_text() == "keep me\n" and sorted(p.name for p in tmp_path.iterdir()) == before


def test_cli_har_export_refuses_to_write_onto_its_cassette(tmp_path, store):
    har.import_har(_write(tmp_path, browser_har()), store)
    store.close()
    before = store.file.read_bytes()
    result = CliRunner().invoke(main, ["cassette", "export", str(store.file), str(store.file), "--format", "har",
                                       "--force"])
    assert result.exit_code == 1 and "itself; export to another file" in result.output
    assert store.file.read_bytes() == before
