"""Shell completion as the CLI docs describe it: click's `_TARASH_COMPLETE` produces the
bash, zsh and fish scripts, and the bash script, sourced in a real bash, completes a
subcommand's name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TARASH = Path(sys.executable).parent / "tarash"  # the console script of this environment


def _script(shell: str) -> str:
    env = {**os.environ, "_TARASH_COMPLETE": f"{shell}_source"}
    done = subprocess.run([str(TARASH)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F _tarash_completion tarash"),
                                                ("zsh", "#compdef tarash"),
                                                ("fish", "complete --no-files --command tarash")])
def test_each_shell_gets_its_completion_script(shell, marker):
    assert marker in _script(shell)


def test_completion_answers_with_the_subcommands_that_match():
    env = {**os.environ, "_TARASH_COMPLETE": "bash_complete", "COMP_WORDS": "tarash cassette sh", "COMP_CWORD": "2"}
    done = subprocess.run([str(TARASH)], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["plain,show"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_completes_a_subcommand_name_in_bash():
    script = _script("bash")
    probe = (f"{script}\nCOMP_WORDS=(tarash cass); COMP_CWORD=1; _tarash_completion tarash\n"
             'printf "%s\\n" "${COMPREPLY[@]}"\n'
             "COMPREPLY=(); COMP_WORDS=(tarash cassette ve); COMP_CWORD=2; _tarash_completion tarash\n"
             'printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = {**os.environ, "PATH": f"{TARASH.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", probe], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cassette", "verify"]
