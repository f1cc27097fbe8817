"""The provider pages in docs/providers/ are generated from the mapping data and up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_provider_pages_match_the_mapping_data():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_provider_docs.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_builtin_provider_has_a_page():
    from tarash.tarash_gateway.providers import builtin_providers

    pages = {p.stem for p in (ROOT / "docs" / "providers").glob("*.md")}
    for provider in builtin_providers():
        assert provider.replace("azure_openai", "openai") in pages
