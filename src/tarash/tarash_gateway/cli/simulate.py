"""``tarash simulate``: run the loopback provider simulator in the foreground."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from ..exceptions import ValidationError
from ..simulator import NAMED, Capacity, ProviderSimulator, SimulatorTLS, sdk_environment
from ..simulator.providers import all_providers
from ..simulator.sdk_env import SDKS
from .params import FiniteRange

__all__ = ["simulate_command"]

_LONGEST = 365 * 86400.0  # a year; far longer waits overflow the platform's timers


@click.command("simulate")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
@click.option(
    "--scenario",
    type=click.Choice(sorted(NAMED)),
    default="ok",
    show_default=True,
    help="How jobs behave unless a prompt tag (#sim:<name>) says otherwise.",
)
@click.option("--latency", type=FiniteRange(0, 3600), default=0.0, show_default=True, help="Seconds every answer is delayed.")
@click.option(
    "--max-lifetime", type=FiniteRange(0, _LONGEST, min_open=True), default=3600.0, show_default=True, help="Stop by itself after this many seconds."
)
@click.option("--max-concurrency", type=click.IntRange(1), default=None,
              help="Jobs in flight per provider at most: past it fal, Replicate and Runway queue, the others answer 429.")
@click.option("--rate-limit", "rate_limit", type=click.IntRange(1), default=None,
              help="Submits per provider per minute at most: past it a 429 with Retry-After.")
@click.option("--tls", is_flag=True, help="Also listen with TLS, with a certificate from a generated test CA.")
@click.option("--tls-port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port of the TLS listener.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM certificate for the TLS listener (instead of a generated one; needs --tls-key).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM private key of --tls-cert.")
def simulate_command(port: int, scenario: str, latency: float, max_lifetime: float, max_concurrency: int | None,
                     rate_limit: int | None, tls: bool, tls_port: int, tls_cert: Path | None,
                     tls_key: Path | None) -> None:
    """Serve fal, Replicate, OpenAI, Google, Runway, Stability and xAI protocols on loopback.

    Point a config's base_url at the printed address of its provider; any api_key works.
    With --tls it also prints the CA bundle to trust (SSL_CERT_FILE) and the environment
    that points each vendor SDK at it. Stop with Ctrl-C.

    \b
    Example:
        tarash simulate --port 8787 --latency 0.2
        # VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1",
        #     api_key="any", base_url="http://127.0.0.1:8787/fal")
        tarash simulate --tls
        # export SSL_CERT_FILE=<the printed CA bundle>, then the printed SDK variables
        tarash simulate --max-concurrency 4 --rate-limit 60
    """
    default = NAMED[scenario].but(latency=latency) if latency else NAMED[scenario]
    capacity = None
    if max_concurrency is not None or rate_limit is not None:
        limits = Capacity(max_concurrency=max_concurrency, rate_limit_per_minute=rate_limit)
        capacity = {name: limits for name in sorted(cls.name for cls in all_providers())}
    sim = ProviderSimulator(default, max_lifetime=max_lifetime, port=port, tls=_tls_option(tls, tls_cert, tls_key),
                            tls_port=tls_port, capacity=capacity)
    try:
        sim.start()
    except OSError as error:
        raise click.ClickException(f"cannot listen on 127.0.0.1 (port {port} or {tls_port}): {error.strerror}") from error
    except ValidationError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"tarash provider simulator on {sim.url} (scenario {scenario}, stops after {max_lifetime:g} s)")
    for provider in sim.providers:
        click.echo(f"  {provider:<10} base_url={sim.base_url(provider)}")
    if tls or tls_cert:
        _echo_tls(sim)
    click.echo("scenarios by prompt tag: " + ", ".join(f"#sim:{name}" for name in sorted(NAMED)), err=True)
    _serve_until_stopped(sim, max_lifetime)


def _tls_option(tls: bool, cert: Path | None, key: Path | None) -> SimulatorTLS | bool:
    if (cert is None) != (key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if cert is not None and key is not None:
        return SimulatorTLS(cert, key)
    return tls


def _echo_tls(sim: ProviderSimulator) -> None:
    click.echo(f"TLS listener on {sim.tls_url}")
    if sim.ca_file is not None:
        click.echo(f"  CA bundle {sim.ca_file} (removed on exit); trust it with: export SSL_CERT_FILE={sim.ca_file}")
    click.echo("vendor SDKs, pointed here by their environment:")
    for sdk in SDKS:
        if sdk in ("fal-client", "replicate") and sim.ca_file is None:
            continue  # a given certificate: the user knows which CA trusts it
        env = sdk_environment(sim, sdk)
        click.echo(f"  {sdk:<13} " + " ".join(f"{name}={value}" for name, value in env.items()))


def _serve_until_stopped(sim: ProviderSimulator, max_lifetime: float) -> None:
    """Serve until Ctrl-C, SIGTERM or the lifetime's end; then stop (removing generated TLS files)."""
    stopped = threading.Event()
    timer = threading.Timer(max_lifetime, stopped.set)
    timer.daemon = True
    timer.start()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set()) if main else None
    try:
        stopped.wait()
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        timer.cancel()
        if main:
            signal.signal(signal.SIGTERM, previous)
        sim.stop()
