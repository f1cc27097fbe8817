"""The browser's own pages: the recordings (filtered), one recording, the HTTP interactions.

Each handler runs its reads through Datasette's read-only connection to the cassette
(opened immutable), hands the rows to `views` and renders a template extending
Datasette's `base.html`, so Jinja's autoescaping covers every recorded value. Every
route answers `GET` and `HEAD` only.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl

from datasette.utils.asgi import BadRequest, NotFound, Response

from .blobs import read_blob_text
from .views import PAGE_SIZE, FilterError, Filters, http_row, media_item, recording_detail, recording_line

__all__ = ["http_page", "recording_page", "recordings_page"]

#: Our pages embed nothing from elsewhere: media from this server, styles from it and Datasette's inline ones.
PAGE_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'self'; img-src 'self'; media-src 'self'; style-src 'self' "
                               "'unsafe-inline'; script-src 'self' 'unsafe-inline'; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
}
_LINE_COLUMNS = "id, kind, provider, model, outcome, duration, recorded_at, recorded_ts, request, error, timeline"


def _read_only(request: Any) -> None:
    if request.method not in ("GET", "HEAD"):
        raise BadRequest("the cassette browser is read-only: GET or HEAD only")


async def _render(datasette: Any, request: Any, template: str, context: dict[str, Any]) -> Response:
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, headers=dict(PAGE_HEADERS))


async def _media(datasette: Any, db: Any, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = (await db.execute(
        "SELECT m.recording_id, m.slot, m.url, m.hash, coalesce(m.content_type, b.content_type) AS content_type, "
        f"length(b.data) AS size FROM media m LEFT JOIN blobs b ON b.hash = m.hash "
        f"WHERE m.recording_id IN ({','.join('?' * len(ids))}) ORDER BY m.recording_id, m.slot", ids)).rows
    for row in rows:
        found.setdefault(row["recording_id"], []).append(
            media_item(dict(row), datasette.urls.path("/-/tarash/blobs")))
    return found


async def _choices(db: Any, column: str) -> list[dict[str, Any]]:
    rows = (await db.execute(f"SELECT {column} AS value, count(*) AS n FROM recordings GROUP BY {column} "
                             "ORDER BY n DESC, value LIMIT 200")).rows
    return [{"value": r["value"], "n": r["n"]} for r in rows]


async def recordings_page(request: Any, datasette: Any, db: Any) -> Response:
    """Every recording, newest first: filters by provider, model, outcome, kind and age."""
    _read_only(request)
    try:
        filters = Filters.from_args(request.args)
    except FilterError as error:
        raise BadRequest(str(error)) from error
    if any(value == "" for _, value in parse_qsl(request.query_string, keep_blank_values=True)):
        # the filter form sends every field; the address to bookmark holds only those chosen
        return Response.redirect(datasette.urls.path("/-/tarash") + filters.query())
    now = time.time()
    where, params = filters.where(now)
    total = (await db.execute(f"SELECT count(*) AS n FROM recordings WHERE {where}", params)).rows[0]["n"]
    rows = (await db.execute(f"SELECT {_LINE_COLUMNS} FROM recordings WHERE {where} ORDER BY id DESC "
                             "LIMIT ? OFFSET ?", [*params, PAGE_SIZE, (filters.page - 1) * PAGE_SIZE])).rows
    media = await _media(datasette, db, [r["id"] for r in rows])
    pages = max(1, -(-total // PAGE_SIZE))
    return await _render(datasette, request, "tarash_recordings.html", {
        "database": db.name, "filters": filters, "total": total, "pages": pages,
        "recordings": [recording_line(dict(r), media[r["id"]], now) for r in rows],
        "choices": {c: await _choices(db, c) for c in ("provider", "model", "outcome", "kind")},
        "base": datasette.urls.path("/-/tarash"), "table_url": datasette.urls.table(db.name, "recordings"),
        "http_count": (await db.execute("SELECT count(*) AS n FROM http_interactions")).rows[0]["n"],
    })


async def recording_page(request: Any, datasette: Any, db: Any) -> Response:
    """One recording: media, progress chart, request and response (or error) side by side."""
    _read_only(request)
    recording_id = int(request.url_vars["id"])
    rows = (await db.execute("SELECT * FROM recordings WHERE id = ?", [recording_id])).rows
    if not rows:
        raise NotFound(f"the cassette holds no recording #{recording_id}")
    media = await _media(datasette, db, [recording_id])
    plays = (await db.execute("SELECT plays, run_at FROM plays WHERE recording_id = ?", [recording_id])).rows \
        if await db.table_exists("plays") else []  # schema 2 on: what the last strict run replayed
    return await _render(datasette, request, "tarash_recording.html", {
        "database": db.name, "r": recording_detail(dict(rows[0]), media[recording_id], time.time()),
        "plays": dict(plays[0]) if plays else None,
        "base": datasette.urls.path("/-/tarash"),
        "row_url": datasette.urls.row(db.name, "recordings", str(recording_id)),
    })


async def http_page(request: Any, datasette: Any, db: Any) -> Response:
    """The raw HTTP interactions (vcrpy imports, HTTP-level recording): both sides of each."""
    _read_only(request)
    try:
        page = Filters.from_args({"page": request.args.get("page", "")}).page
    except FilterError as error:
        raise BadRequest(str(error)) from error
    total = (await db.execute("SELECT count(*) AS n FROM http_interactions")).rows[0]["n"]
    rows = (await db.execute("SELECT * FROM http_interactions ORDER BY id LIMIT ? OFFSET ?",
                             [PAGE_SIZE, (page - 1) * PAGE_SIZE])).rows
    bodies: dict[str, dict[str, Any]] = {}
    for row in rows:
        for column in ("request_body", "response_body"):
            digest = row[column]
            if isinstance(digest, str) and digest not in bodies:
                body = await read_blob_text(db, digest)
                if body is not None:
                    body["shown"] = _pretty_body(body)
                    body["src"] = datasette.urls.path(f"/-/tarash/blobs/{digest}")
                    bodies[digest] = body
    return await _render(datasette, request, "tarash_http.html", {
        "database": db.name, "interactions": [http_row(dict(r), bodies) for r in rows], "total": total,
        "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "base": datasette.urls.path("/-/tarash"),
        "table_url": datasette.urls.table(db.name, "http_interactions"),
    })


def _pretty_body(body: dict[str, Any]) -> str | None:
    text = body.get("text")
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return str(text)
