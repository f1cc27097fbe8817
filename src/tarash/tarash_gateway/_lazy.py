"""Lazy public names (PEP 562): one helper for every package that offers them.

A package maps each public name to the module defining it; that module loads on the
first use of the name, which is then a plain attribute of the package:

```python
__getattr__, __dir__ = lazy_names(__name__, {"CassetteStore": ".store"})
```
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, table: Mapping[str, str], computed: Mapping[str, Callable[[], Any]] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of `package`.

    Args:
        package: the package's `__name__`.
        table: public name -> the module (relative to `package`) that defines it.
        computed: public name -> a function computing its value (e.g. `__version__`).
    """
    extra = computed or {}

    def __getattr__(name: str) -> Any:
        if name in extra:
            value = extra[name]()
        elif name in table:
            value = getattr(importlib.import_module(table[name], package), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)  # later look-ups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        module = sys.modules[package]
        return sorted({*vars(module), *module.__all__})

    return __getattr__, __dir__
