"""One docstring style across the package: Google sections with Markdown, as the docs
site renders it. No reST roles (`:class:` ...), double-backtick literals or `::` literal
blocks, and `>>>` examples sit in an `Examples:` section so they render as code.

The click commands of `cli/` are left out: their docstrings are the `--help` text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tarash" / "tarash_gateway"
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`")
DOUBLE_BACKTICK = re.compile(r"(?<!`)``(?!`)")
LITERAL_BLOCK = re.compile(r"::\s*$", re.M)


def docstrings(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        body = getattr(node, "body", None)
        for statement in body if isinstance(body, list) else []:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                if isinstance(statement.value.value, str):
                    found.append((statement.lineno, statement.value.value))
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts)


def problems(text: str) -> list[str]:
    prose = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.S | re.M)  # fenced code is code
    found = []
    if ROLE.search(prose):
        found.append("a reST role (use `name`)")
    if DOUBLE_BACKTICK.search(prose):
        found.append("a ``literal`` (use `literal`)")
    if LITERAL_BLOCK.search(prose):
        found.append("a '::' literal block (use a fenced block)")
    if re.search(r"^\s*Example:\s*\n\s*>>>", text, re.M):
        found.append("'Example:' before >>> (use 'Examples:', so it renders as code)")
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_docstrings_are_google_style_markdown(path):
    bad = [f"line {line}: {', '.join(found)}" for line, text in docstrings(path) if (found := problems(text))]
    assert not bad, f"{path.relative_to(PACKAGE)}: " + "; ".join(bad)


@pytest.mark.parametrize(
    "text",
    [
        "See :class:`CassetteConfig`.",
        "The ``path`` field.",
        "Like this::\n\n    code()\n",
        "Example:\n    >>> 1 + 1\n    2\n",
    ],
)
def test_each_rest_construct_is_caught(text):
    assert problems(text)


def test_markdown_and_fenced_code_pass():
    assert not problems("The `path` field, see `CassetteConfig`:\n\n```python\nx = ``\n```\n\nExamples:\n    >>> 1\n    1\n")
