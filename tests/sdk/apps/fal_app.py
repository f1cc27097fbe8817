"""fal-client: run, subscribe, then submit / status / result, downloading every output."""

import hashlib
import json

import fal_client
import httpx


def media(url):
    data = httpx.get(url, follow_redirects=True).raise_for_status().content
    return {"url": url, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


ran = fal_client.run("fal-ai/flux/schnell", arguments={"prompt": "a harbour", "image_size": "landscape_16_9"})
image = fal_client.subscribe("fal-ai/flux/dev", arguments={"prompt": "a lighthouse at dusk"})
model = "fal-ai/kling-video/v2/master/text-to-video"
handle = fal_client.submit(model, arguments={"prompt": "waves on rocks", "aspect_ratio": "16:9"})
statuses = [type(fal_client.status(model, handle.request_id)).__name__]
while statuses[-1] != "Completed":
    statuses.append(type(fal_client.status(model, handle.request_id)).__name__)
video = fal_client.result(model, handle.request_id)
print(json.dumps({
    "ran": media(ran["images"][0]["url"]),
    "image": media(image["images"][0]["url"]),
    "video": media(video["video"]["url"]),
    "request_id": handle.request_id,
    "statuses": statuses,
}))
