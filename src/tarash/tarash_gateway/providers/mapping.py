"""Field mapping as data: which request fields a model takes, under what wire names.

Each provider lists :class:`ModelSpec` entries. A spec names a model (or a family by
prefix, matched on a segment boundary: ``fal-ai/minimax`` matches
``fal-ai/minimax/video-01`` but not ``fal-ai/minimax-anything``) and its
:class:`Field` rules. :func:`map_request` turns a request into the provider's payload,
and refuses, before any network call, a value the model cannot take, with a
:class:`~..exceptions.ValidationError` naming the field and the allowed values.

The same data renders the per-provider docs tables (:func:`mapping_table`), so the docs
cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ValidationError

__all__ = ["Field", "ModelSpec", "find_spec", "map_request", "mapping_table", "CONVERTERS"]


def _seconds_suffix(value: Any) -> str:
    return f"{value}s"


#: Named value converters, so specs stay plain data.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "same": lambda v: v,
    "str": str,
    "int": int,
    "float": float,
    "seconds_suffix": _seconds_suffix,  # 8 -> "8s"
}


@dataclass(frozen=True)
class Field:
    """One request field of a model.

    Args:
        source: the request attribute (``duration_seconds``), or ``image_list:<role>``
            for the input image with that role (``image_list:first_frame``), or
            ``image_list:*`` for all images as a list.
        target: the payload key; dots make nested keys (``input.duration``).
        allowed: the values the model takes (compared before conversion), if limited.
        convert: a name from :data:`CONVERTERS` or a mapping of value -> wire value.
        required: refuse the request when the field is missing.
        default: sent when the request leaves the field unset.
    """

    source: str
    target: str
    allowed: tuple[Any, ...] | None = None
    convert: str | dict[Any, Any] = "same"
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class ModelSpec:
    """A model (or model family, by prefix) and the fields it takes."""

    model: str
    kind: str
    fields: tuple[Field, ...]
    title: str = ""
    fixed: dict[str, Any] = field(default_factory=dict)  # always sent, e.g. {"model": "sd3.5-large"}


def find_spec(specs: Iterable[ModelSpec], model: str, kind: str) -> ModelSpec | None:
    """The spec with the longest name that equals ``model`` or prefixes it on a boundary."""
    base = model.split(":", 1)[0]  # Replicate's owner/name:version
    best: ModelSpec | None = None
    for spec in specs:
        if spec.kind != kind:
            continue
        name = spec.model
        if base == name or (base.startswith(name) and (name.endswith("/") or base[len(name)] in "/:-.")):
            if best is None or len(name) > len(best.model):
                best = spec
    return best


def _images(request: Any, role: str) -> list[Any]:
    images = getattr(request, "image_list", None) or []
    if role == "*":
        return [item["image"] for item in images]
    return [item["image"] for item in images if item.get("type") == role]


def _read(request: Any, source: str) -> Any:
    if source.startswith("image_list:"):
        role = source.split(":", 1)[1]
        found = _images(request, role)
        if role == "*":
            return found or None
        return found[0] if found else None
    return getattr(request, source, None)


def _put(payload: dict[str, Any], target: str, value: Any) -> None:
    *parents, leaf = target.split(".")
    for key in parents:
        payload = payload.setdefault(key, {})
    payload[leaf] = value


def map_request(spec: ModelSpec, request: Any, *, provider: str, model: str) -> dict[str, Any]:
    """The provider payload for ``request`` under ``spec``, then ``extra_params`` on top."""
    payload: dict[str, Any] = {}
    for key, value in spec.fixed.items():
        _put(payload, key, value)
    for rule in spec.fields:
        value = _read(request, rule.source)
        if value is None or value == []:
            if rule.required:
                raise ValidationError(
                    f"{model} needs {rule.source.replace('image_list:', 'an image_list entry of type ')}",
                    provider=provider,
                    model=model,
                )
            if rule.default is None:
                continue
            value = rule.default
        if rule.allowed is not None and value not in rule.allowed:
            allowed = ", ".join(repr(a) for a in rule.allowed)
            raise ValidationError(
                f"{model} does not take {rule.source}={value!r}; allowed: {allowed}",
                provider=provider,
                model=model,
            )
        convert = rule.convert
        wire = convert.get(value, value) if isinstance(convert, dict) else CONVERTERS[convert](value)
        _put(payload, rule.target, wire)
    for key, value in (getattr(request, "extra_params", None) or {}).items():
        _put(payload, key, value)
    return payload


def mapping_table(specs: Iterable[ModelSpec]) -> str:
    """A Markdown table per model: request field, wire field, allowed values."""
    out: list[str] = []
    for spec in specs:
        out.append(f"### `{spec.model}` ({spec.kind}){' - ' + spec.title if spec.title else ''}\n")
        out.append("| request field | sent as | allowed values | required |")
        out.append("|---|---|---|---|")
        for rule in spec.fields:
            allowed = ", ".join(f"`{a}`" for a in rule.allowed) if rule.allowed else "any"
            out.append(f"| `{rule.source}` | `{rule.target}` | {allowed} | {'yes' if rule.required else ''} |")
        for key, value in spec.fixed.items():
            out.append(f"| (always) | `{key}` = `{value}` | | |")
        out.append("")
    return "\n".join(out)
