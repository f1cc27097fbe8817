"""Secrets never reach the file: scrubbing rules, and the raw bytes of a recorded cassette."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import CassetteConfig
from tarash.tarash_gateway.cassettes.scrub import REDACTED, Scrubber, is_secret_name, is_secret_parameter
from tarash.tarash_gateway.cassettes.stand_in import REDACTED_IN_URL
from tarash.tarash_gateway.models import VideoGenerationResponse

from .conftest import config, request


@pytest.mark.parametrize("name", ["api_key", "apiKey", "X-Api-Key", "Authorization", "client_secret", "password",
                                  "access_token", "refreshToken", "x-goog-api-key", "Cookie", "X-Amz-Signature",
                                  "awsSecretAccessKey", "private_key", "auth_token", "AccountKey",
                                  "Ocp-Apim-Subscription-Key", "subscription_key", "passphrase", "pwd", "jwt", "hmac",
                                  "signing_key", "AWSAccessKeyId", "X-Goog-Credential", "X-Amz-Security-Token",
                                  "_jwt", "__token__", "connectionString"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["prompt", "max_tokens", "author", "model", "keyframes", "key_frame", "size",
                                  "status", "tokenizer", "seed", "sha256", "se", "sp", "sv", "Expires", "policy_id"])
def test_ordinary_names(name):
    assert not is_secret_name(name)
    assert not is_secret_parameter(name)


@pytest.mark.parametrize("name", ["key", "Key-Pair-Id", "Policy", "hdnts", "code"])
def test_short_names_are_secrets_only_as_parameters(name):
    assert is_secret_parameter(name) and not is_secret_name(name)


SIGNED = [  # (URL as a provider or a CDN gives it, what must be gone)
    ("https://dnznrvs05pmza.cloudfront.net/o.mp4?_jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJ"),
    ("https://d1.cloudfront.net/v.mp4?Expires=1700000000&Signature=Ab~cD-eF_gH&Key-Pair-Id=APKAEXAMPLE1",
     "Ab~cD-eF_gH"),
    ("https://d1.cloudfront.net/v.mp4?Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Signature=zz9&Key-Pair-Id=APKAEXAMPLE1",
     "APKAEXAMPLE1"),
    ("https://cdn.test/v.mp4?jwt=tok.part.three&w=1", "tok.part.three"),
    ("https://cdn.test/v.mp4?hmac=0a1b2c3d4e5f&w=1", "0a1b2c3d4e5f"),
    ("https://x.akamaized.net/v.mp4?hdnts=exp=1700000000~acl=/*~hmac=9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ("https://x.akamaized.net/v.mp4?__token__=exp=1700000000~acl=/*~hmac=9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ("https://acct.blob.core.windows.net/c/v.mp4?sv=2022-11-02&se=2026-01-01T00%3A00Z&sp=r&sig=AbC%2BdEf%3D",
     "AbC%2BdEf"),
    ("https://storage.googleapis.com/b/o.png?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%40p.iam"
     "&X-Goog-Signature=5eed0fdeadbeef", "5eed0fdeadbeef"),
    ("https://storage.googleapis.com/b/o.png?X-Goog-Credential=svc%40p.iam%2F20260101&X-Goog-Expires=900",
     "svc%40p.iam"),
    ("https://b.s3.amazonaws.com/o.mp4?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101&X-Amz-Signature=c0ffee42"
     "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr", "IQoJb3JpZ2luX2VjEJr"),
    ("https://b.s3.amazonaws.com/o.mp4?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=vjbyPxybdZaNmGa%2B&Expires=1",
     "AKIAIOSFODNN7EXAMPLE"),
    ("https://b.s3.amazonaws.com/o.mp4?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=vjbyPxybdZaNmGa%2B&Expires=1",
     "vjbyPxybdZaNmGa"),
    ("https://alice:s3cr3t-pw@media.test/o.mp4", "s3cr3t-pw"),
    ("https://alice:s3cr3t-pw@media.test/o.mp4", "alice"),
    ("https://ghp-T0KEN-as-user@media.test/o.mp4", "ghp-T0KEN-as-user"),
]


@pytest.mark.parametrize(("url", "secret"), SIGNED)
def test_signed_url_parameters_and_userinfo_are_scrubbed_where_they_stand_and_the_url_stays_valid(url, secret):
    for context in (url, f"could not fetch {url} (HTTP 403)", f'<a href="{url.replace("&", "&amp;")}">video</a>'):
        scrubbed = Scrubber().text(context)
        assert secret not in scrubbed, scrubbed
        assert "[" not in scrubbed and "]" not in scrubbed, scrubbed  # stand-ins or %5BREDACTED%5D
        for_matching = Scrubber().for_matching().text(context)
        assert secret not in for_matching and REDACTED in for_matching
    assert Scrubber().value({"output": [url]})["output"][0] == Scrubber().text(url)


def test_what_is_not_secret_in_a_signed_url_is_kept_as_written():
    url = "https://acct.blob.core.windows.net/c/v.mp4?sv=2022-11-02&se=2026-01-01T00%3A00Z&sp=r&sig=AbC%2BdEf%3D"
    assert Scrubber().text(url) == f"https://acct.blob.core.windows.net/c/v.mp4?sv=2022-11-02&se=2026-01-01T00%3A00Z&sp=r&sig={REDACTED_IN_URL}"
    assert Scrubber().text("https://alice:pw@h.test:8443/a") == f"https://{REDACTED_IN_URL}:{REDACTED_IN_URL}@h.test:8443/a"
    assert Scrubber().for_matching().text("https://alice:pw@h.test:8443/a") == f"https://{REDACTED}:{REDACTED}@h.test:8443/a"
    connection = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net"
    assert Scrubber().text(connection) == connection.replace("Zm9vYmFy==", REDACTED)


@pytest.mark.parametrize("text", [
    "max_tokens=5&keyframes=3&key_frame=2&seed=42&prompt=a%20cat",
    "mail bob@example.com or see https://example.com/@bob and https://example.com?email=bob@example.com",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 of the video",
    "https://127.0.0.1:8080/media/clip.mp4?w=1280&h=720",
    "a skyline at dusk, sk-etch style, key art, tokens of light",
    "the job failed with code=429 (key=retry later)",
])
def test_ordinary_text_is_left_alone(text):
    assert Scrubber().text(text) == text
    assert Scrubber().value({"prompt": text, "max_tokens": 10, "seed": 7, "keyframes": [text]}) == {
        "prompt": text, "max_tokens": 10, "seed": 7, "keyframes": [text]}


KEYS = {  # the providers' key formats (made-up values of the real shapes)
    "OpenAI": "sk-proj-Q3vT8mZk2Lp9Xr4Wb7Nc1Hd5Fs6Gj0Ay",
    "OpenAI legacy / Stability": "sk-4kPz9QmX2vLr7TbN1wYc8HdFs3Gj6Aue0KoIiUu5Rr",
    "fal": "1f0e2d3c-4b5a-4978-8695-a4b3c2d1e0f9:0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "Replicate": "r8_Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Gh5Jk",
    "Google": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "xAI": "xai-Zq8Wm3Kp7Lr2Tb9Nc4Hd1Fs6Gj0Ay5Ue3Io8",
    "Runway": "key_" + "0123456789abcdef" * 8,
    "JWT": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3MDB9.8kWqv2sX0m",
}


@pytest.mark.parametrize("provider", sorted(KEYS))
def test_provider_key_formats_are_redacted_wherever_they_appear(provider):
    key = KEYS[provider]
    text = f"error 401: the key {key} is not valid"
    assert Scrubber().text(text) == f"error 401: the key {REDACTED} is not valid"
    assert key.encode() not in Scrubber().body(f"<html><p>{key}</p></html>".encode(), "text/html")


def test_secrets_sent_in_request_fields_are_learned_and_their_echoes_scrubbed():
    request = {"prompt": "p", "extra_params": {"webhook_secret": "whsec-Echo-0001", "seed": 3},
               "image_url": "https://b.test/i.png?X-Amz-Signature=EchoSig-0002&w=1"}
    provider_config = {"AccountKey": "acct-Echo-0003", "Ocp-Apim-Subscription-Key": "apim-Echo-0004",
                       "subscription_key": "sub-Echo-0005", "passphrase": "pass-Echo-0006", "pwd": "pwd-Echo-0007",
                       "jwt": "jwt-Echo-0008", "hmac": "hmac-Echo-0009", "signing_key": "sign-Echo-0010"}
    scrubber = Scrubber.for_call(None, provider_config, request=request)
    echoes = ("whsec-Echo-0001", "EchoSig-0002", *provider_config.values())
    body = "; ".join(f"invalid value {e!s}" for e in echoes)
    scrubbed = scrubber.value({"error": {"message": body}})["error"]["message"]
    assert not any(e in scrubbed for e in echoes), scrubbed
    assert scrubber.value(provider_config) == dict.fromkeys(provider_config, REDACTED)


def test_a_request_body_teaches_the_persister_what_the_response_may_echo():
    learned = Scrubber().learn({"Content-Type": ["application/json"]}, "https://api.test/v1",
                               b'{"input": {"client_secret": "cs-Body-77665544"}}', "application/json")
    assert learned.text("bad client_secret cs-Body-77665544") == f"bad client_secret {REDACTED}"
    form = Scrubber().learn({}, "", b"password=pw-Form-1234&user=me", "application/x-www-form-urlencoded")
    assert form.text("echo pw-Form-1234") == f"echo {REDACTED}"


def test_short_or_placeholder_values_under_secret_names_are_not_learned():
    scrubber = Scrubber.for_call(None, {"auth": {"type": "none", "token": "<TOKEN>"}, "auth_mode": "bearer"})
    assert scrubber.values == ()
    assert scrubber.text("none of the bearer tokens") == "none of the bearer tokens"


@pytest.mark.parametrize("content_type", ["text/html", "text/plain", "application/xml", "", "application/x-unknown"])
def test_signed_urls_inside_text_bodies_of_any_type_are_scrubbed(content_type):
    body = (b'<?xml version="1.0"?><r><u>https://b.s3.amazonaws.com/o.mp4?X-Amz-Signature=BodySig-4242'
            b'&amp;X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F1</u><p>https://u:BodyPw-99@h.test/x</p></r>')
    clean = Scrubber().body(body, content_type)
    for secret in (b"BodySig-4242", b"AKIAIOSFODNN7EXAMPLE", b"BodyPw-99"):
        assert secret not in clean
    assert clean.startswith(b'<?xml version="1.0"?><r><u>https://b.s3.amazonaws.com/o.mp4?X-Amz-Signature=')


def test_binary_bodies_are_never_rewritten_as_text():
    media = b"\x00\x00\x00\x18ftypmp42" + b"?X-Amz-Signature=abc&" + bytes(range(256))
    assert Scrubber().body(media, "video/mp4") == media
    assert Scrubber(["ftypmp42"]).body(media, "video/mp4") == media.replace(b"ftypmp42", REDACTED.encode())


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
    assert Scrubber().url("https://x.test/v?key=abc&size=2") == f"https://x.test/v?key={REDACTED_IN_URL}&size=2"
    assert Scrubber().for_matching().url("https://x.test/v?key=abc&size=2") == f"https://x.test/v?key={REDACTED}&size=2"
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
    assert replayed.video == f"{media_server.url}/out.mp4?X-Amz-Signature={REDACTED_IN_URL}&token={REDACTED_IN_URL}"


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


def test_the_examples_in_the_docstrings_hold():
    import doctest

    from tarash.tarash_gateway.cassettes import matching, scrub, shapes

    for module in (scrub, shapes, matching):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, module.__name__


def test_a_base64_image_that_happens_to_hold_a_key_prefix_is_left_intact():
    import os

    noise = base64.b64encode(os.urandom(3000)).decode()
    image = noise[:1000] + "+" + KEYS["Google"] + "/" + noise[1000:] + "+AKIAIOSFODNN7EXAMPLE+" + noise[:50]
    assert Scrubber().value({"b64_json": image}) == {"b64_json": image}
