"""Running `tarash` in a real pseudo-terminal of a given width (`pty`), for what only a
terminal shows: tables fitted to its width, progress bars drawn on stderr."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass


@dataclass
class Session:
    terminal: str  # what the terminal showed (stdout and/or stderr, as chosen)
    piped: str  # what went to the pipe instead (the other stream)
    code: int


def in_terminal(*args: str, columns: int = 60, stdout: bool = True, stderr: bool = True) -> Session:
    """Run `tarash ARGS` with stdout and/or stderr on a terminal `columns` wide."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tarash.tarash_gateway.cli", *args], stdin=subprocess.DEVNULL,
        stdout=child_fd if stdout else subprocess.PIPE, stderr=child_fd if stderr else subprocess.PIPE,
        env={**env, "TERM": "xterm"})
    os.close(child_fd)
    shown = bytearray()
    try:
        while True:
            try:
                data = os.read(main_fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            shown += data
    finally:
        os.close(main_fd)
    piped = (process.stdout or process.stderr).read() if not (stdout and stderr) else b""  # type: ignore[union-attr]
    code = process.wait(timeout=60)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return Session(shown.decode("utf-8", "replace").replace("\r\n", "\n"), piped.decode(), code)
