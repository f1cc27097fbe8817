"""A cassette is untrusted input: hostile hashes write nowhere, damaged blobs never reach
the caller, read-only checkouts replay, and a paid result survives a failed write."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.exceptions import CassetteError, GenerationFailedError

from .conftest import config, request

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 5000  # ~1.3 MB, more than one chunk


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def recorded(face, acme, db, media_server):
    """``run.db`` holding two recordings whose captured video is ``VIDEO``."""
    media_server.files["/out.mp4"] = VIDEO
    acme.video = f"{media_server.url}/out.mp4"
    with use_cassette(db):
        face.video(config(), request("one"))
        face.video(config(), request("two"))
    media_server.stop()
    return db


def _sql(db: Path, statement: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


# -- file names are never taken from a cassette ------------------------------------------


@pytest.mark.parametrize("hostile", ["../../conftest", "/tmp/conftest", "..", "A" * 64, "a" * 63 + "/"])
def test_a_hostile_media_hash_writes_no_file_anywhere(face, recorded, db, tmp_path, hostile):
    _sql(db, "UPDATE media SET hash = ?", (hostile,))
    before = _files(tmp_path)
    with use_cassette(db, record_mode="none", media="file"), pytest.raises(CassetteError, match="not a sha256"):
        face.video(config(), request("one"))
    assert _files(tmp_path) == before
    assert not Path("/tmp/conftest").exists() and not (tmp_path.parent / "conftest").exists()


def test_a_hostile_inline_blob_hash_is_refused(face, acme, db, tmp_path):
    acme.video = {"content": VIDEO, "content_type": "video/mp4"}
    with use_cassette(db):
        face.video(config(), request("inline"))
    conn = sqlite3.connect(db)
    body = json.loads(conn.execute("SELECT response FROM recordings").fetchone()[0])
    body["video"]["$blob"] = "../../conftest"
    conn.execute("UPDATE recordings SET response = ?", (json.dumps(body),))
    conn.commit()
    conn.close()
    before = _files(tmp_path)
    for mode in ("url", "content", "file"):
        with use_cassette(db, record_mode="none", media=mode), pytest.raises(CassetteError, match="recording #1"):
            face.video(config(), request("inline"))
    assert _files(tmp_path) == before


@pytest.mark.parametrize("content_type", ["text/x-python", "text/x-python/../../x", "video/mp4"])
def test_a_cassette_cannot_choose_a_non_media_file_suffix(face, recorded, db, tmp_path, content_type):
    conn = sqlite3.connect(db)
    for rid, text in conn.execute("SELECT id, response FROM recordings").fetchall():
        body = json.loads(text)
        body["video"] = "https://cdn.example/conftest.py"
        conn.execute("UPDATE recordings SET response = ? WHERE id = ?", (json.dumps(body), rid))
    conn.execute("UPDATE media SET content_type = ?", (content_type,))
    conn.commit()
    conn.close()
    with use_cassette(db, record_mode="none", media="file", media_dir=tmp_path / "m"):
        video = face.video(config(), request("one")).video
    written = _files(tmp_path / "m")
    assert len(written) == 1 and video == next(iter(written)).as_uri()
    assert next(iter(written)).suffix in (".mp4", ".bin") and next(iter(written)).read_bytes() == VIDEO


# -- media is tamper-evident ------------------------------------------------------------


def _damage(db: Path, how: str) -> None:
    conn = sqlite3.connect(db)
    (digest, data), = conn.execute("SELECT hash, data FROM blobs").fetchall()
    data = bytearray(data)
    if how == "first":
        data[0] ^= 1
    elif how == "middle":
        data[len(data) // 2] ^= 0x80
    elif how == "last":
        data[-1] ^= 0xFF
    elif how == "truncated":
        data = data[:-1000]
    elif how == "extended":
        data += b"\x00" * 10
    elif how == "swapped":
        data = bytearray(b"#!/bin/sh\necho pwned\n")
    conn.execute("UPDATE blobs SET data = ? WHERE hash = ?", (bytes(data), digest))
    conn.commit()
    conn.close()


DAMAGE = ["first", "middle", "last", "truncated", "extended", "swapped"]


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("mode", ["content", "file"])
def test_a_damaged_blob_never_reaches_the_caller(face, recorded, db, tmp_path, how, mode):
    _damage(db, how)
    media_dir = tmp_path / "media"
    with use_cassette(db, record_mode="none", media=mode, media_dir=media_dir):
        with pytest.raises(CassetteError, match=r"recording #1 \(video\).*does not hold the bytes its hash says"):
            face.video(config(), request("one"))
    assert not media_dir.exists() or not _files(media_dir)  # no partial or wrong file left behind


def test_a_stale_file_in_the_media_dir_is_replaced_not_served(face, recorded, db, tmp_path):
    media_dir = tmp_path / "media"
    with use_cassette(db, record_mode="none", media="file", media_dir=media_dir):
        path = Path(face.video(config(), request("one")).video[len("file://"):])
    path.write_bytes(b"x" * len(VIDEO))  # same size, other bytes
    with use_cassette(db, record_mode="none", media="file", media_dir=media_dir):
        assert Path(face.video(config(), request("one")).video[len("file://"):]).read_bytes() == VIDEO


def test_iter_blob_holds_back_the_last_chunk_until_it_is_verified(recorded, db):
    _damage(db, "last")
    store = CassetteStore.open(db, create=False)
    try:
        digest = store.blobs()[0]["hash"]
        chunks = store.iter_blob(digest, 1 << 16)
        got = 0
        with pytest.raises(CassetteError, match="does not hold"):
            for chunk in chunks:
                got += len(chunk)
        assert got < len(VIDEO)
    finally:
        store.close()


def test_a_recorded_error_of_an_unknown_type_is_a_cassette_error(face, acme, db):
    with use_cassette(db), pytest.raises(GenerationFailedError):
        face.video(config(), request("fail now"))
    _sql(db, "UPDATE recordings SET error = json_set(error, '$.type', 'NoSuchError')")
    with use_cassette(db, record_mode="none"), pytest.raises(CassetteError, match="recording #1.*NoSuchError"):
        face.video(config(), request("fail now"))


# -- read-only replay, and a self-contained file -------------------------------------------


def test_a_closed_recording_session_leaves_one_self_contained_file(face, recorded, db):
    assert sorted(p.name for p in db.parent.iterdir()) == ["run.db"]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_replaying_leaves_the_file_byte_for_byte_as_it_was(face, recorded, db):
    before = db.read_bytes()
    with use_cassette(db):  # record mode "once": an existing cassette only replays
        face.video(config(), request("one"))
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["run.db"]


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another (non-root) user can read, outside pytest's private tmp dir."""
    path = Path(tempfile.mkdtemp(prefix="tarash-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(path)


_BOOT = """
import runpy, site, sys
site.addsitedir(sys.argv.pop(1))
args = sys.argv[1:]
if args[0] == "-m":
    sys.argv = args[1:]
    runpy.run_module(args[1], run_name="__main__", alter_sys=True)
else:
    sys.argv = args
    runpy.run_path(args[0], run_name="__main__")
"""


def _python_for(user: str | None, purelib: str) -> list[str]:
    """A command starting this interpreter with this environment's packages, runnable by
    ``user`` (a pyenv interpreter under root's private HOME is not: Debian's own
    ``python3.X`` of the same version is, given this environment's site-packages)."""
    for exe in (sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"):
        try:
            subprocess.run([exe, "-c", "pass"], user=user, check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.CalledProcessError):
            continue
        return [exe, "-c", _BOOT, purelib]
    pytest.fail(f"no Python {sys.version_info.major}.{sys.version_info.minor} that user {user!r} can run: "
                "install Debian's python3 (apt-get install python3) to run this test as a non-root user")


def _open_to_others(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents))


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


def _readable_paths(into: Path) -> tuple[str, str]:
    """The package under test and this environment's site-packages, as a directory for
    ``PYTHONPATH`` and one for ``site.addsitedir``, that any user can read.

    Where the checkout sits in a private directory (a clone inside ``mktemp -d`` is 0700,
    its ``.venv`` with it), the other user could import neither: they are mirrored once
    into ``into`` (the package copied, site-packages hard-linked into readable directories).
    """
    import tarash.tarash_gateway

    package = Path(tarash.tarash_gateway.__file__).parents[1]
    purelib = Path(sysconfig.get_paths()["purelib"])
    if _open_to_others(package) and _open_to_others(purelib):
        return "", str(purelib)
    site, packages = into / "site", into / "site-packages"
    if not site.exists():
        shutil.copytree(package, site / "tarash", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(purelib, packages, copy_function=_link_or_copy, symlinks=True)
        for p in [site, packages, *site.rglob("*"), *packages.rglob("*")]:
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
            elif not p.is_symlink() and p.stat().st_nlink == 1:  # a copy; a hard link keeps its own mode
                p.chmod(0o644)
    return str(site), str(packages)


def _as_other_user(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` as a non-root user: ``nobody`` when the suite runs as root (as CI does)."""
    package, purelib = _readable_paths(cwd.parent)
    path = [*filter(None, [package, os.environ.get("PYTHONPATH")])]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "PYTHONDONTWRITEBYTECODE": "1",
           **({"PYTHONPATH": os.pathsep.join(path)} if path else {})}
    user = "nobody" if os.geteuid() == 0 else None
    command = [*_python_for(user, purelib), *args]
    return subprocess.run(command, cwd=cwd, env=env, user=user, capture_output=True, text=True, timeout=60)


REPLAY = textwrap.dedent("""
    import json, sys
    from tarash.tarash_gateway import register_provider, use_cassette, generate_video
    from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
    class Unpaid:
        def generate_video(self, config, request, on_progress=None):
            raise AssertionError("a replay must not call the provider")
    register_provider("acme-test", Unpaid())
    with use_cassette(sys.argv[1], media=sys.argv[2]) as session:
        out = generate_video(VideoGenerationConfig(provider="acme-test", model="m1"),
                             VideoGenerationRequest(prompt="one"))
    video = out.video if isinstance(out.video, str) else len(out.video["content"])
    print(json.dumps({"replayed": session.replayed, "video": video}))
""")


@pytest.mark.parametrize("wal", [True, False], ids=["wal-mode file", "rollback-mode file"])
def test_replay_and_the_cli_work_as_a_non_root_user_on_a_read_only_directory(face, recorded, shared_dir, wal):
    ro = shared_dir / "checkout"
    ro.mkdir()
    shutil.copy(recorded, ro / "run.db")
    if wal:
        conn = sqlite3.connect(ro / "run.db")
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        conn.close()
    (ro / "replay.py").write_text(REPLAY)
    (ro / "run.db").chmod(0o444)
    ro.chmod(0o555)
    before = sorted(p.name for p in ro.iterdir())

    for media in ("url", "content"):
        result = _as_other_user(["replay.py", "run.db", media], ro)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["replayed"] == 1
    for command in (["ls", "run.db"], ["show", "run.db"], ["verify", "run.db"], ["export", "run.db", "-"]):
        result = _as_other_user(["-m", "tarash.tarash_gateway.cli", "cassette", *command], ro)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "damaged" not in result.stdout.lower() + result.stderr.lower()
    assert sorted(p.name for p in ro.iterdir()) == before
    assert stat.S_IMODE(ro.stat().st_mode) == 0o555


# -- a paid result is never thrown away ------------------------------------------------------

RECORD = textwrap.dedent("""
    import json, logging, sys
    from tarash.tarash_gateway import register_provider, use_cassette, generate_video
    from tarash.tarash_gateway.exceptions import CassetteError
    from tarash.tarash_gateway.models import (VideoGenerationConfig, VideoGenerationRequest,
                                              VideoGenerationResponse)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    class Paid:
        calls = 0
        def generate_video(self, config, request, on_progress=None):
            Paid.calls += 1
            return VideoGenerationResponse(request_id=f"paid-{Paid.calls}", video="https://cdn.example/v.mp4")
    register_provider("acme-test", Paid())
    got = []
    try:
        with use_cassette(sys.argv[1], record_mode="new_episodes"):
            for prompt in ("three", "four"):
                got.append(generate_video(VideoGenerationConfig(provider="acme-test", model="m1"),
                                          VideoGenerationRequest(prompt=prompt)).request_id)
    except CassetteError as error:
        print(json.dumps({"got": got, "calls": Paid.calls, "error": str(error)}))
""")


def test_a_read_only_cassette_still_returns_the_paid_responses_and_fails_at_block_exit(recorded, shared_dir):
    ro = shared_dir / "checkout"
    ro.mkdir()
    shutil.copy(recorded, ro / "run.db")
    (ro / "record.py").write_text(RECORD)
    (ro / "run.db").chmod(0o444)
    ro.chmod(0o555)
    result = _as_other_user(["record.py", "run.db"], ro)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["got"] == ["paid-1", "paid-2"] and out["calls"] == 2  # the provider answered, the caller got it
    assert out["error"].startswith("2 call(s) inside use_cassette") and "read-only" in out["error"]
    assert "damaged" not in out["error"]
    assert result.stderr.count("was not recorded") == 1  # logged once, then counted


def test_a_full_disk_still_returns_the_paid_response(acme, db):
    from tarash.tarash_gateway import generate_video

    with pytest.raises(CassetteError, match="the disk is full") as raised:
        with use_cassette(db, record_mode="new_episodes") as session:
            generate_video(config(), request("one"))
            conn = session.store.db().conn  # the sync face records on this thread's connection
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={pages}")  # no page more: SQLite's disk-full error
            response = generate_video(config(), request("two " + "x" * 200_000))
            assert response.request_id == "acme-2" and session.recorded == 1
    assert "damaged" not in str(raised.value)


def test_a_recorded_error_is_still_raised_when_its_recording_fails(acme, db):
    from tarash.tarash_gateway import generate_video

    with pytest.raises(CassetteError, match="could not be recorded"):
        with use_cassette(db, record_mode="new_episodes") as session:
            generate_video(config(), request("one"))
            conn = session.store.db().conn
            conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
            with pytest.raises(GenerationFailedError):
                generate_video(config(), request("fail " + "x" * 200_000))
