"""A throwaway PostgreSQL cluster (tests of the PostgreSQL store, and its benchmark).

Started with Debian's (or any) `initdb`/`pg_ctl`, as a non-root user (initdb refuses
root) in a temporary directory that user owns, on a free loopback port, password
authentication on 127.0.0.1 only; `remove` stops it and deletes everything.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["DATABASE", "HOW", "PASSWORD", "USER", "PgServer", "find_bindir"]

PASSWORD = "s3cret-pg-pass"
USER = "tarash"
DATABASE = "tarash"
HOW = "install PostgreSQL's server binaries (Debian/Ubuntu: apt-get install postgresql) or put initdb on PATH"


def find_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster: `url(cassette)` names a cassette in it. Tests run it with
    `fsync` off (nothing they check needs the disk); `durable` keeps PostgreSQL's
    defaults, for figures that mean something."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="tarash-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb refuses to run as root: the cluster belongs to nobody
            self.user = "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD)
        if self.user:
            os.chown(pwfile, pwd.getpwnam(self.user).pw_uid, -1)
        self._run("initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile), "--auth-host=scram-sha-256",
                  "--auth-local=trust", "-E", "UTF8", "--no-sync")
        pwfile.unlink()
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.root}'\n"
                       f"fsync = {'on' if durable else 'off'}\nmax_connections = 100\n")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([str(self.bindir / tool), *args], check=True, capture_output=True, user=self.user,
                       cwd=self.root, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, cassette: str, *, password: str = PASSWORD, database: str = DATABASE) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}?cassette={cassette}"

    def admin(self, database: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}", autocommit=True)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
