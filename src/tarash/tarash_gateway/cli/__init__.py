"""The `tarash` command line. Each command group lives in its own module, imported
only when it runs (`lazy.LazyGroup`); the commands only parse and print, the library
does the work."""

from __future__ import annotations

import click

from .lazy import LazyGroup

__all__ = ["COMMANDS", "main"]

#: Each command: where it is defined, and its short help (kept equal to the command's own by a test).
COMMANDS = {
    "cassette": ("tarash.tarash_gateway.cli.cassette:cassette_group",
                 "Inspect and maintain cassettes: SQLite files and postgresql:// URLs."),
    "chaos": ("tarash.tarash_gateway.cli.chaos:chaos_command",
              "Run a chaos config (JSON or YAML), a Python script or the demo; print what happened."),
    "run": ("tarash.tarash_gateway.cli.run:run_command",
            "Run COMMAND with its HTTP traffic recorded into, or replayed from, a cassette."),
    "simulate": ("tarash.tarash_gateway.cli.simulate:simulate_command",
                 "Serve fal, Replicate, OpenAI, Google, Runway, Stability and xAI protocols on loopback."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="tarash-gateway", prog_name="tarash")
def main() -> None:
    """tarash-gateway from the shell.

    \b
    Example:
        tarash cassette ls cassettes/
        tarash simulate --port 8787
        tarash chaos --demo
        tarash run --cassette cassettes/app.db -- python app.py

    Shell completion: eval "$(_TARASH_COMPLETE=bash_source tarash)" (zsh_source,
    fish_source for the other shells; see the CLI docs).
    """
