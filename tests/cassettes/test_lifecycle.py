"""A cassette's life in a repository: expiry (warn, error, rerecord) and strict replay."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes.config import RecordMode
from tarash.tarash_gateway.cassettes.lifecycle import is_expired, parse_max_age
from tarash.tarash_gateway.cassettes.policy import Decision, decide
from tarash.tarash_gateway.cassettes.store import SCHEMA_VERSION, CassetteStore
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError

from .conftest import config, request

PROMPTS = ("alpha", "beta", "gamma")


# -- the pure decisions ---------------------------------------------------------------------

N, ONCE, E, A = RecordMode.NONE, RecordMode.ONCE, RecordMode.NEW_EPISODES, RecordMode.ALL
R, C, F, X = Decision.REPLAY, Decision.RECORD, Decision.REFUSE, Decision.EXPIRED


@pytest.mark.parametrize(
    ("mode", "on_expired", "expected"),
    [
        (N, "warn", R), (ONCE, "warn", R), (E, "warn", R), (A, "warn", C),
        (N, "error", X), (ONCE, "error", X), (E, "error", X), (A, "error", C),
        (N, "rerecord", X), (ONCE, "rerecord", X), (E, "rerecord", C), (A, "rerecord", C),
    ],
)
def test_an_expired_hit_is_decided_by_on_expired_and_the_record_mode(mode, on_expired, expected):
    assert decide(mode, existed=True, hit=True, expired=True, on_expired=on_expired) is expected
    # a fresh hit, or a miss, is decided as before whatever on_expired says
    assert decide(mode, existed=True, hit=True, expired=False, on_expired=on_expired) is decide(
        mode, existed=True, hit=True)
    assert decide(mode, existed=True, hit=False, expired=False, on_expired=on_expired) in (C, F)


@pytest.mark.parametrize(("value", "days"), [(30, 30), (1.5, 1.5), ("30d", 30), ("12h", 0.5), ("90m", 0.0625),
                                             ("7 days", 7), (timedelta(days=2), 2)])
def test_max_age_takes_days_units_and_timedeltas(value, days):
    assert parse_max_age(value) == timedelta(days=days)


@pytest.mark.parametrize("value", [0, -1, "soon", "30y", True, "0h"])
def test_a_bad_max_age_is_refused_with_the_forms_it_takes(value):
    with pytest.raises(ValueError, match="max_age"):
        parse_max_age(value)


def test_a_recording_of_unknown_age_counts_as_expired():
    now = datetime.now(UTC).timestamp()
    assert is_expired({"recorded_at": "garbage", "recorded_ts": 0.0}, now, timedelta(days=1))
    assert not is_expired({"recorded_at": datetime.now(UTC).isoformat()}, now, timedelta(days=1))
    assert not is_expired({"recorded_at": "garbage"}, now, None)


# -- expiry through the gateway ----------------------------------------------------------


@pytest.fixture
def aged(face, acme, db):
    """Three recordings; ``alpha`` and ``beta`` made 40 days ago, ``gamma`` today."""
    with use_cassette(db):
        for prompt in PROMPTS:
            face.video(config(), request(prompt))
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="milliseconds")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE recordings SET recorded_at = ? WHERE id IN (1, 2)", (old,))
    conn.commit()
    conn.close()
    return db


def test_an_expired_recording_replays_with_one_warning_by_default(face, aged, acme, caplog):
    calls = acme.calls
    with caplog.at_level(logging.WARNING, "tarash.cassettes"), use_cassette(aged, max_age=30,
                                                                            allow_playback_repeats=True):
        face.video(config(), request("alpha"))
        face.video(config(), request("alpha"))
        face.video(config(), request("gamma"))
    warnings = [r.message for r in caplog.records if "older than max_age" in r.message]
    assert len(warnings) == 1 and "recording #1" in warnings[0] and "40 days old" in warnings[0]
    assert acme.calls == calls  # all replayed


def test_on_expired_error_names_the_recording(face, aged):
    with use_cassette(aged, max_age="30d", on_expired="error"):
        face.video(config(), request("gamma"))  # fresh: replays
        with pytest.raises(CassetteError, match=r"recording #2 \(acme-test/m1\).*40 days old.*max_age=30 day"):
            face.video(config(), request("beta"))


def test_on_expired_rerecord_records_afresh_in_place_where_recording_is_allowed(face, aged, acme):
    calls = acme.calls
    with use_cassette(aged, record_mode="new_episodes", max_age=30, on_expired="rerecord") as session:
        fresh = face.video(config(), request("alpha"))
        assert session.recorded == 1 and acme.calls == calls + 1
    conn = sqlite3.connect(aged)
    rows = conn.execute("SELECT seq, recorded_at FROM recordings WHERE id NOT IN (2, 3)").fetchall()
    total = conn.execute("SELECT count(*) FROM recordings").fetchone()[0]
    conn.close()
    assert total == 3 and rows[0][0] == 1  # replaced, keeping its place
    assert datetime.fromisoformat(rows[0][1]) > datetime.now(UTC) - timedelta(minutes=5)
    with use_cassette(aged, record_mode="none", max_age=30, on_expired="error"):
        assert face.video(config(), request("alpha")).request_id == fresh.request_id


@pytest.mark.parametrize("mode", ["none", "once"])
def test_on_expired_rerecord_never_records_silently_where_recording_is_not_allowed(face, aged, acme, mode):
    calls = acme.calls
    with use_cassette(aged, record_mode=mode, max_age=30, on_expired="rerecord"):
        with pytest.raises(CassetteError, match=f"only with record_mode='new_episodes'.*is '{mode}'"):
            face.video(config(), request("alpha"))
    assert acme.calls == calls


def test_the_environment_sets_max_age(face, aged, monkeypatch):
    monkeypatch.setenv("TARASH_CASSETTE_MAX_AGE", "30")
    with use_cassette(aged, on_expired="error"), pytest.raises(CassetteError, match="older than max_age"):
        face.video(config(), request("alpha"))
    monkeypatch.setenv("TARASH_CASSETTE_MAX_AGE", "soon")
    with use_cassette(aged), pytest.raises(CassetteError, match="TARASH_CASSETTE_MAX_AGE='soon' is not an age"):
        face.video(config(), request("alpha"))


def test_ls_expired_lists_the_old_recordings(aged):
    result = CliRunner().invoke(main, ["cassette", "ls", str(aged), "--expired", "--max-age", "30"])
    assert result.exit_code == 0, result.output
    assert "#1" in result.output and "#2" in result.output and "#3 " not in result.output
    assert "2 expired recordings in 1 cassette" in result.output
    missing = CliRunner().invoke(main, ["cassette", "ls", str(aged), "--expired"], env={"TARASH_CASSETTE_MAX_AGE": ""})
    assert missing.exit_code == 2 and "--expired needs --max-age" in missing.output


# -- strict replay ------------------------------------------------------------------------


@pytest.fixture
def three(face, acme, db):
    with use_cassette(db):
        for prompt in PROMPTS:
            face.video(config(), request(prompt))
    return db


def test_strict_replay_names_the_recordings_that_were_not_replayed(face, three):
    with pytest.raises(CassetteError) as raised, use_cassette(three, strict=True):
        face.video(config(), request("beta"))
    message = str(raised.value)
    assert message.startswith("strict replay: 2 of the 3 recording(s)")
    assert "#1 acme-test/m1 prompt 'alpha'" in message and "#3 acme-test/m1 prompt 'gamma'" in message
    assert "#2 " not in message and "prune --unused" in message


def test_strict_replay_of_every_recording_passes(face, three):
    with use_cassette(three, strict=True) as session:
        for prompt in PROMPTS:
            face.video(config(), request(prompt))
    assert session.replayed == 3


def test_a_strict_block_that_replayed_nothing_is_reported(face, three):
    with pytest.raises(CassetteError, match="strict replay: 3 of the 3"), use_cassette(three, strict=True):
        pass
    with pytest.raises(CassetteError, match="nothing was replayed.*holds no recordings"):
        with use_cassette(three.with_name("empty.db"), record_mode="none", strict=True):
            pass


def test_prune_unused_removes_what_the_last_strict_run_did_not_replay(face, three):
    runner = CliRunner()
    before = runner.invoke(main, ["cassette", "prune", str(three), "--unused"])
    assert before.exit_code == 1 and "keeps no play counts yet" in before.output
    with pytest.raises(CassetteError), use_cassette(three, strict=True):
        face.video(config(), request("beta"))
    result = runner.invoke(main, ["cassette", "prune", str(three), "--unused"])
    assert result.exit_code == 0 and "deleted 2 recordings" in result.output, result.output
    with use_cassette(three, record_mode="none", strict=True):
        face.video(config(), request("beta"))  # what is left is all in use


# -- an older schema on a read-only checkout --------------------------------------------------


def test_a_cassette_of_the_previous_schema_replays_read_only_and_upgrades_when_written(face, three, acme):
    conn = sqlite3.connect(three)
    conn.execute("DROP TABLE plays")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_plays'")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    with use_cassette(three, record_mode="none") as session:
        face.video(config(), request("alpha"))
    assert session.replayed == 1 and _version(three) == 1  # read as it is
    with use_cassette(three, record_mode="new_episodes"):
        face.video(config(), request("delta"))
    assert _version(three) == SCHEMA_VERSION
    store = CassetteStore.open(three, create=False)
    try:
        assert store.count_recordings() == 4 and store.plays() == {}
    finally:
        store.close()


def _version(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
