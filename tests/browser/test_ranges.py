"""Which bytes a Range header asks for, and what a blob may be served as."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway.browser.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    media_kind,
    parse_range,
    safe_content_type,
)


@pytest.mark.parametrize("header, expected", [
    (None, None),
    ("", None),
    ("bytes=0-", ByteRange(0, 999, 1000)),
    ("bytes=0-0", ByteRange(0, 0, 1000)),
    ("bytes=100-199", ByteRange(100, 199, 1000)),
    ("bytes=900-5000", ByteRange(900, 999, 1000)),  # clipped to the end
    ("bytes=-100", ByteRange(900, 999, 1000)),
    ("bytes=-5000", ByteRange(0, 999, 1000)),
    (" bytes=5-9 ", ByteRange(5, 9, 1000)),
    ("bytes=0-10,20-30", None),  # several ranges: the whole blob
    ("items=0-10", None),
    ("bytes=20-10", None),  # invalid: ignored
    ("bytes=-", None),
    ("bytes=abc", None),
])
def test_a_range_header_names_one_span_or_the_whole_blob(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header, size", [("bytes=1000-", 1000), ("bytes=-0", 1000), ("bytes=0-", 0), ("bytes=-5", 0)])
def test_a_range_outside_the_blob_cannot_be_satisfied(header, size):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)


def test_a_range_says_its_length_and_content_range():
    span = ByteRange(100, 199, 1000)
    assert (span.length, span.content_range) == (100, "bytes 100-199/1000")


@pytest.mark.parametrize("recorded, served", [
    ("image/png", "image/png"),
    ("IMAGE/JPEG", "image/jpeg"),
    ("video/mp4; codecs=avc1", "video/mp4"),
    ("application/json", "application/json; charset=utf-8"),
    ("text/plain; charset=latin-1", "text/plain; charset=utf-8"),
    ("text/html", "application/octet-stream"),
    ("image/svg+xml", "application/octet-stream"),  # an SVG can carry script
    ("application/javascript", "application/octet-stream"),
    ("application/xhtml+xml", "application/octet-stream"),
    ("", "application/octet-stream"),
    (None, "application/octet-stream"),
])
def test_only_types_a_browser_shows_inertly_are_served_as_recorded(recorded, served):
    assert safe_content_type(recorded) == served


@pytest.mark.parametrize("recorded, kind", [
    ("image/webp", "image"), ("video/webm", "video"), ("audio/mpeg", "audio"), ("application/json", "text"),
    ("text/html", "download"), (None, "download"),
])
def test_a_page_shows_a_blob_by_the_kind_it_is_served_as(recorded, kind):
    assert media_kind(recorded) == kind
