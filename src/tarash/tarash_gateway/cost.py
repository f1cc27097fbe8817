"""What a generation costs: a price table as data, and the estimate of one call.

The built-in table (`prices.json` in the package) holds estimated public list prices,
each entry with its source and the date it was read: per second of video, per image,
per megapixel or per video, by resolution or quality where prices differ. They are
estimates, not quotes. Use your own prices (your contract's, or models the table lacks)
with a file in the same format, merged over the built-in entries:

```text
TARASH_PRICES=prices.json pytest          # for a whole run
set_price_table("prices.json")            # from code; set_price_table(None) undoes it

{"prices": [{"provider": "fal", "model": "fal-ai/veo3.1/fast", "kind": "video",
             "per_second": 0.12, "default_seconds": 8,
             "source": "our fal contract", "as_of": "2026-01-10"}]}
```

A model matches an entry named for it or for its family (`fal-ai/veo3.1` prices
`fal-ai/veo3.1/image-to-video`), the longest name winning. The estimates feed
`execution_metadata.estimated_cost_usd` / `cost_avoided_usd`, the pytest summary's
"about $X of generation avoided", and the spending budget (`budget`).
"""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import stats
from .env import env_value
from .exceptions import ValidationError

__all__ = [
    "PriceEntry",
    "PriceTable",
    "avoided_summary",
    "avoided_tracking",
    "estimate",
    "load_price_table",
    "note_served",
    "price_table",
    "reset_avoided",
    "set_price_table",
    "track_avoided",
]

Price = float | dict[str, float]
_UNITS = ("per_second", "per_video", "per_image", "per_megapixel")


class PriceEntry(BaseModel):
    """The price of one model (or model family), with where it comes from.

    A price is a number, or a mapping from a request value (a video's `resolution`,
    an image's `quality` or `size`) to a number, with `default` for the rest.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built when prices are first read

    provider: str
    model: str
    kind: Literal["video", "image"]
    per_second: Price | None = None
    per_video: Price | None = None
    per_image: Price | None = None
    per_megapixel: Price | None = None
    default_seconds: float = Field(default=5.0, gt=0)
    source: str
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")

    @model_validator(mode="after")
    def _one_unit(self) -> PriceEntry:
        given = [unit for unit in _UNITS if getattr(self, unit) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_UNITS)} (got {', '.join(given) or 'none'})")
        return self

    @property
    def unit(self) -> str:
        return next(unit for unit in _UNITS if getattr(self, unit) is not None)

    def price(self, request: Any) -> float | None:
        """The estimated USD price of `request` at this entry's price."""
        unit = self.unit
        if self.kind == "video":
            count = getattr(request, "number_of_videos", 1) or 1
            price = _pick(getattr(self, unit), getattr(request, "resolution", None))
            if price is None:
                return None
            if unit == "per_second":
                return price * float(getattr(request, "duration_seconds", None) or self.default_seconds) * count
            return price * count
        count = getattr(request, "n", None) or 1
        price = _pick(getattr(self, unit), getattr(request, "quality", None), getattr(request, "size", None))
        if price is None:
            return None
        if unit == "per_megapixel":
            return price * _megapixels(getattr(request, "size", None)) * count
        return price * count


def _pick(price: Price, *keys: Any) -> float | None:
    if not isinstance(price, dict):
        return price
    for key in keys:
        if key is not None and str(key) in price:
            return price[str(key)]
    return price.get("default")


def _megapixels(size: str | None) -> float:
    if not size:
        return 1.0
    width, _, height = size.lower().partition("x")
    return int(width) * int(height) / 1_000_000


class PriceTable(BaseModel):
    """A list of `PriceEntry`; `find` answers the entry for a model."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    prices: list[PriceEntry]

    def find(self, provider: str, model: str, kind: str) -> PriceEntry | None:
        return _find(self, provider, model, kind)

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with `other`'s entries added, replacing same provider, model and kind."""
        theirs = {(e.provider, e.model, e.kind) for e in other.prices}
        kept = [e for e in self.prices if (e.provider, e.model, e.kind) not in theirs]
        return PriceTable(prices=[*kept, *other.prices])

    def __hash__(self) -> int:  # tables are compared by identity in the lookup cache
        return id(self)


@functools.lru_cache(maxsize=4096)
def _find(table: PriceTable, provider: str, model: str, kind: str) -> PriceEntry | None:
    base = model.split(":", 1)[0]  # Replicate's owner/name:version
    best: PriceEntry | None = None
    for entry in table.prices:
        if entry.provider != provider or entry.kind != kind:
            continue
        name = entry.model
        if base == name or (base.startswith(name) and base[len(name)] in "/:-._"):
            if best is None or len(name) > len(best.model):
                best = entry
    return best


def load_price_table(source: str | Path | dict[str, Any]) -> PriceTable:
    """A price table from a JSON file or a dict in `prices.json`'s format; a clear
    `ValidationError` naming the file and the entry otherwise."""
    where = "price table"
    try:
        if isinstance(source, dict):
            data = source
        else:
            where = f"price table {source}"
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        return PriceTable.model_validate(data)
    except OSError as error:
        raise ValidationError(f"cannot read {where}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise ValidationError(f"{where} is not JSON: {error}") from None
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"{where}: {place}: {first['msg']}") from None


@functools.cache
def _builtin() -> PriceTable:
    text = resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8")
    return PriceTable.model_validate_json(text)


_override: PriceTable | None = None
_from_env: tuple[str, PriceTable] | None = None


def set_price_table(source: str | Path | dict[str, Any] | PriceTable | None, *, merge: bool = True) -> None:
    """Use your own prices for the rest of the process (before `TARASH_PRICES`).

    Args:
        source: a JSON file, a dict or a `PriceTable`; `None` goes back to the
            built-in table (and `TARASH_PRICES`).
        merge: add the entries to the built-in table (default) rather than replace it.
    """
    global _override
    if source is None:
        _override = None
        return
    table = source if isinstance(source, PriceTable) else load_price_table(source)
    _override = _builtin().merged(table) if merge else table


def price_table() -> PriceTable:
    """The table in force: `set_price_table` > `TARASH_PRICES` (merged) > built-in."""
    global _from_env
    if _override is not None:
        return _override
    path = env_value("TARASH_PRICES")
    if not path:
        return _builtin()
    if _from_env is None or _from_env[0] != path:
        _from_env = (path, _builtin().merged(load_price_table(path)))
    return _from_env[1]


def estimate(kind: str, provider: str, model: str, request: Any) -> float | None:
    """The estimated USD price of one real call, or `None` when the table has no price.

    Examples:
        >>> from tarash.tarash_gateway.models import VideoGenerationRequest
        >>> estimate("video", "openai", "sora-2", VideoGenerationRequest(prompt="p", duration_seconds=8))
        0.8
    """
    entry = price_table().find(provider, model, kind)
    if entry is None:
        return None
    price = entry.price(request)
    return None if price is None else round(price, 6)


# -- what replays and mocks saved (the pytest plugin's summary) -------------------------

_served: Counter[tuple[Any, ...]] = Counter()
_served_lock = threading.Lock()


def track_avoided(on: bool = True) -> None:
    """Start or stop counting the calls replays and mocks serve instead of a provider
    (the pytest plugin starts it with the session; off otherwise, and then free).
    The switch is `stats.track_avoided_cost`; this is the same call."""
    stats.track_avoided_cost(on)


def reset_avoided() -> None:
    """Forget the calls counted so far."""
    with _served_lock:
        _served.clear()


def avoided_tracking() -> bool:
    """Whether the calls served without a provider are being counted."""
    return stats.avoided_cost_tracked()


def note_served(kind: str, config: Any, request: Any, origin: Any) -> None:
    """Count one call served without a provider (priced later, by `avoided_summary`)."""
    if origin is None or origin.source == "provider":
        return
    key = (kind, config.provider, config.model, _PricedRequest.of(request))
    with _served_lock:
        _served[key] += 1


@dataclass(frozen=True, slots=True)
class _PricedRequest:
    """The few request fields a price depends on, hashable, so served calls count cheaply."""

    duration_seconds: Any = None
    resolution: Any = None
    number_of_videos: Any = None
    n: Any = None
    quality: Any = None
    size: Any = None

    @classmethod
    def of(cls, request: Any) -> _PricedRequest:
        return cls(*(getattr(request, f, None) for f in ("duration_seconds", "resolution", "number_of_videos", "n", "quality", "size")))


def avoided_summary() -> tuple[float, int, int]:
    """`(usd, calls, unpriced)`: what the counted calls would have cost for real, how
    many were counted, and how many of them have no price in the table."""
    with _served_lock:
        served = list(_served.items())
    usd, calls, unpriced = 0.0, 0, 0
    for (kind, provider, model, request), count in served:
        calls += count
        price = estimate(kind, provider, model, request)
        if price is None:
            unpriced += count
        else:
            usd += price * count
    return usd, calls, unpriced
