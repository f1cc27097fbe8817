"""Canonical request keys: what must be equal for two requests to replay one another."""

from __future__ import annotations

import httpx
import pytest

from tarash.tarash_gateway.cassettes.http.keys import canonical_body, canonical_url, request_key
from tarash.tarash_gateway.cassettes.scrub import Scrubber

SCRUB = Scrubber()


def key(request: httpx.Request) -> str:
    body = canonical_body(request.read(), request.headers.get("content-type", ""), SCRUB)
    return request_key(request.method, canonical_url(str(request.url), SCRUB), body)[0]


@pytest.mark.parametrize("a, b", [
    ("https://API.fal.run/x?b=2&a=1", "https://api.fal.run:443/x?a=1&b=2"),
    ("https://g.googleapis.com/v1/m?key=AIza-one&alt=json", "https://g.googleapis.com/v1/m?alt=json&key=AIza-two"),
    ("https://cdn.example/o.mp4?X-Amz-Signature=abc&X-Amz-Credential=x", "https://cdn.example/o.mp4"),
    ("http://127.0.0.1:8001/v1/predictions", "http://127.0.0.1:9002/v1/predictions"),
])
def test_equal_urls_up_to_order_case_default_ports_secrets_and_loopback_ports_share_a_key(a, b):
    assert key(httpx.Request("GET", a)) == key(httpx.Request("GET", b))


@pytest.mark.parametrize("a, b", [
    (httpx.Request("GET", "https://api.x.ai/v1/videos/1"), httpx.Request("DELETE", "https://api.x.ai/v1/videos/1")),
    (httpx.Request("GET", "https://api.x.ai/v1/videos/1"), httpx.Request("GET", "https://api.x.ai/v1/videos/2")),
    (httpx.Request("GET", "https://a.fal.run/x?n=1"), httpx.Request("GET", "https://a.fal.run/x?n=2")),
    (httpx.Request("GET", "http://10.0.0.1:1/x"), httpx.Request("GET", "http://10.0.0.1:2/x")),
    (httpx.Request("POST", "https://a.fal.run/x", json={"prompt": "a"}),
     httpx.Request("POST", "https://a.fal.run/x", json={"prompt": "b"})),
])
def test_requests_that_differ_in_what_they_ask_get_different_keys(a, b):
    assert key(a) != key(b)


def test_json_bodies_match_whatever_their_key_order_and_spacing():
    a = httpx.Request("POST", "https://a.fal.run/x", content=b'{"prompt": "fox", "n": 1}',
                      headers={"content-type": "application/json"})
    b = httpx.Request("POST", "https://a.fal.run/x", content=b'{"n":1,"prompt":"fox"}',
                      headers={"content-type": "application/json"})
    assert key(a) == key(b)


def test_secret_keys_in_json_bodies_take_no_part():
    a = httpx.Request("POST", "https://a.fal.run/x", json={"prompt": "fox", "api_key": "sk-one-1234"})
    b = httpx.Request("POST", "https://a.fal.run/x", json={"prompt": "fox", "api_key": "sk-two-5678"})
    assert key(a) == key(b)


def test_multipart_bodies_match_by_their_parts_whatever_the_boundary():
    fields = {"prompt": "a fox", "seconds": "4"}
    files = {"input_reference": ("ref.png", b"\x89PNG" + bytes(range(200)), "image/png")}
    a = httpx.Request("POST", "https://api.openai.com/v1/videos", data=fields, files=files)
    b = httpx.Request("POST", "https://api.openai.com/v1/videos", data=fields, files=files)
    assert a.read() != b.read()  # two random boundaries
    assert key(a) == key(b)
    other = httpx.Request("POST", "https://api.openai.com/v1/videos", data=fields,
                          files={"input_reference": ("ref.png", b"\x89PNG other", "image/png")})
    assert key(other) != key(a)
    parts = canonical_body(a.read(), a.headers["content-type"], SCRUB)["multipart"]
    assert [p["name"] for p in parts] == ["input_reference", "prompt", "seconds"]
    assert parts[0]["content"]["size"] == 204 and parts[1]["content"] == "a fox"


def test_uploads_are_matched_by_content_hash():
    data = bytes(range(256)) * 1000
    body = canonical_body(data, "application/octet-stream", SCRUB)
    assert set(body["raw"]) == {"sha256", "size"} and body["raw"]["size"] == len(data)
    assert canonical_body(data + b"x", "application/octet-stream", SCRUB) != body


def test_long_strings_in_json_bodies_are_kept_as_their_hash():
    image = "data:image/png;base64," + "A" * 5000
    body = canonical_body(httpx.Request("POST", "https://x.fal.run/a", json={"image_url": image}).read(),
                          "application/json", SCRUB)
    assert body["json"]["image_url"]["size"] == len(image)


def test_form_bodies_match_by_sorted_pairs_without_secrets():
    a = canonical_body(b"b=2&a=1&password=x1234", "application/x-www-form-urlencoded", SCRUB)
    b = canonical_body(b"a=1&password=y5678&b=2", "application/x-www-form-urlencoded", SCRUB)
    assert a == b == {"form": [("a", "1"), ("b", "2")]}


@pytest.mark.parametrize("query", ["", "b=2&a=1", "a=x%20y&b=%C3%A9", "q=a+b&e=", "t=a%3Db&s=~_.-", "p=%26&o=1"])
def test_keys_are_written_as_cassettes_already_hold_them(query):
    import hashlib
    import json
    from urllib.parse import parse_qsl, urlencode

    url = "https://a.fal.run/x" + (f"?{query}" if query else "")
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    expected_url = "https://a.fal.run/x" + (f"?{urlencode(pairs)}" if pairs else "")
    assert canonical_url(url, SCRUB) == expected_url  # the form every recorded key was made from
    text = json.dumps({"method": "GET", "url": expected_url, "body": None}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    assert request_key("get", canonical_url(url, SCRUB), None) == (hashlib.sha256(text.encode()).hexdigest(), text)
