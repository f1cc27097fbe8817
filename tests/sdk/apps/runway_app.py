"""runwayml: image_to_video.create, then tasks.retrieve polling (not wait_for_task_output, which sleeps)."""

import hashlib
import json
import os
import time

import httpx
import runwayml

POLL = float(os.environ.get("APP_POLL_SECONDS", "0.05"))
client = runwayml.RunwayML()


def finish(task_id):
    statuses = []
    while not statuses or statuses[-1] not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        if statuses:
            time.sleep(POLL)
        task = client.tasks.retrieve(task_id)
        statuses.append(task.status)
    data = httpx.get(task.output[0], follow_redirects=True).raise_for_status().content
    return {"id": task_id, "statuses": statuses, "url": task.output[0], "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


started = time.monotonic()
video = client.image_to_video.create(model="gen4_turbo", prompt_image="https://example.com/first-frame.png",
                                     ratio="1280:720", prompt_text="waves on rocks")
result = {"video": finish(video.id)}
if os.environ.get("APP_SKIP_IMAGE") != "1":
    image = client.text_to_image.create(model="gen4_image", prompt_text="a lighthouse", ratio="1920:1080")
    result["image"] = finish(image.id)
result["seconds"] = time.monotonic() - started
print(json.dumps(result))
