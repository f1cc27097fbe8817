"""The (provider, model) pairs whose video jobs are polled: the mock's phase faults and the
simulator's scenarios are tested over the same list."""

from __future__ import annotations

POLLED = [
    ("fal", "fal-ai/veo3.1"),
    ("replicate", "google/veo-3"),
    ("openai", "sora-2"),
    ("google", "veo-3.1-generate-preview"),
    ("runway", "gen4_turbo"),
    ("xai", "grok-imagine-video"),
]
IDS = [provider for provider, _ in POLLED]
