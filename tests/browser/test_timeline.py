"""The progress chart: parsed from untrusted timelines, drawn with every value escaped."""

from __future__ import annotations

import json
import re

from tarash.tarash_gateway.browser.timeline import Point, timeline_entries, timeline_points, timeline_svg


def timeline(*updates: tuple[float, dict]) -> str:
    return json.dumps([{"t": t, "u": u} for t, u in updates])


def test_points_come_from_the_recorded_updates_in_order():
    raw = timeline((0, {"status": "queued"}), (2.5, {"status": "processing", "progress_percent": 40}),
                   (5, {"status": "completed", "progress_percent": 100}))
    assert timeline_points(raw) == [Point(0.0, "queued", None), Point(2.5, "processing", 40.0),
                                    Point(5.0, "completed", 100.0)]


def test_malformed_timelines_and_entries_are_skipped_not_fatal():
    assert timeline_points(None) == [] and timeline_points("not json") == [] and timeline_points('{"t": 1}') == []
    raw = json.dumps([{"t": "soon", "u": {}}, {"t": 1, "u": "x"}, 7, {"t": float("inf"), "u": {}},
                      {"t": True, "u": {}}, {"t": 2, "u": {"status": "queued", "progress_percent": "half"}}])
    assert timeline_points(raw) == [Point(2.0, "queued", None)]
    assert timeline_entries(raw)[0][1] == {"status": "queued", "progress_percent": "half"}


def test_the_chart_has_a_dot_per_update_coloured_by_status_and_an_end_mark():
    points = timeline_points(timeline((0, {"status": "queued"}), (5, {"status": "processing", "progress_percent": 50}),
                                      (10, {"status": "failed"})))
    svg = str(timeline_svg(points, duration=12.0, outcome="error"))
    assert re.findall(r'<circle class="(st-\w+)"', svg) == ["st-queued", "st-processing", "st-failed"]
    assert 'class="end-error"' in svg and "<title>12 s: error</title>" in svg
    assert "<title>5 s: processing, 50 %</title>" in svg
    assert ">10 s</text>" in svg  # an axis tick


def test_progress_is_drawn_higher_as_it_grows():
    points = timeline_points(timeline((0, {"status": "processing", "progress_percent": 0}),
                                      (1, {"status": "processing", "progress_percent": 100})))
    svg = str(timeline_svg(points, duration=1.0, outcome="response"))
    heights = [float(y) for y in re.findall(r'<circle [^>]*cy="([\d.]+)"', svg)]
    assert heights[1] < heights[0]


def test_recorded_statuses_are_escaped_and_never_become_class_names():
    points = [Point(0.0, '<script>alert(1)</script>" onload="x', None)]
    svg = str(timeline_svg(points, duration=None, outcome="response"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'class="st-other"' in svg and "onload=\"" not in svg


def test_a_recording_without_updates_says_so():
    assert "no progress updates recorded" in timeline_svg([], duration=3.0, outcome="response")


def test_the_compact_chart_for_lists_has_no_axes():
    points = timeline_points(timeline((0, {"status": "queued"}), (3, {"status": "completed", "progress_percent": 100})))
    svg = str(timeline_svg(points, duration=3.0, outcome="response", compact=True))
    assert 'width="160"' in svg and "<text" not in svg and svg.count("<circle") == 2
