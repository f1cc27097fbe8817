"""`tarash cassette show` and `verify` take a PostgreSQL URL as well as a file."""

from __future__ import annotations

import hashlib
import uuid

from click.testing import CliRunner

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cli import main

from ..conftest import config, request
from .conftest import PASSWORD


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
