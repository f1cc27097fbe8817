"""The stock library: real, playable media bundled in the package, labelled as mock.

The files live in `stock_media/` beside this package (made by
`tools/gen_stock_media.py`); `manifest.json` describes each one. Matching is pure:

- video: the exact aspect ratio first, then the nearest resolution, then the nearest
  duration (on a tie, the longer clip, so the video is never shorter than asked);
- image: the exact size first, then the nearest aspect ratio, then the nearest area.

Nothing is fetched and nothing is written: URL mode gives a `file://` URL to the
bundled file; content mode reads its bytes.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "STOCK_DIR",
    "StockImage",
    "StockVideo",
    "dead_url",
    "match_image",
    "match_video",
    "stock_images",
    "stock_videos",
]

STOCK_DIR = Path(__file__).resolve().parent.parent / "stock_media"
RESOLUTIONS = ("360p", "480p", "720p", "1080p", "4k")
DEFAULT_ASPECT_RATIO = "16:9"
DEFAULT_RESOLUTION = "720p"
DEFAULT_DURATION = 4.0
DEFAULT_SIZE = (1024, 1024)


def _path(item: StockVideo | StockImage) -> Path:
    """Where the bundled file is."""
    return STOCK_DIR / item.file


def _url(item: StockVideo | StockImage) -> str:
    """Its `file://` URL."""
    return _file_url(item.file)


# Named tuples, not dataclasses: immutable records of the manifest, and a dataclass costs
# about a millisecond to create at import (a mocked call's cold start loads these).
class StockVideo(NamedTuple):
    """A bundled video: where it is (`path`, `url`), what it is, how big."""

    file: str
    width: int
    height: int
    aspect_ratio: str
    content_type: str
    size: int
    resolution: str
    duration: float

    @property
    def path(self) -> Path:
        return _path(self)

    @property
    def url(self) -> str:
        return _url(self)


class StockImage(NamedTuple):
    """A bundled image: where it is (`path`, `url`), what it is, how big."""

    file: str
    width: int
    height: int
    aspect_ratio: str
    content_type: str
    size: int

    @property
    def path(self) -> Path:
        return _path(self)

    @property
    def url(self) -> str:
        return _url(self)


@functools.cache
def _file_url(file: str) -> str:
    return (STOCK_DIR / file).as_uri()


def dead_url(file: str) -> str:
    """A `file://` URL shaped like the stock file's that does not work: an expired output URL."""
    return (STOCK_DIR / "expired" / file).as_uri()


@functools.cache
def _manifest() -> dict:
    path = STOCK_DIR / "manifest.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        from ..exceptions import TarashException

        raise TarashException(
            f"the stock library is missing ({path}); reinstall tarash-gateway or run tools/gen_stock_media.py",
            provider="mock",
        ) from None


@functools.cache
def stock_videos() -> tuple[StockVideo, ...]:
    fields = StockVideo._fields
    return tuple(StockVideo(**{k: v for k, v in e.items() if k in fields}) for e in _manifest()["videos"])


@functools.cache
def stock_images() -> tuple[StockImage, ...]:
    fields = StockImage._fields
    return tuple(StockImage(**{k: v for k, v in e.items() if k in fields}) for e in _manifest()["images"])


def _resolution_index(resolution: str) -> int:
    return RESOLUTIONS.index(resolution) if resolution in RESOLUTIONS else RESOLUTIONS.index(DEFAULT_RESOLUTION)


def match_video(
    aspect_ratio: str | None,
    resolution: str | None,
    duration: float | None,
    library: tuple[StockVideo, ...] | None = None,
) -> StockVideo:
    """The best stock video for a request's aspect ratio, resolution and duration."""
    if library is None:
        return _match_video_cached(aspect_ratio, resolution, duration)
    return _match_video(aspect_ratio, resolution, duration, library)


@functools.lru_cache(maxsize=1024)
def _match_video_cached(aspect_ratio: str | None, resolution: str | None, duration: float | None) -> StockVideo:
    return _match_video(aspect_ratio, resolution, duration, stock_videos())


def _match_video(
    aspect_ratio: str | None, resolution: str | None, duration: float | None, library: tuple[StockVideo, ...]
) -> StockVideo:
    aspect = aspect_ratio or DEFAULT_ASPECT_RATIO
    wanted_res = _resolution_index(resolution or DEFAULT_RESOLUTION)
    wanted_dur = float(duration or DEFAULT_DURATION)

    def key(v: StockVideo) -> tuple:
        return (
            v.aspect_ratio != aspect,
            abs(_resolution_index(v.resolution) - wanted_res),
            abs(v.duration - wanted_dur),
            v.duration < wanted_dur,
            -_resolution_index(v.resolution),
        )

    return min(library, key=key)


def _ratio(text: str, sep: str) -> tuple[int, int] | None:
    try:
        a, b = (int(x) for x in text.split(sep))
    except ValueError:
        return None
    return (a, b) if a > 0 and b > 0 else None


def match_image(
    size: str | None,
    aspect_ratio: str | None,
    library: tuple[StockImage, ...] | None = None,
) -> StockImage:
    """The best stock image for a request's size (`"WxH"`) or aspect ratio (`"W:H"`)."""
    if library is None:
        return _match_image_cached(size, aspect_ratio)
    return _match_image(size, aspect_ratio, library)


@functools.lru_cache(maxsize=1024)
def _match_image_cached(size: str | None, aspect_ratio: str | None) -> StockImage:
    return _match_image(size, aspect_ratio, stock_images())


def _match_image(size: str | None, aspect_ratio: str | None, library: tuple[StockImage, ...]) -> StockImage:
    dims = _ratio(size, "x") if size else None
    ratio_pair = _ratio(aspect_ratio, ":") if aspect_ratio else None
    if dims is None and ratio_pair is None:
        dims = DEFAULT_SIZE
    wanted_ratio = dims[0] / dims[1] if dims else ratio_pair[0] / ratio_pair[1]  # type: ignore[index]
    wanted_area = dims[0] * dims[1] if dims else DEFAULT_SIZE[0] * DEFAULT_SIZE[1]

    def key(img: StockImage) -> tuple:
        return (
            (img.width, img.height) != dims,
            round(abs(math.log((img.width / img.height) / wanted_ratio)), 3),
            abs(math.log((img.width * img.height) / wanted_area)),
        )

    return min(library, key=key)
