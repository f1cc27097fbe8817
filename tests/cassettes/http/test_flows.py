"""Provider job flows recognised in raw traffic: the step of each request, when a poll's
answer is terminal, and the media a recorded answer points to."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway.cassettes.http.flows import classify, host_matches, media_urls, outcome

ID = "abc123"


@pytest.mark.parametrize("method, host, path, body, provider, role, job", [
    ("POST", "queue.fal.run", "/fal-ai/veo3.1/image-to-video", None, "fal", "submit", None),
    ("GET", "queue.fal.run", f"/fal-ai/veo3.1/requests/{ID}/status", None, "fal", "poll", ID),
    ("GET", "queue.fal.run", f"/fal-ai/veo3.1/requests/{ID}", None, "fal", "result", ID),
    ("PUT", "queue.fal.run", f"/fal-ai/veo3.1/requests/{ID}/cancel", None, "fal", "cancel", ID),
    ("POST", "api.replicate.com", "/v1/models/google/veo-3/predictions", None, "replicate", "submit", None),
    ("POST", "api.replicate.com", "/v1/predictions", None, "replicate", "submit", None),
    ("GET", "api.replicate.com", f"/v1/predictions/{ID}", None, "replicate", "poll", ID),
    ("POST", "api.replicate.com", f"/v1/predictions/{ID}/cancel", None, "replicate", "cancel", ID),
    ("POST", "api.openai.com", "/v1/videos", None, "openai", "submit", None),
    ("GET", "api.openai.com", f"/v1/videos/{ID}", None, "openai", "poll", ID),
    ("GET", "api.openai.com", f"/v1/videos/{ID}/content", None, "openai", "media", ID),
    ("GET", "res.openai.azure.com", f"/openai/v1/videos/{ID}", None, "openai", "poll", ID),
    ("POST", "api.openai.com", "/v1/images/generations", None, "openai", "result", None),
    ("POST", "api.dev.runwayml.com", "/v1/image_to_video", None, "runway", "submit", None),
    ("GET", "api.dev.runwayml.com", f"/v1/tasks/{ID}", None, "runway", "poll", ID),
    ("DELETE", "api.dev.runwayml.com", f"/v1/tasks/{ID}", None, "runway", "cancel", ID),
    ("POST", "generativelanguage.googleapis.com", "/v1beta/models/veo-3.1:predictLongRunning", None,
     "google", "submit", None),
    ("GET", "generativelanguage.googleapis.com", f"/v1beta/models/veo-3.1/operations/{ID}", None, "google", "poll", ID),
    ("POST", "us-central1-aiplatform.googleapis.com", "/v1/projects/p/locations/l/publishers/google/models/veo:"
     "fetchPredictOperation", {"operationName": f"projects/p/operations/{ID}"}, "google", "poll", ID),
    ("POST", "api.x.ai", "/v1/videos/generations", None, "xai", "submit", None),
    ("GET", "api.x.ai", f"/v1/videos/{ID}", None, "xai", "poll", ID),
    ("GET", "api.example.com", "/v1/things", None, None, "call", None),
])
def test_each_step_of_each_providers_job_flow_is_recognised(method, host, path, body, provider, role, job):
    step = classify(method, host, path, body)
    assert (step.provider, step.role, step.job) == (provider, role, job)


@pytest.mark.parametrize("host, path, status, answer, terminal", [
    ("queue.fal.run", f"/a/b/requests/{ID}/status", 202, {"status": "IN_PROGRESS"}, False),
    ("queue.fal.run", f"/a/b/requests/{ID}/status", 200, {"status": "COMPLETED"}, True),
    ("api.replicate.com", f"/v1/predictions/{ID}", 200, {"status": "processing"}, False),
    ("api.replicate.com", f"/v1/predictions/{ID}", 200, {"status": "canceled"}, True),
    ("api.openai.com", f"/v1/videos/{ID}", 200, {"status": "in_progress"}, False),
    ("api.openai.com", f"/v1/videos/{ID}", 200, {"status": "completed"}, True),
    ("api.dev.runwayml.com", f"/v1/tasks/{ID}", 200, {"status": "RUNNING"}, False),
    ("api.dev.runwayml.com", f"/v1/tasks/{ID}", 200, {"status": "SUCCEEDED"}, True),
    ("generativelanguage.googleapis.com", f"/v1beta/operations/{ID}", 200, {"done": False}, False),
    ("generativelanguage.googleapis.com", f"/v1beta/operations/{ID}", 200, {"done": True}, True),
    ("api.x.ai", f"/v1/videos/{ID}", 202, {"status": "pending"}, False),
    ("api.x.ai", f"/v1/videos/{ID}", 200, {"status": "done"}, True),
    ("api.x.ai", f"/v1/videos/{ID}", 404, {"error": "gone"}, True),
])
def test_a_polls_answer_is_terminal_when_its_job_ended(host, path, status, answer, terminal):
    assert outcome(classify("GET", host, path), status, answer)[0] is terminal


def test_a_submits_answer_names_its_job():
    step = classify("POST", "api.dev.runwayml.com", "/v1/text_to_video")
    assert outcome(step, 200, {"id": ID}) == (False, ID)
    google = classify("POST", "generativelanguage.googleapis.com", "/v1beta/models/veo:predictLongRunning")
    assert outcome(google, 200, {"name": f"models/veo/operations/{ID}"}) == (False, ID)


@pytest.mark.parametrize("host, path, answer, urls", [
    ("queue.fal.run", f"/a/b/requests/{ID}", {"images": [{"url": "https://v3.fal.media/1.png"},
                                                         {"url": "https://v3.fal.media/2.png"}],
                                              "video": {"url": "https://v3.fal.media/v.mp4"}},
     ["https://v3.fal.media/1.png", "https://v3.fal.media/2.png", "https://v3.fal.media/v.mp4"]),
    ("api.replicate.com", f"/v1/predictions/{ID}", {"input": {"image": "https://in.example/x.png"},
                                                  "output": ["https://replicate.delivery/o.webp"]},
     ["https://replicate.delivery/o.webp"]),
    ("api.replicate.com", f"/v1/predictions/{ID}", {"output": "https://replicate.delivery/o.mp4"},
     ["https://replicate.delivery/o.mp4"]),
    ("api.dev.runwayml.com", f"/v1/tasks/{ID}", {"output": ["https://d.cloudfront.net/v.mp4?_jwt=x"]},
     ["https://d.cloudfront.net/v.mp4?_jwt=x"]),
    ("api.x.ai", f"/v1/videos/{ID}", {"video": {"url": "https://vidgen.x.ai/v.mp4"}}, ["https://vidgen.x.ai/v.mp4"]),
    ("generativelanguage.googleapis.com", f"/v1beta/operations/{ID}",
     {"done": True, "response": {"generateVideoResponse": {"generatedSamples": [
         {"video": {"uri": "https://generativelanguage.googleapis.com/v1beta/files/f:download?alt=media"}},
         {"video": {"uri": "gs://bucket/sample.mp4"}}]}}},
     ["https://generativelanguage.googleapis.com/v1beta/files/f:download?alt=media"]),
])
def test_the_media_urls_of_a_recorded_answer_are_found(host, path, answer, urls):
    assert media_urls(classify("GET", host, path), answer) == urls


def test_openai_image_urls_are_found_in_data():
    step = classify("POST", "api.openai.com", "/v1/images/generations")
    assert media_urls(step, {"data": [{"url": "https://oaidalle.blob/x.png?sig=1"}, {"b64_json": "AA"}]}) == [
        "https://oaidalle.blob/x.png?sig=1"]


@pytest.mark.parametrize("host, port, patterns, expected", [
    ("queue.fal.run", None, ("*.fal.run",), True),
    ("eastus-aiplatform.googleapis.com", None, ("*-aiplatform.googleapis.com",), True),
    ("127.0.0.1", 8080, ("127.0.0.1",), True),
    ("127.0.0.1", 8080, ("127.0.0.1:9090",), False),
    ("evil-fal.run.example", None, ("*.fal.run",), False),
])
def test_hosts_match_their_patterns(host, port, patterns, expected):
    assert host_matches(host, port, patterns) is expected
