"""No code change: an app that never imports tarash, recorded and replayed through the
environment alone (the ``.pth`` hook installed with the package) and ``tarash run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import close_cassettes
from tarash.tarash_gateway.cassettes.http import install
from tarash.tarash_gateway.exceptions import CassetteError

from .provider_server import API_KEY, MEDIA, SIGNATURE, ProviderServer

APP = Path(__file__).with_name("app.py")
TARASH = [sys.executable, "-m", "tarash.tarash_gateway.cli"]


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARASH_")}
    return {**env, "HOME": str(tmp_path), **values}  # never the real HOME


def _app(base: str, env: dict[str, str], *prefix: str) -> dict:
    done = subprocess.run([*prefix, sys.executable, str(APP), base, "a red fox"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_hook_is_installed_at_the_top_of_site_packages():
    hook = Path(sysconfig.get_paths()["purelib"]) / "tarash_gateway.pth"
    assert hook.is_file(), "pip install -e . did not install the .pth hook (see setup.py)"
    assert "TARASH_CASSETTE" in hook.read_text()


def test_an_app_that_never_imports_tarash_is_recorded_and_replayed_through_the_environment(tmp_path, db):
    with ProviderServer() as server:
        env = _env(tmp_path, TARASH_CASSETTE=str(db), TARASH_CASSETTE_HTTP_HOSTS="127.0.0.1")
        recorded = _app(server.base, env)
    assert recorded["polls"] == 4 and db.is_file()
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir())
    assert API_KEY.encode() not in raw and SIGNATURE.encode() not in raw
    replayed = _app(server.base, _env(tmp_path, TARASH_CASSETTE=str(db), TARASH_RECORD_MODE="none"))
    assert replayed["polls"] == 1 and bytes.fromhex(replayed["media"]) == MEDIA
    assert replayed["result"]["seed"] == recorded["result"]["seed"]


def test_without_the_variable_the_hook_leaves_the_app_alone(tmp_path):
    with ProviderServer() as server:
        outcome = _app(server.base, _env(tmp_path))
    assert outcome["tarash_imported"] is False and outcome["polls"] == 4


def test_tarash_run_records_then_replays_a_command_with_its_exit_status(tmp_path, db):
    with ProviderServer() as server:
        recorded = _app(server.base, _env(tmp_path), *TARASH, "run", "--cassette", str(db), "--http-host", "127.0.0.1",
                        "--")
    replayed = _app(server.base, _env(tmp_path), *TARASH, "run", "--cassette", str(db), "--record-mode", "none", "--")
    assert recorded["polls"] == 4 and replayed["polls"] == 1
    assert bytes.fromhex(replayed["media"]) == MEDIA
    failed = subprocess.run([*TARASH, "run", "--cassette", str(db), "--", sys.executable, "-c", "raise SystemExit(3)"],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert failed.returncode == 3


def test_tarash_run_refuses_without_a_cassette_in_one_line(tmp_path):
    done = subprocess.run([*TARASH, "run", "--", "true"], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "no cassette: give --cassette PATH or set TARASH_CASSETTE" in done.stderr
    assert "Traceback" not in done.stderr
    missing = subprocess.run([*TARASH, "run", "--cassette", str(tmp_path / "x.db"), "--", "no-such-command-here"],
                             env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "cannot run no-such-command-here" in missing.stderr


def test_a_wrong_http_mode_in_the_environment_is_a_clear_error(monkeypatch, db):
    import httpx

    monkeypatch.setenv("TARASH_CASSETTE", str(db))
    monkeypatch.setenv("TARASH_CASSETTE_HTTP", "sometimes")
    with use_cassette(db), pytest.raises(CassetteError, match="TARASH_CASSETTE_HTTP='sometimes' is not"):
        httpx.get("http://127.0.0.1:9/")


def test_a_variable_set_after_start_applies_once_installed_and_its_hosts_are_recorded(monkeypatch, db):
    import httpx

    install()  # what the .pth hook does at start when the variable is set
    monkeypatch.setenv("TARASH_CASSETTE", str(db))
    monkeypatch.setenv("TARASH_CASSETTE_HTTP_HOSTS", "127.0.0.1, api.example.com")
    with ProviderServer() as server:
        assert httpx.get(f"{server.base}/v1/counter").json() == {"n": 1}
    close_cassettes()  # the process-wide session ends: the next one counts afresh
    monkeypatch.setenv("TARASH_RECORD_MODE", "none")
    assert httpx.get(f"{server.base}/v1/counter").json() == {"n": 1}  # replayed: the server is gone
