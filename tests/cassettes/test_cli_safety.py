"""``tarash cassette`` on hostile cassettes and careless commands: nothing lost, nothing
written where it should not be, nothing that drives the terminal."""

from __future__ import annotations

import json
import os
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tarash.tarash_gateway.cli import main

from .hostile import build_cassette, export_text, tree

HOSTILE = "x\x1b]52;c;cHduZWQ=\x07 \x1b[2J\x1b[31mred \x9b31m \u202eevil\u202c \x00\x08\r"


def tarash(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def one_line_error(result: Result, code: int = 1) -> str:
    """The one ``Error:`` line of a failed command (asserting there is no traceback)."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.output.rstrip().endswith(errors[0]), result.output
    return errors[0]


def sql(path: Path, statement: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(statement, params)
    conn.close()


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return build_cassette(tmp_path / "run.db")


def recordings(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM recordings").fetchone()[0]
    finally:
        conn.close()


# -- export ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link", "its -wal"])
def test_export_refuses_to_write_onto_its_cassette(cassette, how):
    target = {"same path": cassette, "symlink": cassette.with_name("link.db"), "hard link": cassette.with_name(
        "hard.db"), "its -wal": Path(f"{cassette}-wal")}[how]
    if how == "symlink":
        target.symlink_to(cassette)
    if how == "hard link":
        os.link(cassette, target)
    before = cassette.read_bytes()
    assert "itself; export to another file" in one_line_error(tarash("cassette", "export", str(cassette), str(target)))
    assert cassette.read_bytes() == before and recordings(cassette) == 2


def test_export_replaces_an_existing_file_only_with_force(cassette, tmp_path):
    out = tmp_path / "run.jsonl"
    out.write_text("keep me\n")
    assert "exists; give --force" in one_line_error(tarash("cassette", "export", str(cassette), str(out)))
    assert out.read_text() == "keep me\n"
    assert tarash("cassette", "export", str(cassette), str(out), "--force").exit_code == 0
    assert out.read_text() == export_text(cassette)


def test_export_to_a_full_device_is_one_line_error(cassette):
    assert "cannot write /dev/full: No space left on device" in one_line_error(
        tarash("cassette", "export", str(cassette), "/dev/full"))


def test_export_writes_to_devices_and_stdout(cassette):
    result = tarash("cassette", "export", str(cassette), "/dev/null")
    assert result.exit_code == 0 and f"exported {len(export_text(cassette).splitlines())} lines" in result.output
    result = tarash("cassette", "export", str(cassette), "-")
    assert result.exit_code == 0 and result.stdout == export_text(cassette)


def test_a_failed_export_leaves_no_partial_file(cassette, tmp_path):
    sql(cassette, "UPDATE recordings SET timeline = '[{\"t\": 0' WHERE key = 'k-dog'")
    before = tree(tmp_path)
    error = one_line_error(tarash("cassette", "export", str(cassette), str(tmp_path / "out.jsonl")))
    assert "recording #2: its timeline is not valid JSON" in error
    assert tree(tmp_path) == before


def test_export_into_a_missing_directory_is_one_line_error(cassette, tmp_path):
    error = one_line_error(tarash("cassette", "export", str(cassette), str(tmp_path / "no" / "such" / "x.jsonl")))
    assert "cannot write" in error and "No such file or directory" in error


@pytest.mark.parametrize("digest", ["../../conftest", "/tmp/owned", "a" * 63])
def test_export_blobs_dir_never_writes_outside_it(cassette, tmp_path, digest):
    sql(cassette, "UPDATE blobs SET hash = ? WHERE size = (SELECT max(size) FROM blobs)", (digest,))
    blobs = tmp_path / "one" / "two" / "blobs"
    before = tree(tmp_path)
    error = one_line_error(tarash("cassette", "export", str(cassette), str(tmp_path / "o.jsonl"), "--blobs-dir",
                                  str(blobs)))
    assert "is not a sha256 digest" in error
    assert not Path("/tmp/owned").exists()
    written = tree(tmp_path) - before - {"one", "one/two", "one/two/blobs"}
    assert all(len(Path(p).name) == 64 and Path(p).parent == Path("one/two/blobs") for p in written), written


def test_export_reports_a_blob_referred_to_but_missing(cassette, tmp_path):
    sql(cassette, "DELETE FROM blobs WHERE content_type = 'image/png'")
    error = one_line_error(tarash("cassette", "export", str(cassette), str(tmp_path / "o.jsonl")))
    assert "recording #1: blob" in error and "is referred to but missing" in error


# -- show ------------------------------------------------------------------------------


def _no_controls(text: str) -> None:
    bad = [c for c in text if c != "\n" and not c.isprintable()]
    assert not bad, [unicodedata.name(c, hex(ord(c))) for c in bad]


def test_show_escapes_control_characters_in_every_mode(cassette):
    request = json.dumps({"request": {"prompt": HOSTILE}, "provider": HOSTILE})
    sql(cassette, "UPDATE recordings SET request = ?, provider = ?, model = ? WHERE id = 1",
        (request, "fal" + HOSTILE, HOSTILE))
    table = tarash("cassette", "show", str(cassette))
    as_json = tarash("cassette", "show", str(cassette), "--json")
    full = tarash("cassette", "show", str(cassette), "--id", "1")
    for result in (table, as_json, full):
        assert result.exit_code == 0, result.output
        _no_controls(result.output)
    assert "\\x1b]52;c;cHduZWQ=\\x07" in table.output and "\\u202eevil" in table.output
    shown = json.loads(full.output)  # still JSON, and the same value as stored
    assert shown["request"]["request"]["prompt"] == HOSTILE and shown["model"] == HOSTILE
    assert json.loads(as_json.output)["recordings"][0]["model"] == HOSTILE


def test_textconv_diff_and_summary_escape_what_they_print(cassette, tmp_path):
    other = build_cassette(tmp_path / "other.db")
    sql(cassette, "UPDATE recordings SET request = ?, model = ?, response = ? WHERE id = 1",
        (json.dumps({"request": {"prompt": HOSTILE}}), HOSTILE, json.dumps({"request_id": HOSTILE})))
    for args in (["textconv", str(cassette)], ["diff", str(other), str(cassette)], ["summary", str(cassette)]):
        result = tarash("cassette", *args)
        assert result.exit_code in (0, 1) and result.exception is None or isinstance(result.exception, SystemExit)
        assert "\\x1b" in result.output, (args, result.output)
        _no_controls(result.output)


def test_ls_and_verify_escape_what_they_print(tmp_path):
    name = tmp_path / "evil\x1b]52;c;eA==\x07.db"
    build_cassette(name)
    for command in ("ls", "verify"):
        result = tarash("cassette", command, str(name))
        assert result.exit_code == 0
        _no_controls(result.output)
        assert "evil\\x1b]52;c;eA==\\x07.db" in result.output


def test_show_reports_a_damaged_row_and_exits_1(cassette):
    sql(cassette, "UPDATE recordings SET request = '{not json' WHERE id = 2")
    table = tarash("cassette", "show", str(cassette))
    assert "<damaged>" in table.output and "'a cat playing piano'" in table.output
    assert "recording #2: its request is not valid JSON" in one_line_error(table)
    full = tarash("cassette", "show", str(cassette), "--id", "2")
    assert '"damaged": "{not json"' in full.output
    one_line_error(full)


@pytest.mark.parametrize("value", ["0", "-1", "99999999999999999999", "abc"])
def test_show_refuses_an_id_out_of_range(cassette, value):
    assert "Invalid value for '--id'" in one_line_error(tarash("cassette", "show", str(cassette), "--id", value), 2)


# -- verify, prune, import --------------------------------------------------------------


def test_verify_lists_each_problem(cassette):
    sql(cassette, "UPDATE media SET hash = '../../conftest'")
    sql(cassette, "UPDATE recordings SET error = '{broken' WHERE id = 2")
    sql(cassette, "DELETE FROM blobs WHERE content_type = 'image/png'")
    result = tarash("cassette", "verify", str(cassette))
    problems = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert len(problems) == 3, result.output
    assert any("media 'video': blob hash '../../conftest' is not a sha256 digest" in p for p in problems)
    assert any("recording #2: error is not valid JSON" in p for p in problems)
    assert any("is referred to but missing" in p for p in problems)
    assert "1 of 1 cassette damaged" in one_line_error(result)


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "-inf", "soon"])
def test_prune_refuses_a_negative_or_infinite_age(cassette, value):
    assert "--older-than" in one_line_error(tarash("cassette", "prune", str(cassette), "--older-than", value), 2)
    assert recordings(cassette) == 2


def test_prune_older_than_zero_is_everything_before_now(cassette):
    assert "deleted 2 recordings" in tarash("cassette", "prune", str(cassette), "--older-than", "0").output


def _yaml(tmp_path: Path, body_size: int) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text("interactions:\n- request: {method: GET, uri: 'https://a.b/', headers: {}, body: null}\n"
                    f"  response: {{status: {{code: 200, message: OK}}, headers: {{}}, body: {{string: {'x' * body_size}}}}}\n")
    return path


def test_import_max_body_size_option_and_environment(tmp_path):
    source, target = _yaml(tmp_path, 3000), tmp_path / "c" / "new.db"
    error = one_line_error(tarash("cassette", "import", str(source), str(target), "--max-body-size", "2K"))
    assert "over the 2 KiB cap" in error and not target.parent.exists()
    error = one_line_error(tarash("cassette", "import", str(source), str(target), env={"TARASH_MAX_BODY_SIZE": "2K"}))
    assert "over the 2 KiB cap" in error
    error = one_line_error(tarash("cassette", "import", str(source), str(target), env={"TARASH_MAX_BODY_SIZE": "1K"}))
    assert "the YAML file is 3.1 KiB, over twice the 1 KiB cap" in error
    assert "TARASH_MAX_BODY_SIZE" in one_line_error(
        tarash("cassette", "import", str(source), str(target), env={"TARASH_MAX_BODY_SIZE": "big"}))
    for bad in ("0", "-5", "lots", "2X"):
        one_line_error(tarash("cassette", "import", str(source), str(target), "--max-body-size", bad), 2)
    assert not target.parent.exists()
    result = tarash("cassette", "import", str(source), str(target), "--max-body-size", "4K")
    assert result.exit_code == 0 and "imported 1 new HTTP interaction " in result.output


def test_a_failed_import_into_an_existing_cassette_changes_nothing(cassette, tmp_path):
    before = export_text(cassette)
    bad = tmp_path / "bad.jsonl"
    lines = export_text(build_cassette(tmp_path / "other.db"), embed_blobs=True).splitlines()
    bad.write_text("\n".join([*lines, '{"type": "http"}']) + "\n")
    sql(cassette, "DELETE FROM recordings WHERE id = 1")
    before = export_text(cassette)
    assert f"bad.jsonl:{len(lines) + 1}:" in one_line_error(tarash("cassette", "import", str(bad), str(cassette)))
    assert export_text(cassette) == before
