"""No command prints a traceback for bad input: every cassette command with bad arguments
and with damaged files, and ``tarash simulate`` with bad options, exits 1 or 2 with one
``Error:`` line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tarash.tarash_gateway.cli import main

from .hostile import build_cassette


def check(args: list[str], codes: tuple[int, ...] = (1, 2)) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code in codes, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.output.rstrip().endswith(errors[0]), (args, result.output)
    return errors[0]


def _damaged(tmp_path: Path) -> dict[str, Path]:
    files = {}
    files["garbage"] = tmp_path / "garbage.db"
    files["garbage"].write_bytes(b"\x00garbage\xff" * 500)
    files["empty"] = tmp_path / "empty.db"
    files["empty"].write_bytes(b"")
    good = build_cassette(tmp_path / "good.db")
    files["truncated"] = tmp_path / "truncated.db"
    files["truncated"].write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    files["foreign"] = tmp_path / "foreign.db"
    conn = sqlite3.connect(files["foreign"])
    conn.execute("CREATE TABLE notes (x)")
    conn.close()
    files["newer"] = tmp_path / "newer.db"
    conn = sqlite3.connect(files["newer"])
    conn.execute("PRAGMA user_version=99")
    conn.execute("PRAGMA application_id=1414677331")
    conn.close()
    files["bad rows"] = build_cassette(tmp_path / "rows.db")
    conn = sqlite3.connect(files["bad rows"])
    with conn:
        conn.execute("UPDATE recordings SET request = '{', response = 'nope', timeline = 'x'")
        conn.execute("UPDATE media SET hash = '../../conftest'")
        conn.execute("UPDATE http_interactions SET request = '[', response_body = '/etc/passwd'")
    conn.close()
    files["directory"] = tmp_path / "adir.db"
    files["directory"].mkdir()
    files["missing"] = tmp_path / "missing.db"
    return files


DAMAGE = ["garbage", "empty", "truncated", "foreign", "newer", "bad rows", "directory", "missing"]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> dict[str, Path]:
    return _damaged(tmp_path_factory.mktemp("damaged"))


@pytest.mark.parametrize("kind", DAMAGE)
@pytest.mark.parametrize("command", [["show"], ["show", "--json"], ["show", "--id", "1"], ["verify"], ["export"],
                                     ["prune"], ["prune", "--errors", "--vacuum"], ["textconv"], ["diff"]],
                         ids=" ".join)
def test_every_command_on_a_damaged_file_fails_in_one_line(damaged, tmp_path, command, kind):
    args = ["cassette", command[0], str(damaged[kind]), *command[1:]]
    if command[0] == "diff":
        args.insert(2, str(build_cassette(tmp_path / "sound.db")))
    if command[0] == "export":
        args.append(str(tmp_path / "out.jsonl"))
    check(args)
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("kind", [k for k in DAMAGE if k not in ("missing", "directory", "bad rows")])
def test_ls_lists_a_damaged_file_as_unreadable_and_exits_1(damaged, kind):
    result = CliRunner().invoke(main, ["cassette", "ls", str(damaged[kind])])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "unreadable: " in result.stdout and "Traceback" not in result.output
    assert result.stderr == "Error: 1 of 1 cassette cannot be read\n"


def test_prune_refuses_a_cassette_whose_references_are_damaged_and_deletes_nothing(damaged):
    before = damaged["bad rows"].read_bytes()
    assert "is not a sha256 digest" in check(["cassette", "prune", str(damaged["bad rows"]), "--errors"])
    assert damaged["bad rows"].read_bytes() == before


# a missing or empty file becomes a cassette; importing nothing into "bad rows" harms nothing
@pytest.mark.parametrize("kind", [k for k in DAMAGE if k not in ("missing", "empty", "bad rows")])
def test_importing_into_a_damaged_file_fails_in_one_line(damaged, tmp_path, kind):
    source = tmp_path / "ok.yaml"
    source.write_text("interactions: []\n")
    def files() -> set[str]:  # SQLite's own -wal/-shm of a damaged file may come and go
        return {p.name for p in damaged[kind].parent.iterdir() if not p.name.endswith(("-wal", "-shm"))}

    before, data = files(), damaged[kind].read_bytes() if damaged[kind].is_file() else None
    check(["cassette", "import", str(source), str(damaged[kind])])
    assert files() == before
    assert data is None or damaged[kind].read_bytes() == data  # not even switched to WAL mode


BAD_ARGS = [
    ["cassette", "nope"], ["cassette", "ls", "/no/such/dir"], ["cassette", "show"],
    ["cassette", "show", "{good}", "--id", "99999999999999999999"], ["cassette", "show", "{good}", "--id", "-3"],
    ["cassette", "show", "{good}", "--id", "x"], ["cassette", "show", "{good}", "--id", "42"],
    ["cassette", "verify"], ["cassette", "prune", "{good}", "--older-than", "-1"],
    ["cassette", "prune", "{good}", "--older-than", "nan"], ["cassette", "prune", "{good}", "--bogus"],
    ["cassette", "import", "{good}", "{tmp}/x.db"], ["cassette", "import", "{tmp}/absent.yaml", "{tmp}/x.db"],
    ["cassette", "import", "{yaml}", "{tmp}/x.db", "--max-body-size", "0"],
    ["cassette", "import", "{yaml}", "{tmp}/x.db", "--max-body-size", "99999T"],
    ["cassette", "import", "{yaml}", "{tmp}"], ["cassette", "import", "{jsonl}", "{tmp}/x.db"],
    ["cassette", "export", "{good}", "{good}"], ["cassette", "export", "{good}", "{tmp}"],
    ["cassette", "export", "{good}", "/dev/full"], ["cassette", "export", "{good}", "{tmp}/none/x.jsonl"],
    ["cassette", "export", "{good}", "{tmp}/o.jsonl", "--blobs-dir", "{good}"],
    ["simulate", "--port", "99999"], ["simulate", "--port", "-1"], ["simulate", "--latency", "-1"],
    ["simulate", "--latency", "nan"], ["simulate", "--max-lifetime", "0"], ["simulate", "--max-lifetime", "1e300"],
    ["simulate", "--scenario", "nope"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=" ".join)
def test_bad_arguments_fail_in_one_line(tmp_path, args):
    good = build_cassette(tmp_path / "good.db")
    (tmp_path / "bad.yaml").write_text("interactions: [1]\n")
    (tmp_path / "bad.jsonl").write_text('{"type": "cassette", "format": "tarash-cassette-jsonl/1"}\n{"type": 1}\n')
    names = {"good": str(good), "tmp": str(tmp_path), "yaml": str(tmp_path / "bad.yaml"),
             "jsonl": str(tmp_path / "bad.jsonl")}
    check([a.format(**names) for a in args])
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "o.jsonl").exists()


def test_a_real_process_prints_no_traceback_for_bad_options(tmp_path):
    for args in (["simulate", "--port", "99999"], ["cassette", "show", str(tmp_path / "none.db"), "--id", "1e99"]):
        result = subprocess.run([sys.executable, "-m", "tarash.tarash_gateway.cli", *args], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("Error:") == 1
