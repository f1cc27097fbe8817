"""Every secret shape a run can carry, recorded for real, and then looked for everywhere.

One corpus is recorded per module: through the gateway against the provider simulator
(``provider_config`` holding each secret-named key), through a local provider whose
answers carry signed output URLs and quote the call's secrets back in an error, and
through vcrpy with ``SQLitePersister`` against a loopback server that echoes secrets
in headers and in JSON, HTML, XML and plain-text bodies. Then the raw ``.db``, its
``-wal`` while the cassette is open, the JSONL export, the exported blob files and the
log output are searched for every secret value: none may be there, and
``tarash cassette scan`` says the files are clean. A copy with the secrets written
back raw makes the scan name each place.
"""

from __future__ import annotations

import http.server
import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import vcr
from click.testing import CliRunner

from tarash.tarash_gateway import (
    InstantClock,
    generate_video,
    register_provider,
    unregister_provider,
    use_cassette,
    use_clock,
)
from tarash.tarash_gateway.cassettes import SQLitePersister, close_cassettes
from tarash.tarash_gateway.cassettes.stand_in import is_stand_in
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import HTTPError
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse
from tarash.tarash_gateway.simulator import ProviderSimulator, Scenario

# -- the corpus: every secret is unique, so finding it anywhere is a leak -----------------

#: provider_config names the scrubber must know (value under that name)
CONFIG_SECRETS = {
    "AccountKey": "Corpus+AccountKey/0001==",
    "Ocp-Apim-Subscription-Key": "corpusapim0002subscription",
    "subscription_key": "corpus-sub-0003-key",
    "passphrase": "corpus passphrase 0004",
    "pwd": "corpus-pwd-0005!",
    "jwt": "corpus.jwt.0006part",
    "hmac": "c0rpu5hmac0007",
    "signing_key": "corpus-signing-0008",
    "auth.token": "corpus-auth-token-0009",
    "access_token": "ya29.corpus-access-0010",
}
#: a signed URL per shape: (URL with the secret, the secret, a part that must stay)
SIGNED_URLS = {
    "Runway CloudFront _jwt": ("/runway/o.mp4?_jwt=eyJhbGciOiJIUzI1NiJ9.eyJjb3JwdXMiOjExfQ.c0rpu5Sig11",
                               "eyJhbGciOiJIUzI1NiJ9.eyJjb3JwdXMiOjExfQ.c0rpu5Sig11", "/runway/o.mp4"),
    "CloudFront Signature": ("/cf/o.mp4?Expires=1893456000&Signature=c0rpu5~Sig-12_&Key-Pair-Id=APKACORPUS13",
                             "c0rpu5~Sig-12_", "Expires=1893456000"),
    "CloudFront Key-Pair-Id": ("/cf/p.mp4?Expires=1893456001&Signature=c0rpu5~Sig-14_&Key-Pair-Id=APKACORPUS15",
                               "APKACORPUS15", "Expires=1893456001"),
    "CloudFront Policy": ("/cf/q.mp4?Policy=eyJTdGF0ZW1lbnQiOiJjb3JwdXMxNiJ9&Signature=c0rpu5~Sig-17_",
                          "eyJTdGF0ZW1lbnQiOiJjb3JwdXMxNiJ9", "/cf/q.mp4"),
    "jwt=": ("/j/o.mp4?jwt=c0rpu5.jwt18.part&w=1", "c0rpu5.jwt18.part", "/j/o.mp4"),
    "hmac=": ("/h/o.mp4?hmac=c0rpu5hmac19&w=1", "c0rpu5hmac19", "/h/o.mp4"),
    "Akamai hdnts": ("/ak/o.mp4?hdnts=exp=1893456020~acl=/*~hmac=c0rpu5a20", "c0rpu5a20", "/ak/o.mp4"),
    "Akamai __token__": ("/ak/p.mp4?__token__=exp=1893456021~hmac=c0rpu5a21", "c0rpu5a21", "/ak/p.mp4"),
    "Azure SAS sig": ("/az/o.mp4?sv=2022-11-02&se=2030-01-01&sp=r&sig=c0rpu5%2BSas22%3D", "c0rpu5%2BSas22",
                      "sv=2022-11-02&se=2030-01-01&sp=r"),
    "GCS X-Goog-Signature": ("/gcs/o.mp4?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=c0rpu5900d23",
                             "c0rpu5900d23", "X-Goog-Algorithm=GOOG4-RSA-SHA256"),
    "GCS X-Goog-Credential": ("/gcs/p.mp4?X-Goog-Credential=c0rpu5-svc24%40p.iam&X-Goog-Expires=900",
                              "c0rpu5-svc24", "X-Goog-Expires=900"),
    "S3 X-Amz-Signature": ("/s3/o.mp4?X-Amz-Date=20300101T000000Z&X-Amz-Signature=c0rpu5ab25",
                           "c0rpu5ab25", "X-Amz-Date=20300101T000000Z"),
    "S3 X-Amz-Credential": ("/s3/p.mp4?X-Amz-Credential=ASIACORPUS26%2F20300101&X-Amz-Expires=900",
                            "ASIACORPUS26", "X-Amz-Expires=900"),
    "S3 X-Amz-Security-Token": ("/s3/q.mp4?X-Amz-Security-Token=IQoJc0rpu5Tok27&X-Amz-Expires=901",
                                "IQoJc0rpu5Tok27", "X-Amz-Expires=901"),
    "S3 legacy Signature": ("/s3/r.mp4?AWSAccessKeyId=AKIACORPUS28&Signature=c0rpu5Leg29%3D&Expires=1893456029",
                            "c0rpu5Leg29", "Expires=1893456029"),
    "S3 legacy AWSAccessKeyId": ("/s3/s.mp4?AWSAccessKeyId=AKIACORPUS30&Signature=c0rpu5Leg31%3D&Expires=1",
                                 "AKIACORPUS30", "/s3/s.mp4"),
    # high-entropy signatures: recorded as stand-ins of the same length and alphabet
    "Azure SAS sig, long": ("/az/p.mp4?sv=2022-11-02&se=2030-01-02&sp=r&sig=c0rpu5Sas35LongQ9vZk3%2BmP7wRx4Tn%3D",
                            "c0rpu5Sas35LongQ9vZk3", "sv=2022-11-02&se=2030-01-02&sp=r"),
    "S3 X-Amz-Signature, hex": ("/s3/t.mp4?X-Amz-Date=20300102T000000Z&X-Amz-Signature=c0ab36" + "9e8d7c6b5a4f3e2d1" * 3
                                + "0a1b2c5", "c0ab36" + "9e8d7c6b5a4f3e2d1" * 3, "X-Amz-Date=20300102T000000Z"),
    "URL userinfo password": ("userinfo:c0rpu5-pw32", "c0rpu5-pw32", "/u/o.mp4"),
    "URL userinfo user": ("userinfo:c0rpu5-pw33", "corpus-user-33", "/u/o.mp4"),
    "uncaptured media (logged)": ("/gone?X-Amz-Signature=c0rpu5log34", "c0rpu5log34", "/gone?X-Amz-Signature="),
}
#: the providers' key formats, quoted by an answer the gateway did not expect
KEY_SHAPES = {
    "OpenAI sk-proj-": "sk-proj-C0rpu5Q3vT8mZk2Lp9Xr4Wb7Nc1Hd5Fs6",
    "Stability sk-": "sk-C0rpu5kPz9QmX2vLr7TbN1wYc8HdFs3Gj6Aue0KoI",
    "fal key_id:secret": "c0c0a000-4b5a-4978-8695-a4b3c2d1e0f9:c0a1b2c3d4e5f60718293a4b5c6d7e8f",
    "Replicate r8_": "r8_C0rpu5De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3G",
    "Google AIza": "AIzaSyC0rpu5E5f6G7h8I9j0K1l2M3n4O5p6Q7r",
    "xAI xai-": "xai-C0rpu5Kp7Lr2Tb9Nc4Hd1Fs6Gj0Ay5Ue3Io8",
    "Runway key_": "key_c0c0" + "0123456789abcdef" * 8,
}
API_KEY = "c0c0b000-4b5a-4978-8695-a4b3c2d1e0f9:c0ffee00d4e5f60718293a4b5c6d7e8f"
FIELD_SECRET = "corpus-webhook-secret-0040"  # sent in a request field, quoted back by the provider's error
HTTP_SECRETS = {  # what the vcrpy client sends, and the loopback server echoes
    "Authorization header": "corpus-bearer-0050",
    "api_key query parameter": "corpus-query-key-0051",
    "client_secret in a JSON body": "corpus-body-secret-0052",
    "password in a form body": "corpus-form-pw-0053",
    "Set-Cookie value": "corpus-cookie-0054",
}
PROVIDER = "corpus-echo"


def _url(base: str, path: str) -> str:
    if path.startswith("userinfo:"):
        return base.replace("http://", f"http://corpus-user-33:{path.split(':', 1)[1]}@") + "/u/o.mp4"
    return base + path


def every_secret() -> dict[str, str]:
    found = {f"provider_config {k}": v for k, v in CONFIG_SECRETS.items()}
    found.update({f"signed URL {k}": secret for k, (_, secret, _) in SIGNED_URLS.items()})
    found.update({f"key format {k}": v for k, v in KEY_SHAPES.items()})
    found.update({f"HTTP {k}": v for k, v in HTTP_SECRETS.items()})
    found.update({"api_key": API_KEY, "secret in a request field, echoed in an error": FIELD_SECRET})
    return found


def _provider_config() -> dict[str, Any]:
    config: dict[str, Any] = {"region": "corpus-region"}
    for name, value in CONFIG_SECRETS.items():
        head, _, tail = name.partition(".")
        if tail:
            config.setdefault(head, {})[tail] = value
        else:
            config[name] = value
    return config


# -- the places they travel through ------------------------------------------------------


class Echo:
    """A loopback server: media for any path, and secrets echoed back in every shape."""

    def __init__(self) -> None:
        echo = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                echo.answer(self, b"")

            def do_POST(self) -> None:  # noqa: N802
                echo.answer(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path.split("?", 1)[0]
        if path.endswith(".mp4"):
            self._send(handler, 200, b"\x00\x00\x00\x18ftypmp42corpus-media" + bytes(range(256)), "video/mp4")
            return
        said = f"{handler.headers.get('Authorization')} {handler.path} {body.decode(errors='replace')}"
        signed = [_url(self.url, p) for p, _, _ in SIGNED_URLS.values()]
        kind = path.rsplit("/", 1)[-1]
        if kind == "json":
            data = json.dumps({"you_sent": said, "output": signed, "detail": f"key {KEY_SHAPES['Google AIza']} is bad"})
            self._send(handler, 200, data.encode(), "application/json")
        elif kind == "html":
            links = "".join(f'<a href="{u.replace("&", "&amp;")}">v</a>' for u in signed)
            self._send(handler, 200, f"<html><body><p>{said}</p>{links}</body></html>".encode(), "text/html")
        elif kind == "xml":
            urls = "".join(f"<Url>{u.replace('&', '&amp;')}</Url>" for u in signed)
            self._send(handler, 403, f"<?xml version='1.0'?><Error>{said}{urls}</Error>".encode(), "application/xml")
        else:
            self._send(handler, 401, f"denied: {said} {' '.join(signed)}".encode(), "text/plain",
                       {"Set-Cookie": f"session={HTTP_SECRETS['Set-Cookie value']}; HttpOnly", "Location": signed[0]})

    @staticmethod
    def _send(handler: Any, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class EchoProvider:
    """A provider whose answer carries signed output URLs, and whose error quotes the call."""

    def __init__(self, echo: Echo) -> None:
        self.echo = echo

    def generate_video(self, config: Any, request: Any, on_progress: Any = None) -> VideoGenerationResponse:
        if request.prompt.startswith("fail"):
            quoted = f"webhook_secret {request.extra_params['webhook_secret']} and key {config.provider_config['pwd']}"
            raise HTTPError(f"422: invalid {quoted}", provider=PROVIDER, status_code=422,
                            raw_response={"detail": quoted, "leaked": list(KEY_SHAPES.values())})
        path, _, _ = SIGNED_URLS[request.prompt]
        return VideoGenerationResponse(request_id=request.prompt, video=_url(self.echo.url, path), duration=4.0,
                                       raw_response={"output": [_url(self.echo.url, p) for p, _, _ in SIGNED_URLS.values()],
                                                     "quoted": list(KEY_SHAPES.values())})


class Unreachable:
    def generate_video(self, config: Any, request: Any, on_progress: Any = None) -> Any:
        raise AssertionError("a replay called the provider")


class Logs(logging.Handler):
    """The project's log output (the ``tarash`` loggers), formatted as a user would see it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _record_gateway(workdir: Path, db: Path, echo: Echo, raw: list[bytes]) -> None:
    register_provider(PROVIDER, EchoProvider(echo))
    try:
        with ProviderSimulator(Scenario(queue_polls=1, run_polls=1), max_lifetime=120) as sim, \
                use_cassette(db, record_mode="new_episodes"):
            for provider, model in (("fal", "fal-ai/veo3.1/fast"), ("replicate", "google/veo-3"), ("runway", "gen4.5")):
                config = VideoGenerationConfig(provider=provider, model=model, api_key=API_KEY,
                                               base_url=sim.base_url(provider), provider_config=_provider_config())
                generate_video(config, VideoGenerationRequest(prompt="a corpus lighthouse"))
            config = VideoGenerationConfig(provider=PROVIDER, model="m1", api_key=API_KEY, provider_config=_provider_config())
            for prompt in SIGNED_URLS:
                generate_video(config, VideoGenerationRequest(prompt=prompt))
            with pytest.raises(HTTPError):
                generate_video(config, VideoGenerationRequest(prompt="fail", extra_params={"webhook_secret": FIELD_SECRET}))
            open_files = sorted(workdir.glob("corpus.db*"))  # the -wal while the cassette is open
            assert workdir / "corpus.db-wal" in open_files
            raw.extend(p.read_bytes() for p in open_files)
    finally:
        unregister_provider(PROVIDER)


def _record_http(workdir: Path, echo: Echo, raw: list[bytes]) -> Path:
    path = workdir / "http.db"
    my_vcr = vcr.VCR(match_on=("method", "path"))
    my_vcr.register_persister(SQLitePersister)
    headers = {"Authorization": f"Bearer {HTTP_SECRETS['Authorization header']}"}
    with my_vcr.use_cassette(str(path)), httpx.Client(headers=headers) as client:
        query = f"?api_key={HTTP_SECRETS['api_key query parameter']}"
        client.post(f"{echo.url}/api/json{query}", json={"client_secret": HTTP_SECRETS["client_secret in a JSON body"],
                                                        "prompt": "corpus"})
        client.get(f"{echo.url}/api/html{query}")
        client.post(f"{echo.url}/api/xml", data={"password": HTTP_SECRETS["password in a form body"], "user": "me"})
        client.get(f"{echo.url}/api/text{query}")
    raw.extend(p.read_bytes() for p in sorted(workdir.glob("http.db*")))
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("corpus")
    db = workdir / "corpus.db"
    raw: list[bytes] = []
    logs, logger = Logs(), logging.getLogger("tarash")
    level = logger.level
    logger.addHandler(logs)
    logger.setLevel(logging.DEBUG)
    echo = Echo()
    try:
        with use_clock(InstantClock()):
            _record_gateway(workdir, db, echo, raw)
        http_db = _record_http(workdir, echo, raw)
    finally:
        echo.stop()
        close_cassettes()
        logger.removeHandler(logs)
        logger.setLevel(level)
    exports = []
    for source in (db, http_db):
        out = workdir / f"{source.stem}.jsonl"
        result = CliRunner().invoke(main, ["cassette", "export", str(source), str(out), "--embed-blobs",
                                           "--blobs-dir", str(workdir / f"{source.stem}-blobs")])
        assert result.exit_code == 0, result.output
        exports.append(out)
    files = [db, http_db, *exports]
    raw.extend(p.read_bytes() for p in files)
    raw.extend(p.read_bytes() for p in sorted(workdir.glob("*-blobs/*")))
    yield {"db": db, "http_db": http_db, "files": files, "workdir": workdir, "raw": b"\n".join(raw),
           "logs": "\n".join(logs.lines)}


# -- the checks --------------------------------------------------------------------------

SECRETS = every_secret()


@pytest.mark.parametrize("label", sorted(SECRETS))
def test_no_secret_is_left_in_the_cassettes_the_wal_the_exports_or_the_logs(corpus, label):
    secret = SECRETS[label]
    assert secret.encode() not in corpus["raw"], f"{label} reached a file"
    assert secret not in corpus["logs"], f"{label} reached the log"


def test_what_is_not_secret_was_recorded(corpus):
    """The checks above look at real recordings: URLs, bodies and media are all there."""
    raw = corpus["raw"]
    for _, _, kept in SIGNED_URLS.values():
        assert kept.encode() in raw, kept
    for part in (b"corpus-region", b"a corpus lighthouse", b"corpus-media", b"<html><body>", b"<?xml version",
                 b"webhook_secret", b"denied: "):
        assert part in raw, part
    with sqlite3.connect(corpus["db"]) as conn:
        assert conn.execute("SELECT count(*) FROM recordings").fetchone()[0] == 3 + len(SIGNED_URLS) + 1
        assert conn.execute("SELECT count(*) FROM media").fetchone()[0] == 3 + len(SIGNED_URLS) - 1
    conn.close()
    assert "media of video was not captured (http://127.0.0.1:" in corpus["logs"]  # the log path ran


def _replayed_from_a_copy(corpus, tmp_path, prompt: str):
    """The call `prompt` replayed from a copy of the corpus cassette, the provider unreachable."""
    db = tmp_path / "corpus.db"
    shutil.copy(corpus["db"], db)
    config = VideoGenerationConfig(provider=PROVIDER, model="m1", provider_config={"region": "corpus-region"})
    register_provider(PROVIDER, Unreachable())
    try:
        with use_clock(InstantClock()), use_cassette(db, record_mode="none"):
            return generate_video(config, VideoGenerationRequest(prompt=prompt))
    finally:
        unregister_provider(PROVIDER)
        close_cassettes()


def test_the_corpus_replays_without_any_secret(corpus, tmp_path):
    replayed = _replayed_from_a_copy(corpus, tmp_path, "Azure SAS sig")
    assert replayed.request_id == "Azure SAS sig" and "sig=%5BREDACTED%5D" in replayed.video  # too short for a stand-in


@pytest.mark.parametrize("label, name", [("Azure SAS sig, long", "sig"), ("S3 X-Amz-Signature, hex", "X-Amz-Signature")])
def test_a_replayed_signed_url_is_valid_and_holds_a_stand_in_of_the_signatures_shape(corpus, tmp_path, label, name):
    replayed = _replayed_from_a_copy(corpus, tmp_path, label)
    path, secret, kept = SIGNED_URLS[label]
    recorded, value = _raw_parameter(path, name), _raw_parameter(replayed.video, name)
    assert httpx.URL(replayed.video).params[name]  # it parses: no [REDACTED] in it
    assert kept in replayed.video and secret not in replayed.video and is_stand_in(value)
    assert len(value) == len(recorded) and value != recorded
    assert set(value) <= set("0123456789abcdef") if name == "X-Amz-Signature" else value.endswith("%3D")
    assert replayed.video in {m["url"] for m in _media_rows(tmp_path / "corpus.db")}  # the captured media is kept under that URL


def _raw_parameter(url: str, name: str) -> str:
    """A query parameter's value as written in the URL (percent-escapes and all)."""
    return dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&"))[name]


def _media_rows(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT url FROM media")]
    conn.close()
    return rows


def test_scan_finds_the_recorded_corpus_clean(corpus):
    result = CliRunner().invoke(main, ["cassette", "scan", *map(str, corpus["files"])])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"scanned {len(corpus['files'])} files: no secrets found"


def test_scan_names_each_place_of_an_unscrubbed_copy(corpus, tmp_path):
    dirty = tmp_path / "cassettes" / "dirty.db"
    dirty.parent.mkdir()
    shutil.copy(corpus["db"], dirty)
    shutil.copy(corpus["http_db"], tmp_path / "cassettes" / "http.db")
    http_db = tmp_path / "cassettes" / "http.db"
    expected = []
    with sqlite3.connect(dirty) as conn:
        rid, response = conn.execute("SELECT id, response FROM recordings WHERE outcome = 'response' "
                                     "ORDER BY id LIMIT 1").fetchone()
        data = json.loads(response)
        data["raw_response"] = {f"k{i}": value for i, value in enumerate(KEY_SHAPES.values())}
        data["video"] = "https://cdn.test" + SIGNED_URLS["Runway CloudFront _jwt"][0]
        conn.execute("UPDATE recordings SET response = ? WHERE id = ?", (json.dumps(data), rid))
        expected += [f"dirty.db: recordings #{rid}: response.raw_response.k{i}: " for i in range(len(KEY_SHAPES))]
        expected.append(f"dirty.db: recordings #{rid}: response.video: JWT")
        mid = conn.execute("SELECT rowid FROM media ORDER BY rowid LIMIT 1").fetchone()[0]
        conn.execute("UPDATE media SET url = ? WHERE rowid = ?",
                     ("https://cdn.test" + SIGNED_URLS["S3 X-Amz-Signature"][0], mid))
        expected.append(f"dirty.db: media rowid {mid}: url: secret parameter X-Amz-Signature")
    conn.close()
    with sqlite3.connect(http_db) as conn:
        hid, request = conn.execute("SELECT id, request FROM http_interactions ORDER BY id LIMIT 1").fetchone()
        data = json.loads(request)
        data["headers"]["Authorization"] = ["Bearer Zq8Wm3Kp7Lr2Tb9Nc4Hd"]
        data["uri"] = f"https://corpus-user-33:c0rpu5-pw32@api.test/v1?api_key={HTTP_SECRETS['api_key query parameter']}"
        conn.execute("UPDATE http_interactions SET request = ? WHERE id = ?", (json.dumps(data), hid))
        expected += [f"http.db: http_interactions #{hid}: request.headers.Authorization[0]: Authorization header",
                     f"http.db: http_interactions #{hid}: request.uri: password in a URL",
                     f"http.db: http_interactions #{hid}: request.uri: secret parameter api_key"]
    conn.close()
    result = CliRunner().invoke(main, ["cassette", "scan", str(tmp_path / "cassettes")])
    assert result.exit_code == 1
    for place in expected:
        assert place in result.output, f"{place!r} not in\n{result.output}"
    assert f"{len(expected)} secrets found in 2 files" in result.output
    for secret in (*KEY_SHAPES.values(), HTTP_SECRETS["api_key query parameter"], "c0rpu5-pw32"):
        assert secret not in result.output  # the report never prints a secret whole
