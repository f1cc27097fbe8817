"""The browser's routes over real HTTP on 127.0.0.1: pages, filters, blobs, read-only."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from .conftest import HOSTILE, HTML_BLOB


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url.removesuffix("/-/tarash"), timeout=10) as client:
        yield client


def shown_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/-/tarash/recordings/(\d+)">#', html)]


def test_the_recordings_page_lists_every_recording_newest_first_with_its_media(http, blobs):
    page = http.get("/-/tarash")
    assert page.status_code == 200
    assert shown_ids(page.text) == [4, 3, 2, 1]
    assert f'<img class="tarash-thumb" src="/-/tarash/blobs/{blobs["image/png"]["hash"]}"' in page.text
    assert f'<video class="tarash-video" src="/-/tarash/blobs/{blobs["video/mp4"]["hash"]}#t=0.5" controls' in page.text
    assert "GenerationFailedError" in page.text


def test_the_root_leads_to_the_recordings(http):
    answer = http.get("/")
    assert answer.status_code == 302 and answer.headers["location"] == "/-/tarash"


@pytest.mark.parametrize("query, ids", [
    ("outcome=error", [3]),
    ("outcome=response", [4, 2, 1]),
    ("provider=openai", [2]),
    ("model=fal-ai/kling-video", [4]),
    ("kind=video&outcome=response", [4, 1]),
    ("older_than=30", [4]),
    ("newer_than=1", [3, 2, 1]),
    ("provider=nobody", []),
])
def test_a_filter_shows_only_the_recordings_it_matches(http, query, ids):
    page = http.get(f"/-/tarash?{query}")
    assert page.status_code == 200
    assert shown_ids(page.text) == ids


def test_the_filter_forms_empty_fields_are_dropped_from_the_address(http):
    answer = http.get("/-/tarash?provider=fal&model=&outcome=error&kind=&newer_than=&older_than=")
    assert answer.status_code == 302 and answer.headers["location"] == "/-/tarash?provider=fal&outcome=error"


def test_an_age_the_form_does_not_offer_is_still_shown_as_chosen(http):
    page = http.get("/-/tarash?older_than=45").text
    assert '<option value="45" selected>45 days</option>' in page


@pytest.mark.parametrize("query", ["older_than=soon", "newer_than=-1", "older_than=nan", "page=0", "page=x"])
def test_a_filter_that_cannot_be_used_is_a_400_naming_it(http, query):
    page = http.get(f"/-/tarash?{query}")
    assert page.status_code == 400
    assert query.split("=")[0] in page.text


def test_recorded_text_is_escaped_on_every_page(http):
    for url in ("/-/tarash", "/-/tarash/recordings/2"):
        text = http.get(url).text
        assert HOSTILE not in text and "<script>alert" not in text
        assert "&lt;script&gt;alert(" in text


def test_a_recording_shows_its_chart_its_request_and_its_response(http, blobs):
    page = http.get("/-/tarash/recordings/1").text
    chart = page.split('<div class="tarash-chart">', 1)[1].split("</svg>", 1)[0]
    assert chart.count('<circle class="st-') == 4  # queued, processing, processing, completed
    assert 'class="st-completed"' in chart and 'class="end-response"' in chart
    request, response = page.split('<pre class="tarash-json">')[1:3]
    assert "&#34;prompt&#34;: &#34;a cat playing piano&#34;" in request
    assert "&#34;content_type&#34;: &#34;video/mp4&#34;" in response
    assert f'src="/-/tarash/blobs/{blobs["video/mp4"]["hash"]}"' in page


def test_a_recording_says_how_often_the_last_strict_run_replayed_it(http):
    page = http.get("/-/tarash/recordings/1").text
    assert "<dt>replays</dt><dd>3 in the last strict run (2026-11-30T10:00:00+00:00)</dd>" in page
    assert "<dt>replays</dt>" not in http.get("/-/tarash/recordings/2").text


def test_an_error_recording_shows_the_error_beside_the_request(http):
    page = http.get("/-/tarash/recordings/3").text
    assert "<h2>Error</h2>" in page
    error = page.split('<pre class="tarash-json error">', 1)[1].split("</pre>", 1)[0]
    assert "&#34;type&#34;: &#34;GenerationFailedError&#34;" in error
    assert 'class="st-failed"' in page and 'class="end-error"' in page


def test_a_media_row_whose_hash_is_not_a_hash_is_shown_damaged_and_linked_nowhere(http):
    for url in ("/-/tarash", "/-/tarash/recordings/4"):
        page = http.get(url).text
        assert "images/9: damaged row (not a blob hash)" in page
        assert "run.db&#34;" not in page and 'src="/-/tarash/blobs/..' not in page
        assert "/-/tarash/blobs/../" not in page


def test_a_recording_the_cassette_lacks_is_a_404(http):
    assert http.get("/-/tarash/recordings/999").status_code == 404


def test_the_http_page_shows_both_sides_of_each_interaction(http):
    page = http.get("/-/tarash/http").text
    assert page.count('<details class="tarash-http"') == 13
    assert "api.replicate.com/v1/models/stability-ai/sdxl" in page
    assert '<span class="tarash-badge ok">201 Created</span>' in page
    assert "<th>content-type</th>" in page.lower()
    assert "&#34;status&#34;: &#34;starting&#34;" in page  # a JSON body, pretty-printed


def test_a_blob_streams_whole_with_its_content_type_and_hash(http, blobs):
    for content_type in ("image/png", "video/mp4"):
        blob = blobs[content_type]
        answer = http.get(f"/-/tarash/blobs/{blob['hash']}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == content_type
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["accept-ranges"] == "bytes"
        assert answer.content == blob["data"] and hashlib.sha256(answer.content).hexdigest() == blob["hash"]


def test_a_range_request_gets_those_bytes_so_a_video_can_seek(http, blobs):
    video = blobs["video/mp4"]
    size = len(video["data"])
    middle = http.get(f"/-/tarash/blobs/{video['hash']}", headers={"Range": "bytes=100-1099"})
    assert middle.status_code == 206
    assert middle.headers["content-range"] == f"bytes 100-1099/{size}"
    assert middle.content == video["data"][100:1100]
    tail = http.get(f"/-/tarash/blobs/{video['hash']}", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == video["data"][-10:]
    past = http.get(f"/-/tarash/blobs/{video['hash']}", headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"


def test_head_of_a_blob_gives_its_headers_without_bytes(http, blobs):
    answer = http.head(f"/-/tarash/blobs/{blobs['image/png']['hash']}")
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-length"] == str(len(blobs["image/png"]["data"]))


@pytest.mark.parametrize("address", [
    "abc", "A" * 64, "0" * 63, "g" * 64, "..%2F..%2Frun.db", "%2e%2e", "0" * 64 + ".png", "",
])
def test_only_a_valid_sha256_addresses_a_blob(http, address):
    answer = http.get(f"/-/tarash/blobs/{address}")
    assert answer.status_code == 404
    assert "sha256" in answer.text or "not found" in answer.text.lower()


def test_a_blob_the_cassette_lacks_is_a_404(http):
    answer = http.get(f"/-/tarash/blobs/{'0' * 64}")
    assert answer.status_code == 404 and "holds no blob" in answer.text


def test_a_blob_recorded_as_html_is_served_as_a_download_never_as_a_page(http):
    answer = http.get(f"/-/tarash/blobs/{HTML_BLOB.hash}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"] == "attachment"
    assert "sandbox" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_no_route_of_ours_accepts_a_write(http, blobs):
    assert http.post(f"/-/tarash/blobs/{blobs['image/png']['hash']}").status_code == 405
    for url in ("/-/tarash", "/-/tarash/recordings/1", "/-/tarash/http"):
        assert http.post(url).status_code in (400, 403)


def test_datasette_cannot_change_the_immutable_cassette(http, cassette: Path):
    answer = http.get("/run.json", params={"sql": "DELETE FROM recordings", "_shape": "array"})
    assert answer.status_code == 400
    answer = http.get("/run.json", params={"sql": "SELECT count(*) AS n FROM recordings", "_shape": "array"})
    assert answer.json() == [{"n": 4}]
    conn = sqlite3.connect(f"file:{cassette}?immutable=1", uri=True)
    try:
        assert conn.execute("SELECT count(*) FROM recordings").fetchone()[0] == 4
    finally:
        conn.close()


def test_every_response_says_nosniff_and_our_pages_allow_nothing_from_elsewhere(http):
    for url in ("/-/tarash", "/run/recordings", "/-/tarash-static/browser.css"):
        assert http.get(url).headers["x-content-type-options"] == "nosniff", url
    policy = http.get("/-/tarash").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy


def test_the_recordings_table_of_datasette_has_facets_and_links_to_the_blobs(http, blobs):
    table = http.get("/run/recordings").text
    assert 'data-column="provider"' in table and 'data-column="outcome"' in table
    assert "Browse recordings with their media and timelines" in table
    menu = table.split('<div class="nav-menu-inner">', 1)[1].split("</ul>", 1)[0]
    assert '<a href="/-/tarash">Recordings</a>' in menu and '<a href="/-/tarash/http">HTTP interactions</a>' in menu
    timeline = table.split('<td class="col-timeline', 1)[1].split("</td>", 1)[0]
    assert '<svg class="tarash-timeline compact"' in timeline  # drawn, not the raw JSON
    media = http.get("/run/media").text
    assert f'href="/-/tarash/blobs/{blobs["video/mp4"]["hash"]}"' in media


def test_a_blob_is_named_by_its_hash_so_a_cached_copy_stays_valid(http, blobs):
    digest = blobs["image/png"]["hash"]
    first = http.get(f"/-/tarash/blobs/{digest}")
    assert first.headers["etag"] == f'"{digest}"'
    again = http.get(f"/-/tarash/blobs/{digest}", headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304 and again.content == b""
