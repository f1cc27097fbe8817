"""Every public module lists its names in a sorted ``__all__``, and every listed name exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tarash.tarash_gateway as package

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    if not name.rsplit(".", 1)[-1].startswith("_")
)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_complete(name):
    module = importlib.import_module(name)
    public = getattr(module, "__all__", None)
    assert public is not None, f"{name} has no __all__"
    assert list(public) == sorted(public), f"{name}.__all__ is not sorted"
    missing = [n for n in public if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


def test_the_seed_guides_imports_exist():
    from tarash.tarash_gateway import generate_image, generate_video  # noqa: F401
    from tarash.tarash_gateway.exceptions import GenerationFailedError  # noqa: F401
    from tarash.tarash_gateway.mock import MockConfig, MockPollingConfig, MockResponse  # noqa: F401
    from tarash.tarash_gateway.models import (  # noqa: F401
        ImageGenerationConfig,
        ImageGenerationRequest,
        VideoGenerationConfig,
        VideoGenerationRequest,
    )
