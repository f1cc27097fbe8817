"""One process of a recording fleet (used by test_fleet.py; not a test).

    python fleet_writer.py CASSETTE TAG COUNT GO_FILE

Registers a local provider, prints ``ready``, waits for GO_FILE to exist, then records
COUNT calls with prompts ``TAG-<i>`` in record mode ``all`` (every call is recorded,
even when another process recorded an equal request meanwhile), printing ``i`` after
each call returns, i.e. after its recording is committed.
"""

from __future__ import annotations

import os
import sys
import time

from tarash.tarash_gateway import generate_video, register_provider, use_cassette
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse


class Handler:
    def generate_video(self, config, request, on_progress=None):
        body = (request.prompt.encode() * 4096)[:64 * 1024]  # a blob per prompt: equal prompts share it
        return VideoGenerationResponse(request_id=f"{request.prompt}@{os.getpid()}",
                                       video={"content": body, "content_type": "video/mp4"})


def main() -> None:
    path, tag, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    register_provider("acme-test", Handler())
    config = VideoGenerationConfig(provider="acme-test", model="m1")
    with use_cassette(path, record_mode="all"):
        print("ready", flush=True)
        while not os.path.exists(go):
            time.sleep(0.005)
        for i in range(count):
            generate_video(config, VideoGenerationRequest(prompt=f"{tag}-{i}"))
            print(i, flush=True)


if __name__ == "__main__":
    main()
