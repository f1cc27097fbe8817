"""`tarash cassette show` and `verify` take a PostgreSQL URL as well as a file."""

from __future__ import annotations

import hashlib
import json
import uuid

from click.testing import CliRunner

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cli import main

from ..conftest import config, request
from .conftest import PASSWORD


def psycopg_connect(url: str):
    import psycopg

    from tarash.tarash_gateway.cassettes.pg_store import parse_url

    return psycopg.connect(parse_url(url).conninfo, autocommit=True)


def _recorded(face, acme, url, media_server) -> bytes:
    video = b"\x00\x00\x00\x18ftypmp42" + uuid.uuid4().bytes * 4096  # blobs are shared by hash: ours alone
    media_server.files["/v.mp4"] = video
    acme.video = f"{media_server.url}/v.mp4"
    with use_cassette(url):
        face.video(config(), request("shown"))
        face.video(config(), request("shown"))
    return video


def test_show_lists_a_postgresql_cassettes_recordings_without_the_password(face, acme, pg_url, media_server):
    _recorded(face, acme, pg_url, media_server)
    result = CliRunner().invoke(main, ["cassette", "show", pg_url])
    assert result.exit_code == 0, result.output
    assert ": 2 recordings (0 errors)" in result.output and " seq " in result.output.splitlines()[2]
    assert PASSWORD not in result.output


def test_verify_rehashes_the_blobs_of_a_postgresql_cassette(face, acme, pg_server, pg_url, media_server):
    video = _recorded(face, acme, pg_url, media_server)
    ok = CliRunner().invoke(main, ["cassette", "verify", pg_url])
    assert ok.exit_code == 0 and "ok postgresql://tarash@" in ok.output and "2 recordings, 1 blob" in ok.output
    with pg_server.admin("tarash") as conn:
        conn.execute("UPDATE blob_chunks SET data = 'x' WHERE n = 0 AND hash = %s",
                     (hashlib.sha256(video).hexdigest(),))
    damaged = CliRunner().invoke(main, ["cassette", "verify", pg_url])
    assert damaged.exit_code == 1 and "does not hold the bytes its hash says" in damaged.output


def test_show_of_a_cassette_the_database_lacks_says_so(pg_server):
    result = CliRunner().invoke(main, ["cassette", "show", pg_server.url(f"none-{uuid.uuid4().hex[:6]}")])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_verify_of_an_unreachable_server_reports_it_damaged():
    result = CliRunner().invoke(main, ["cassette", "verify", "postgresql://u:pw@127.0.0.1:9/db?cassette=x"])
    assert result.exit_code == 1 and "cannot be reached" in result.output and "pw@" not in result.output


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def test_ls_and_show_json_give_a_postgresql_cassette_the_shape_of_a_file(face, acme, pg_url, media_server, tmp_path):
    _recorded(face, acme, pg_url, media_server)
    file = tmp_path / "copy.db"
    assert run("cassette", "pull", pg_url, str(file))[0] == 0
    code, out, err = run("cassette", "ls", pg_url, str(file), "--json")
    assert code == 0 and err == ""
    shared, local = json.loads(out)["cassettes"]
    assert set(shared) == set(local) and shared["cassette"].startswith("postgresql://tarash@")
    assert PASSWORD not in out
    for key in ("recordings", "errors", "blobs", "blob_bytes", "by_model", "first_recorded", "last_recorded"):
        assert shared[key] == local[key], key
    assert shared["stored_bytes"] is None and local["stored_bytes"] > 0
    code, out, _ = run("cassette", "show", pg_url, "--json")
    shown = json.loads(out)
    assert code == 0 and [r["seq"] for r in shown["recordings"]] == [1, 2] and shown["http_exchanges"] == []


def test_summary_and_verify_json_of_a_postgresql_cassette(face, acme, pg_url, media_server):
    _recorded(face, acme, pg_url, media_server)
    code, out, _ = run("cassette", "summary", pg_url, "--json")
    data = json.loads(out)
    assert code == 0 and data["recordings"] == 2 and data["by"][0]["count"] == 2 and data["media_blobs"] == 1
    code, out, _ = run("cassette", "verify", pg_url, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["cassettes"][0]["counts"] == {"recordings": 2, "blobs": 1}


def test_prune_of_a_postgresql_cassette_keeps_blobs_another_cassette_uses(face, acme, pg_server, media_server):
    # a database of its own: prune counts every unused blob of the database, and the shared
    # one holds what earlier tests left unused
    database = f"prune_{uuid.uuid4().hex[:8]}"
    with pg_server.admin() as conn:
        conn.execute(f"CREATE DATABASE {database}")
    first, second = (pg_server.url(f"{name}-{uuid.uuid4().hex[:8]}", database=database) for name in ("a", "b"))
    video = _recorded(face, acme, first, media_server)
    media_server.files["/v.mp4"] = video  # the same video, so the same blob, in a second cassette
    with use_cassette(second):
        face.video(config(), request("also shown"))
    code, out, _ = run("cassette", "prune", first, "--model", "m1", "--dry-run")
    assert code == 0 and out == "would delete 2 recordings and 0 unused blobs (0 B)\n"
    code, out, _ = run("cassette", "prune", first, "--model", "m1")
    assert code == 0 and out.startswith("deleted 2 recordings and 0 unused blobs")
    assert run("cassette", "verify", second)[0] == 0  # its video is still there, whole
    code, out, _ = run("cassette", "prune", second, "--provider", "acme-test", "--vacuum")
    assert code == 0 and out.startswith("deleted 1 recording and 1 unused blob (")
    with pg_server.admin(database) as conn:
        digest = hashlib.sha256(video).hexdigest()
        assert conn.execute("SELECT count(*) FROM blob_chunks WHERE hash = %s", (digest,)).fetchone()[0] == 0
    code, out, _ = run("cassette", "show", second, "--json")
    assert json.loads(out)["recordings"] == []


def test_scan_reads_a_postgresql_cassette_and_names_the_recording(face, acme, pg_url, media_server):
    with use_cassette(pg_url):
        face.video(config(), request("clean prompt"))
    code, out, _ = run("cassette", "scan", pg_url)
    assert code == 0 and out.strip().endswith("scanned 1 file: no secrets found"), out
    with psycopg_connect(pg_url) as conn:  # a secret that got in by hand, past the scrubber
        conn.execute("UPDATE recordings SET error = %s", ('{"message": "key r8_' + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3h" + '"}',))
    code, out, _ = run("cassette", "scan", pg_url, "--json")
    report = json.loads(out)
    assert code == 1 and report["findings"][0]["place"].startswith("recordings #")
    assert report["findings"][0]["kind"].startswith("Replicate") and PASSWORD not in out


def test_diff_compares_a_postgresql_cassette_with_its_pulled_snapshot(face, acme, pg_url, media_server, tmp_path):
    _recorded(face, acme, pg_url, media_server)
    file = tmp_path / "snap.db"
    assert run("cassette", "pull", pg_url, str(file))[0] == 0
    code, out, _ = run("cassette", "diff", pg_url, str(file))
    assert code == 0 and out == "no differences\n"
    with use_cassette(pg_url, record_mode="new_episodes"):
        face.video(config(), request("new on the server"))
    code, out, _ = run("cassette", "diff", str(file), pg_url)
    assert code == 1 and out.startswith("+ video acme-test/m1 prompt='new on the server' seq=1")


def test_every_cassette_command_names_an_unreachable_server_in_one_line():
    url = "postgresql://u:pw@127.0.0.1:1/x?cassette=y"
    for args in (["ls", url], ["show", url], ["verify", url], ["prune", url], ["summary", url], ["diff", url, url],
                 ["scan", url], ["pull", url, "never.db"]):
        code, out, err = run("cassette", *args)
        assert code in (1, 2) and "cannot be reached" in out + err and "pw@" not in out + err, args
        assert [line for line in err.splitlines() if line.startswith("Error:")] == err.splitlines(), args


def test_push_and_pull_draw_their_progress_on_a_terminal(face, acme, pg_url, media_server, tmp_path):
    from tests.cli.terminal_session import in_terminal

    _recorded(face, acme, pg_url, media_server)
    pulled = in_terminal("cassette", "pull", pg_url, str(tmp_path / "snap.db"))
    assert pulled.code == 0 and "pulling" in pulled.terminal and "pulled 2 recordings" in pulled.terminal
    pushed = in_terminal("cassette", "push", str(tmp_path / "snap.db"), pg_url + "-copy")
    assert pushed.code == 0 and "pushing" in pushed.terminal and "pushed 2 recordings" in pushed.terminal
    assert PASSWORD not in pulled.terminal + pushed.terminal
