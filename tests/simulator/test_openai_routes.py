"""OpenAI's video list, streamed images, and Azure's deployment and v1 paths."""

from __future__ import annotations

import base64
import json

AUTH = {"Authorization": "Bearer sk-k"}


def _form(**fields: str) -> dict[str, tuple[None, str]]:
    """Multipart text fields, as the openai SDK sends a video create."""
    return {name: (None, value) for name, value in fields.items()}


def _events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_streamed_image_generation_sends_partial_then_completed_events(sim, http):
    body = {"model": "gpt-image-1", "prompt": "a cat", "stream": True, "partial_images": 2, "size": "1024x1024"}
    answer = http.post(f"{sim.base_url('openai')}/images/generations", json=body, headers=AUTH)
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = _events(answer.text)
    assert [name for name, _ in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert [data["partial_image_index"] for _, data in events[:2]] == [0, 1]
    completed = events[-1][1]
    assert completed["type"] == "image_generation.completed" and completed["size"] == "1024x1024"
    assert base64.b64decode(completed["b64_json"]).startswith(b"\x89PNG")


def test_an_unstreamed_image_stays_json(sim, http):
    body = {"model": "gpt-image-1", "prompt": "a cat"}
    answer = http.post(f"{sim.base_url('openai')}/images/generations", json=body, headers=AUTH)
    assert answer.headers["content-type"] == "application/json" and len(answer.json()["data"]) == 1


def test_videos_are_listed_newest_first_with_paging(sim, http):
    base = sim.base_url("openai")
    made = [http.post(f"{base}/videos", files=_form(prompt=f"clip {i}", model="sora-2"), headers=AUTH).json()["id"]
            for i in range(3)]
    listed = http.get(f"{base}/videos", params={"limit": 100}, headers=AUTH).json()
    ids = [video["id"] for video in listed["data"]]
    assert listed["object"] == "list" and ids[:3] == made[::-1]
    page = http.get(f"{base}/videos", params={"limit": 1, "after": made[2]}, headers=AUTH).json()
    assert [video["id"] for video in page["data"]] == [made[1]] and page["has_more"] is True


def test_azure_deployment_path_generates_with_the_deployment_as_model(sim, http):
    url = f"{sim.base_url('openai')}/openai/deployments/my-image-deployment/images/generations"
    answer = http.post(url, params={"api-version": "2025-04-01-preview"}, json={"prompt": "a cat"},
                       headers={"api-key": "az"})
    assert answer.status_code == 200 and "b64_json" in answer.json()["data"][0]
    job = sim.jobs[-1]
    assert job.payload["model"] == "my-image-deployment" and job.payload["auth"] == "api-key"
    assert job.payload["api_version"] == "2025-04-01-preview"


def test_azure_v1_api_path_creates_and_polls_videos(sim, http):
    base = f"{sim.base_url('openai')}/openai/v1"
    video = http.post(f"{base}/videos", files=_form(prompt="a dog", model="sora-2"), headers={"api-key": "az"}).json()
    assert video["status"] == "queued"
    assert http.get(f"{base}/videos/{video['id']}", headers={"api-key": "az"}).json()["id"] == video["id"]


def test_a_streamed_image_edit_sends_image_edit_events(sim, http):
    fields = {**_form(model="gpt-image-1", prompt="add a hat", stream="true"), "image": ("cat.png", b"\x89PNG", "image/png")}
    answer = http.post(f"{sim.base_url('openai')}/images/edits", files=fields, headers=AUTH)
    assert [name for name, _ in _events(answer.text)] == ["image_edit.completed"]
