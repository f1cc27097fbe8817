"""The ``tarash`` command line. Each command group lives in its own module and is
registered here; the commands only parse and print, the library does the work."""

from __future__ import annotations

import click

from . import git as _git  # noqa: F401 - registers diff, textconv, merge, git-setup, summary
from . import store as _store  # noqa: F401 - registers pull, push
from .cassette import cassette_group
from .chaos import chaos_command
from .run import run_command
from .simulate import simulate_command

__all__ = ["main"]


@click.group()
@click.version_option(package_name="tarash-gateway", prog_name="tarash")
def main() -> None:
    """tarash-gateway from the shell.

    \b
    Example:
        tarash cassette ls cassettes/
        tarash simulate --port 8787
        tarash chaos --demo
        tarash run --cassette cassettes/app.db -- python app.py
    """


main.add_command(cassette_group)
main.add_command(run_command)
main.add_command(simulate_command)
main.add_command(chaos_command)
