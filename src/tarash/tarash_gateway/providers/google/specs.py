"""The field mapping of Google's families on both surfaces: Veo (`:predictLongRunning`),
Imagen (`:predict`) and the Gemini image models (`:generateContent`), on the Gemini API and
on Vertex AI (which alone takes `seed` and `generate_audio`)."""

from __future__ import annotations

from ..mapping import Field, ModelSpec

__all__ = ["GEMINI_IMAGE", "GEMINI_SPECS", "SPECS", "VERTEX_SPECS"]

_VEO_BASE = (
    Field("prompt", "instances[0].prompt", required=True),
    Field("aspect_ratio", "parameters.aspectRatio", allowed=("16:9", "9:16")),
    Field("negative_prompt", "parameters.negativePrompt"),
    Field("number_of_videos", "parameters.sampleCount", bounds=(1, 4)),
    Field("enhance_prompt", "parameters.enhancePrompt"),
    Field("image_list:reference", "instances[0].image"),  # upstream: a reference is the first frame
    Field("image_list:first_frame", "instances[0].image"),
    Field("image_list:last_frame", "instances[0].lastFrame"),
)
_REFERENCES = (
    Field("image_list:asset", "instances[0].referenceImages"),
    Field("image_list:style", "instances[0].referenceImages"),
)
_VERTEX_ONLY = (Field("seed", "parameters.seed"),)
_AUDIO = Field("generate_audio", "parameters.generateAudio")
_EXTEND = Field("video", "instances[0].video")  # extends an earlier Veo video


def _veo(surface: str, model: str, durations: tuple[int, ...], resolutions: tuple[str, ...],
         *extra: Field, audio: bool = True) -> ModelSpec:
    fields = (
        *_VEO_BASE,
        Field("duration_seconds", "parameters.durationSeconds", allowed=durations),
        Field("resolution", "parameters.resolution", allowed=resolutions),
        *extra,
    )
    if surface == "vertex":
        fields = (*fields, *_VERTEX_ONLY, *((_AUDIO,) if audio else ()))
    return ModelSpec(model, "video", fields, title=f"{_TITLES[surface]} :predictLongRunning")


def _imagen(surface: str, model: str) -> ModelSpec:
    fields: tuple[Field, ...] = (
        Field("prompt", "instances[0].prompt", required=True),
        Field("n", "parameters.sampleCount", bounds=(1, 4)),
        Field("aspect_ratio", "parameters.aspectRatio", allowed=("1:1", "3:4", "4:3", "9:16", "16:9")),
    )
    if surface == "vertex":
        fields = (*fields, Field("negative_prompt", "parameters.negativePrompt"), *_VERTEX_ONLY)
    return ModelSpec(model, "image", fields, title=f"{_TITLES[surface]} :predict")


def _gemini_image(surface: str) -> ModelSpec:
    fields = (
        Field("prompt", "contents[0].parts.text", required=True),
        Field("image_list:*", "contents[0].parts.inlineData"),
        Field("aspect_ratio", "generationConfig.imageConfig.aspectRatio",
              allowed=("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")),
        Field("n", "", allowed=(1,)),
    )
    return ModelSpec(GEMINI_IMAGE, "image", fields, title=f"{_TITLES[surface]} :generateContent")


_TITLES = {"gemini": "Gemini API", "vertex": "Vertex AI"}
GEMINI_IMAGE = "gemini-*image*"


def _surface_specs(surface: str) -> tuple[ModelSpec, ...]:
    return (
        _veo(surface, "veo-3.1", (4, 6, 8), ("720p", "1080p", "4k"), *_REFERENCES, _EXTEND),
        _veo(surface, "veo-3.0", (4, 6, 8), ("720p", "1080p")),
        _veo(surface, "veo-2.0", (5, 6, 7, 8), ("720p",), *_REFERENCES, audio=False),
        _imagen(surface, "imagen-3.0"),
        _imagen(surface, "imagen-4.0"),
        _gemini_image(surface),
    )


GEMINI_SPECS = _surface_specs("gemini")
VERTEX_SPECS = _surface_specs("vertex")
#: Every model's field mapping on both surfaces (renders the docs table).
SPECS: tuple[ModelSpec, ...] = (*GEMINI_SPECS, *VERTEX_SPECS)
