"""Every command's `--help`: plain text (no reST backticks), an example for each command
that runs, and the lazy groups' one-line helps equal to the commands' own, so
`tarash --help` can print them without importing the commands."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.cli.lazy import LazyGroup
from tests.cli.commands import walk

COMMANDS = list(walk())


@pytest.mark.parametrize(("words", "command"), COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_help_is_plain_text_with_an_example(words, command):
    result = CliRunner().invoke(main, [*words, "--help"])
    assert result.exit_code == 0 and result.output.startswith(f"Usage: main {' '.join(words)} ")
    assert "`" not in result.output and ":class:" not in result.output and ":mod:" not in result.output
    if not isinstance(command, click.Group):
        assert "Example" in result.output and f"tarash {' '.join(words)}" in result.output


@pytest.mark.parametrize("group", [main, *[c for _, c in COMMANDS if isinstance(c, LazyGroup)]],
                         ids=lambda g: g.name)
def test_lazy_groups_know_each_commands_own_short_help(group):
    ctx = click.Context(group)
    for name, (_, short) in group.lazy.items():
        command = group.get_command(ctx, name)
        assert command is not None and command.get_short_help_str(10**6) == short, name
    assert sorted(group.lazy) == group.list_commands(ctx)  # every command is in the table


def test_top_level_help_imports_no_command_module():
    code = ("import sys; from tarash.tarash_gateway.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "import json; print(json.dumps(sorted(m for m in sys.modules if m.startswith('tarash.')"
            " or m in ('sqlite_utils', 'httpx', 'yaml'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = json.loads(done.stdout.splitlines()[-1])
    cli = {m for m in loaded if m.startswith("tarash.tarash_gateway.cli")}
    assert cli == {"tarash.tarash_gateway.cli", "tarash.tarash_gateway.cli.lazy"}, cli
    assert not {"sqlite_utils", "yaml", "tarash.tarash_gateway.simulator", "tarash.tarash_gateway.cassettes.store"
                } & set(loaded)
