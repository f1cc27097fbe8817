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

from ..._lazy import lazy_names

__all__ = ["AsyncCassetteTransport", "CassetteTransport", "install"]

_LAZY = {"AsyncCassetteTransport": ".transport", "CassetteTransport": ".transport", "install": ".hook"}

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
