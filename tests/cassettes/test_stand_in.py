"""Stand-ins for the signatures of signed URLs: same shape, valid URLs, nothing of the secret."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest

from tarash.tarash_gateway.cassettes.http.keys import canonical_body, canonical_url, request_key
from tarash.tarash_gateway.cassettes.scrub import Scrubber
from tarash.tarash_gateway.cassettes.shapes import is_placeholder
from tarash.tarash_gateway.cassettes.stand_in import REDACTED_IN_URL, is_stand_in

AZURE = "https://acct.blob.core.windows.net/c/v.mp4?sv=2022-11-02&se=2026-01-01T00%3A00Z&sp=r&sig={}"
S3 = "https://b.s3.amazonaws.com/o.mp4?X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-Signature={}"
SIGNATURES = [  # (URL pattern, a real-looking signature, the alphabet its stand-in keeps)
    (AZURE, "kZ3vQ9xLmP2Rt8Yw1NbA7cD4eF6gH0jK%2BlM5oP%3D", "base62"),
    (S3, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "hex"),
    ("https://d1.cloudfront.net/v.mp4?Expires=1700000000&Signature={}", "Xq7~Lm3-Pz9_Rt2vWb8Nc1Hd5Fs6Gj0A", "base62"),
]
URL_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%=&?/:")


def _raw(url: str, name: str) -> str:
    return dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&"))[name]


def _name(pattern: str) -> str:
    return pattern.rsplit("&", 1)[-1].split("?")[-1].removesuffix("={}")


@pytest.mark.parametrize("pattern, signature, alphabet", SIGNATURES)
def test_a_signature_gets_a_stand_in_of_its_length_and_alphabet_in_a_url_that_still_parses(pattern, signature, alphabet):
    scrubbed = Scrubber().text(pattern.format(signature))
    value = _raw(scrubbed, _name(pattern))
    assert signature not in scrubbed and set(scrubbed) <= URL_SAFE
    assert len(value) == len(signature) and is_stand_in(value)
    if alphabet == "hex":
        assert set(value) <= set("0123456789abcdef")
    else:
        assert value.removesuffix("%3D").isalnum() and value.endswith("%3D") == signature.endswith("%3D")
    assert httpx.URL(scrubbed).params[_name(pattern)] == unquote(value)
    assert scrubbed.replace(value, "") == pattern.format(signature).replace(signature, "")  # the rest as written


@pytest.mark.parametrize("pattern, signature, alphabet", SIGNATURES)
def test_a_stand_in_comes_from_the_rest_of_the_url_not_from_the_secret(pattern, signature, alphabet):
    other = signature[::-1] if alphabet == "hex" else signature.replace("k", "q").replace("X", "Y")
    one, two = Scrubber().text(pattern.format(signature)), Scrubber().text(pattern.format(other))
    assert one == two  # another signature of the same URL: the same stand-in, so it tells nothing of either
    assert Scrubber(["unrelated-secret-value"]).text(pattern.format(signature)) == one  # any scrubber, any level
    assert Scrubber().text(one) == one  # scrubbed again: kept
    later = Scrubber().text(pattern.format(signature).replace("2026", "2027").replace("1700000000", "1700000001"))
    assert _raw(later, _name(pattern)) != _raw(one, _name(pattern))  # another URL: another stand-in


@pytest.mark.parametrize("url", [
    "https://cdn.test/v.mp4?token=hunter2&w=1",  # short
    "https://cdn.test/v.mp4?password=correcthorsebatterystaple",  # long but plain
    "https://cdn.test/v.mp4?sig=c0rpu5%2BSas22%3D",  # short once its padding is left out
])
def test_a_low_entropy_secret_in_a_url_becomes_redacted_percent_encoded(url):
    scrubbed = Scrubber().text(url)
    assert REDACTED_IN_URL in scrubbed and "[" not in scrubbed
    assert "[REDACTED]" in dict(parse_qsl(urlsplit(scrubbed).query)).values()


def test_real_signatures_and_placeholders_are_not_taken_for_stand_ins():
    for _, signature, _ in SIGNATURES:
        assert not is_stand_in(signature)
    assert not is_stand_in("[REDACTED]") and not is_stand_in(REDACTED_IN_URL) and not is_stand_in("a1b2c3")


def test_a_stand_in_is_a_placeholder_never_a_learned_secret():
    scrubbed = Scrubber().text(SIGNATURES[0][0].format(SIGNATURES[0][1]))
    value = _raw(scrubbed, "sig")
    assert is_placeholder(value)
    assert Scrubber().learn({}, scrubbed).values == ()  # the app sending it back teaches the scrubber nothing
    assert Scrubber().learn({}, SIGNATURES[0][0].format(SIGNATURES[0][1])).values != ()


@pytest.mark.parametrize("pattern, signature, alphabet", SIGNATURES)
def test_a_url_with_its_stand_in_matches_the_real_one_as_a_request_and_inside_a_body(pattern, signature, alphabet):
    real = pattern.format(signature)
    replayed = Scrubber().text(real)
    scrubber = Scrubber()
    assert canonical_url(real, scrubber) == canonical_url(replayed, scrubber)
    bodies = [f'{{"image_url": "{u}", "prompt": "animate it"}}'.encode() for u in (real, replayed)]
    keys = {request_key("POST", "https://queue.fal.run/x", canonical_body(b, "application/json", scrubber))[0]
            for b in bodies}
    assert len(keys) == 1
    assert "[REDACTED]" in Scrubber().for_matching().text(real)


def test_a_url_scrubbed_by_an_older_version_is_kept_as_it_is():
    old = "https://cdn.test/v.mp4?se=2026-01-01&sig=[REDACTED]"
    assert Scrubber().text(old) == old
    assert canonical_url(old, Scrubber()) == canonical_url(Scrubber().text(AZURE.format(SIGNATURES[0][1])).replace(
        "acct.blob.core.windows.net/c", "cdn.test").replace("sv=2022-11-02&", "").replace(
        "se=2026-01-01T00%3A00Z&sp=r&", "se=2026-01-01&"), Scrubber())


def test_a_known_secret_elsewhere_in_the_url_takes_no_part_in_its_stand_in():
    pattern = "https://cdn.test/keys/{}/v.mp4?sig=kZ3vQ9xLmP2Rt8Yw1NbA7cD4eF6gH0jK"
    one = Scrubber(["tenant-key-0001"]).text(pattern.format("tenant-key-0001"))
    two = Scrubber(["tenant-key-0002"]).text(pattern.format("tenant-key-0002"))
    assert "tenant-key" not in one and one == two
