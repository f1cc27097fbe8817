"""openai: images.generate (plain and streamed), videos create + poll + download_content + list."""

import base64
import hashlib
import json
import os
import time
import warnings

import openai

warnings.simplefilter("ignore", DeprecationWarning)  # the SDK warns about the Sora API's end of life
POLL = float(os.environ.get("APP_POLL_SECONDS", "0.05"))


def digest(data):
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


client = openai.OpenAI()
image = client.images.generate(model="gpt-image-1", prompt="a lighthouse at dusk", size="1024x1024")
events = list(client.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1024x1024", stream=True,
                                     partial_images=1))
video = client.videos.create(model="sora-2", prompt="waves on rocks", seconds="4", size="1280x720")
statuses = [video.status]
while video.status not in ("completed", "failed"):
    time.sleep(POLL)
    video = client.videos.retrieve(video.id)
    statuses.append(video.status)
content = client.videos.download_content(video.id).read()
print(json.dumps({
    "image": digest(base64.b64decode(image.data[0].b64_json)),
    "stream": [event.type for event in events],
    "streamed_image": digest(base64.b64decode(events[-1].b64_json)),
    "video": {"id": video.id, "statuses": statuses, **digest(content)},
    "listed": [item.id for item in client.videos.list()],
}))
