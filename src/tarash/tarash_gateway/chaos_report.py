"""What a chaos run did, call by call, and a self-contained HTML report of it.

A `ChaosRecorder` is a middleware: while it is in force it notes every attempt
of every call (its config, start and end on the gateway's clock, status, error and
injected fault). `calls` groups the attempts into calls;
`summarize` counts the outcomes; `render_html` draws a page with no
external resources (inline CSS and SVG): the outcome counts, a timeline row per call
(attempts coloured by outcome, the waits between them) and the latency distribution:

```python
recorder = ChaosRecorder()
with use_middleware(recorder.middleware):
    ...                                   # run the calls
Path("report.html").write_text(render_html(recorder.calls(), title="nightly chaos"))
```

`tarash chaos` (see `docs/chaos.md`) runs a config or a script this way.
"""

from __future__ import annotations

import functools
import html
import statistics
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .call import Call
from .clock import current_clock
from .exceptions import UnsupportedRequestError
from .flow import Flow
from .layers import Layer, Middleware

__all__ = ["AttemptRecord", "CallRecord", "ChaosRecorder", "Summary", "render_html", "summarize"]


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt as the recorder saw it; times are seconds on the call's clock."""

    key: int
    attempt: int
    provider: str
    model: str
    started: float
    ended: float
    status: str  # success, failed, skipped
    error_type: str | None = None
    error: str | None = None
    injected: str | None = None
    source: str | None = None


@dataclass(slots=True)
class CallRecord:
    """The attempts of one call, in order."""

    index: int
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def started(self) -> float:
        return self.attempts[0].started

    @property
    def elapsed(self) -> float:
        return self.attempts[-1].ended - self.started

    @property
    def outcome(self) -> str:
        """`ok`, `ok after retry`, `ok after fallback` or the final error's type."""
        last = self.attempts[-1]
        if last.status != "success":
            return last.error_type or "failed"
        if len({(a.provider, a.model) for a in self.attempts}) > 1:
            return "ok after fallback"
        return "ok after retry" if len(self.attempts) > 1 else "ok"

    def waits(self) -> list[tuple[float, float]]:
        """The gaps between attempts (retry backoffs, Retry-After): (start, end)."""
        return [(a.ended, b.started) for a, b in zip(self.attempts, self.attempts[1:], strict=False) if b.started > a.ended]


class ChaosRecorder:
    """Notes every attempt of every call made while `middleware` is in force. Thread-safe."""

    def __init__(self) -> None:
        self._records: list[AttemptRecord] = []
        self._lock = threading.Lock()

    @property
    def middleware(self) -> Middleware:
        return functools.partial(_RecordingLayer, recorder=self)

    def add(self, record: AttemptRecord) -> None:
        with self._lock:
            self._records.append(record)

    def calls(self) -> list[CallRecord]:
        """The attempts grouped into calls. An attempt is noted when it ends, so a call's
        attempts arrive in order: a first attempt opens a call, later ones join the open
        call of the same request."""
        with self._lock:
            records = list(self._records)
        calls: list[CallRecord] = []
        open_calls: dict[int, CallRecord] = {}
        for record in records:
            if record.attempt == 1 or record.key not in open_calls:
                open_calls[record.key] = CallRecord(len(calls))
                calls.append(open_calls[record.key])
            open_calls[record.key].attempts.append(record)
        return calls


class _RecordingLayer(Layer):
    def __init__(self, next: Layer, recorder: ChaosRecorder) -> None:  # noqa: A002 - the stack's word
        super().__init__(next)
        self.recorder = recorder

    def flow(self, call: Call) -> Flow[Any]:
        clock = current_clock()
        started = clock.monotonic()
        try:
            response = yield self.call_next(call)
        except Exception as error:
            origin = getattr(error, "origin", None)
            self.recorder.add(AttemptRecord(
                id(call.request), call.attempt, call.config.provider, call.config.model, started, clock.monotonic(),
                "skipped" if isinstance(error, UnsupportedRequestError) else "failed",
                type(error).__name__, str(error)[:300], getattr(origin, "injected", None), getattr(origin, "source", None),
            ))
            raise
        origin = getattr(response, "origin", None)
        self.recorder.add(AttemptRecord(
            id(call.request), call.attempt, call.config.provider, call.config.model, started, clock.monotonic(),
            "success", injected=getattr(origin, "injected", None), source=getattr(origin, "source", None),
        ))
        return response


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a run: outcomes per call, and what happened on the way."""

    calls: int
    outcomes: dict[str, int]
    attempts: int
    faults: int
    skips: int
    retries: int
    fallbacks: int
    waited: float
    latencies: list[float]

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)]

    def lines(self) -> list[str]:
        """The plain-text summary `tarash chaos` prints."""
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items(), key=lambda kv: (-kv[1], kv[0])))
        return [
            f"calls {self.calls}: {outcomes or 'none'}",
            f"attempts {self.attempts}: {_counted(self.faults, 'fault', 'faults')} injected, {self.skips} skipped, "
            f"{_counted(self.retries, 'retry', 'retries')}, {_counted(self.fallbacks, 'fallback', 'fallbacks')}; "
            f"waited {self.waited:.1f} s between attempts",
            f"latency: p50 {self.percentile(0.5):.2f} s, p95 {self.percentile(0.95):.2f} s, "
            f"max {max(self.latencies, default=0.0):.2f} s (on the gateway's clock)",
        ]


def summarize(calls: Sequence[CallRecord]) -> Summary:
    attempts = [a for c in calls for a in c.attempts]
    retries = fallbacks = 0
    for call in calls:
        for before, after in zip(call.attempts, call.attempts[1:], strict=False):
            same = (before.provider, before.model) == (after.provider, after.model)
            retries += same
            fallbacks += not same
    return Summary(
        calls=len(calls),
        outcomes=dict(Counter(c.outcome for c in calls)),
        attempts=len(attempts),
        faults=sum(a.injected is not None and "error" in a.injected for a in attempts),
        skips=sum(a.status == "skipped" for a in attempts),
        retries=retries,
        fallbacks=fallbacks,
        waited=sum(end - start for c in calls for start, end in c.waits()),
        latencies=[c.elapsed for c in calls],
    )


# -- the page -----------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}
table.outcomes td,table.outcomes th{padding:2px 12px;text-align:left}
rect.success{fill:#3a9d5d}rect.failed{fill:#d0453a}rect.skipped{fill:#a0a0a0}
line.wait{stroke:#e0a020;stroke-width:2;stroke-dasharray:4 3}rect.bar{fill:#4a78c2}
text{font-size:11px;fill:#444}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 14px}
"""
_WIDTH, _ROW, _LEFT = 900, 14, 60
_MAX_ROWS = 500


def render_html(calls: Sequence[CallRecord], *, title: str = "tarash chaos report", meta: str = "") -> str:
    """A self-contained HTML page (no scripts, no external resources) of a chaos run."""
    summary = summarize(calls)
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{n}</td></tr>"
        for name, n in sorted(summary.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    facts = "".join(f"<li>{html.escape(line)}</li>" for line in summary.lines()[1:])
    legend = (
        '<p class="legend"><span style="background:#3a9d5d"></span>success<span style="background:#d0453a"></span>'
        'failed<span style="background:#a0a0a0"></span>skipped<span style="border-top:2px dashed #e0a020;height:0">'
        "</span>wait</p>"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        + (f"<p class=\"meta\">{html.escape(meta)}</p>" if meta else "")
        + f"<h2>Outcomes of {summary.calls} calls</h2><table class=\"outcomes\"><tr><th>outcome</th><th>calls</th></tr>"
        f"{rows}</table><ul class=\"facts\">{facts}</ul>"
        f"<h2>Timeline</h2>{legend}{_timeline(calls)}"
        f"<h2>Latency</h2>{_histogram(summary.latencies)}</body></html>"
    )


def _timeline(calls: Sequence[CallRecord]) -> str:
    shown = list(calls)[:_MAX_ROWS]
    span = max((c.elapsed for c in shown), default=0.0) or 1.0
    scale = (_WIDTH - _LEFT - 90) / span  # room for the label of who served each call
    parts = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{len(shown) * _ROW + 24}">']
    for row, call in enumerate(shown):
        y = row * _ROW
        parts.append(f'<g class="call" data-index="{call.index}"><text x="0" y="{y + 10}">#{call.index}</text>')
        for attempt in sorted(call.attempts, key=lambda a: a.status == "skipped"):  # skips on top
            x = _LEFT + (attempt.started - call.started) * scale
            width = max((attempt.ended - attempt.started) * scale, 6.0 if attempt.status == "skipped" else 3.0)
            tip = f"attempt {attempt.attempt}: {attempt.provider}/{attempt.model} {attempt.status}"
            tip += f", {attempt.ended - attempt.started:.2f} s"
            if attempt.error_type:
                tip += f", {attempt.error_type}: {attempt.error}"
            if attempt.injected:
                tip += f" (injected {attempt.injected})"
            parts.append(
                f'<rect class="attempt {attempt.status}" x="{x:.1f}" y="{y + 2}" width="{width:.1f}" height="{_ROW - 4}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
        for start, end in call.waits():
            x1, x2 = _LEFT + (start - call.started) * scale, _LEFT + (end - call.started) * scale
            parts.append(
                f'<line class="wait" x1="{x1:.1f}" x2="{x2:.1f}" y1="{y + _ROW / 2}" y2="{y + _ROW / 2}">'
                f"<title>waited {end - start:.2f} s</title></line>"
            )
        last = call.attempts[-1]
        end = _LEFT + call.elapsed * scale + 6
        served = f"{last.provider}" if last.status == "success" else (last.error_type or "failed")
        parts.append(f'<text class="served" x="{end:.1f}" y="{y + 10}">{html.escape(served)}</text></g>')
    axis_y = len(shown) * _ROW + 16
    right = _LEFT + span * scale - 20
    parts.append(f'<text x="{_LEFT}" y="{axis_y}">0 s</text><text x="{right:.1f}" y="{axis_y}">{span:.2f} s</text></svg>')
    if len(calls) > len(shown):
        parts.append(f"<p>the first {len(shown)} of {len(calls)} calls are shown</p>")
    return "".join(parts)


def _histogram(latencies: Sequence[float], bins: int = 20) -> str:
    height = 160
    parts = [f'<svg id="latency" xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height + 44}">']
    if latencies:
        low, high = min(latencies), max(latencies)
        width = (high - low) / bins or 1.0
        counts = Counter(min(int((v - low) / width), bins - 1) for v in latencies)
        tallest = max(counts.values())
        bar = (_WIDTH - _LEFT) / bins
        for i in range(bins):
            n = counts.get(i, 0)
            h = n / tallest * height
            edge = low + i * width
            parts.append(
                f'<rect class="bar" x="{_LEFT + i * bar:.1f}" y="{height - h + 14:.1f}" width="{bar - 2:.1f}" height="{h:.1f}">'
                f"<title>{edge:.2f}-{edge + width:.2f} s: {n} calls</title></rect>"
            )
            if n:
                parts.append(f'<text x="{_LEFT + i * bar + bar / 2 - 4:.1f}" y="{height - h + 10:.1f}">{n}</text>')
        median = statistics.median(latencies)
        parts.append(
            f'<text x="{_LEFT}" y="{height + 30}">{low:.2f} s</text>'
            f'<text x="{_WIDTH - 60}" y="{height + 30}">{high:.2f} s</text>'
            f'<text class="median" x="{_WIDTH / 2:.0f}" y="{height + 42}">median {median:.2f} s</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _counted(n: int, one: str, many: str) -> str:
    """`1 retry`, `2 retries` (the CLI's `plural` lives with click, which this module does not load)."""
    return f"{n} {one if n == 1 else many}"
