"""One process of a recording fleet (used by test_fleet.py; not a test).

    python fleet_writer.py CASSETTE TAG COUNT GO_FILE [PROVIDER_URL]

Registers a local provider, prints ``ready``, waits for GO_FILE to exist, then records
COUNT calls with prompts ``TAG-<i>`` in record mode ``all`` (every call is recorded,
even when another process recorded an equal request meanwhile) and, at the HTTP level,
COUNT requests ``GET /v1/counter?tag=TAG&i=<i>`` of a plain httpx client to the loopback
provider at PROVIDER_URL (its answer numbers every request it serves), printing
``i n`` after each pair returns, i.e. after both are committed; then one whole job flow
(submit, polls, result, media captured) with the prompt ``TAG-flow``, printing ``done``.
Without PROVIDER_URL, only the calls, printing ``i`` after each.
"""

from __future__ import annotations

import os
import sys
import time

import httpx

from tarash.tarash_gateway import generate_video, register_provider, use_cassette
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse


class Handler:
    def generate_video(self, config, request, on_progress=None):
        body = (request.prompt.encode() * 4096)[:64 * 1024]  # a blob per prompt: equal prompts share it
        return VideoGenerationResponse(request_id=f"{request.prompt}@{os.getpid()}",
                                       video={"content": body, "content_type": "video/mp4"})


def main() -> None:
    path, tag, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    base = sys.argv[5] if len(sys.argv) > 5 else None
    register_provider("acme-test", Handler())
    config = VideoGenerationConfig(provider="acme-test", model="m1")
    with use_cassette(path, record_mode="all", http_hosts=("127.0.0.1",)), httpx.Client() as client:
        print("ready", flush=True)
        while not os.path.exists(go):
            time.sleep(0.005)
        for i in range(count):
            generate_video(config, VideoGenerationRequest(prompt=f"{tag}-{i}"))
            if base is None:
                print(i, flush=True)
                continue
            n = client.get(f"{base}/v1/counter", params={"tag": tag, "i": i}).json()["n"]
            print(i, n, flush=True)
        if base is None:
            return
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
        from app import run_sync  # the HTTP tests' app: submit, polls, result, media

        run_sync(base, f"{tag}-flow", fetch_media=False)
    print("done", flush=True)


if __name__ == "__main__":
    main()
