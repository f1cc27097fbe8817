"""What the package says about itself: wheel metadata (URLs, classifiers, license),
the LICENSE file, the changelog, and the compatibility page they point to.

The wheel is built once, offline, from a copy of the tree in a temporary directory
(`pip wheel --no-build-isolation --no-index`: the build backend comes from the dev extras).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
import yaml
from trove_classifiers import classifiers as known_classifiers

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src" / "tarash", tree / "src" / "tarash", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out), str(tree)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("tarash_gateway-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def metadata(wheel: zipfile.ZipFile) -> Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(wheel.read(name).decode())


def test_wheel_metadata_has_the_project_urls(wheel):
    urls = dict(entry.split(", ", 1) for entry in metadata(wheel).get_all("Project-URL"))
    assert set(urls) >= {"Homepage", "Documentation", "Repository", "Issues", "Changelog"}
    assert all(url.startswith("https://") for url in urls.values())
    site_url = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]
    assert urls["Documentation"] == site_url  # the docs link goes where the site is built for
    assert urls["Changelog"].endswith("/CHANGELOG.md")


def test_wheel_classifiers_are_known_and_match_the_package(wheel):
    found = metadata(wheel).get_all("Classifier")
    assert found and not [c for c in found if c not in known_classifiers]
    assert "Framework :: Pytest" in found and "Typing :: Typed" in found
    minimum = re.fullmatch(r">=3\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert minimum and f"Programming Language :: Python :: 3.{minimum.group(1)}" in found


def test_wheel_carries_the_apache_license_and_entry_points(wheel):
    meta = metadata(wheel)
    assert meta["License-Expression"] == "Apache-2.0"
    (license_file,) = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    assert wheel.read(license_file) == (ROOT / "LICENSE").read_bytes()
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "tarash = tarash.tarash_gateway.cli:main" in text
    assert "[pytest11]" in text and "tarash = tarash.tarash_gateway.pytest_plugin" in text
    assert "tarash/tarash_gateway/py.typed" in wheel.namelist()


def test_license_file_is_the_full_apache_2_text():
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    for clause in ("1. Definitions.", "4. Redistribution.", "9. Accepting Warranty or Additional Liability."):
        assert clause in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text


def test_changelog_keeps_a_changelog_with_the_current_version_on_top():
    text = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert releases[0] == ("Unreleased", "")
    assert releases[1][0] == PYPROJECT["project"]["version"] and releases[1][1]  # the version, dated
    assert [r for r, _ in releases[1:]] == ["0.2.0", "0.1.0"]
    for version, _ in releases:
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.M), f"no link for {version}"
    sections = set(re.findall(r"^### (.+)$", text, re.M))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_compatibility_page_is_in_the_docs_nav_and_names_every_public_module():
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    assert {"Compatibility": "compatibility.md"} in nav
    page = (ROOT / "docs" / "compatibility.md").read_text()
    for module in ("", ".models", ".mock", ".exceptions", ".cassettes", ".simulator"):
        assert f"`tarash.tarash_gateway{module}`" in page
    assert "semantic versioning" in page and "newer schema is refused" in page
