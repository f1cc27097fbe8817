"""The body cap: sizes parse, and decompression is measured as the scrubber would decompress."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from tarash.tarash_gateway.cassettes.limits import DEFAULT_MAX_BODY_SIZE, inflate, max_body_size, parse_size
from tarash.tarash_gateway.exceptions import CassetteError, ValidationError


@pytest.mark.parametrize("text, size", [("1048576", 1 << 20), ("64K", 64 << 10), ("512M", 512 << 20),
                                        ("1GiB", 1 << 30), ("2 mb", 2 << 20), ("10b", 10)])
def test_sizes_parse_in_binary_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "-1", "0", "1.5M", "12X", "M", "2T5", "9" * 30])
def test_a_bad_size_is_a_validation_error(text):
    with pytest.raises(ValidationError):
        parse_size(text)


def test_the_cap_defaults_to_512_mib_and_a_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.delenv("TARASH_MAX_BODY_SIZE", raising=False)
    assert max_body_size() == DEFAULT_MAX_BODY_SIZE == 512 << 20
    monkeypatch.setenv("TARASH_MAX_BODY_SIZE", "lots")
    with pytest.raises(ValidationError, match="TARASH_MAX_BODY_SIZE"):
        max_body_size()
    assert max_body_size(100) == 100


PLAIN = os.urandom((1 << 20) + 12345)  # past one 1 MiB chunk


@pytest.mark.parametrize("body, encoding, expected", [
    (gzip.compress(PLAIN), "gzip", PLAIN),
    (gzip.compress(PLAIN) + gzip.compress(b"second member"), "gzip", PLAIN + b"second member"),
    (zlib.compress(PLAIN), "deflate", PLAIN),
    (zlib.compress(b"abc") + b"trailing", "deflate", b"abc"),
    (gzip.compress(PLAIN)[:-100], "gzip", None),
    (b"not compressed", "gzip", None),
    (b"raw bytes", "br", b"raw bytes"),
    (b"raw bytes", "", b"raw bytes"),
], ids=["gzip", "gzip members", "deflate", "deflate trailing", "truncated", "not gzip", "other", "none"])
def test_inflate_gives_what_gzip_and_zlib_give(body, encoding, expected):
    assert inflate(body, encoding, 8 << 20, "here") == expected


def test_inflate_stops_at_the_cap_across_gzip_members():
    members = gzip.compress(bytes(3 << 20)) * 3  # each member under the cap, together over it
    with pytest.raises(CassetteError, match="here: the decompressed body is over the 8 MiB cap"):
        inflate(members, "gzip", 8 << 20, "here", keep=False)
    with pytest.raises(CassetteError, match="the body is over the 10 bytes cap"):
        inflate(b"x" * 11, "", 10, "here")
