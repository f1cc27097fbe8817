"""The Datasette plugin of the cassette browser: its routes, links and response headers.

Registered with Datasette's plugin manager by `server.build_datasette`, and
active only in a Datasette whose metadata names the cassette database under
`plugins: {"tarash-gateway": {"database": NAME}}`, so another Datasette in the same
process is left as it is. Routes (all `GET`/`HEAD`, none writes):

=============================  ============================================
`/`                          redirects to the recordings
`/-/tarash`                  the recordings, with filters
`/-/tarash/recordings/<id>`  one recording
`/-/tarash/http`             the raw HTTP interactions
`/-/tarash/blobs/<sha256>`   a blob's bytes (`blobs`)
=============================  ============================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from ..cassettes.store import check_digest
from ..exceptions import CassetteError
from . import pages
from .blobs import blob_view
from .timeline import timeline_points, timeline_svg

__all__ = ["PLUGIN", "asgi_wrapper", "cassette_name", "extra_css_urls", "menu_links", "register_routes", "render_cell",
           "table_actions"]

PLUGIN = "tarash-gateway"
_BLOB_COLUMNS = {("media", "hash"), ("blobs", "hash"), ("http_interactions", "request_body"),
                 ("http_interactions", "response_body")}


def cassette_name(datasette: Any) -> str | None:
    """The name of the cassette database this Datasette browses, or `None` if it is not ours."""
    config = datasette.plugin_config(PLUGIN) or {}
    name = config.get("database")
    return name if isinstance(name, str) else None


def _on_cassette(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    async def view(request: Any, datasette: Any) -> Response:
        name = cassette_name(datasette)
        if name is None:
            raise NotFound("no cassette is browsed here")
        return await handler(request, datasette, datasette.get_database(name))

    view.__name__ = handler.__name__
    return view


async def _home(request: Any, datasette: Any) -> Response:
    return Response.redirect(datasette.urls.path("/-/tarash"))


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    if cassette_name(datasette) is None:
        return []
    return [
        (r"^/$", _home),
        (r"^/-/tarash/?$", _on_cassette(pages.recordings_page)),
        (r"^/-/tarash/recordings/(?P<id>[0-9]{1,18})$", _on_cassette(pages.recording_page)),
        (r"^/-/tarash/http/?$", _on_cassette(pages.http_page)),
        (r"^/-/tarash/blobs/(?P<digest>[^/]*)$", _on_cassette(blob_view)),
    ]


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    """In Datasette's own table views: blob hashes link to the blob, timelines are drawn."""
    if database != cassette_name(datasette):
        return None
    if (table, column) in _BLOB_COLUMNS:
        try:
            digest = check_digest(value, "a blob column")
        except CassetteError:
            return None
        href = datasette.urls.path(f"/-/tarash/blobs/{digest}")
        return Markup(f'<a href="{escape(href)}" title="{digest}">{digest[:12]}&hellip;</a>')
    if (table, column) == ("recordings", "timeline") and isinstance(value, str):
        duration = row["duration"] if "duration" in row.keys() else None
        outcome = row["outcome"] if "outcome" in row.keys() else ""
        return timeline_svg(timeline_points(value), duration=duration if isinstance(duration, float) else None,
                            outcome=str(outcome), compact=True)
    return None


@hookimpl
def menu_links(datasette: Any, actor: Any) -> list[dict[str, str]] | None:
    if cassette_name(datasette) is None:
        return None
    return [{"href": datasette.urls.path("/-/tarash"), "label": "Recordings"},
            {"href": datasette.urls.path("/-/tarash/http"), "label": "HTTP interactions"}]


@hookimpl
def table_actions(datasette: Any, actor: Any, database: str, table: str) -> list[dict[str, str]] | None:
    if database != cassette_name(datasette) or table != "recordings":
        return None
    return [{"href": datasette.urls.path("/-/tarash"), "label": "Browse recordings with their media and timelines"}]


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    if cassette_name(datasette) is None:
        return []
    return [datasette.urls.path("/-/tarash-static/browser.css")]


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[Any], Any]:
    """Every response of a cassette browser says `nosniff`: nothing recorded is sniffed into a page."""

    def wrap(app: Any) -> Any:
        if cassette_name(datasette) is None:
            return app

        async def with_nosniff(scope: Any, receive: Any, send: Any) -> None:
            async def sending(message: Any) -> None:
                if message["type"] == "http.response.start":
                    headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-content-type-options"]
                    message = {**message, "headers": [*headers, (b"x-content-type-options", b"nosniff")]}
                await send(message)

            await app(scope, receive, sending)

        return with_nosniff

    return wrap
