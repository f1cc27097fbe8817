"""The browser as a person sees it: headless Chromium loads the pages from the server."""

from __future__ import annotations

import pytest

from tests.support.devtools import Page

ROWS = "[...document.querySelectorAll('table.tarash-recordings tbody tr')]"


@pytest.fixture(scope="module")
def page(server):
    with Page(server.url, width=1280, height=900) as opened:
        opened.wait_for("document.readyState === 'complete'")
        yield opened


def test_the_recordings_page_shows_a_decoded_thumbnail_and_a_playable_video(page, server):
    page.goto(server.url)
    assert page.evaluate("document.title") == "Recordings of run"
    images = page.wait_for("[...document.querySelectorAll('img.tarash-thumb')].every(i => i.complete) && "
                           "[...document.querySelectorAll('img.tarash-thumb')].map(i => i.naturalWidth)")
    assert images == [1024]  # the recorded PNG, really decoded
    durations = page.wait_for("[...document.querySelectorAll('video.tarash-video')].every(v => v.readyState >= 1) && "
                              "[...document.querySelectorAll('video.tarash-video')].map(v => v.duration)")
    assert len(durations) == 2 and all(3.5 < d < 4.5 for d in durations)  # the 4 s stock clip's metadata read


def test_a_video_seeks(page, server):
    page.goto(server.url + "/recordings/1")
    page.wait_for("document.querySelector('video').readyState >= 1")
    at = page.evaluate("new Promise(done => { const v = document.querySelector('video');"
                       " v.addEventListener('seeked', () => done(v.currentTime), {once: true}); v.currentTime = 3; })")
    assert at == pytest.approx(3, abs=0.2)


def test_the_outcome_filter_shows_only_errors(page, server):
    page.goto(server.url + "?outcome=error")
    outcomes = page.evaluate(f"{ROWS}.map(r => r.dataset.outcome)")
    assert outcomes == ["error"]
    assert page.evaluate("document.querySelector('select[name=outcome]').value") == "error"


def test_choosing_a_filter_in_the_form_reloads_with_it(page, server):
    page.goto(server.url)
    page.evaluate("window.__left = true; document.querySelector('select[name=provider]').value = 'openai';"
                  " document.querySelector('form.tarash-filters').submit()")
    page.wait_for("!window.__left && document.readyState === 'complete'")
    assert page.evaluate("location.search") == "?provider=openai"  # the empty fields dropped
    assert page.evaluate(f"{ROWS}.map(r => r.querySelector('strong').textContent)") == ["openai"]


def test_a_recording_draws_its_progress_chart(page, server, tmp_path):
    page.goto(server.url + "/recordings/1")
    box = page.evaluate("(() => { const r = document.querySelector('.tarash-chart svg').getBoundingClientRect();"
                        " return [r.width, r.height]; })()")
    assert box[0] > 300 and box[1] > 100
    assert page.evaluate("document.querySelectorAll('.tarash-chart circle').length") == 4
    shot = page.screenshot(tmp_path / "recording.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
