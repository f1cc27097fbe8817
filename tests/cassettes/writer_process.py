"""A separate process recording into one cassette (used by test_store.py; not a test).

    python writer_process.py CASSETTE TAG COUNT [GO_FILE]

Registers a local provider, prints ``ready``, waits for GO_FILE to exist (if given),
then records COUNT calls (forever if COUNT is 0) with prompts ``TAG-<i>``, printing
``i`` after each call returns, i.e. after its recording is committed.
"""

from __future__ import annotations

import os
import sys
import time

from tarash.tarash_gateway import generate_video, register_provider, use_cassette
from tarash.tarash_gateway.models import (
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)


class Handler:
    def generate_video(self, config, request, on_progress=None):
        body = (request.prompt.encode() * 4096)[:64 * 1024]  # unique bytes: a blob per call
        return VideoGenerationResponse(request_id=request.prompt, video={"content": body, "content_type": "video/mp4"})


def main() -> None:
    path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    go = sys.argv[4] if len(sys.argv) > 4 else None
    register_provider("acme-test", Handler())
    config = VideoGenerationConfig(provider="acme-test", model="m1")
    with use_cassette(path, record_mode="new_episodes"):
        print("ready", flush=True)
        while go and not os.path.exists(go):
            time.sleep(0.005)
        i = 0
        while count == 0 or i < count:
            generate_video(config, VideoGenerationRequest(prompt=f"{tag}-{i}"))
            print(i, flush=True)
            i += 1


if __name__ == "__main__":
    main()
