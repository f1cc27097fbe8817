"""Record and replay any httpx client: vendor SDKs included, no code change.

While a cassette is in force (`use_cassette`, `TARASH_CASSETTE`, the pytest marker),
the HTTP traffic of every `httpx`/`httpx2` client of the process is recorded and
replayed through the same cassette file as the gateway's calls (`hook`), or
through a transport given to one client (`transport`):

```python
with use_cassette("cassettes/run.db"):
    OpenAI().images.generate(model="dall-e-3", prompt="a red fox")   # recorded, then replayed
```

```sh
TARASH_CASSETTE=cassettes/run.db python app.py     # an app that never imports tarash
tarash run --cassette cassettes/run.db -- python app.py
```

The modules, one concept each: `keys` (canonical requests), `flows` (provider
job flows), `recorder` (replay, record or refuse), `capture` (media),
`explain` (misses), `transport` (the two faces), `hook` (every
client, the `.pth` hook). See `docs/record-http.md`.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["AsyncCassetteTransport", "CassetteTransport", "install"]

_LAZY = {"AsyncCassetteTransport": ".transport", "CassetteTransport": ".transport", "install": ".hook"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
