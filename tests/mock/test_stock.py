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


def test_manifest_dimensions_match_aspect_ratios():
    manifest = json.loads((STOCK_DIR / "manifest.json").read_text())
    for v in manifest["videos"]:
        w, h = (int(x) for x in v["aspect_ratio"].split(":"))
        assert abs(v["width"] / v["height"] - w / h) < 0.02, v["file"]


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
        (None, "16:9", (1344, 768)),
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
