"""Which cassette serves a call: per config > with block > environment > defaults."""

from __future__ import annotations

import asyncio

import pytest

from tarash.tarash_gateway import generate_video, generate_video_async, use_cassette
from tarash.tarash_gateway.cassettes import CassetteConfig, RecordMode
from tarash.tarash_gateway.cassettes.scope import effective_cassette
from tarash.tarash_gateway.exceptions import CassetteError, RecordingNotFoundError

from .conftest import config, request


def test_no_cassette_anywhere_means_no_record_layer():
    assert effective_cassette(config()) is None


def test_environment_records_and_replays_every_call_without_code_changes(monkeypatch, acme, db):
    monkeypatch.setenv("TARASH_CASSETTE", str(db))
    first = generate_video(config(), request())
    assert first.origin.source == "provider" and db.exists()
    monkeypatch.setenv("TARASH_RECORD_MODE", "none")
    from tarash.tarash_gateway.cassettes import close_cassettes

    close_cassettes()  # a new process, as far as the cassette can tell
    again = generate_video(config(), request())
    assert again.origin.source == "replay" and again.request_id == first.request_id and acme.calls == 1
    with pytest.raises(RecordingNotFoundError):
        generate_video(config(), request("never recorded"))


def test_environment_repeats_replay_the_last_recording_again(monkeypatch, acme, db):
    from tarash.tarash_gateway.cassettes import close_cassettes

    monkeypatch.setenv("TARASH_CASSETTE", str(db))
    first = generate_video(config(), request())
    monkeypatch.setenv("TARASH_RECORD_MODE", "none")
    close_cassettes()
    generate_video(config(), request())
    with pytest.raises(RecordingNotFoundError):  # asked twice, recorded once
        generate_video(config(), request())
    monkeypatch.setenv("TARASH_CASSETTE_REPEATS", "1")
    again = [generate_video(config(), request()) for _ in range(3)]
    assert {r.request_id for r in again} == {first.request_id} and acme.calls == 1


def test_a_wrong_record_mode_in_the_environment_is_a_clear_error(monkeypatch, db):
    monkeypatch.setenv("TARASH_CASSETTE", str(db))
    monkeypatch.setenv("TARASH_RECORD_MODE", "sometimes")
    with pytest.raises(CassetteError, match="TARASH_RECORD_MODE='sometimes' is not a record mode; use one of: none"):
        effective_cassette(config())


def test_precedence_is_field_by_field(monkeypatch, tmp_path):
    env_db, block_db, own_db = (str(tmp_path / name) for name in ("env.db", "block.db", "own.db"))
    monkeypatch.setenv("TARASH_CASSETTE", env_db)
    monkeypatch.setenv("TARASH_RECORD_MODE", "none")
    assert effective_cassette(config()).config.path == env_db
    assert effective_cassette(config()).config.record_mode is RecordMode.NONE
    with use_cassette(block_db, replay_speed="realtime"):
        active = effective_cassette(config()).config
        assert (active.path, active.record_mode, active.replay_speed) == (block_db, RecordMode.NONE, "realtime")
        with use_cassette(record_mode="new_episodes"):  # options only: the path comes from below
            assert effective_cassette(config()).config.path == env_db
        own = effective_cassette(config(cassette=CassetteConfig(path=own_db, record_mode="all"))).config
        assert (own.path, own.record_mode, own.replay_speed) == (own_db, RecordMode.ALL, "realtime")
        only_mode = effective_cassette(config(cassette=CassetteConfig(record_mode="once"))).config
        assert (only_mode.path, only_mode.record_mode) == (block_db, RecordMode.ONCE)
        assert effective_cassette(config(cassette=CassetteConfig(enabled=False))) is None
    monkeypatch.delenv("TARASH_CASSETTE")
    monkeypatch.delenv("TARASH_RECORD_MODE")
    assert effective_cassette(config(cassette=own_db)).config.record_mode is RecordMode.ONCE  # the default


def test_equal_configs_that_set_different_fields_resolve_differently(monkeypatch, tmp_path):
    monkeypatch.setenv("TARASH_RECORD_MODE", "none")
    path = str(tmp_path / "x.db")
    implicit = CassetteConfig(path=path)
    explicit = CassetteConfig(path=path, record_mode="once")
    assert implicit == explicit
    assert effective_cassette(config(cassette=implicit)).config.record_mode is RecordMode.NONE
    assert effective_cassette(config(cassette=explicit)).config.record_mode is RecordMode.ONCE


def test_options_without_any_path_are_refused():
    with pytest.raises(CassetteError, match="without a path"):
        effective_cassette(config(cassette=CassetteConfig(record_mode="none")))


def test_the_with_block_is_shared_by_asyncio_tasks(acme, db):
    async def main():
        with use_cassette(db) as cassette:
            await asyncio.gather(*(generate_video_async(config(), request(f"p{i}")) for i in range(5)))
        return cassette

    assert asyncio.run(main()).recorded == 5


def test_use_cassette_decorates_sync_and_async_functions(acme, db):
    @use_cassette(db)
    def record():
        return generate_video(config(), request())

    @use_cassette(db, record_mode="none")
    async def replay():
        return await generate_video_async(config(), request())

    assert effective_cassette(config()) is None
    assert record().origin.source == "provider"
    assert asyncio.run(replay()).origin.source == "replay"
    assert asyncio.run(replay()).origin.source == "replay"  # each call of the function is a fresh block
    assert effective_cassette(config()) is None


def test_async_with(acme, db):
    async def main():
        async with use_cassette(db) as cassette:
            await generate_video_async(config(), request())
        return cassette.recorded

    assert asyncio.run(main()) == 1


def test_the_last_answer_is_kept_while_its_inputs_and_session_stay_the_same(monkeypatch, tmp_path):
    from tarash.tarash_gateway.cassettes import close_cassettes

    monkeypatch.setenv("TARASH_CASSETTE", str(tmp_path / "env.db"))
    first = effective_cassette(config())
    assert effective_cassette(config()) is first  # asked once per HTTP request: nothing worked out again
    close_cassettes()  # the process's sessions are dropped: the next answer has a new one
    reopened = effective_cassette(config())
    assert reopened.session is not first.session and reopened.config == first.config
    monkeypatch.setenv("TARASH_RECORD_MODE", "none")  # the environment is read every time
    assert effective_cassette(config()).config.record_mode is RecordMode.NONE
    with use_cassette(tmp_path / "env.db") as block:
        assert effective_cassette(config()).session is block


def test_a_relative_cassette_path_follows_the_working_directory(monkeypatch, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("TARASH_CASSETTE", "run.db")
    monkeypatch.chdir(tmp_path / "a")
    in_a = effective_cassette(config()).session
    monkeypatch.chdir(tmp_path / "b")
    in_b = effective_cassette(config()).session
    assert in_a is not in_b and in_b is effective_cassette(config()).session
