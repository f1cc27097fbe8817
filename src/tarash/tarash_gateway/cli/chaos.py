"""``tarash chaos``: run a chaos config, a script or the demo, print the outcomes, write an HTML report."""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pydantic
import yaml

from ..batch import generate_images, generate_videos
from ..chaos_report import ChaosRecorder, render_html, summarize
from ..clock import InstantClock, SystemClock, use_clock
from ..exceptions import HTTPError, RateLimitError, TarashException
from ..fallback import collect_chain
from ..layers import use_middleware
from ..mock import Latency, MockConfig, MockResponse
from ..mock.chaos import set_global_seed
from ..models import ImageGenerationConfig, ImageGenerationRequest, VideoGenerationConfig, VideoGenerationRequest
from ..retry import Retry

__all__ = ["chaos_command", "demo_config"]

_LOOPBACK = ("http://127.0.0.1", "http://localhost", "http://[::1]")


def demo_config() -> dict[str, Any]:
    """The demo: a flaky fal primary rescued by retries, a Kling fallback that cannot take
    8 s (skipped before any network call), and a Sora fallback."""
    fal = VideoGenerationConfig(
        provider="fal",
        model="fal-ai/veo3.1/fast",
        timeout=60,
        mock=MockConfig(seed=11, latency=Latency(min=1, max=6), responses=[
            MockResponse(weight=0.6),
            MockResponse(weight=0.25, error=HTTPError("runner overloaded", status_code=503)),
            MockResponse(weight=0.15, error=RateLimitError("slow down", retry_after=3)),
        ]),
        retry=Retry(attempts=2, wait_initial=1, seed=11),
        fallback_configs=[
            VideoGenerationConfig(provider="replicate", model="kwaivgi/kling-v2.1", api_key="demo"),
            VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(seed=12, latency=Latency(min=2, max=9))),
        ],
    )
    return {"kind": "video", "config": fal, "request": VideoGenerationRequest(prompt="a lighthouse at dusk", duration_seconds=8)}


def _load(path: Path) -> dict[str, Any]:
    """A chaos file: a config's fields, or ``{"kind", "config", "request", "calls"}``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise click.ClickException(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{path}: expected a config (a mapping with provider and model), got {type(data).__name__}")
    if "config" not in data:
        data = {"config": data}
    kind = data.get("kind", "video")
    if kind not in ("video", "image"):
        raise click.ClickException(f"{path}: kind must be video or image, got {kind!r}")
    config_type, request_type = (
        (VideoGenerationConfig, VideoGenerationRequest) if kind == "video" else (ImageGenerationConfig, ImageGenerationRequest)
    )
    try:
        config = config_type.model_validate(data["config"])
        request = request_type.model_validate(data.get("request") or {"prompt": "a chaos test"})
    except (pydantic.ValidationError, TarashException) as error:
        first = error.errors()[0] if isinstance(error, pydantic.ValidationError) else {"loc": (), "msg": str(error)}
        where = ".".join(str(p) for p in first["loc"])
        raise click.ClickException(f"{path}: {where + ': ' if where else ''}{first['msg']}") from None
    return {"kind": kind, "config": config, "request": request, "calls": data.get("calls")}


def _real_configs(config: Any) -> list[str]:
    """The configs of the chain that would call a real provider (no mock, no loopback simulator)."""
    return [
        f"{c.provider}/{c.model}"
        for c in collect_chain(config)
        if not (c.mock is not None and c.mock.enabled) and not (c.base_url or "").startswith(_LOOPBACK)
    ]


@contextlib.contextmanager
def _zero_budget(allow_real: bool) -> Iterator[None]:
    """A script's real calls are refused (``TARASH_BUDGET_USD=0``) unless ``--allow-real``."""
    if allow_real or "TARASH_BUDGET_USD" in os.environ:
        yield
        return
    os.environ["TARASH_BUDGET_USD"] = "0"
    try:
        yield
    finally:
        os.environ.pop("TARASH_BUDGET_USD", None)


def _run_batch(spec: dict[str, Any], calls: int, concurrency: int) -> None:
    run = generate_videos if spec["kind"] == "video" else generate_images
    items = [spec["request"].model_copy() for _ in range(calls)]  # one request object per call
    with click.progressbar(length=calls, label="chaos", file=sys.stderr) as bar:
        run(spec["config"], items, max_concurrency=concurrency, on_batch_progress=lambda _: bar.update(1))


@click.command("chaos")
@click.argument("target", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--demo", is_flag=True, help="Run the built-in demo (retries, a capability skip, a fallback).")
@click.option("--calls", "-n", type=click.IntRange(1, 100_000), default=None, help="Calls to make (default: the file's, else 50).")
@click.option("--concurrency", type=click.IntRange(1, 50), default=5, show_default=True, help="Calls at once.")
@click.option("--seed", type=int, default=None, help="Seed of the mocks that have none of their own.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=Path("chaos-report.html"),
              show_default=True, help="Where to write the HTML report.")
@click.option("--allow-real", is_flag=True, help="Let configs without a mock call their real provider (costs money).")
@click.option("--real-waits", is_flag=True, help="Really wait (latency, retries) instead of on the instant clock.")
def chaos_command(
    target: Path | None, demo: bool, calls: int | None, concurrency: int, seed: int | None, report: Path,
    allow_real: bool, real_waits: bool,
) -> None:
    """Run a chaos config (JSON or YAML), a Python script or the demo; print what happened.

    A config file holds a config's fields (mocks, fallback_configs, retry), or
    {kind, config, request, calls}. A script runs as it is, every generation it makes
    recorded (real calls refused unless --allow-real). Simulated waits are instant.

    \b
    Example:
        tarash chaos --demo
        tarash chaos flaky.yaml --calls 200 --seed 7 --report flaky.html
        tarash chaos pipeline.py
    """
    if (target is None) == (not demo):
        raise click.UsageError("give a config or script, or --demo (one of them)")
    recorder = ChaosRecorder()
    failure: str | None = None
    clock = SystemClock() if real_waits else InstantClock()
    if seed is not None:
        set_global_seed(seed)
    try:
        with use_clock(clock), use_middleware(recorder.middleware):
            if target is not None and target.suffix == ".py":
                with _zero_budget(allow_real):
                    failure = _run_script(target)
                label = f"script {target}"
            else:
                spec = demo_config() if demo else _load(target)  # type: ignore[arg-type]
                real = [] if demo or allow_real else _real_configs(spec["config"])
                if real:
                    raise click.ClickException(
                        f"{', '.join(real)} would call the real provider (no mock, no loopback base_url); "
                        "add a mock, point it at `tarash simulate`, or pass --allow-real"
                    )
                count = calls or spec.get("calls") or 50
                _run_batch(spec, count, concurrency)
                label = "the demo" if demo else f"config {target}"
    finally:
        if seed is not None:
            set_global_seed(None)
    records = recorder.calls()
    for line in summarize(records).lines():
        click.echo(line)
    meta = f"{label}; seed {seed if seed is not None else 'per mock'}; {'real' if real_waits else 'simulated'} waits"
    try:
        report.write_text(render_html(records, title=f"tarash chaos: {label}", meta=meta), encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write the report to {report}: {error.strerror or error}") from None
    click.echo(f"report: {report}")
    if failure is not None:
        raise click.ClickException(failure)


def _run_script(path: Path) -> str | None:
    """Run the script; how it failed, if it did (the calls it made are still reported)."""
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exit_:
        return f"{path} exited with {exit_.code}" if exit_.code not in (None, 0) else None
    except Exception as error:
        return f"{path} raised {type(error).__name__}: {error}"
    return None
