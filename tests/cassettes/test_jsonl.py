"""Reading an export back: every hostile or damaged line is a CassetteError naming file:line,
nothing is written outside the cassette, and a failed import leaves no trace."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from tarash.tarash_gateway.cassettes import interop
from tarash.tarash_gateway.exceptions import CassetteError

from .hostile import VIDEO, build_cassette, export_text, tree

HEADER = json.dumps({"type": "cassette", "format": interop.FORMAT, "schema_version": 1})


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return build_cassette(tmp_path / "source.db")


def lines_of(source: Path, **options: object) -> list[dict]:
    return [json.loads(line) for line in export_text(source, **options).splitlines()]


def write(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def run_import(export: Path, target: Path, **options: object) -> tuple[int, int]:
    with interop.importing(target) as store:
        return interop.import_jsonl(export, store, **options)


HOSTILE_HASHES = ["../../conftest", "/etc/passwd", "A" * 64, "a" * 63, "a" * 65, "../" + "a" * 61, "", None, 7,
                  "a" * 63 + "\n"]


@pytest.mark.parametrize("digest", HOSTILE_HASHES, ids=repr)
def test_a_blob_line_with_a_hostile_hash_is_refused_and_writes_nothing_outside(tmp_path, source, digest):
    blobs = tmp_path / "deep" / "er" / "blobs"
    blobs.mkdir(parents=True)
    export = write(tmp_path / "deep" / "er" / "e.jsonl", [HEADER, {"type": "blob", "sha256": digest, "size": 3,
                                                                    "content_type": "text/plain"}])
    before = tree(tmp_path)
    with pytest.raises(CassetteError, match=r"e.jsonl:2: blob hash .* is not a sha256 digest"):
        run_import(export, tmp_path / "deep" / "new.db", blobs_dir=blobs)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("field", ["media", "request_body"])
def test_a_hostile_hash_in_a_recording_or_interaction_is_refused(tmp_path, source, field):
    lines = lines_of(source, embed_blobs=True)
    for line in lines:
        if field == "media" and line["type"] == "recording" and line["media"]:
            line["media"][0]["sha256"] = "../../conftest"
        if field == "request_body" and line["type"] == "http" and line["request_body"]:
            line["request_body"] = "/etc/passwd"
    export = write(tmp_path / "e.jsonl", lines)
    with pytest.raises(CassetteError, match="is not a sha256 digest"):
        run_import(export, tmp_path / "new.db")
    assert not (tmp_path / "new.db").exists()


def test_a_blob_file_linked_from_outside_the_blobs_dir_is_refused(tmp_path, source):
    export, blobs = tmp_path / "e.jsonl", tmp_path / "blobs"
    export.write_text(export_text(source))  # the video is not inline: it comes from the blobs dir
    digest = hashlib.sha256(VIDEO).hexdigest()
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(VIDEO)
    blobs.mkdir()
    (blobs / digest).symlink_to(outside)
    with pytest.raises(CassetteError, match="would be written outside"):
        run_import(export, tmp_path / "new.db", blobs_dir=blobs)


def test_blobs_past_the_cap_are_refused_before_they_are_decoded(tmp_path, source):
    big = b"\x00" * 5000
    line = {"type": "blob", "sha256": hashlib.sha256(big).hexdigest(), "size": len(big), "content_type": None,
            "base64": base64.b64encode(big).decode()}
    export = write(tmp_path / "e.jsonl", [HEADER, line])
    with pytest.raises(CassetteError, match=r"e.jsonl:2: the blob is over the 4 KiB cap"):
        run_import(export, tmp_path / "new.db", max_body_size=4096)
    assert run_import(export, tmp_path / "new.db", max_body_size=8192) == (0, 0)
    export = write(tmp_path / "long.jsonl", [HEADER, {"type": "blob", "pad": "x" * 2_000_000}])
    with pytest.raises(CassetteError, match=r"long.jsonl:2: the line is over"):
        run_import(export, tmp_path / "other.db", max_body_size=4096)


def test_a_blob_file_past_the_cap_is_refused(tmp_path, source):
    export, blobs = tmp_path / "e.jsonl", tmp_path / "blobs"
    export.write_text(export_text(source, blobs_dir=blobs))
    with pytest.raises(CassetteError, match="blob file is over the 1 KiB cap"):
        run_import(export, tmp_path / "new.db", blobs_dir=blobs, max_body_size=1024)
    assert run_import(export, tmp_path / "new.db", blobs_dir=blobs) == (2, 2)


BAD_LINES = {
    "no header": ([{"type": "blob"}], ":1: the first line, and only it, must be"),
    "a second header": ([HEADER, HEADER], ":2: the first line, and only it"),
    "another format": ([{"type": "cassette", "format": "other/9"}], ":1: format 'other/9' is not"),
    "an unknown type": ([HEADER, {"type": "surprise"}], ":2: not a cassette export line (type 'surprise')"),
    "a line that is a list": ([HEADER, "[1, 2]"], ":2: not a cassette export line"),
    "a line that is not JSON": ([HEADER, "{nope"], ":2: not a cassette export line (JSONDecodeError"),
    "deeply nested JSON": ([HEADER, "[" * 100_000 + "]" * 100_000], ":2: not a cassette export line"),
    "a huge number": ([HEADER, '{"type": "recording", "duration": ' + "9" * 5000 + "}"], ":2: not a cassette export"),
    "an empty first line": (["", HEADER], ":1: the first line is not a"),
    "an outcome that is neither": ([HEADER, {"type": "recording", "key": "k", "kind": "video", "provider": "p",
                                             "model": "m", "request": {}, "outcome": "maybe"}],
                                   ":2: outcome 'maybe' is neither"),
    "a key that is a number": ([HEADER, {"type": "recording", "key": 5}], ":2: a recording line lacks or mangles"),
    "an infinite duration": ([HEADER, {"type": "recording", "key": "k", "kind": "video", "provider": "p",
                                       "model": "m", "request": {}, "outcome": "error", "duration": "Infinity"}],
                             ":2: a recording line lacks or mangles a field: 'duration'"),
    "media that is not a list": ([HEADER, {"type": "recording", "key": "k", "kind": "v", "provider": "p", "model": "m",
                                           "request": {}, "outcome": "error", "media": "x"}], ":2: a recording line"),
    "a lone surrogate": ([HEADER, '{"type": "recording", "key": "\\ud800", "kind": "v", "provider": "p", '
                                  '"model": "m", "request": {}, "outcome": "error"}'], ":2: not a cassette export"),
    "an http line without a uri": ([HEADER, {"type": "http", "method": "GET", "request": {}, "response": {}}],
                                   ":2: a http line lacks or mangles a field: 'uri'"),
    "base64 that is not": ([HEADER, {"type": "blob", "sha256": "a" * 64, "base64": "!!!"}], ":2: the base64 of blob"),
    "edited text": ([HEADER, {"type": "blob", "sha256": "a" * 64, "text": "hello"}], ":2: blob aaaaaaaaaaaa... does"),
}


@pytest.mark.parametrize("lines, message", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_bad_line_is_one_error_naming_the_line(tmp_path, lines, message):
    export = write(tmp_path / "e.jsonl", lines)
    with pytest.raises(CassetteError) as raised:
        run_import(export, tmp_path / "new.db")
    assert f"e.jsonl{message}" in str(raised.value).replace("(type", "(type").replace(str(tmp_path) + "/", "")
    assert "\n" not in str(raised.value)


def test_an_empty_or_non_utf8_export_is_refused(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(CassetteError, match="is empty"):
        run_import(tmp_path / "empty.jsonl", tmp_path / "new.db")
    (tmp_path / "latin.jsonl").write_bytes(HEADER.encode() + b"\n\xff\xfe\n")
    with pytest.raises(CassetteError, match=r"latin.jsonl:2: not UTF-8 text \(byte 0 of the line\)"):
        run_import(tmp_path / "latin.jsonl", tmp_path / "new.db")


def test_a_recording_whose_blob_is_not_in_the_export_is_refused(tmp_path, source):
    lines = [line for line in lines_of(source, embed_blobs=True) if line["type"] != "blob"]
    export = write(tmp_path / "e.jsonl", lines)
    with pytest.raises(CassetteError, match=r"e.jsonl:2: blob [0-9a-f]{12}\.\.\. is neither in the export nor"):
        run_import(export, tmp_path / "new.db")


def test_a_failed_import_leaves_no_new_cassette_nor_its_directories(tmp_path, source):
    good = lines_of(source, embed_blobs=True)
    export = write(tmp_path / "e.jsonl", [*good, {"type": "recording", "key": 5}])  # all good, the last line bad
    before = tree(tmp_path)
    with pytest.raises(CassetteError, match=f":{len(good) + 1}:"):
        run_import(export, tmp_path / "new" / "dirs" / "run.db")
    assert tree(tmp_path) == before


def test_a_failed_import_leaves_an_existing_cassette_as_it_was(tmp_path, source):
    other = build_cassette(tmp_path / "other.db")
    with interop.importing(other) as store:  # make it differ from the source a little
        store.delete_recordings([1])
    before = export_text(other)
    good = lines_of(source, embed_blobs=True)
    export = write(tmp_path / "e.jsonl", [*good, {"type": "http", "method": "GET"}])
    with pytest.raises(CassetteError):
        run_import(export, other)
    assert export_text(other) == before
    assert run_import(write(tmp_path / "ok.jsonl", good), other) == (1, 0)  # the good part alone adds the missing one


def test_an_export_imports_back_into_an_equal_cassette(tmp_path, source):
    text = export_text(source, embed_blobs=True)
    (tmp_path / "e.jsonl").write_text(text)
    assert run_import(tmp_path / "e.jsonl", tmp_path / "copy.db") == (2, 2)
    assert export_text(tmp_path / "copy.db", embed_blobs=True) == text
    assert run_import(tmp_path / "e.jsonl", tmp_path / "copy.db") == (0, 0)
