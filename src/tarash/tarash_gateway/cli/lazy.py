"""Command groups that import a command's module only when it runs.

`tarash --help` and `tarash cassette ls` should not pay for the simulator, the chaos
runner or the cassette browser. A `LazyGroup` knows each command by name, the
`module:attribute` that defines it and its short help; `--help` prints that
line without importing anything, and the command is imported when it is invoked (or
completed). A test holds each line equal to the command's own short help.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

__all__ = ["LazyGroup"]


class LazyGroup(click.Group):
    """A `click.Group` whose commands are imported on first use.

    Examples:
        >>> group = LazyGroup("g", lazy={"ls": ("tarash.tarash_gateway.cli.listing:ls", "List cassettes.")})
        >>> group.list_commands(click.Context(group))
        ['ls']
    """

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Command name -> (`module:attribute`, one-line help).
        self.lazy: dict[str, tuple[str, str]] = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            where, attribute = self.lazy[cmd_name][0].split(":")
            command = getattr(importlib.import_module(where), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help`, from the one-line helps: nothing imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)  # as click's own
        rows = [(name, (self.commands.get(name) or click.Command(name, help=self.lazy[name][1]))
                 .get_short_help_str(limit)) for name in names]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
