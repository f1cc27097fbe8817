"""The fleet scenario: processes record into one PostgreSQL cassette at once, at the call
level and the HTTP level, a runner pulls a snapshot and replays it with the server (and
the provider) stopped; push and pull by content."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from click.testing import CliRunner

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes import CassetteStore
from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore
from tarash.tarash_gateway.cli import main

from ..conftest import config, request
from ..http.app import run_sync
from ..http.provider_server import MEDIA, ProviderServer

WRITER = Path(__file__).with_name("fleet_writer.py")
PER_PROCESS = 50
#: Two processes share a tag: their requests are equal, so their keys get seq 1 and 2.
TAGS = ("shared", "shared", "solo-a", "solo-b")


def _body(prompt: str) -> bytes:
    return (prompt.encode() * 4096)[: 64 * 1024]  # what fleet_writer.py's provider answers


def _seqs(url: str) -> dict[str, list[int]]:
    store = PgCassetteStore.open(url, create=False)
    assert store is not None
    try:
        by_prompt: dict[str, list[int]] = defaultdict(list)
        for row in store.recordings():
            by_prompt[row["key"]].append(row["seq"])
        return by_prompt
    finally:
        store.close()


def _exchanges(url: str) -> list[dict]:
    """The cassette's HTTP exchanges, in the order they were committed (ids grow as they commit)."""
    store = PgCassetteStore.open(url, create=False)
    assert store is not None
    try:
        return sorted(store.exchanges(), key=lambda r: r["id"])
    finally:
        store.close()


def _counter_answers(snapshot: Path) -> dict[tuple[str, int], list[int]]:
    """What the snapshot holds for each counter request, in its seq order."""
    store = CassetteStore.open(snapshot, create=False)
    try:
        held: dict[tuple[str, int], list[int]] = defaultdict(list)
        for row in sorted(store.exchanges(), key=lambda r: (r["key"], r["seq"])):
            if row["path"] == "/v1/counter":
                query = dict(parse_qsl(urlsplit(row["url"]).query))
                held[(query["tag"], int(query["i"]))].append(json.loads(store.read_blob(row["response_body"]))["n"])
        return held
    finally:
        store.close()


def _counter(client: httpx.Client, base: str, tag: str, i: int) -> int:
    return client.get(f"{base}/v1/counter", params={"tag": tag, "i": i}).json()["n"]


def test_a_fleet_records_into_one_cassette_and_a_pulled_snapshot_replays_offline(pg_server, acme, tmp_path):
    url = pg_server.url(f"fleet-{uuid.uuid4().hex[:8]}")
    go = tmp_path / "go"
    provider = ProviderServer().__enter__()
    try:
        writers = [subprocess.Popen([sys.executable, str(WRITER), url, tag, str(PER_PROCESS), str(go), provider.base],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in TAGS]
        for writer in writers:
            assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        go.touch()  # all start recording at once
        answered: dict[tuple[str, int], list[int]] = defaultdict(list)  # what each HTTP request got, live
        for tag, writer in zip(TAGS, writers, strict=True):
            out, err = writer.communicate(timeout=300)
            assert writer.returncode == 0, err
            lines = out.split("\n")
            assert lines[-2] == "done", out  # every call and request returned
            for line in lines[:-2]:
                i, n = map(int, line.split())
                answered[(tag, i)].append(n)
        assert len(answered) == len(set(TAGS)) * PER_PROCESS
    finally:
        provider.stop()

    seqs = _seqs(url)
    assert sum(len(s) for s in seqs.values()) == len(TAGS) * PER_PROCESS  # none lost
    # dense per key, and in commit order (ids grow as recordings commit): no two writers took one seq
    assert sorted(seqs.values()) == sorted([[1, 2]] * PER_PROCESS + [[1]] * (2 * PER_PROCESS))
    exchanges = _exchanges(url)
    http: dict[str, list[int]] = defaultdict(list)
    for row in exchanges:
        http[row["key"]].append(row["seq"])
    assert all(s == list(range(1, len(s) + 1)) for s in http.values())  # dense, in commit order, every key
    counters = [http[k] for k in dict.fromkeys(r["key"] for r in exchanges if r["path"] == "/v1/counter")]
    assert sorted(counters) == sorted([[1, 2]] * PER_PROCESS + [[1]] * (2 * PER_PROCESS))  # none lost
    assert {r["path"].rsplit("/", 1)[-1] for r in exchanges if r["path"] != "/v1/counter"} >= {"dev", "status"}

    snapshot = tmp_path / "snapshot.db"
    result = CliRunner().invoke(main, ["cassette", "pull", url, str(snapshot)])
    assert result.exit_code == 0, result.output
    assert f"pulled {len(TAGS) * PER_PROCESS} recordings" in result.output
    assert f"; {len(exchanges)} HTTP exchanges (0 already there)" in result.output
    held = _counter_answers(snapshot)
    assert {k: sorted(v) for k, v in held.items()} == {k: sorted(v) for k, v in answered.items()}

    pg_server.stop()
    try:
        calls = acme.calls
        with use_cassette(snapshot, record_mode="none", media="content"), httpx.Client() as client:
            for tag in dict.fromkeys(TAGS):
                for i in range(PER_PROCESS):
                    replayed = []
                    for _ in range(TAGS.count(tag)):
                        video = generate_video(config(), request(f"{tag}-{i}")).video
                        assert video["content"] == _body(f"{tag}-{i}")
                        replayed.append(_counter(client, provider.base, tag, i))
                    assert replayed == held[(tag, i)]  # each answer once, in recorded order
                for _ in range(TAGS.count(tag)):
                    flow = run_sync(provider.base, f"{tag}-flow")
                    assert flow["polls"] == 1 and bytes.fromhex(flow["media"]) == MEDIA
        assert acme.calls == calls  # all replayed, none reached the provider
    finally:
        pg_server.start()


def test_pushing_twice_adds_nothing_and_pulling_back_gives_the_same_recordings(pg_server, acme, tmp_path):
    run = tmp_path / "run.db"
    with use_cassette(run):
        for prompt in ("one", "two", "two"):
            generate_video(config(), request(prompt))
    url = pg_server.url(f"push-{uuid.uuid4().hex[:8]}")
    runner = CliRunner()
    first = runner.invoke(main, ["cassette", "push", str(run), url])
    second = runner.invoke(main, ["cassette", "push", str(run), url])
    assert first.exit_code == 0 and "pushed 3 recordings" in first.output, first.output
    assert second.exit_code == 0 and "pushed 0 recordings to the shared cassette (3 already there)" in second.output
    back = tmp_path / "back.db"
    assert runner.invoke(main, ["cassette", "pull", url, str(back)]).exit_code == 0
    calls = acme.calls
    with use_cassette(back, record_mode="none"):
        ids = [generate_video(config(), request(p)).request_id for p in ("one", "two", "two")]
    with use_cassette(run, record_mode="none"):
        assert ids == [generate_video(config(), request(p)).request_id for p in ("one", "two", "two")]
    assert acme.calls == calls


def test_pull_with_the_arguments_swapped_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["cassette", "pull", str(tmp_path / "x.db"), "postgresql://u@h/db?cassette=c"])
    assert result.exit_code == 2 and "a postgresql:// URL is not a file here" in result.output
