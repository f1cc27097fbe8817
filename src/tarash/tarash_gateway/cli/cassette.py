"""`tarash cassette`: list, show, verify, prune, import, export, scan, serve, the git
drivers, and pull/push between a file and a PostgreSQL cassette.

Thin by design: each command parses its options, calls the cassette library, and
prints; each is imported only when it runs (`lazy.LazyGroup`). Library errors
(`CassetteError`, a `ValidationError` of a setting) become `click.ClickException` (a
one-line `Error: ...` and exit status 1); bad options are click's usage errors (exit
status 2). Everything printed goes through `terminal`, so nothing stored in a cassette
can drive the terminal.
"""

from __future__ import annotations

import click

from .lazy import LazyGroup

__all__ = ["cassette_group"]

_HERE = "tarash.tarash_gateway.cli"
#: Each command: where it is defined, and its short help (kept equal to the command's own by a test).
COMMANDS = {
    "diff": (f"{_HERE}.git:diff",
             "What changed from cassette A to cassette B: recordings added (+), removed (-) and changed (~, field by field), matched by request and sequence."),
    "export": (f"{_HERE}.formats:export",
               "Write a cassette as sorted JSONL (readable, diffable, importable again), or as HAR."),
    "git-setup": (f"{_HERE}.git:git_setup",
                  "Print (or with --write, install) the .gitattributes lines and git config that make git diff show cassettes as text and merge them with tarash cassette merge."),
    "import": (f"{_HERE}.formats:import_",
               "Add a vcrpy YAML cassette (.yaml, .yml), a HAR file (.har) or a JSONL export (.jsonl) to a cassette."),
    "ls": (f"{_HERE}.listing:ls",
           "List cassettes (default: the cassettes/ directory) with their contents."),
    "merge": (f"{_HERE}.git:merge",
              "Three-way merge of cassettes (.db) or exports (.jsonl), as a git merge driver: the result replaces OURS (git's %A) unless --output is given."),
    "prune": (f"{_HERE}.upkeep:prune",
              "Delete recordings matching every filter given, then blobs nothing uses."),
    "pull": (f"{_HERE}.store:pull",
             "Copy a PostgreSQL cassette's recordings and HTTP exchanges into a cassette file (a local snapshot)."),
    "push": (f"{_HERE}.store:push",
             "Copy a cassette file's recordings and HTTP exchanges into a PostgreSQL cassette (publish a run)."),
    "scan": (f"{_HERE}.formats:scan",
             "Look for secrets in cassettes, JSONL exports, vcrpy YAML and HAR files."),
    "serve": (f"{_HERE}.serve:serve_command",
              "Browse a cassette: recordings with their images, videos, progress charts and errors."),
    "show": (f"{_HERE}.listing:show",
             "Show what a cassette holds: its recordings, HTTP exchanges and imported HTTP interactions, one line each, or one recording in full."),
    "summary": (f"{_HERE}.git:summary",
                "A cassette in a few lines for a PR description: counts per provider, model and outcome, media size, oldest and newest recording."),
    "textconv": (f"{_HERE}.git:textconv",
                 "Print a cassette as text for git diff: one stable line per recording, media by hash and size (set up by tarash cassette git-setup)."),
    "verify": (f"{_HERE}.upkeep:verify",
               "Check cassettes and re-hash every stored blob; exit 1 if one is damaged."),
}


@click.group("cassette", cls=LazyGroup, lazy=COMMANDS)
def cassette_group() -> None:
    """Inspect and maintain cassettes: SQLite files and postgresql:// URLs.

    \b
    Example:
        tarash cassette verify cassettes/run.db
    """
