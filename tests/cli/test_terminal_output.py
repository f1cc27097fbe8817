"""What a person at a terminal sees: aligned tables that fit its width (cells escaped
before they are measured), counted nouns, and progress bars on stderr only when stderr
is a terminal, so `--json` and pipes stay clean."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.cli.output import plural, table, width_of
from tests.cassettes.hostile import build_cassette
from tests.cli.terminal_session import in_terminal


@pytest.mark.parametrize(("n", "noun", "expected"), [
    (0, "recording", "0 recordings"), (1, "recording", "1 recording"), (2, "recording", "2 recordings"),
    (1, "update", "1 update"), (3, "HTTP interaction", "3 HTTP interactions"), (2, "entry", "2 entries"),
    (2, "key", "2 keys"), (2, "match", "2 matches"), (1, "git config entry", "1 git config entry"),
])
def test_plural_counts_nouns(n, noun, expected):
    assert plural(n, noun) == expected


def test_table_columns_align_whatever_the_widths_and_numbers_align_right():
    lines = table(["name", "count"], [["a", 1], ["a much longer name", 12345], ["b", None]], right=[1], width=200)
    assert lines == ["name                count", "a                       1", "a much longer name  12345",
                     "b                       -"]


def test_table_measures_escaped_control_characters_and_wide_characters():
    lines = table(["model", "n"], [["m\x1b[31m", 1], ["動画", 22], ["plain", 3]], right=[1], width=200)
    assert lines[1] == "m\\x1b[31m   1"  # the escape shown is what is measured
    assert {width_of(line) for line in lines} == {len(lines[0])}
    assert width_of("動画") == 4 and lines[2] == "動画       22"


def test_table_fits_the_width_by_shortening_one_column():
    rows = [["#1", "https://api.example.com/" + "x" * 200, 200]]
    lines = table(["id", "url", "status"], rows, right=[2], shrink=[1], width=50)
    assert all(width_of(line) <= 50 for line in lines)
    assert lines[1].startswith("#1  https://api.example.com/xx") and "..." in lines[1] and lines[1].endswith("200")


@pytest.fixture
def long_cassette(tmp_path):
    path = build_cassette(tmp_path / "run.db")
    with sqlite3.connect(path) as conn:  # a long prompt with a control character in it
        conn.execute("UPDATE recordings SET request = json_set(request, '$.request.prompt', ?)",
                     ("a \x1b[2J very " + "long " * 30 + "prompt",))
    conn.close()
    return path


@pytest.mark.parametrize("columns", [60, 100])
def test_show_fits_the_terminal_and_a_pipe_gets_whole_lines(long_cassette, columns):
    session = in_terminal("cassette", "show", str(long_cassette), columns=columns)
    lines = session.terminal.splitlines()
    assert session.code == 0 and len(lines) > 4 and all(width_of(line) <= columns for line in lines[1:]), lines
    header = next(line for line in lines if line.startswith("id "))
    first = next(line for line in lines if line.startswith("#1 "))
    assert first.index("video") == header.index("kind") and "\x1b[2J" not in session.terminal
    if columns == 100:  # room for every column: the prompt is what gets shortened
        assert first.index("fal/fal-ai/veo3.1") == header.index("model") and first.endswith("...")
        assert first[header.index("prompt"):].startswith("'a \\x1b")  # escaped, then measured
    piped = CliRunner().invoke(main, ["cassette", "show", str(long_cassette)]).stdout
    assert "very long long long long" in piped and max(len(line) for line in piped.splitlines()) > 100


def test_verify_draws_a_progress_bar_on_a_terminal_and_none_on_a_pipe(long_cassette):
    bar = in_terminal("cassette", "verify", str(long_cassette), "--json", stdout=False)
    assert bar.code == 0 and "verifying" in bar.terminal and "100%" in bar.terminal
    assert json.loads(bar.piped)["ok"] is True  # stdout, a pipe, holds the JSON document alone
    quiet = CliRunner().invoke(main, ["cassette", "verify", str(long_cassette)])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout.startswith("ok ")


def test_prune_draws_its_progress_on_a_terminal(long_cassette):
    session = in_terminal("cassette", "prune", str(long_cassette), "--errors")
    assert session.code == 0 and "pruning" in session.terminal
    assert "deleted 1 recording and 0 unused blobs" in session.terminal


def test_import_and_export_draw_their_progress_on_a_terminal(long_cassette, tmp_path):
    exported = in_terminal("cassette", "export", str(long_cassette), str(tmp_path / "run.jsonl"), "--embed-blobs")
    assert exported.code == 0 and "exporting run.db" in exported.terminal and "100%" in exported.terminal
    imported = in_terminal("cassette", "import", str(tmp_path / "run.jsonl"), str(tmp_path / "copy.db"))
    assert imported.code == 0 and "importing run.jsonl" in imported.terminal
    assert "imported 2 recordings and 2 HTTP interactions" in imported.terminal
