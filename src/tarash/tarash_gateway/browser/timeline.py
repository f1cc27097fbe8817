"""A recording's progress timeline as an inline SVG chart, drawn on the server.

Time runs left to right (seconds from the call's start), progress bottom to top (0 to
100 %). Each update the provider reported is a dot coloured by its status, with its
time, status and percent as a native tooltip; the line steps from one to the next, and
a last mark at the recorded duration shows how the call ended. No script, no CDN: the
markup is built here with every recorded value escaped.

Examples:
    >>> points = timeline_points('[{"t": 0, "u": {"status": "queued"}}, '
    ...                          '{"t": 4, "u": {"status": "completed", "progress_percent": 100}}]')
    >>> [(p.t, p.status, p.percent) for p in points]
    [(0.0, 'queued', None), (4.0, 'completed', 100.0)]
    >>> "<svg" in timeline_svg(points, duration=4.0, outcome="response")
    True
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, TypeGuard

from markupsafe import Markup, escape

__all__ = ["Point", "timeline_entries", "timeline_points", "timeline_svg"]

_KNOWN = {"queued", "processing", "completed", "failed", "cancelled"}


@dataclass(frozen=True, slots=True)
class Point:
    """One progress update: seconds from the start, status, percent (`None` if not reported)."""

    t: float
    status: str
    percent: float | None


def timeline_entries(raw: str | None) -> list[tuple[Point, dict[str, Any]]]:
    """The updates of a recording's `timeline` column with their payloads, in order;
    malformed entries are skipped."""
    try:
        entries = json.loads(raw) if raw else []
    except ValueError:
        return []
    found = []
    for entry in entries if isinstance(entries, list) else []:
        update = entry.get("u") if isinstance(entry, dict) else None
        t = entry.get("t") if isinstance(entry, dict) else None
        if not isinstance(update, dict) or not _number(t):
            continue
        percent = update.get("progress_percent")
        point = Point(float(t), str(update.get("status", "")), float(percent) if _number(percent) else None)
        found.append((point, update))
    return found


def timeline_points(raw: str | None) -> list[Point]:
    """The updates of a recording's `timeline` column, in order; malformed entries are skipped."""
    return [point for point, _ in timeline_entries(raw)]


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _css(status: str) -> str:
    return status if status in _KNOWN else "other"  # a class name never comes from the cassette


def _step(span: float) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most six ticks."""
    raw = max(span, 1e-9) / 5
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _seconds(t: float) -> str:
    return f"{t:.0f} s" if t == int(t) else f"{t:.1f} s"


@dataclass(frozen=True, slots=True)
class _Frame:
    """The chart's size, margins and time span: where a time and a percent are drawn."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    span: float

    def x(self, t: float) -> float:
        return round(self.left + (self.width - self.left - self.right) * t / self.span, 1)

    def y(self, percent: float) -> float:
        return round(self.top + (self.height - self.top - self.bottom) * (1 - min(max(percent, 0.0), 100.0) / 100), 1)


def timeline_svg(points: list[Point], *, duration: float | None, outcome: str, compact: bool = False) -> Markup:
    """The chart as SVG markup (`compact`: a small strip for a list, without axes)."""
    if not points:
        return Markup('<span class="tarash-empty">no updates</span>' if compact else
                      '<p class="tarash-empty">no progress updates recorded</p>')
    end = max([p.t for p in points] + [duration or 0.0])
    size, margins = ((160, 28), (4, 8, 4, 4)) if compact else ((640, 200), (44, 16, 14, 34))
    frame = _Frame(*size, *margins, span=end if end > 0 else 1.0)
    parts = [f'<svg class="tarash-timeline{" compact" if compact else ""}" role="img" '
             f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" height="{frame.height}" '
             'xmlns="http://www.w3.org/2000/svg">',
             f"<title>{len(points)} progress update{'s' if len(points) != 1 else ''} over {_seconds(end)}</title>"]
    if not compact:
        parts.extend(_axes(frame, end))
    parts.append(_line(frame, points, duration))
    parts.extend(_dots(frame, points, radius=2.5 if compact else 4.5))
    parts.append(_end_mark(frame, points, duration, "error" if outcome == "error" else "response"))
    parts.append("</svg>")
    return Markup("".join(parts))


def _levels(points: list[Point]) -> list[float]:
    """The percent drawn at each point: the last one reported (0 before any)."""
    level, levels = 0.0, []
    for point in points:
        level = point.percent if point.percent is not None else level
        levels.append(level)
    return levels


def _line(frame: _Frame, points: list[Point], duration: float | None) -> str:
    coords, before = [], 0.0
    for point, level in zip(points, _levels(points), strict=True):  # a step: along, then up
        coords.extend([f"{frame.x(point.t)},{frame.y(before)}", f"{frame.x(point.t)},{frame.y(level)}"])
        before = level
    if duration is not None and duration > points[-1].t:
        coords.append(f"{frame.x(duration)},{frame.y(before)}")
    return f'<path class="line" d="M{" L".join(coords)}" fill="none"/>'


def _dots(frame: _Frame, points: list[Point], *, radius: float) -> list[str]:
    dots = []
    for point, level in zip(points, _levels(points), strict=True):
        tip = f"{_seconds(point.t)}: {point.status or '?'}" + (f", {point.percent:g} %" if point.percent is not None else "")
        dots.append(f'<circle class="st-{_css(point.status)}" cx="{frame.x(point.t)}" cy="{frame.y(level)}" '
                    f'r="{radius}"><title>{escape(tip)}</title></circle>')
    return dots


def _end_mark(frame: _Frame, points: list[Point], duration: float | None, ended: str) -> str:
    at = duration if duration is not None else points[-1].t
    top = min(max(frame.y(_levels(points)[-1]) - 7, 0), frame.height - 14)
    return (f'<rect class="end-{ended}" x="{frame.x(at) - 3}" y="{top}" width="6" height="14">'
            f"<title>{escape(f'{_seconds(at)}: {ended}')}</title></rect>")


def _axes(frame: _Frame, end: float) -> list[str]:
    parts = []
    left, right, base = frame.left, frame.width - frame.right, frame.height - frame.bottom
    for percent in (0, 50, 100):
        y = frame.y(percent)
        parts.append(f'<line class="grid" x1="{left}" x2="{right}" y1="{y}" y2="{y}"/>'
                     f'<text class="axis" x="{left - 6}" y="{y + 4}" text-anchor="end">{percent} %</text>')
    step = _step(end)
    for i in range(int(end / step + 1e-9) + 1 if end > 0 else 1):
        x = frame.x(i * step)
        parts.append(f'<line class="tick" x1="{x}" x2="{x}" y1="{base}" y2="{base + 4}"/>'
                     f'<text class="axis" x="{x}" y="{base + 16}" text-anchor="middle">{_seconds(i * step)}</text>')
    parts.append(f'<text class="axis" x="{right}" y="{frame.height - 2}" text-anchor="end">seconds from the call</text>')
    return parts
