"""HAR 1.2 in and out: raw HTTP interactions as browsers, Polly.js, Playwright and mitmproxy write them.

- `load_har` reads a HAR file into vcrpy-style `(request, response)` pairs,
  checking every value it uses: a malformed shape is a one-line
  `CassetteError` naming the file, the entry and the field.
- `import_har` adds those pairs to a cassette's `http_interactions`, scrubbed on
  the way in, each with the entry's `startedDateTime` as when it was recorded. It is
  idempotent by content: importing the same HAR twice adds nothing.
- `export_har` writes a cassette's HTTP traffic as one HAR 1.2 log, bodies
  included: its imported interactions, then the exchanges the HTTP level recorded
  (vendor SDKs over httpx), as stored (scrubbed, signed URLs as their stand-ins).
  Response bodies are `content.text` (`"encoding": "base64"` when they are not UTF-8
  text), request bodies `postData.text` (binary ones base64 with the `_encoding`
  extension field, which `load_har` reads back). An exchange keeps no request headers
  (they carry the API key) and no status text, so its entry has none.

What HAR does not carry is not kept: timings, cookies as separate lists (they stay in
the headers), HTTP/2 pseudo-headers (`:authority`, ...). Entries a browser logged
without an answer (`status` 0: blocked, aborted) are skipped and counted. HAR writers
store bodies decoded, while the headers still name the wire's compression, so an
imported response loses its `Content-Encoding` (unless its bytes are still gzip) and
its `Content-Length` is set to the body's size. A form body logged only as
`postData.params` is encoded again; bodies kept in files beside the HAR
(`content._file`, Playwright's `attach` mode) are refused.

Every decoded body is capped at `MAX_BODY_BYTES` (512 MiB) before it is decoded.
(The other importers have no shared cap yet; when one lands, this one should use it.)
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..exceptions import CassetteError
from .exchanges import checked_exchange
from .persister import decode_interaction, encode_interactions
from .protocol import Store
from .scrub import Scrubber
from .store import CassetteStore

__all__ = ["HarLog", "MAX_BODY_BYTES", "export_har", "import_har", "load_har"]

MAX_BODY_BYTES = 512 * 1024 * 1024
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
Progress = Callable[[int], None] | None


@dataclass
class HarLog:
    """What `load_har` read: the replayable pairs, their start times, the entries skipped."""

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    started: list[str | None] = field(default_factory=list)
    skipped: int = 0


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Where:
    """Names the file and entry in every error, so each one is a single clear line."""

    def __init__(self, source: Path, index: int | None = None, limit: int = MAX_BODY_BYTES) -> None:
        self.prefix = f"{source}" + ("" if index is None else f": entry {index + 1}")
        self.limit = limit

    def fail(self, what: str, *, shape: bool = True) -> CassetteError:
        return CassetteError(f"{self.prefix}: {what}" + (" (not a HAR 1.2 file, or a damaged one)" if shape else ""))

    def get(self, data: dict[str, Any], name: str, kind: type | tuple[type, ...], label: str) -> Any:
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"{label} must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}, not {_shown(value)}")
        return value


def load_har(source: Path, *, max_body_bytes: int = MAX_BODY_BYTES) -> HarLog:
    """The HAR file's entries as vcrpy `(request, response)` pairs; see the module docstring.

    Args:
        source: the HAR file.
        max_body_bytes: the largest body (after base64 decoding) accepted.

    Raises:
        CassetteError: the file is not HAR, or an entry is malformed or too large.
    """
    where = _Where(source)
    try:
        text = source.read_text(encoding="utf-8-sig")  # a byte order mark is common in HARs saved on Windows
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise where.fail(f"not readable JSON ({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
    if not isinstance(data, dict):
        raise where.fail(f"the top level must be an object, not {type(data).__name__}")
    log = where.get(data, "log", dict, "log")
    entries = where.get(log, "entries", list, "log.entries")
    result = HarLog()
    for index, entry in enumerate(entries):
        here = _Where(source, index, max_body_bytes)
        if not isinstance(entry, dict):
            raise here.fail(f"an entry must be an object, not {type(entry).__name__}")
        response = here.get(entry, "response", dict, "response")
        status = here.get(response, "status", int, "response.status")
        if status == 0:
            result.skipped += 1  # logged without an answer (blocked, aborted, CORS): nothing to replay
            continue
        if not 100 <= status <= 599:
            raise here.fail(f"response.status {status} is not an HTTP status")
        result.pairs.append((_request(here, here.get(entry, "request", dict, "request")), _response(here, response, status)))
        result.started.append(_started(here, entry))
    return result


def _headers(where: _Where, data: dict[str, Any], label: str) -> dict[str, list[str]]:
    items = data.get("headers", [])
    if not isinstance(items, list):
        raise where.fail(f"{label}.headers must be a list, not {_shown(items)}")
    headers: dict[str, list[str]] = {}
    for item in items:
        if not isinstance(item, dict):
            raise where.fail(f"{label}.headers holds {_shown(item)}, not a {{name, value}} object")
        name = where.get(item, "name", str, f"{label}.headers[].name")
        value = where.get(item, "value", str, f"{label}.headers[].value")
        if name.startswith(":"):
            continue  # an HTTP/2 pseudo-header: the method, URL and status say it already
        if not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value):
            raise where.fail(f"{label} header {_shown(name)}: {_shown(value)} is not a valid HTTP header")
        headers.setdefault(name, []).append(value)
    return headers


def _body(where: _Where, data: dict[str, Any], label: str, encoding_key: str) -> bytes | None:
    """The bytes of a `content`/`postData` object's `text`, decoded and capped."""
    if "text" not in data:
        return None
    text = where.get(data, "text", str, f"{label}.text")
    encoding = data.get(encoding_key, data.get("encoding"))
    if encoding in (None, ""):
        if len(text) > where.limit or len(text.encode("utf-8")) > where.limit:
            raise where.fail(f"{label}.text is larger than {where.limit} bytes", shape=False)
        return text.encode("utf-8")
    if encoding != "base64":
        raise where.fail(f"{label}.encoding {_shown(encoding)} is not supported (only base64)")
    if len(text) // 4 * 3 - text[-2:].count("=") > where.limit:
        raise where.fail(f"{label}.text decodes to more than {where.limit} bytes", shape=False)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise where.fail(f"{label}.text is not valid base64") from None


def _request(where: _Where, request: dict[str, Any]) -> dict[str, Any]:
    method = where.get(request, "method", str, "request.method")
    if not _TOKEN.fullmatch(method):
        raise where.fail(f"request.method {_shown(method)} is not an HTTP method")
    url = where.get(request, "url", str, "request.url")
    try:
        parts = urlsplit(url)
        _ = parts.port  # an out-of-range or non-numeric port raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or _BAD_VALUE.search(url) or " " in url:
        raise where.fail(f"request.url {_shown(url)} is not an http(s) URL")
    body = None
    if "postData" in request:
        post = where.get(request, "postData", dict, "request.postData")
        body = _body(where, post, "request.postData", "_encoding")
        if body is None:
            body = _form(where, post)
    return {"method": method.upper(), "uri": url, "body": body, "headers": _headers(where, request, "request")}


def _form(where: _Where, post: dict[str, Any]) -> bytes:
    """A `postData` that lists only `params` (a form, as some writers log it), encoded again."""
    params = post.get("params", [])
    if not isinstance(params, list) or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("value", ""), str) for p in params):
        raise where.fail(f"request.postData.params must be a list of {{name, value}} objects, not {_shown(params)}")
    encoded = urlencode([(p["name"], p.get("value", "")) for p in params]).encode("ascii")
    if len(encoded) > where.limit:
        raise where.fail(f"request.postData.params encode to more than {where.limit} bytes", shape=False)
    return encoded


def _response(where: _Where, response: dict[str, Any], status: int) -> dict[str, Any]:
    message = response.get("statusText", "")
    if not isinstance(message, str) or _BAD_VALUE.search(message):
        raise where.fail(f"response.statusText must be a one-line string, not {_shown(message)}")
    headers = _headers(where, response, "response")
    content = where.get(response, "content", dict, "response.content")
    if "text" not in content and "_file" in content:
        raise where.fail("response.content is kept in a file beside the HAR (_file): record the HAR with its "
                         "content embedded (Playwright: record_har_content='embed')", shape=False)
    body = _body(where, content, "response.content", "encoding") or None  # empty or absent: no body
    for name in [k for k in headers if k.lower() == "content-encoding"]:
        still_gzip = body is not None and body[:2] == b"\x1f\x8b" and headers[name][-1].strip().lower() == "gzip"
        if not still_gzip:
            del headers[name]  # HAR writers store the decoded body
    for name in [k for k in headers if k.lower() == "content-length"]:
        headers[name] = [str(len(body or b""))]
    return {"status": {"code": status, "message": message}, "headers": headers, "body": {"string": body}}


def _started(where: _Where, entry: dict[str, Any]) -> str | None:
    value = entry.get("startedDateTime")
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.fail(f"startedDateTime must be a string, not {_shown(value)}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise where.fail(f"startedDateTime {_shown(value)} is not an ISO 8601 date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def import_har(source: Path | HarLog, store: CassetteStore, *, scrubber: Scrubber | None = None,
               progress: Progress = None) -> int:
    """Add a HAR file (or what `load_har` read of one) to `store`; returns the new interactions."""
    log = source if isinstance(source, HarLog) else load_har(source)
    rows, blobs = encode_interactions(log.pairs, scrubber or Scrubber())
    for row, started in zip(rows, log.started, strict=True):
        if started is not None:
            row["recorded_at"] = started
    added = store.add_http_interactions(rows, blobs)
    if progress:
        progress(len(rows))
    return added


# -- export ------------------------------------------------------------------------------
#
# Both kinds of row become one entry through `_entry`: an imported interaction keeps vcrpy
# headers (a mapping of lists), an exchange a list of `[name, value]` pairs, so headers
# reach `_entry` as pairs. An exchange keeps no request headers (they carry the API key
# and never take part in its key) and no status text: its entry has none either.

_Pairs = list[tuple[str, str]]
#: The `postData.mimeType` of an exchange's request, by the kind of its canonical body.
_REQUEST_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded",
                  "multipart": "multipart/form-data"}


def _pairs(headers: dict[str, Any], where: str) -> _Pairs:
    if not isinstance(headers, dict):
        raise CassetteError(f"{where}: headers are not a mapping (the cassette was damaged or edited)")
    return [(str(name), str(value)) for name, values in headers.items()
            for value in (values if isinstance(values, list) else [values])]


def _header(headers: _Pairs, name: str) -> str:
    """The last value of a header (any case), or `""`."""
    return next((value for key, value in reversed(headers) if key.lower() == name), "")


def _text_or_base64(data: bytes, target: dict[str, Any], encoding_key: str) -> None:
    try:
        target["text"] = data.decode("utf-8")
    except UnicodeDecodeError:
        target["text"] = base64.b64encode(data).decode("ascii")
        target[encoding_key] = "base64"


def _named(headers: _Pairs) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _entry(*, method: str, url: str, sent: _Pairs, body: bytes | None, body_type: str, status: int, message: str,
           received: _Pairs, reply: bytes, recorded_at: Any) -> dict[str, Any]:
    """One HAR 1.2 entry of a request (`sent` headers, `body`) and its answer (`received`, `reply`)."""
    har_request: dict[str, Any] = {
        "method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [], "headers": _named(sent),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(body or b""),
    }
    if body is not None:
        post: dict[str, Any] = {"mimeType": body_type}
        _text_or_base64(body, post, "_encoding")
        har_request["postData"] = post
    content: dict[str, Any] = {"size": len(reply), "mimeType": _header(received, "content-type")}
    _text_or_base64(reply, content, "encoding")
    return {
        "startedDateTime": _iso(recorded_at), "time": 0, "request": har_request,
        "response": {"status": status, "statusText": message, "httpVersion": "HTTP/1.1", "cookies": [],
                     "headers": _named(received), "content": content,
                     "redirectURL": _header(received, "location"), "headersSize": -1, "bodySize": len(reply)},
        "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0},
    }


def _interaction_entry(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    """The entry of an imported vcrpy or HAR interaction."""
    where = f"cassette {store.path}, HTTP interaction #{row.get('id')}"
    try:
        request, response = decode_interaction(store, row)
        sent = _pairs(request.get("headers") or {}, where)
        received = _pairs(response.get("headers") or {}, where)
        status = response["status"]
        code, message = int(status["code"]), str(status.get("message") or "")
        method, url = str(request["method"]), str(request["uri"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CassetteError(f"{where} is malformed ({error!r}); the cassette was damaged or edited") from None
    return _entry(method=method, url=url, sent=sent, body=request.get("body"), body_type=_header(sent, "content-type"),
                  status=code, message=message, received=received, reply=response["body"]["string"] or b"",
                  recorded_at=row.get("recorded_at"))


def _exchange_entry(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    """The entry of an HTTP-level exchange (a row `checked_exchange` passed), as stored."""
    owner = f"HTTP exchange #{row['id']}"
    request = json.loads(row["request"])  # the canonical request: method, URL, body as matched
    canonical = request.get("body") if isinstance(request, dict) else None
    body = store.read_blob(row["request_body"], owner) if row.get("request_body") is not None else None
    body_type = ""
    if isinstance(canonical, dict) and canonical:
        body_type = _REQUEST_TYPES.get(next(iter(canonical)), "")
        if body_type.startswith("multipart/") and body and body.startswith(b"--") and b"\r\n" in body:
            body_type += "; boundary=" + body[2:body.index(b"\r\n")].decode("latin-1")
    return _entry(method=row["method"], url=row["url"], sent=[], body=body, body_type=body_type,
                  status=row["status"], message="", received=[(str(k), str(v)) for k, v in json.loads(row["headers"])],
                  reply=store.read_blob(row["response_body"], owner) if row.get("response_body") is not None else b"",
                  recorded_at=row.get("recorded_at"))


def _recorded_order(row: dict[str, Any]) -> tuple[float, str, str, int, int]:
    """Exchanges by when they were recorded (`recorded_ts`, the moment `recorded_at`
    names, to the microsecond), ties by key and `seq` (which a pull keeps, unlike ids:
    a database and the file pulled from it give the same HAR), then id."""
    ts = row.get("recorded_ts")
    moment = float(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) else 0.0
    return moment, str(row.get("recorded_at") or ""), row["key"], row["seq"], int(row.get("id") or 0)


def _iso(value: Any) -> str:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(timespec="milliseconds")
        except ValueError:
            pass
    return "1970-01-01T00:00:00.000+00:00"  # HAR requires a date; the cassette did not say


def export_har(store: Store, out: IO[str], *, progress: Progress = None) -> int:
    """Write the cassette's HTTP traffic to `out` as one HAR 1.2 log; returns the entries.

    The imported vcrpy and HAR interactions come first, in the order they were imported,
    then the HTTP level's exchanges in recorded order (`_recorded_order`). Every exchange
    row is checked before the first entry is written; entries are written one at a time,
    so memory holds one body at once.

    Raises:
        CassetteError: a row is damaged (not JSON, a bad digest, a missing or altered
            blob), naming the cassette and the row.
    """
    from .. import __version__

    exchanges = sorted((checked_exchange(store, row) for row in store.exchanges()), key=_recorded_order)
    creator = json.dumps({"name": "tarash-gateway", "version": __version__})
    out.write(f'{{"log": {{"version": "1.2", "creator": {creator}, "entries": [')
    count = 0
    entries = itertools.chain((_interaction_entry(store, row) for row in store.http_interactions()),
                              (_exchange_entry(store, row) for row in exchanges))
    for entry in entries:
        out.write(("," if count else "") + "\n" + json.dumps(entry, ensure_ascii=False))
        count += 1
        if progress:
            progress(1)
    out.write("\n]}}\n")
    return count
