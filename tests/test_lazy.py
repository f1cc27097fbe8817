"""The lazy public names of a package (PEP 562): loaded on first use, then plain attributes."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from tarash.tarash_gateway._lazy import lazy_names


@pytest.fixture
def package(monkeypatch):
    module = types.ModuleType("lazy_probe")
    module.__all__ = ["Path", "answer"]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lazy_probe", module)
    calls = []
    module.__getattr__, module.__dir__ = lazy_names(  # type: ignore[attr-defined]
        "lazy_probe", {"Path": "pathlib"}, {"answer": lambda: calls.append(1) or 42}
    )
    return module, calls


def test_a_name_loads_from_its_module_and_then_is_a_plain_attribute(package):
    module, _ = package
    from pathlib import Path

    assert module.Path is Path
    assert "Path" in vars(module)


def test_a_computed_name_is_computed_once(package):
    module, calls = package
    assert (module.answer, module.answer, calls) == (42, 42, [1])


def test_an_unknown_name_is_an_attribute_error_naming_it(package):
    module, _ = package
    with pytest.raises(AttributeError, match="'lazy_probe' has no attribute 'nope'"):
        module.nope  # noqa: B018


def test_dir_lists_every_public_name_before_any_is_loaded(package):
    module, _ = package
    assert {"Path", "answer"} <= set(dir(module))
    assert "Path" not in vars(module)


def test_the_cassette_packages_load_their_modules_on_first_use_only():
    code = (
        "import sys, tarash.tarash_gateway.cassettes as c, tarash.tarash_gateway.cassettes.http as h\n"
        "before = {'store': 'tarash.tarash_gateway.cassettes.store' in sys.modules, 'hook': 'tarash.tarash_gateway.cassettes.http.hook' in sys.modules}\n"
        "assert c.CassetteStore.__name__ == 'CassetteStore' and callable(h.install)\n"
        "print(before, 'CassetteStore' in dir(c), 'tarash.tarash_gateway.cassettes.store' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "{'store': False, 'hook': False} True True"
