"""What the pages show, from cassette rows: filters, JSON, lines and HTTP interactions."""

from __future__ import annotations

import json

import pytest

from tarash.tarash_gateway.browser.views import (
    FilterError,
    Filters,
    ago,
    http_row,
    pretty_json,
    recording_detail,
    recording_line,
)

NOW = 1_800_000_000.0


def test_filters_become_a_parameterised_condition():
    filters = Filters.from_args({"provider": "fal", "outcome": "error", "newer_than": "7", "model": " "})
    assert filters.where(NOW) == ("provider = ? AND outcome = ? AND recorded_ts >= ?", ["fal", "error", NOW - 7 * 86400])
    assert Filters.from_args({}).where(NOW) == ("1", [])
    hostile = Filters.from_args({"model": "x' OR 1=1 --"})
    assert hostile.where(NOW) == ("model = ?", ["x' OR 1=1 --"])


@pytest.mark.parametrize("args, message", [
    ({"older_than": "later"}, "older_than must be a number of days"),
    ({"newer_than": "-3"}, "newer_than must be a number of days"),
    ({"older_than": "inf"}, "older_than must be a number of days"),
    ({"page": "0"}, "page must be a whole number"),
    ({"page": "2.5"}, "page must be a whole number"),
])
def test_a_filter_that_cannot_be_used_is_refused_by_name(args, message):
    with pytest.raises(FilterError, match=message):
        Filters.from_args(args)


def test_the_query_string_keeps_the_filters_and_changes_the_page():
    filters = Filters.from_args({"provider": "fal", "older_than": "30"})
    assert filters.query(page=2) == "?provider=fal&older_than=30&page=2"
    assert filters.query() == "?provider=fal&older_than=30"
    assert Filters().query() == "?" and not Filters().active and filters.active


@pytest.mark.parametrize("ts, said", [(NOW - 30, "just now"), (NOW - 120, "2 min ago"), (NOW - 7200, "2 h ago"),
                                      (NOW - 3 * 86400, "3 d ago"), (NOW + 60, "in the future"), (None, "")])
def test_ages_are_said_in_words(ts, said):
    assert ago(ts, NOW) == said


def test_json_is_indented_and_what_is_not_json_is_shown_as_it_is():
    assert pretty_json('{"a":[1,2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert pretty_json("{broken") == "{broken"
    assert pretty_json(None) == ""
    assert pretty_json(json.dumps("x" * 300_000)).endswith("more characters (the whole row is in the table view)")


ERROR_ROW = {
    "id": 3, "key": "k", "seq": 1, "kind": "video", "provider": "fal", "model": "m", "outcome": "error",
    "request": json.dumps({"request": {"prompt": "a dog"}}), "response": None, "library_version": "0.2.0",
    "error": json.dumps({"type": "GenerationFailedError", "message": "the GPU fell over"}),
    "timeline": json.dumps([{"t": 0, "u": {"status": "queued"}}, {"t": 2, "u": {"status": "failed"}}]),
    "duration": 2.0, "recorded_at": "2027-01-15T08:00:00+00:00", "recorded_ts": NOW - 3600,
}


def test_an_error_recording_line_names_the_error_and_its_message():
    line = recording_line(ERROR_ROW, [], NOW)
    assert (line["error_type"], line["error_message"], line["prompt"], line["age"]) == (
        "GenerationFailedError", "the GPU fell over", "a dog", "1 h ago")
    assert "st-failed" in line["timeline"]


def test_a_recording_in_full_shows_the_error_where_a_response_would_be():
    detail = recording_detail(ERROR_ROW, [], NOW)
    assert json.loads(detail["answer_json"])["type"] == "GenerationFailedError"
    assert [u["status"] for u in detail["updates"]] == ["queued", "failed"]
    assert json.loads(detail["request_json"]) == {"request": {"prompt": "a dog"}}


def test_a_damaged_row_still_shows_what_it_can():
    row = {**ERROR_ROW, "request": "{nope", "error": "[1, 2", "timeline": "garbage", "duration": "long"}
    line = recording_line(row, [], NOW)
    assert line["prompt"] is None and line["error_type"] is None
    assert "no updates" in line["timeline"]
    assert recording_detail(row, [], NOW)["answer_json"] == "[1, 2"


def test_an_http_interaction_shows_status_headers_and_bodies():
    row = {"id": 1, "method": "POST", "uri": "https://api.example/v1", "recorded_at": "now",
           "request": json.dumps({"headers": {"accept": ["*/*"], "x-many": ["a", "b"]}}),
           "response": json.dumps({"status": {"code": 201, "message": "Created"}, "headers": {"Server": ["x"]}}),
           "request_body": "a" * 64, "response_body": "b" * 64}
    shown = http_row(row, {"b" * 64: {"size": 2, "text": "{}"}})
    assert (shown["status"], shown["reason"]) == (201, "Created")
    assert shown["request_headers"] == [("accept", "*/*"), ("x-many", "a, b")]
    assert shown["response_body"] == {"size": 2, "text": "{}"} and shown["request_body"] is None
    broken = http_row({**row, "request": "nope", "response": json.dumps({"status": "weird"})}, {})
    assert broken["status"] is None and broken["request_headers"] == []
