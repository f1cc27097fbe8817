"""A user's app that talks to the provider with plain httpx clients made without any
transport argument, as SDKs make theirs. Never imports tarash. Also a script: ``python
app.py BASE PROMPT`` prints its outcome as JSON (the subprocess tests)."""

from __future__ import annotations

import json
import ssl
import sys
from typing import Any

import httpx

API_KEY = "fal-key-1234567890abcdef"
HEADERS = {"Authorization": f"Key {API_KEY}"}
TLS = ssl.create_default_context()  # one CA bundle load for every client, as a long-running app has


def run_sync(base: str, prompt: str, *, fetch_media: bool = True, module: Any = httpx) -> dict[str, Any]:
    with module.Client(headers=HEADERS, verify=TLS) as client:
        submit = client.post(f"{base}/fal-ai/flux/dev", json={"prompt": prompt, "num_images": 1}).json()
        polls = 0
        while True:
            polls += 1
            status = client.get(submit["status_url"], params={"logs": "1"})
            if status.json()["status"] == "COMPLETED":
                break
        result = client.get(submit["response_url"]).json()
    media = None
    if fetch_media:
        with module.Client(verify=TLS) as plain:  # a second client, as apps download media with another one
            media = plain.get(result["images"][0]["url"]).content.hex()
    return {"submit": submit, "polls": polls, "result": result, "media": media, "status": status.status_code}


async def run_async(base: str, prompt: str, *, fetch_media: bool = True, module: Any = httpx) -> dict[str, Any]:
    async with module.AsyncClient(headers=HEADERS, verify=TLS) as client:
        submit = (await client.post(f"{base}/fal-ai/flux/dev", json={"prompt": prompt, "num_images": 1})).json()
        polls = 0
        while True:
            polls += 1
            status = await client.get(submit["status_url"], params={"logs": "1"})
            if status.json()["status"] == "COMPLETED":
                break
        result = (await client.get(submit["response_url"])).json()
    media = None
    if fetch_media:
        async with module.AsyncClient(verify=TLS) as plain:
            media = (await plain.get(result["images"][0]["url"])).content.hex()
    return {"submit": submit, "polls": polls, "result": result, "media": media, "status": status.status_code}


if __name__ == "__main__":
    outcome = run_sync(sys.argv[1], sys.argv[2])
    print(json.dumps({**outcome, "tarash_imported": "tarash" in sys.modules}))
