"""google-genai on Vertex AI: generate_videos, then operations polling.

Credentials come from GOOGLE_APPLICATION_CREDENTIALS; with a custom base URL the SDK
needs project and location passed in code (environment ones make it send every request
to the bare base URL).
"""

import hashlib
import json
import os
import time

from google import genai

POLL = float(os.environ.get("APP_POLL_SECONDS", "0.05"))
client = genai.Client(vertexai=True, project=os.environ["APP_PROJECT"], location=os.environ["APP_LOCATION"])
operation = client.models.generate_videos(model="veo-3.0-generate-001", prompt="waves on rocks")
polls = 0
while not operation.done:
    time.sleep(POLL)
    operation = client.operations.get(operation)
    polls += 1
video = operation.response.generated_videos[0].video
print(json.dumps({
    "operation": operation.name,
    "polls": polls,
    "video": {"mime_type": video.mime_type, "size": len(video.video_bytes),
              "sha256": hashlib.sha256(video.video_bytes).hexdigest()},
}))
