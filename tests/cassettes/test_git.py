"""Cassettes in git: the three-way merge (pure plan, .db files, exports, a real git merge
through the driver), textconv, diff and summary."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes import interop
from tarash.tarash_gateway.cassettes.merge import merge_cassettes, merge_exports, plan
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError

from .conftest import config, request

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"tarash" * 4000


# -- the pure plan --------------------------------------------------------------------------


def _side(*idents: str) -> list[tuple[str, str]]:
    return [(i[0], i) for i in idents]  # the request key is the identity's first letter


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "drop", "add"),
    [
        ("a", "ab", "ac", [], [1]),           # each side added one: both kept
        ("a", "a", "ab", [], [1]),            # only they added
        ("ab", "a", "ab", [], []),            # we deleted b, they left it: stays deleted
        ("ab", "ab", "a", [1], []),           # they deleted b, we left it: deleted
        ("a", "ab", "ab", [], []),            # both added the same: once
        ("", "a", "a", [], []),               # both created the same file
        ("a", "aa", "aaa", [], [0]),          # repeated equal answers: the longer side's count
        ("ab", "b", "a", [0], []),            # each deleted one: both gone
    ],
)
def test_the_merge_plan_decides_each_recording_by_its_counts_on_the_three_sides(base, ours, theirs, drop, add):
    decided = plan(_side(*base), _side(*ours), _side(*theirs))
    assert decided.drop == drop and decided.add == add


def test_two_different_answers_to_one_request_are_both_kept_and_reported():
    decided = plan([("k", "k1")], [("k", "k1"), ("k", "k2")], [("k", "k1"), ("k", "k3")])
    assert decided.add == [1] and decided.conflicts == ["k"]


# -- .db files and exports ------------------------------------------------------------------


def _record(db: Path, *prompts: str) -> None:
    with use_cassette(db, record_mode="new_episodes"):
        for prompt in prompts:
            generate_video(config(), request(prompt))


def _prompts(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute(
            "SELECT json_extract(request, '$.request.prompt') FROM recordings ORDER BY key, seq")]
    finally:
        conn.close()


@pytest.fixture
def branches(acme, tmp_path, media_server):
    """base.db (one recording), ours.db (+ alpha), theirs.db (+ beta, with captured media)."""
    media_server.files["/out.mp4"] = VIDEO
    base = tmp_path / "base.db"
    _record(base, "first")
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    shutil.copy(base, ours)
    shutil.copy(base, theirs)
    _record(ours, "alpha")
    acme.video = f"{media_server.url}/out.mp4"
    _record(theirs, "beta")
    media_server.stop()
    return base, ours, theirs


def test_merging_cassettes_keeps_both_sides_with_their_media(branches, tmp_path):
    base, ours, theirs = branches
    report = merge_cassettes(base, ours, theirs)
    assert (report.kept, report.added, report.dropped, report.conflicts) == (2, 1, 0, [])
    assert sorted(_prompts(ours)) == ["alpha", "beta", "first"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left
    with use_cassette(ours, record_mode="none", media="content") as session:
        for prompt in ("first", "alpha", "beta"):
            video = generate_video(config(), request(prompt)).video
        assert video["content"] == VIDEO  # theirs' captured media came along, verified
    assert session.replayed == 3


def test_a_recording_deleted_on_one_side_stays_deleted(branches):
    base, ours, theirs = branches
    store = CassetteStore.open(ours, create=True)
    try:
        store.delete_recordings([1])  # we pruned "first"
    finally:
        store.close()
    merge_cassettes(base, ours, theirs)
    assert sorted(_prompts(ours)) == ["alpha", "beta"]


def test_a_failed_merge_leaves_ours_as_it_was(branches, tmp_path):
    base, ours, theirs = branches
    before = ours.read_bytes()
    conn = sqlite3.connect(theirs)
    conn.execute("UPDATE blobs SET data = zeroblob(length(data))")  # their media no longer matches its hash
    conn.commit()
    conn.close()
    with pytest.raises(CassetteError, match="does not hold the bytes its hash says"):
        merge_cassettes(base, ours, theirs)
    assert ours.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ours.db.merge")]


def _export(db: Path) -> Path:
    out = db.with_suffix(".jsonl")
    store = CassetteStore.open(db, create=False)
    try:
        with out.open("w") as handle:
            interop.export_jsonl(store, handle, embed_blobs=True)
    finally:
        store.close()
    return out


def test_merging_exports_gives_the_export_of_the_merged_cassette(branches, tmp_path):
    base, ours, theirs = branches
    exports = [_export(p) for p in (base, ours, theirs)]
    merge_exports(*exports)
    merged_db = tmp_path / "merged.db"
    store = CassetteStore.open(merged_db, create=True)
    try:
        interop.import_jsonl(exports[1], store)
    finally:
        store.close()
    assert sorted(_prompts(merged_db)) == ["alpha", "beta", "first"]
    merge_cassettes(base, ours, theirs)
    assert exports[1].read_text().count('"type":"recording"') == 3
    assert _export(ours).read_text().count('"type":"recording"') == 3


def test_the_cli_merge_warns_when_both_sides_answered_one_request_differently(acme, tmp_path):
    base, ours, theirs = tmp_path / "base.db", tmp_path / "ours.db", tmp_path / "theirs.db"
    _record(base, "first")
    shutil.copy(base, ours)
    shutil.copy(base, theirs)
    _record(ours, "same")  # acme answers acme-2 ...
    _record(theirs, "same")  # ... and acme-3: two answers to one request
    result = CliRunner().invoke(main, ["cassette", "merge", str(base), str(ours), str(theirs)])
    assert result.exit_code == 0, result.output
    assert "both kept, ours first" in result.output and "1 added" in result.output
    conn = sqlite3.connect(ours)
    ids = [json.loads(r[0])["request_id"] for r in conn.execute(
        "SELECT response FROM recordings WHERE json_extract(request, '$.request.prompt') = 'same' ORDER BY seq")]
    conn.close()
    assert ids == ["acme-2", "acme-3"]


# -- review -------------------------------------------------------------------------------


def test_textconv_is_stable_and_diff_names_what_changed(branches):
    base, ours, theirs = branches
    runner = CliRunner()
    first = runner.invoke(main, ["cassette", "textconv", str(theirs)]).output
    assert first == runner.invoke(main, ["cassette", "textconv", str(theirs)]).output
    assert first.count("recording video acme-test/m1") == 2
    assert "media video sha256=" in first and f"size={len(VIDEO)}" in first
    result = runner.invoke(main, ["cassette", "diff", str(base), str(theirs)])
    assert result.exit_code == 1
    assert result.output.startswith("+ video acme-test/m1 prompt='beta' seq=1")
    same = runner.invoke(main, ["cassette", "diff", str(base), str(base)])
    assert same.exit_code == 0 and "no differences" in same.output
    conn = sqlite3.connect(ours)
    conn.execute("UPDATE recordings SET response = json_set(response, '$.duration', 9.5) WHERE id = 1")
    conn.commit()
    conn.close()
    changed = runner.invoke(main, ["cassette", "diff", str(base), str(ours)])
    assert "~ video acme-test/m1 prompt='first' seq=1" in changed.output
    assert "    response.duration: 4.0 -> 9.5" in changed.output


def test_summary_for_a_pr_description(branches):
    base, ours, theirs = branches
    runner = CliRunner()
    text = runner.invoke(main, ["cassette", "summary", str(theirs)]).output
    assert "2 recordings," in text
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]
    assert ["acme-test", "m1", "response", "2"] in rows
    assert len({len(line) for line in text.splitlines() if line.startswith("|")}) == 1  # aligned columns
    data = json.loads(runner.invoke(main, ["cassette", "summary", str(theirs), "--json"]).output)
    assert data["recordings"] == 2 and data["media_bytes"] >= len(VIDEO) and data["oldest"] <= data["newest"]


# -- a real git merge through the driver ----------------------------------------------------------


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(repo), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=check)


def test_a_git_merge_of_two_branches_that_each_recorded_a_call(acme, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    monkeypatch.chdir(repo)
    command = f"{sys.executable} -m tarash.tarash_gateway.cli"
    setup = CliRunner().invoke(main, ["cassette", "git-setup", "--write", "--command", command],
                               env={"HOME": str(repo), "GIT_CONFIG_GLOBAL": os.devnull})
    assert setup.exit_code == 0, setup.output
    assert "*.db diff=tarash merge=tarash" in (repo / ".gitattributes").read_text()
    db = repo / "cassettes" / "run.db"
    _record(db, "first")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "checkout", "-qb", "feature")
    _record(db, "alpha")
    _git(repo, "commit", "-qam", "alpha")
    _git(repo, "checkout", "-q", "main")
    _record(db, "beta")
    _git(repo, "commit", "-qam", "beta")
    merged = _git(repo, "merge", "--no-edit", "feature", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "merged cassettes/run.db: 2 recordings kept, 1 added, 0 removed" in merged.stderr + merged.stdout
    assert sorted(_prompts(db)) == ["alpha", "beta", "first"]
    assert _git(repo, "status", "--porcelain").stdout == ""
    with use_cassette(db, record_mode="none") as session:
        for prompt in ("first", "alpha", "beta"):
            generate_video(config(), request(prompt))
    assert session.replayed == 3
    shown = _git(repo, "show", "HEAD~1", "--", "cassettes/run.db").stdout  # the textconv diff
    assert "+recording video acme-test/m1" in shown and "prompt='beta'" in shown
