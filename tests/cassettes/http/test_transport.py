"""The transports given to one client, and the gateway's own calls recorded only once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import AsyncCassetteTransport, CassetteStore, CassetteTransport
from tarash.tarash_gateway.models import ImageGenerationConfig, ImageGenerationRequest

from .provider_server import ProviderServer


def _counter(face: str, db, base: str, **options):
    """Three GETs through a client given a cassette transport, on one face."""
    if face == "sync":
        with httpx.Client(transport=CassetteTransport(str(db), **options)) as client:
            return [client.get(f"{base}/v1/counter").json()["n"] for _ in range(3)]

    async def run():
        async with httpx.AsyncClient(transport=AsyncCassetteTransport(str(db), **options)) as client:
            return [(await client.get(f"{base}/v1/counter")).json()["n"] for _ in range(3)]

    return asyncio.run(run())


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_client_given_a_cassette_transport_records_and_replays_with_no_block(face, db):
    with ProviderServer() as server:
        assert _counter(face, db, server.base) == [1, 2, 3]
    assert _counter(face, db, server.base, record_mode="none") == [1, 2, 3]  # the server is gone


def test_a_cassette_transport_wrapping_a_given_transport_sends_through_it(db):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"path": request.url.path})

    transport = CassetteTransport(str(db), transport=httpx.MockTransport(handler))
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        assert client.get("/v1/a").json() == {"path": "/v1/a"}
    with httpx.Client(transport=CassetteTransport(str(db), record_mode="none",
                                                  transport=httpx.MockTransport(handler))) as client:
        assert client.get("https://api.example.com/v1/a").json() == {"path": "/v1/a"}
    assert seen == ["/v1/a"]


def test_a_cassette_transport_without_a_cassette_in_force_is_a_plain_transport():
    with ProviderServer() as server, httpx.Client(transport=CassetteTransport()) as client:
        assert [client.get(f"{server.base}/v1/counter").json()["n"] for _ in range(2)] == [1, 2]


def test_the_gateways_own_calls_are_recorded_once_at_the_call_level(face, simulator, db):
    config = ImageGenerationConfig(provider="openai", model="dall-e-3", api_key="sk-test-1234567890",
                                   base_url=simulator.base_url("openai"))
    with use_cassette(db, http="all"):
        face.image(config, ImageGenerationRequest(prompt="a lighthouse"))
    store = CassetteStore.open(db, create=False)
    try:
        assert store.count_recordings() == 1
        assert store.count_exchanges() == 0
    finally:
        store.close()


def test_a_cassette_of_an_older_schema_misses_http_requests_clearly_and_records_after_upgrading(db):
    import sqlite3

    from tarash.tarash_gateway.exceptions import RecordingNotFoundError

    CassetteStore.open(db, create=True).close()
    with sqlite3.connect(db) as conn:  # as tarash-gateway wrote it before the HTTP level
        conn.execute("DROP TABLE http_exchanges")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_http_exchanges'")
        conn.execute("PRAGMA user_version=2")
    answer = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "p1", "status": "succeeded"}))
    with use_cassette(db, record_mode="none"), httpx.Client(transport=answer) as client, \
            pytest.raises(RecordingNotFoundError, match="holds no recording of this HTTP request"):
        client.get("https://api.replicate.com/v1/predictions/p1")
    with use_cassette(db, record_mode="new_episodes"), httpx.Client(transport=answer) as client:
        assert client.get("https://api.replicate.com/v1/predictions/p1").json()["status"] == "succeeded"
    with use_cassette(db, record_mode="none"), httpx.Client(transport=answer) as client:
        assert client.get("https://api.replicate.com/v1/predictions/p1").json()["status"] == "succeeded"


def test_a_poll_recorded_before_its_job_ended_misses_saying_so(db):
    from tarash.tarash_gateway.exceptions import RecordingNotFoundError

    running = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "p1", "status": "processing"}))
    with use_cassette(db), httpx.Client(transport=running) as client:
        client.get("https://api.replicate.com/v1/predictions/p1")
    with use_cassette(db, record_mode="none"), httpx.Client(transport=running) as client, \
            pytest.raises(RecordingNotFoundError, match="none that ends its job"):
        client.get("https://api.replicate.com/v1/predictions/p1")
