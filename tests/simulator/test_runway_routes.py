"""Runway's text-to-image task, polled like its video tasks."""

from __future__ import annotations

HEADERS = {"Authorization": "Bearer key_k", "X-Runway-Version": "2024-11-06"}


def test_text_to_image_task_outputs_a_png(sim, http):
    base = sim.base_url("runway")
    body = {"model": "gen4_image", "promptText": "a cat", "ratio": "1920:1080"}
    task_id = http.post(f"{base}/v1/text_to_image", json=body, headers=HEADERS).json()["id"]
    statuses = []
    while not statuses or statuses[-1] not in ("SUCCEEDED", "FAILED"):
        task = http.get(f"{base}/v1/tasks/{task_id}", headers=HEADERS).json()
        statuses.append(task["status"])
    assert statuses[-1] == "SUCCEEDED" and "RUNNING" in statuses
    assert task["output"][0].startswith(f"{sim.url}/media/images/")
    assert http.get(task["output"][0]).content.startswith(b"\x89PNG")


def test_text_to_image_refuses_snake_case_keys_like_the_others(sim, http):
    body = {"model": "gen4_image", "prompt_text": "a cat", "ratio": "1920:1080"}
    answer = http.post(f"{sim.base_url('runway')}/v1/text_to_image", json=body, headers=HEADERS)
    assert answer.status_code == 400 and answer.json()["issues"][0]["path"] == ["prompt_text"]
