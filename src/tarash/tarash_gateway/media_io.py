"""Loading media given as a URL, a data URI or raw base64 (never at import, never to disk)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlparse

from .exceptions import HTTPConnectionError, HTTPError, ValidationError

__all__ = ["guess_content_type", "load_media", "to_data_uri"]


def guess_content_type(url: str, default: str) -> str:
    if url.startswith("data:"):
        return url[5:].split(";", 1)[0].split(",", 1)[0] or default
    guessed, _ = mimetypes.guess_type(urlparse(url).path)
    return guessed or default


def to_data_uri(content: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


def load_media(url: str, default_type: str, *, timeout: float = 30.0) -> tuple[bytes, str]:
    """The bytes and content type behind `url` (`file://`, `data:`, `http(s)://` or base64).

    A mock output URL past its expiry (`mock.expiry`) fails as a real expired URL does:
    an `HTTPError` with the status the provider answers.
    """
    if "#tarash-expires=" in url:
        from .mock.expiry import expired_status

        status = expired_status(url)
        if status is not None:
            raise HTTPError(f"downloading {url} gave HTTP {status} (the URL has expired)", status_code=status)
    if url.startswith("data:"):
        header, _, payload = url.partition(",")
        try:
            data = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode()
        except binascii.Error as error:
            raise ValidationError(f"not a valid data URI: {error}") from None
        return data, guess_content_type(url, default_type)
    scheme = urlparse(url).scheme
    if scheme == "file":
        from urllib.request import url2pathname  # it loads http.client, email and ssl: only when needed

        path = Path(url2pathname(urlparse(url).path))
        try:
            return path.read_bytes(), guess_content_type(url, default_type)
        except OSError as error:
            raise ValidationError(f"cannot read {url}: {error.strerror}") from None
    if scheme in {"http", "https"}:
        import httpx  # only when media is downloaded: a mock-only process never loads it

        from .cassettes.http.hook import own_client

        try:
            # the gateway's own client: part of a call, recorded at the call level only
            with own_client(httpx.Client(timeout=timeout, follow_redirects=True)) as client:
                response = client.get(url)
        except httpx.TransportError as error:
            raise HTTPConnectionError(f"downloading {url} failed: {error}") from error
        if response.status_code >= 400:
            raise HTTPError(f"downloading {url} gave HTTP {response.status_code}", status_code=response.status_code)
        return response.content, response.headers.get("content-type", guess_content_type(url, default_type))
    try:
        return base64.b64decode(url, validate=True), default_type
    except binascii.Error:
        raise ValidationError(f"cannot load media from {url[:80]!r}: not a URL, data URI or base64") from None
