#!/usr/bin/env python3
"""Generate the built-in stock media library bundled with tarash-gateway.

The library is what the gateway's mock mode hands back when no cassette
matches: small, clearly labelled placeholder videos and images in every common
aspect ratio / resolution, plus ``manifest.json`` describing each file.

Usage (from the repository root)::

    pip install "av>=12" "pillow>=10.1"        # or: pip install -e ".[dev]"
    python tools/gen_stock_media.py            # writes src/tarash/tarash_gateway/stock_media/
    python tools/gen_stock_media.py --out /tmp/stock

What it writes under ``--out``:

* ``videos/<aspect>_<res>_<dur>s.mp4`` -- H.264 (yuv420p) in MP4 with
  ``+faststart``, no audio, 12 fps, for aspect ratios 16:9, 9:16, 1:1, 4:3 and
  21:9 at 480p/720p/1080p (short side = 480/720/1080 px), 4 s and 8 s long.
  Each shows "TARASH MOCK", its spec, a running timecode, a moving box and a
  progress bar.
* ``images/<w>x<h>.png`` -- flat-colour, palette PNGs labelled "TARASH MOCK"
  with their size.
* ``manifest.json`` -- one entry per file with real dimensions, real duration
  (read back from the written file), byte size and sha256.
* ``README.md``.

Every video is reopened with PyAV after writing and checked (codec, pixel
format, dimensions, frame rate, frame count, duration); the script fails if any
check fails. Output is deterministic for a given PyAV/Pillow version and font
(x264 runs single-threaded, no timestamps are written into the files).

PyAV bundles its own ffmpeg/libx264, so no ffmpeg binary is needed. Fonts: a
DejaVu Sans Bold TTF is used when found under /usr/share/fonts, otherwise
Pillow's built-in scalable default font (``ImageFont.load_default(size=...)``,
Pillow >= 10.1), so the script works without any system fonts.
"""

from __future__ import annotations

import argparse
import fractions
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import av
    from PIL import Image, ImageDraw, ImageFont
except ImportError as exc:  # pragma: no cover - tooling guard
    sys.exit(f"gen_stock_media: missing dependency ({exc}); pip install 'av>=12' 'pillow>=10.1'")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "tarash" / "tarash_gateway" / "stock_media"

MANIFEST_VERSION = 1
FPS = 12
CRF = 32
# Seconds between keyframes: one per 4 s keeps files small but seekable.
KEYFRAME_INTERVAL_S = 4

VIDEO_ASPECTS: list[tuple[str, int, int]] = [
    ("16:9", 16, 9),
    ("9:16", 9, 16),
    ("1:1", 1, 1),
    ("4:3", 4, 3),
    ("21:9", 21, 9),
]
VIDEO_RESOLUTIONS: list[tuple[str, int]] = [("480p", 480), ("720p", 720), ("1080p", 1080)]
VIDEO_DURATIONS: list[int] = [4, 8]

# Exact sizes commonly requested from image APIs (OpenAI, SD, ...).
IMAGE_SIZES: list[tuple[int, int]] = [
    (1024, 1024),
    (1792, 1024),
    (1024, 1792),
    (1536, 1024),
    (1024, 1536),
    (512, 512),
    (256, 256),
]
# One size per aspect ratio, with exactly that ratio: a stock file is served for its label,
# so it must have the ratio it is served for (SDXL's buckets, e.g. 1152x896 for "4:3",
# are up to 3.6 % off; the manifest test allows 1 %). nominal label -> size.
IMAGE_ASPECT_SIZES: list[tuple[str, int, int]] = [
    ("16:9", 1344, 756),
    ("9:16", 756, 1344),
    ("4:3", 1152, 864),
    ("3:4", 864, 1152),
    ("21:9", 1568, 672),
    ("3:2", 1248, 832),
    ("2:3", 832, 1248),
]

COMMON_ASPECT_LABELS: list[tuple[str, int, int]] = [
    ("1:1", 1, 1),
    ("16:9", 16, 9),
    ("9:16", 9, 16),
    ("4:3", 4, 3),
    ("3:4", 3, 4),
    ("21:9", 21, 9),
    ("3:2", 3, 2),
    ("2:3", 2, 3),
    ("7:4", 7, 4),
    ("4:7", 4, 7),
]

# Flat colour schemes (background, panel, accent) keyed by aspect label.
PALETTES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "16:9": ((28, 38, 64), (44, 58, 96), (255, 176, 32)),
    "9:16": ((52, 30, 66), (78, 46, 98), (80, 220, 160)),
    "1:1": ((24, 60, 56), (36, 88, 82), (255, 120, 96)),
    "4:3": ((64, 40, 28), (96, 60, 42), (96, 200, 255)),
    "3:4": ((64, 40, 28), (96, 60, 42), (96, 200, 255)),
    "21:9": ((34, 34, 40), (56, 56, 66), (240, 80, 150)),
    "3:2": ((30, 52, 30), (46, 78, 46), (250, 220, 70)),
    "2:3": ((30, 52, 30), (46, 78, 46), (250, 220, 70)),
    "7:4": ((28, 38, 64), (44, 58, 96), (255, 176, 32)),
    "4:7": ((52, 30, 66), (78, 46, 98), (80, 220, 160)),
}
WHITE = (245, 245, 245)
MUTED = (190, 196, 210)

_FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
]
_font_cache: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}
_font_path: str | None = next((p for p in _FONT_CANDIDATES if Path(p).is_file()), None)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    size = max(6, int(size))
    if size not in _font_cache:
        if _font_path is not None:
            _font_cache[size] = ImageFont.truetype(_font_path, size)
        else:
            _font_cache[size] = ImageFont.load_default(size=size)
    return _font_cache[size]


def text_size(draw: ImageDraw.ImageDraw, text: str, fnt) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=fnt)
    return right - left, bottom - top


def fit_font(draw: ImageDraw.ImageDraw, text: str, max_w: float, max_h: float):
    """Largest font whose rendering of ``text`` fits in max_w x max_h."""
    size = max(6, int(max_h))
    while size > 6:
        fnt = font(size)
        w, h = text_size(draw, text, fnt)
        if w <= max_w and h <= max_h:
            return fnt
        size = int(size * 0.92)
    return font(6)


def draw_centered(draw: ImageDraw.ImageDraw, cx: float, cy: float, text: str, fnt, fill) -> None:
    draw.text((cx, cy), text, font=fnt, fill=fill, anchor="mm")


def even(x: float) -> int:
    return int(round(x / 2.0)) * 2


def video_dims(aw: int, ah: int, short: int) -> tuple[int, int]:
    if aw >= ah:
        return even(short * aw / ah), short
    return short, even(short * ah / aw)


def nearest_aspect_label(w: int, h: int) -> str:
    r = math.log(w / h)
    return min(COMMON_ASPECT_LABELS, key=lambda t: abs(r - math.log(t[1] / t[2])))[0]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- frames


@dataclass
class VideoLayout:
    base: Image.Image  # static background with labels
    accent: tuple[int, int, int]
    panel: tuple[int, int, int]
    bar: tuple[int, int, int, int]  # progress bar box
    track: tuple[int, int, int, int]  # moving-box track
    box: int  # moving box side
    tc_center: tuple[float, float]
    tc_font: object
    tc_clear: tuple[int, int, int, int]


def make_video_layout(w: int, h: int, aspect: str, spec: str) -> VideoLayout:
    bg, panel, accent = PALETTES[aspect]
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    s = min(w, h)
    m = max(4, s // 24)  # margin
    border = max(2, s // 120)
    d.rectangle([m, m, w - 1 - m, h - 1 - m], outline=accent, width=border)

    inner_w = w - 4 * m
    title = "TARASH MOCK"
    title_font = fit_font(d, title, inner_w * 0.9, s * 0.16)
    _, th = text_size(d, title, title_font)
    spec_font = fit_font(d, spec, inner_w * 0.85, s * 0.075)
    _, sh = text_size(d, spec, spec_font)
    sub = f"{w}x{h} · {FPS} fps · placeholder video"
    sub_font = fit_font(d, sub, inner_w * 0.85, s * 0.04)
    _, subh = text_size(d, sub, sub_font)

    cy = h * 0.40
    gap = s * 0.04
    draw_centered(d, w / 2, cy - (sh + gap) / 2, title, title_font, WHITE)
    draw_centered(d, w / 2, cy + (th + gap) / 2 + sh * 0.2, spec, spec_font, accent)
    draw_centered(d, w / 2, cy + (th + gap) / 2 + sh * 0.2 + sh / 2 + gap + subh / 2, sub, sub_font, MUTED)

    # timecode area (redrawn every frame)
    tc_font = fit_font(d, "00:00.00 / 00:00", inner_w * 0.6, s * 0.06)
    tcw, tch = text_size(d, "00:00.00 / 00:00", tc_font)
    tc_cy = h - 2 * m - s * 0.21
    tc_clear = (
        int(w / 2 - tcw * 0.6),
        int(tc_cy - tch),
        int(w / 2 + tcw * 0.6),
        int(tc_cy + tch),
    )

    # moving-box track and progress bar near the bottom
    box = max(8, int(s * 0.07))
    track_y1 = int(h - 2 * m - s * 0.07)
    track = (2 * m, track_y1 - box, w - 2 * m, track_y1)
    bar_h = max(4, int(s * 0.025))
    bar_y0 = track_y1 + max(3, int(s * 0.015))
    bar = (2 * m, bar_y0, w - 2 * m, bar_y0 + bar_h)
    d.rectangle(bar, fill=panel)
    return VideoLayout(img, accent, panel, bar, track, box, (w / 2, tc_cy), tc_font, tc_clear)


def render_video_frame(layout: VideoLayout, i: int, n: int, duration: int, fps: int) -> Image.Image:
    img = layout.base.copy()
    d = ImageDraw.Draw(img)
    progress = (i + 1) / n
    x0, y0, x1, y1 = layout.bar
    d.rectangle([x0, y0, x0 + int((x1 - x0) * progress), y1], fill=layout.accent)
    # box sweeps left->right->left once per 4 seconds
    tx0, ty0, tx1, _ = layout.track
    span = (tx1 - tx0) - layout.box
    phase = (i / fps) % 4.0 / 4.0
    pos = 1 - abs(1 - 2 * phase)
    bx = tx0 + int(span * pos)
    d.rectangle([bx, ty0, bx + layout.box, ty0 + layout.box], fill=WHITE)
    t = i / fps
    tc = f"00:{int(t):02d}.{int(round((t - int(t)) * 100)):02d} / 00:{duration:02d}"
    draw_centered(d, *layout.tc_center, tc, layout.tc_font, WHITE)
    return img


# --------------------------------------------------------------------------- writers


def write_video(path: Path, w: int, h: int, duration: int, aspect: str, res: str, crf: int = CRF) -> None:
    spec = f"{aspect} · {res} · {duration}s"
    layout = make_video_layout(w, h, aspect, spec)
    n = duration * FPS
    path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(
        str(path),
        mode="w",
        format="mp4",
        options={"movflags": "+faststart", "fflags": "+bitexact"},
    )
    try:
        container.metadata.clear()
        stream = container.add_stream("libx264", rate=FPS)
        stream.width = w
        stream.height = h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, FPS)
        gop = KEYFRAME_INTERVAL_S * FPS
        stream.codec_context.gop_size = gop
        stream.codec_context.thread_count = 1
        stream.options = {
            "crf": str(crf),
            "preset": "veryslow",
            "tune": "animation",
            "profile": "high",
            # mbtree=0: with it, x264 gave run-to-run different bytes for some widths (e.g. 1680)
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:threads=1:bframes=0:mbtree=0",
        }
        for i in range(n):
            frame = av.VideoFrame.from_image(render_video_frame(layout, i, n, duration, FPS))
            frame = frame.reformat(format="yuv420p")
            frame.pts = i
            frame.time_base = fractions.Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    finally:
        container.close()


def probe_video(path: Path) -> dict:
    """Reopen a written video and return its real properties."""
    with av.open(str(path)) as c:
        if c.streams.audio:
            raise RuntimeError(f"{path}: unexpected audio stream")
        vs = c.streams.video[0]
        info = {
            "codec": vs.codec_context.name,
            "pix_fmt": vs.codec_context.pix_fmt,
            "width": vs.codec_context.width,
            "height": vs.codec_context.height,
            "fps": float(vs.average_rate) if vs.average_rate else None,
            "container_duration": (c.duration / av.time_base) if c.duration is not None else None,
            "stream_duration": float(vs.duration * vs.time_base) if vs.duration else None,
        }
        frames = 0
        last = None
        for fr in c.decode(vs):
            frames += 1
            last = fr
        info["frames"] = frames
        if last is not None:
            info["last_frame_size"] = (last.width, last.height)
    return info


def write_image(path: Path, w: int, h: int, label: str) -> None:
    bg, panel, accent = PALETTES[label]
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    s = min(w, h)
    m = max(4, s // 24)
    border = max(2, s // 120)
    # a few big flat tiles in the corners, a border and a circle (shows distortion)
    tile = max(8, s // 6)
    for x, y in [(0, 0), (w - tile, 0), (0, h - tile), (w - tile, h - tile)]:
        d.rectangle([x, y, x + tile - 1, y + tile - 1], fill=panel)
    d.rectangle([m, m, w - 1 - m, h - 1 - m], outline=accent, width=border)
    r = s * 0.36
    d.ellipse([w / 2 - r, h / 2 - r, w / 2 + r, h / 2 + r], outline=panel, width=max(2, s // 60))

    inner_w = w - 4 * m
    title = "TARASH MOCK"
    spec = f"{w}x{h}"
    sub = f"{label} · placeholder image"
    title_font = fit_font(d, title, inner_w * 0.9, s * 0.15)
    spec_font = fit_font(d, spec, inner_w * 0.8, s * 0.08)
    sub_font = fit_font(d, sub, inner_w * 0.8, s * 0.045)
    _, th = text_size(d, title, title_font)
    _, sh = text_size(d, spec, spec_font)
    gap = s * 0.04
    draw_centered(d, w / 2, h / 2 - (sh + gap) / 2, title, title_font, WHITE)
    draw_centered(d, w / 2, h / 2 + (th + gap) / 2, spec, spec_font, accent)
    draw_centered(d, w / 2, h / 2 + (th + gap) / 2 + sh / 2 + gap * 1.2, sub, sub_font, MUTED)

    path.parent.mkdir(parents=True, exist_ok=True)
    pal = img.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal.save(path, format="PNG", optimize=True)


# --------------------------------------------------------------------------- main


def plan() -> list[dict]:
    items: list[dict] = []
    for aspect, aw, ah in VIDEO_ASPECTS:
        for res, short in VIDEO_RESOLUTIONS:
            w, h = video_dims(aw, ah, short)
            for dur in VIDEO_DURATIONS:
                items.append(
                    {
                        "kind": "video",
                        "file": f"videos/{aspect.replace(':', 'x')}_{res}_{dur}s.mp4",
                        "aspect_ratio": aspect,
                        "resolution": res,
                        "width": w,
                        "height": h,
                        "duration": dur,
                    }
                )
    for w, h in IMAGE_SIZES:
        items.append({"kind": "image", "file": f"images/{w}x{h}.png", "width": w, "height": h, "nominal": None})
    for nominal, w, h in IMAGE_ASPECT_SIZES:
        items.append({"kind": "image", "file": f"images/{w}x{h}.png", "width": w, "height": h, "nominal": nominal})
    return items


def human(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.2f} MB"
    return f"{max(1, round(n / 1024))} KB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    ap.add_argument("--crf", type=int, default=CRF, help=f"x264 CRF for the videos (default: {CRF}; lower = bigger, sharper)")
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()
    (out / "videos").mkdir(parents=True, exist_ok=True)
    (out / "images").mkdir(parents=True, exist_ok=True)

    items = plan()
    wanted = {it["file"] for it in items}
    # remove stale generated files this script owns
    for sub, ext in (("videos", "*.mp4"), ("images", "*.png")):
        for p in (out / sub).glob(ext):
            if f"{sub}/{p.name}" not in wanted:
                p.unlink()

    videos: list[dict] = []
    images: list[dict] = []
    total = 0
    errors: list[str] = []
    for idx, it in enumerate(items, 1):
        path = out / it["file"]
        w, h = it["width"], it["height"]
        if it["kind"] == "video":
            write_video(path, w, h, it["duration"], it["aspect_ratio"], it["resolution"], args.crf)
            info = probe_video(path)
            dur = info["container_duration"] or info["stream_duration"] or 0.0
            n = it["duration"] * FPS
            checks = {
                "codec": info["codec"] == "h264",
                "pix_fmt": info["pix_fmt"] == "yuv420p",
                "size": (info["width"], info["height"]) == (w, h) and info.get("last_frame_size") == (w, h),
                "fps": info["fps"] is not None and abs(info["fps"] - FPS) < 1e-6,
                "frames": info["frames"] == n,
                "duration": abs(dur - it["duration"]) < 0.5 / FPS,
            }
            bad = [k for k, ok in checks.items() if not ok]
            if bad:
                errors.append(f"{it['file']}: failed {bad}: {info}")
            size = path.stat().st_size
            videos.append(
                {
                    "file": it["file"],
                    "aspect_ratio": it["aspect_ratio"],
                    "resolution": it["resolution"],
                    "width": info["width"],
                    "height": info["height"],
                    "duration": round(float(dur), 3),
                    "fps": FPS,
                    "frames": info["frames"],
                    "codec": "h264",
                    "content_type": "video/mp4",
                    "size": size,
                    "sha256": sha256_of(path),
                }
            )
        else:
            label = nearest_aspect_label(w, h)
            write_image(path, w, h, it["nominal"] or label)
            with Image.open(path) as im:
                rw, rh = im.size
            if (rw, rh) != (w, h):
                errors.append(f"{it['file']}: size {rw}x{rh} != {w}x{h}")
            size = path.stat().st_size
            entry = {
                "file": it["file"],
                "width": rw,
                "height": rh,
                "aspect_ratio": label,
                "ratio": round(rw / rh, 6),
                "content_type": "image/png",
                "size": size,
                "sha256": sha256_of(path),
            }
            if it["nominal"] is not None:
                # the aspect-ratio bucket this size is the canonical answer for
                # (1344x768 is exactly 7:4 but is the usual "16:9" bucket)
                entry["nominal_aspect_ratio"] = it["nominal"]
            images.append(entry)
        total += size
        print(f"[{idx}/{len(items)}] {it['file']} {human(size)}", flush=True)

    manifest = {"version": MANIFEST_VERSION, "videos": videos, "images": images}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(README, encoding="utf-8")
    sizes = [e["size"] for e in videos + images]
    print(
        f"total: {len(videos)} videos + {len(images)} images = {human(total)} "
        f"({total} bytes; per file {human(min(sizes))} .. {human(max(sizes))}) in {out}"
    )
    if errors:
        for e in errors:
            print("ERROR", e, file=sys.stderr)
        return 1
    return 0


README = """\
# Stock media library

Placeholder videos (H.264/MP4, every common aspect ratio at 480p/720p/1080p, 4 s and 8 s) and PNG images,
each visibly labelled "TARASH MOCK", that tarash-gateway's mock mode serves; `manifest.json` lists every file
with its real dimensions, duration, size and sha256.
All files are generated content (no third-party material), free to use for any purpose.
Regenerate with `python tools/gen_stock_media.py` (needs the dev extras: `av`, `pillow`).
"""


if __name__ == "__main__":
    sys.exit(main())
