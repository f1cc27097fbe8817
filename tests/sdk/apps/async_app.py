"""The async faces: fal_client.subscribe_async and replicate.async_run, side by side in one event loop."""

import asyncio
import hashlib
import json

import fal_client
import httpx
import replicate


async def fal_image():
    result = await fal_client.subscribe_async("fal-ai/flux/dev", arguments={"prompt": "a lighthouse at dusk"})
    url = result["images"][0]["url"]
    async with httpx.AsyncClient() as client:
        data = (await client.get(url)).raise_for_status().content
    return {"url": url, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


async def replicate_image():
    (output,) = await replicate.async_run("black-forest-labs/flux-schnell", input={"prompt": "a lighthouse"})
    data = await output.aread()
    return {"url": output.url, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


async def main():
    fal, rep = await asyncio.gather(fal_image(), replicate_image())
    print(json.dumps({"fal": fal, "replicate": rep}))


asyncio.run(main())
