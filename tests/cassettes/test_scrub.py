"""Secrets never reach the file: scrubbing rules, and the raw bytes of a recorded cassette."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import CassetteConfig
from tarash.tarash_gateway.cassettes.scrub import REDACTED, Scrubber, is_secret_name
from tarash.tarash_gateway.models import VideoGenerationResponse

from .conftest import config, request


@pytest.mark.parametrize("name", ["api_key", "apiKey", "X-Api-Key", "Authorization", "client_secret", "password",
                                  "access_token", "refreshToken", "x-goog-api-key", "Cookie", "X-Amz-Signature",
                                  "awsSecretAccessKey", "private_key", "auth_token"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["prompt", "max_tokens", "author", "model", "keyframes", "size", "status"])
def test_ordinary_names(name):
    assert not is_secret_name(name)


def test_values_are_scrubbed_at_any_depth_and_wherever_a_known_secret_appears():
    scrubber = Scrubber.for_call("sk-live-123456", {"region": "eu", "auth": {"client_secret": "cs-999999"}})
    value = {
        "a": [{"apiKey": "k-1"}, "see https://cdn.example/v.mp4?token=t0k3n&w=1"],
        "note": "key sk-live-123456 and cs-999999 leaked",
        "tokens": 12,
    }
    clean = scrubber.value(value)
    assert clean["a"][0]["apiKey"] == REDACTED
    assert clean["note"] == f"key {REDACTED} and {REDACTED} leaked"
    assert clean["tokens"] == 12
    assert Scrubber().url("https://x.test/v?key=abc&size=2") == f"https://x.test/v?key={REDACTED}&size=2"
    assert Scrubber().url("https://x.test/v?size=2") == "https://x.test/v?size=2"


def test_signed_urls_inside_prose_are_scrubbed_too():
    text = (
        "could not download input image https://b.s3.example/in.png?X-Amz-Credential=AKIAEXAMPLE"
        "&X-Amz-Signature=deadbeefcafe1234&size=2 (HTTP 403)"
    )
    scrubbed = Scrubber().text(text)
    assert "AKIAEXAMPLE" not in scrubbed and "deadbeefcafe1234" not in scrubbed
    assert scrubbed.startswith("could not download input image https://b.s3.example/in.png?")
    assert scrubbed.endswith("&size=2 (HTTP 403)")
    assert Scrubber().value({"detail": [text]})["detail"][0] == scrubbed


def test_headers_and_bodies():
    scrubber = Scrubber()
    nested = Scrubber.for_call(None, {"headers": {"Authorization": ["Bearer tok-in-a-list-0001"]}})
    assert nested.value({"echo": "tok-in-a-list-0001", "Authorization": ["x", "y"]}) == {
        "echo": REDACTED, "Authorization": [REDACTED, REDACTED]}
    headers = scrubber.headers({"Authorization": ["Bearer abc"], "X-Api-Key": "k", "Accept": ["*/*"]})
    assert headers == {"Authorization": [REDACTED], "X-Api-Key": REDACTED, "Accept": ["*/*"]}
    body = scrubber.body(b'{"input": {"prompt": "p"}, "api_key": "sekrit-1"}', "application/json")
    assert json.loads(body) == {"input": {"prompt": "p"}, "api_key": REDACTED}
    clean = b'{"prompt": "p"}'
    assert scrubber.body(clean, "application/json") is clean  # untouched bytes when nothing to scrub
    form = scrubber.body(b"password=hunter2&user=me", "application/x-www-form-urlencoded")
    assert b"hunter2" not in form and b"user=me" in form
    zipped = scrubber.body(gzip.compress(b'{"token": "t-123456"}'), "application/json", "gzip")
    assert json.loads(gzip.decompress(zipped)) == {"token": REDACTED}
    learned = scrubber.learn({"Authorization": ["Bearer tok-abcdefgh"]}, "https://x.test/?api_key=qk-98765")
    assert learned.text("echo tok-abcdefgh qk-98765") == f"echo {REDACTED} {REDACTED}"


def test_no_secret_reaches_the_cassette_file(face, acme, db, media_server):
    media_server.files["/out.mp4"] = b"video-bytes" * 100
    acme.video = f"{media_server.url}/out.mp4?X-Amz-Signature=sig-abcdef123&token=tok-zyxw9876"
    secrets = ["sk-live-A1B2C3D4", "nested-S3CR3T", "hdr-T0K3N-42", "extra-V4LUE-7"]
    cfg = config(
        api_key=secrets[0],
        provider_config={"region": "eu", "auth": {"client_secret": secrets[1]}, "headers": {"Authorization": secrets[2]}},
        cassette=CassetteConfig(secret_values=(secrets[3],)),
    )
    with use_cassette(db):
        face.video(cfg, request(f"prompt mentioning {secrets[3]}", extra_params={"api_key": "param-K3Y-5"}))
    media_server.stop()
    raw = b"".join(p.read_bytes() for p in db.parent.glob("run.db*"))
    for secret in [*secrets, "param-K3Y-5", "sig-abcdef123", "tok-zyxw9876"]:
        assert secret.encode() not in raw, secret
    assert b"region" in raw and b"video-bytes" in raw  # the rest is there

    with use_cassette(db, record_mode="none"):
        replayed = face.video(cfg, request(f"prompt mentioning {secrets[3]}", extra_params={"api_key": "param-K3Y-5"}))
    assert replayed.video == f"{media_server.url}/out.mp4?X-Amz-Signature={REDACTED}&token={REDACTED}"


def test_secrets_in_a_recorded_error_are_scrubbed(face, acme, db):
    class Leaky:
        def generate_video(self, config, request, on_progress=None):
            from tarash.tarash_gateway.exceptions import HTTPError

            raise HTTPError(f"401 for key {config.api_key}", status_code=401, raw_response={"api_key": config.api_key})

    from tarash.tarash_gateway import register_provider

    register_provider("acme-test", Leaky())
    from tarash.tarash_gateway.exceptions import HTTPError

    with use_cassette(db), pytest.raises(HTTPError):
        face.video(config(api_key="sk-leaky-0000"), request())
    raw = b"".join(p.read_bytes() for p in db.parent.glob("run.db*"))
    assert b"sk-leaky-0000" not in raw and b"401 for key" in raw


def test_response_bytes_are_kept_raw_not_base64(face, acme, db):
    payload = bytes(range(256)) * 3  # smaller than a page, so its bytes sit together in the file
    acme.video = {"content": payload, "content_type": "video/mp4"}
    with use_cassette(db):
        face.video(config(), request())
    raw = b"".join(p.read_bytes() for p in db.parent.glob("run.db*"))
    assert payload in raw and base64.b64encode(payload) not in raw
    with use_cassette(db, record_mode="none"):
        replayed = face.video(config(), request())
    assert isinstance(replayed, VideoGenerationResponse) and replayed.video["content"] == payload
