"""Stock library: every spec present, real media, and the matching preferences."""

from __future__ import annotations

import json

import pytest

from tarash.tarash_gateway.mock.stock import (
    STOCK_DIR,
    match_image,
    match_video,
    stock_images,
    stock_videos,
)


def test_every_aspect_resolution_and_duration_is_in_the_library():
    have = {(v.aspect_ratio, v.resolution, v.duration) for v in stock_videos()}
    for aspect in ("16:9", "9:16", "1:1", "4:3", "21:9"):
        for res in ("480p", "720p", "1080p"):
            for dur in (4.0, 8.0):
                assert (aspect, res, dur) in have


def test_library_files_exist_and_are_small():
    total = 0
    for item in (*stock_videos(), *stock_images()):
        assert item.path.is_file(), item.file
        assert item.path.stat().st_size == item.size
        total += item.size
    assert total < 5_000_000
    sizes = {(i.width, i.height) for i in stock_images()}
    assert {(1024, 1024), (1792, 1024), (1024, 1792)} <= sizes


def _off(width: int, height: int, ratio: str) -> float:
    w, h = (int(x) for x in ratio.split(":"))
    return abs((width / height) / (w / h) - 1)


def test_every_stock_file_has_the_ratio_it_is_labelled_with_within_one_percent():
    manifest = json.loads((STOCK_DIR / "manifest.json").read_text())
    for entry in [*manifest["videos"], *manifest["images"]]:
        assert _off(entry["width"], entry["height"], entry["aspect_ratio"]) <= 0.01, entry["file"]


def test_every_stock_image_is_as_large_as_the_manifest_says():
    for image in stock_images():
        header = image.path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n", image.file
        assert (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")) == (image.width, image.height)


@pytest.mark.parametrize("ratio", ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "3:2", "2:3"])
def test_the_image_served_for_an_aspect_ratio_has_that_ratio_within_one_percent(ratio):
    image = match_image(None, ratio)
    assert _off(image.width, image.height, ratio) <= 0.01, image.file


@pytest.mark.parametrize("ratio", ["16:9", "9:16", "1:1", "4:3", "21:9"])
def test_the_video_served_for_an_aspect_ratio_has_that_ratio_within_one_percent(ratio):
    for resolution in ("480p", "720p", "1080p"):
        clip = match_video(ratio, resolution, 4)
        assert _off(clip.width, clip.height, ratio) <= 0.01, clip.file


@pytest.mark.parametrize(
    "asked, served",
    [
        (("9:16", "720p", 4), ("9:16", "720p", 4.0)),
        (("4:3", "4k", 10), ("4:3", "1080p", 8.0)),  # upstream served 16:9 here: aspect must win
        (("21:9", "360p", 1), ("21:9", "480p", 4.0)),
        (("1:1", "1080p", 6), ("1:1", "1080p", 8.0)),  # tie on duration: the longer clip
        ((None, None, None), ("16:9", "720p", 4.0)),
    ],
)
def test_video_match_prefers_aspect_then_resolution_then_duration(asked, served):
    clip = match_video(*asked)
    assert (clip.aspect_ratio, clip.resolution, clip.duration) == served


@pytest.mark.parametrize(
    "size, aspect, served",
    [
        ("1792x1024", None, (1792, 1024)),
        ("1024x1792", None, (1024, 1792)),
        (None, "16:9", (1344, 756)),
        (None, "4:3", (1152, 864)),
        ("1000x1000", None, (1024, 1024)),
        (None, None, (1024, 1024)),
        ("2048x1024", None, None),  # 2:1: the nearest ratio, whatever it is
    ],
)
def test_image_match(size, aspect, served):
    image = match_image(size, aspect)
    if served is None:
        assert image.width / image.height > 1.6
    else:
        assert (image.width, image.height) == served
