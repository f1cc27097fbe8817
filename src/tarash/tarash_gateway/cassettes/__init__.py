"""Record once, replay offline: SQLite cassettes for every provider call.

```python
from tarash.tarash_gateway import use_cassette

with use_cassette("cassettes/run.db", record_mode="once"):
    response = generate_video(config, request)   # recorded on the first run,
                                                 # replayed offline afterwards
```

Public names:

- `use_cassette`: a `with` block (sync or async) or a decorator;
- `CassetteConfig`: every option, also the `cassette=` field of configs;
- `RecordMode`: `none`, `once`, `new_episodes`, `all` (vcrpy's meanings);
- `CassetteSession`: what `with use_cassette(...) as cassette` gives;
- `close_cassettes`: close the cassettes opened for configs and the environment;
- `SQLitePersister` and `Persister`: vcrpy persister storing raw httpx
  traffic in the same kind of file (`my_vcr.register_persister(SQLitePersister)`);
- `CassetteStore`: the file itself (listing, verifying, pruning);
- `CassetteTransport` and `AsyncCassetteTransport`: httpx transports that record and
  replay one client's raw traffic (every client is covered anyway while a cassette is in
  force: see `tarash.tarash_gateway.cassettes.http`).

See `docs/record-replay.md`. Importing this package imports neither sqlite-utils nor
vcrpy; they load on first use.
"""

from __future__ import annotations

from .._lazy import lazy_names
from .config import CassetteConfig, RecordMode
from .scope import use_cassette

__all__ = [
    "AsyncCassetteTransport",
    "CassetteConfig",
    "CassetteSession",
    "CassetteStore",
    "CassetteTransport",
    "Persister",
    "RecordMode",
    "SQLitePersister",
    "close_cassettes",
    "use_cassette",
]

_LAZY = {
    "AsyncCassetteTransport": ".http.transport",
    "CassetteTransport": ".http.transport",
    "CassetteSession": ".session",
    "CassetteStore": ".store",
    "Persister": ".persister",
    "SQLitePersister": ".persister",
    "close_cassettes": ".session",
}

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
