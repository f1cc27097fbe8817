"""The committed real cassettes (`cassettes/real/`, `cassettes/replicate-real/`), replayed with vcrpy.

`replay(name)` opens one of them through `SQLitePersister` with
`record_mode="none"`: a request our adapter sends that the cassette does not hold
fails the test with vcrpy's `CannotOverwriteExistingCassetteException`, and nothing
is ever sent to the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import vcr

from tarash.tarash_gateway.cassettes import SQLitePersister

ROOT = Path(__file__).resolve().parents[2] / "cassettes"

__all__ = ["ROOT", "WITH_BODY", "body", "cassette_path", "played", "recorded_json", "replay"]


def cassette_path(name: str, folder: str = "real") -> Path:
    """`cassettes/<folder>/<name>.db`; a missing file is an error, never a skip."""
    path = ROOT / folder / f"{name}.db"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not committed: run python tools/build_real_cassettes.py")
    return path


def replay(name: str, folder: str = "real", *, matchers: dict[str, Any] | None = None, **options: Any) -> Any:
    """vcrpy's `use_cassette` over a committed cassette, replay only; `matchers` are
    registered by name (to be listed in `match_on`)."""
    recorder = vcr.VCR(record_mode="none", **options)
    recorder.register_persister(SQLitePersister)
    for matcher_name, matcher in (matchers or {}).items():
        recorder.register_matcher(matcher_name, matcher)
    return recorder.use_cassette(str(cassette_path(name, folder)))


def played(cassette: Any) -> list[tuple[str, str]]:
    """`(method, path)` of each interaction the block played, in recorded order."""
    return [(cassette.requests[i].method, cassette.requests[i].path)
            for i, n in sorted(cassette.play_counts.items()) if n]


def body(response: dict[str, Any]) -> bytes:
    """A vcrpy response dict's body bytes."""
    content = response.get("body", {}).get("string", b"")
    return content.encode() if isinstance(content, str) else content


#: vcrpy's default matchers plus the body (JSON bodies compared as data).
WITH_BODY = ["method", "scheme", "host", "port", "path", "query", "body"]


def recorded_json(cassette: Any, index: int) -> Any:
    """The recorded request body of interaction `index`, as JSON."""
    import json

    return json.loads(cassette.requests[index].body)
