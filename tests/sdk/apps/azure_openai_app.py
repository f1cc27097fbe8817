"""openai's AzureOpenAI: images through a deployment, then a video through Azure's v1 API."""

import base64
import hashlib
import json
import os
import time
import warnings

import openai

warnings.simplefilter("ignore", DeprecationWarning)
POLL = float(os.environ.get("APP_POLL_SECONDS", "0.05"))

azure = openai.AzureOpenAI()
image = azure.images.generate(model="my-image-deployment", prompt="a lighthouse at dusk")
data = base64.b64decode(image.data[0].b64_json)
v1 = openai.OpenAI(base_url=os.environ["AZURE_OPENAI_ENDPOINT"].rstrip("/") + "/openai/v1",
                   api_key=os.environ["AZURE_OPENAI_API_KEY"])
video = v1.videos.create(model="sora-2", prompt="waves on rocks")
while video.status not in ("completed", "failed"):
    time.sleep(POLL)
    video = v1.videos.retrieve(video.id)
content = v1.videos.download_content(video.id).read()
print(json.dumps({
    "image": {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
    "video": {"status": video.status, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()},
}))
