"""``tarash run``: run a command with every httpx client of its Python processes recorded
and replayed through a cassette, with no code change (like ``opentelemetry-instrument``)."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from ..cassettes.config import RecordMode
from ..cassettes.http.hook import run_environment
from ..exceptions import CassetteError

__all__ = ["run_command"]


@click.command("run", context_settings={"allow_interspersed_args": False})
@click.option("--cassette", "path", metavar="PATH", help="The cassette file (default: TARASH_CASSETTE).")
@click.option("--record-mode", type=click.Choice([m.value for m in RecordMode]),
              help="none, once (default), new_episodes or all (default: TARASH_RECORD_MODE).")
@click.option("--http", type=click.Choice(["providers", "all", "off"]),
              help="Which HTTP traffic: the provider hosts (default), all of it, or none.")
@click.option("--http-host", "hosts", multiple=True, metavar="HOST",
              help="One more host to record with --http providers (repeatable), e.g. 127.0.0.1.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run_command(path: str | None, record_mode: str | None, http: str | None, hosts: tuple[str, ...],
                command: tuple[str, ...]) -> None:
    """Run COMMAND with its HTTP traffic recorded into, or replayed from, a cassette.

    The settings reach every Python process COMMAND starts through the environment
    (TARASH_CASSETTE and friends), read at interpreter start by the hook installed with
    tarash-gateway: the app needs no change. Exits with COMMAND's exit status.

    \b
    Example:
        tarash run --cassette cassettes/app.db -- python app.py
        tarash run --cassette cassettes/app.db --record-mode none -- pytest tests/
    """
    try:
        env = run_environment(os.environ, path=path, record_mode=record_mode, http=http, hosts=hosts)
    except CassetteError as error:
        raise click.UsageError(str(error)) from error
    try:
        process = subprocess.Popen(list(command), env=env)
    except OSError as error:
        raise click.ClickException(f"cannot run {command[0]}: {error.strerror or error}") from error
    while True:
        try:
            code = process.wait()
            break
        except KeyboardInterrupt:  # the command got it too (same process group): wait for it to stop
            continue
    if code == 0 and env.get("TARASH_RECORD_MODE", "once") != "none" and not os.path.exists(env["TARASH_CASSETTE"]):
        click.echo(f"tarash: {env['TARASH_CASSETTE']} was not written: the command made no HTTP request to a "
                   "recorded host, or its Python lacks tarash-gateway", err=True)
    sys.exit(code)
