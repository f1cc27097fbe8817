"""``tarash cassette serve``: browse a cassette in a web browser (read-only, on Datasette).

Only parses and prints: `..browser.server` does the work, imported when the
command runs, so the rest of the CLI never loads Datasette.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from ..exceptions import CassetteError
from .params import FilePath

__all__ = ["serve_command"]

INSTALL_HINT = "the cassette browser needs Datasette: pip install 'tarash-gateway[browser]'"


@click.command("serve")
@click.argument("path", type=FilePath(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback lets others read the cassette.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--open", "open_browser", is_flag=True, help="Open the recordings page in a web browser.")
def serve_command(path: Path, host: str, port: int, open_browser: bool) -> None:
    """Browse a cassette: recordings with their images, videos, progress charts and errors.

    Serves a read-only Datasette of the cassette (opened immutable) with pages of our
    own, until Ctrl-C.

    \b
    Example:
        tarash cassette serve cassettes/run.db
        tarash cassette serve cassettes/run.db --port 0 --open
    """
    if importlib.util.find_spec("datasette") is None:
        raise click.ClickException(INSTALL_HINT)
    from ..browser.server import BrowserServer, has_live_log, is_loopback

    if not is_loopback(host):
        click.echo(f"Warning: listening on {host}: anyone who can reach this machine can read the whole "
                   "cassette (requests, responses, errors and media).", err=True)
    try:
        server = BrowserServer(path, host=host, port=port)
    except CassetteError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Browsing {path} (read-only) at {server.url}   Ctrl-C stops.")
    if has_live_log(path):
        click.echo("Note: recordings sit in its write-ahead log (a session is recording into it): opened read-only "
                   "rather than immutable, so a reload shows what it adds.")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # the server shut down cleanly first, then passed Ctrl-C on
        pass
    click.echo("stopped")
