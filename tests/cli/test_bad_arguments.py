"""Every command and subcommand, discovered from the click group, with bad arguments:
a missing file, a directory, a file that is not a cassette, a damaged cassette, an
unreachable PostgreSQL server, numbers out of range. None prints a traceback; each
fails with click's usage error (exit 2) or with one `Error: ...` line on stderr (exit 1).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.cli.params import CassetteArgument
from tests.cassettes.hostile import build_cassette
from tests.cli.commands import leaves

UNREACHABLE = "postgresql://u@127.0.0.1:1/x?cassette=y"
KINDS = ["missing", "directory", "not a cassette", "damaged", "unreachable"]

#: (command, kind) where the input is not bad: a directory is what `ls` and `scan` search,
#: and `scan` reads any file, line by line.
ACCEPTED = {("cassette ls", "directory"), ("cassette scan", "directory"), ("cassette scan", "not a cassette")}
#: `scan` exits 2 when a file cannot be read (1 means secrets found), as its docs say.
EXIT_UNREADABLE = {"cassette scan": 2}


def _inputs(tmp: Path) -> dict[str, str]:
    good = build_cassette(tmp / "good.db")
    damaged = tmp / "damaged.db"
    damaged.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (tmp / "adir.db").mkdir()
    (tmp / "notes.db").write_text("just some notes\n")
    return {"missing": str(tmp / "missing.db"), "directory": str(tmp / "adir.db"), "not a cassette": str(tmp / "notes.db"),
            "damaged": str(damaged), "unreachable": UNREACHABLE, "good": str(good)}


def _positional(command: click.Command) -> list[click.Argument]:
    return [p for p in command.params if isinstance(p, click.Argument) and not isinstance(p.type, click.types.UnprocessedParamType)]


def _takes_input(param: click.Argument) -> bool:
    """Whether the argument names something that must exist (a cassette, a source)."""
    kind = param.type
    return (isinstance(kind, CassetteArgument) and kind.exists) or (isinstance(kind, click.Path) and kind.exists) \
        or param.name in ("url", "file")


def _filled(command: click.Command, tmp: Path, bad: click.Argument | None = None, value: str = "") -> list[str]:
    """The command's required arguments: `value` for `bad`, good ones for the others."""
    values = _inputs_cache[tmp]
    args = []
    for n, param in enumerate(_positional(command)):
        if param is bad:
            args.append(value)
        elif param.required or param.nargs == -1:
            args.append(values["good"] if _takes_input(param) else str(tmp / f"out-{n}" / "new.db"))
    return args


_inputs_cache: dict[Path, dict[str, str]] = {}


def _cases() -> list[Any]:
    cases = []
    for words, command in leaves():
        name = " ".join(words)
        if any(p.required for p in command.params):
            cases.append(pytest.param(words, None, "", id=f"{name} (no arguments)"))
        for param in _positional(command):
            for kind in KINDS:
                if (name, kind) in ACCEPTED or (kind == "missing" and not _takes_input(param)):
                    continue
                cases.append(pytest.param(words, param.name, kind, id=f"{name} {param.name}={kind}"))
        for option in command.params:
            if isinstance(option, click.Option) and isinstance(option.type, click.types._NumberRangeBase):
                for value in _out_of_range(option.type):
                    cases.append(pytest.param(words, option.opts[-1], value, id=f"{name} {option.opts[-1]} {value}"))
    return cases


def _out_of_range(kind: Any) -> list[str]:
    values = []
    if kind.min is not None:
        values.append(str(kind.min - 1 if isinstance(kind, click.IntRange) else kind.min - 0.5))
    if kind.max is not None:
        values.append(str(kind.max + 1 if isinstance(kind, click.IntRange) else kind.max * 10 + 1))
    if isinstance(kind, click.FloatRange):
        values.append("nan")
    return values or ["not-a-number"]


def check(result: Result, name: str) -> None:
    """No traceback; click's usage error (exit 2), or one `Error:` line on stderr (exit 1)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    if result.exit_code == 2 and result.stderr.startswith("Usage:"):
        assert len(errors) == 1, result.stderr
        return
    assert result.exit_code == EXIT_UNREADABLE.get(name, 1), result.output
    assert result.stderr.splitlines() == errors and len(errors) == 1, result.stderr


@pytest.mark.parametrize(("words", "target", "value"), _cases())
def test_every_command_refuses_bad_input_without_a_traceback(tmp_path, monkeypatch, words, target, value):
    monkeypatch.chdir(tmp_path)  # `ls` with no argument looks for ./cassettes
    _inputs_cache[tmp_path] = _inputs(tmp_path)
    command = dict(leaves())[words]
    if target is None:
        args: list[str] = []
    elif target.startswith("-"):
        args = [*_filled(command, tmp_path), target, value]
    else:
        bad = next(p for p in _positional(command) if p.name == target)
        args = _filled(command, tmp_path, bad, _inputs_cache[tmp_path][value])
    before = (tmp_path / "good.db").read_bytes()
    result = CliRunner().invoke(main, [*words, *args])
    check(result, " ".join(words))
    assert (tmp_path / "good.db").read_bytes() == before  # a refused command changed nothing
    shutil.rmtree(tmp_path / "out-0", ignore_errors=True)
    _inputs_cache.pop(tmp_path)


def test_the_walk_finds_every_command_group_and_subcommand():
    names = {" ".join(words) for words, _ in leaves()}
    assert {"cassette ls", "cassette show", "cassette pull", "cassette serve", "simulate", "chaos", "run"} <= names
    assert len(names) >= 18  # and every command added later
