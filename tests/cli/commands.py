"""Every `tarash` command, found by walking the click groups: a command added later is
covered by the tests that use this without being named anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import click

from tarash.tarash_gateway.cli import main


def walk(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """`(words, command)` of every command and group under `group`, groups first."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


def leaves() -> list[tuple[tuple[str, ...], click.Command]]:
    """The commands that run (not groups)."""
    return [(words, c) for words, c in walk() if not isinstance(c, click.Group)]
