"""Starting the browser: what it refuses to open, the command, and a damaged blob."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tarash.tarash_gateway.browser.server import BrowserServer, check_cassette, has_live_log, is_loopback
from tarash.tarash_gateway.cassettes import CassetteStore
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.exceptions import CassetteError


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False),
])
def test_only_loopback_addresses_count_as_private(host, loopback):
    assert is_loopback(host) is loopback


def test_a_file_that_is_not_a_cassette_is_refused_with_a_clear_error(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(CassetteError, match="damaged or is not a cassette"):
        check_cassette(junk)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.close()
    with pytest.raises(CassetteError, match="is not a tarash cassette"):
        check_cassette(other)
    with pytest.raises(CassetteError, match="does not exist"):
        check_cassette(tmp_path / "missing.db")


def test_a_cassette_of_the_first_schema_is_browsed_and_a_newer_one_refused(cassette, tmp_path):
    older, newer = tmp_path / "older.db", tmp_path / "newer.db"
    for copy, edit in ((older, "DROP TABLE plays; PRAGMA user_version = 1"), (newer, "PRAGMA user_version = 99")):
        shutil.copy(cassette, copy)
        conn = sqlite3.connect(copy)
        conn.executescript(edit)
        conn.close()
    with BrowserServer(older, port=0) as server, httpx.Client(timeout=10) as client:
        assert client.get(server.url + "/recordings/1").status_code == 200
    with pytest.raises(CassetteError, match="schema version 99, newer than this tarash-gateway understands"):
        check_cassette(newer)


def test_a_cassette_being_recorded_into_is_shown_with_its_write_ahead_log(cassette, tmp_path):
    copy = tmp_path / "live.db"
    shutil.copy(cassette, copy)
    session = sqlite3.connect(copy)  # a recording session: its last write still in the log
    try:
        session.execute("PRAGMA journal_mode=WAL")
        session.execute("PRAGMA wal_autocheckpoint=0")
        session.execute("UPDATE recordings SET model = 'model-in-the-log' WHERE id = 1")
        session.commit()
        assert has_live_log(copy)
        with BrowserServer(copy, port=0) as server:
            page = httpx.get(server.url, timeout=10)
        assert "model-in-the-log" in page.text
        assert server.datasette.get_database("live").is_mutable  # opened mode=ro, not immutable
    finally:
        session.close()


def test_serve_refuses_a_non_cassette_in_one_line(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"garbage" * 50)
    result = CliRunner().invoke(main, ["cassette", "serve", str(junk), "--port", "0"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cassette ") and result.output.count("\n") == 1


def test_serve_warns_before_listening_beyond_loopback(cassette):
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: the bind fails, nothing listens.
    result = CliRunner().invoke(main, ["cassette", "serve", str(cassette), "--host", "192.0.2.1", "--port", "0"])
    assert "Warning: listening on 192.0.2.1" in result.output
    assert result.exit_code == 1 and "Error: cannot serve on 192.0.2.1:0" in result.output


def test_serve_without_datasette_says_how_to_install_it(cassette):
    code = ("import sys; sys.modules['datasette'] = None\n"
            "from tarash.tarash_gateway.cli import main\n"
            f"main(['cassette', 'serve', {str(cassette)!r}, '--port', '0'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: the cassette browser needs Datasette: pip install 'tarash-gateway[browser]'"


def test_the_gateway_and_its_cli_never_import_datasette():
    code = ("import sys, tarash.tarash_gateway, tarash.tarash_gateway.cli, tarash.tarash_gateway.cassettes\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('datasette', 'uvicorn')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_serve_command_serves_the_cassette_until_ctrl_c(cassette):
    process = subprocess.Popen([sys.executable, "-m", "tarash.tarash_gateway.cli", "cassette", "serve", str(cassette),
                                "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"Browsing {cassette} (read-only) at http://127.0.0.1:")
        url = line.split(" at ", 1)[1].split()[0]
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "a cat playing piano" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert out.strip() == "stopped"


@pytest.fixture
def damaged(cassette, blobs, tmp_path) -> Path:
    """A copy of the cassette whose video blob lost its last bytes to zeros (its hash left as it was)."""
    copy = tmp_path / "damaged.db"
    shutil.copy(cassette, copy)
    video = blobs["video/mp4"]
    data = video["data"][:-64] + b"\0" * 64
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE blobs SET data = ? WHERE hash = ?", (data, video["hash"]))
    conn.commit()
    conn.close()
    return copy


def test_a_damaged_blob_never_arrives_whole_nor_in_ranges(damaged, blobs):
    digest = blobs["video/mp4"]["hash"]
    with BrowserServer(damaged, port=0) as server, httpx.Client(timeout=10) as client:
        url = server.url.replace("/-/tarash", f"/-/tarash/blobs/{digest}")
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(url)
        ranged = client.get(url, headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 500 and "does not match its hash" in ranged.text
        image = client.get(url.replace(digest, blobs["image/png"]["hash"]))
        assert image.status_code == 200 and image.content == blobs["image/png"]["data"]


def test_an_empty_cassette_says_it_holds_nothing(tmp_path):
    path = tmp_path / "empty.db"
    CassetteStore.open(path, create=True).close()
    with BrowserServer(path, port=0) as server, httpx.Client(timeout=10) as client:
        assert "No recording in this cassette." in client.get(server.url).text
        assert "This cassette holds no raw HTTP interactions." in client.get(server.url + "/http").text


def test_recordings_come_fifty_to_a_page_keeping_the_filters(tmp_path):
    path = tmp_path / "many.db"
    store = CassetteStore.open(path, create=True)
    try:
        for n in range(1, 71):  # 56 of fal
            store.add_recording({"key": f"k{n}", "kind": "image", "provider": "fal" if n % 5 else "openai",
                                 "model": "m", "request": json.dumps({"request": {"prompt": f"prompt {n}"}}),
                                 "outcome": "response", "response": "{}", "timeline": "[]", "duration": 0.0,
                                 "recorded_at": "2026-01-01T00:00:00+00:00", "recorded_ts": time.time()})
    finally:
        store.close()
    with BrowserServer(path, port=0) as server, httpx.Client(timeout=10) as client:
        first = client.get(server.url + "?provider=fal").text
        assert "page 1 of 2" in first and 'href="/-/tarash?provider=fal&amp;page=2">older</a>' in first
        second = client.get(server.url + "?provider=fal&page=2").text
        assert [int(n) for n in re.findall(r'href="/-/tarash/recordings/(\d+)"', second)] == [7, 6, 4, 3, 2, 1]


def test_serve_on_a_port_in_use_is_a_one_line_error(cassette):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["cassette", "serve", str(cassette), "--port", str(port)])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot serve on 127.0.0.1:{port}: Address already in use\n"
