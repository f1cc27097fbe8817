"""``tarash simulate``: run the loopback provider simulator in the foreground."""

from __future__ import annotations

import threading

import click

from ..simulator import NAMED, ProviderSimulator

__all__ = ["simulate_command"]


@click.command("simulate")
@click.option("--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
@click.option(
    "--scenario",
    type=click.Choice(sorted(NAMED)),
    default="ok",
    show_default=True,
    help="How jobs behave unless a prompt tag (#sim:<name>) says otherwise.",
)
@click.option("--latency", type=float, default=0.0, show_default=True, help="Seconds every answer is delayed.")
@click.option(
    "--max-lifetime", type=float, default=3600.0, show_default=True, help="Stop by itself after this many seconds."
)
def simulate_command(port: int, scenario: str, latency: float, max_lifetime: float) -> None:
    """Serve fal, Replicate, OpenAI, Google, Runway, Stability and xAI protocols on loopback.

    Point a config's base_url at the printed address of its provider; any api_key works.
    Stop with Ctrl-C.

    \b
    Example:
        tarash simulate --port 8787 --latency 0.2
        # VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1",
        #     api_key="any", base_url="http://127.0.0.1:8787/fal")
    """
    default = NAMED[scenario].but(latency=latency) if latency else NAMED[scenario]
    sim = ProviderSimulator(default, max_lifetime=max_lifetime, port=port)
    try:
        sim.start()
    except OSError as error:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from error
    click.echo(f"tarash provider simulator on {sim.url} (scenario {scenario}, stops after {max_lifetime:g} s)")
    for provider in sim.providers:
        click.echo(f"  {provider:<10} base_url={sim.base_url(provider)}")
    click.echo("scenarios by prompt tag: " + ", ".join(f"#sim:{name}" for name in sorted(NAMED)), err=True)
    stopped = threading.Event()
    timer = threading.Timer(max_lifetime, stopped.set)
    timer.daemon = True
    timer.start()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        timer.cancel()
        sim.stop()
