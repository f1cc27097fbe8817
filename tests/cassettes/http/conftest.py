"""Fixtures of the HTTP-level tests: the loopback provider server, and the app's face
(sync or async, ``httpx`` or ``httpx2`` clients made with no transport argument)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import app
from .provider_server import ProviderServer

MODULES = ["httpx"] + (["httpx2"] if importlib.util.find_spec("httpx2") else [])


class AppFace:
    """The app, run on one face with one HTTP module."""

    def __init__(self, name: str, module: str) -> None:
        self.name, self.module_name = name, module
        self.module = importlib.import_module(module)

    def run(self, base: str, prompt: str = "a red fox", **options: Any) -> dict[str, Any]:
        if self.name == "sync":
            return app.run_sync(base, prompt, module=self.module, **options)
        return asyncio.run(app.run_async(base, prompt, module=self.module, **options))

    def get(self, url: str) -> Any:
        if self.name == "sync":
            with self.module.Client(verify=app.TLS) as client:
                return client.get(url)

        async def get() -> Any:
            async with self.module.AsyncClient(verify=app.TLS) as client:
                return await client.get(url)

        return asyncio.run(get())

    def post(self, url: str, payload: dict[str, Any]) -> Any:
        """A JSON POST with the app's key, as its next call to the provider."""
        if self.name == "sync":
            with self.module.Client(headers=app.HEADERS, verify=app.TLS) as client:
                return client.post(url, json=payload)

        async def post() -> Any:
            async with self.module.AsyncClient(headers=app.HEADERS, verify=app.TLS) as client:
                return await client.post(url, json=payload)

        return asyncio.run(post())

    def __repr__(self) -> str:
        return f"{self.name}-{self.module_name}"


@pytest.fixture(params=[(face, module) for module in MODULES for face in ("sync", "async")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def app_face(request: pytest.FixtureRequest) -> AppFace:
    return AppFace(*request.param)


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    with ProviderServer() as running:
        yield running


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cassettes" / "http.db"


@pytest.fixture(autouse=True)
def _no_http_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TARASH_CASSETTE_HTTP", "TARASH_CASSETTE_HTTP_HOSTS"):
        monkeypatch.delenv(name, raising=False)
