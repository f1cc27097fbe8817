"""The public names of the cassettes package, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import tarash.tarash_gateway as gateway
from tarash.tarash_gateway import cassettes


def test_every_public_name_is_listed_sorted_and_importable():
    assert cassettes.__all__ == sorted(cassettes.__all__)
    for name in cassettes.__all__:
        assert getattr(cassettes, name) is not None
    assert gateway.use_cassette is cassettes.use_cassette and "use_cassette" in gateway.__all__
    assert gateway.__all__ == sorted(gateway.__all__)


def test_importing_the_package_loads_neither_sqlite_utils_nor_vcrpy():
    code = "import sys, tarash.tarash_gateway; print('sqlite_utils' in sys.modules, 'vcr' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
