"""Field mapping as data: which request fields a model takes, under what wire names.

Each provider lists `ModelSpec` entries. A spec names a model (or a family by
prefix, matched on a segment boundary: `fal-ai/minimax` matches
`fal-ai/minimax/video-01` but not `fal-ai/minimax-anything`) and its
`Field` rules. `map_request` turns a request into the provider's payload,
and refuses, before any network call, a value the model cannot take, with an
`UnsupportedRequestError` (a `ValidationError`) naming the field
and the allowed values; a fallback chain skips such a config and goes on.

The same data renders the per-provider docs tables (`mapping_table`), so the docs
cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from ..env import env_flag
from ..exceptions import UnsupportedRequestError, ValidationError
from .inputs import wire_url

__all__ = [
    "CONVERTERS",
    "Field",
    "ModelSpec",
    "find_spec",
    "map_request",
    "mapping_table",
    "strict_fields",
    "unused_fields",
]


def _seconds_suffix(value: Any) -> str:
    return f"{value}s"


def _size(value: Any) -> tuple[int, int]:
    width, _, height = str(value).lower().partition("x")
    return int(width), int(height)


def _http_url(value: Any) -> str:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value
    raise ValueError("only http(s) URLs are accepted here, not data URIs, base64 or bytes")


#: Named value converters, so specs stay plain data.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "same": lambda v: v,
    "str": str,
    "int": int,
    "float": float,
    "seconds_suffix": _seconds_suffix,  # 8 -> "8s"
    "media_url": wire_url,  # any media input -> http(s)/data: URL (bytes become a data URI)
    "video_url": lambda v: wire_url(v, "video/mp4"),
    "media_urls": lambda items: [wire_url(v) for v in items],  # a list of media inputs
    "http_url": _http_url,  # models that fetch inputs themselves: no data URIs or bytes
    "size_object": lambda v: dict(zip(("width", "height"), _size(v), strict=True)),  # "1024x768" -> {"width":..}
    "size_width": lambda v: _size(v)[0],
    "size_height": lambda v: _size(v)[1],
    "frames_at_24fps": lambda v: int(v) * 24,  # seconds -> frame count
}


# Field and ModelSpec are named tuples, not dataclasses: immutable plain data, and a
# dataclass costs about a millisecond to create at import (the mock's request check loads
# this module in every mock-only process).
class Field(NamedTuple):
    """One request field of a model.

    Args:
        source: the request attribute (`duration_seconds`), or `image_list:<role>`
            for the input image with that role (`image_list:first_frame`), or
            `image_list:*` for all images as a list, `image_list:<role>[]` for all
            images of that role as a list, or `extra_params:<key>` for
            one key of `extra_params` (validated here, then not sent a second time).
            Several sources joined by `+` (`aspect_ratio+resolution`) read as a
            tuple, missing only when every part is; `allowed`/`convert` key on it.
        target: the payload key; dots make nested keys (`input.duration`). An empty
            target checks the value (`allowed`, `bounds`) but sends nothing.
        allowed: the values the model takes (compared before conversion), if limited.
        convert: a name from `CONVERTERS` or a mapping of value -> wire value.
            A converter that raises `ValueError` refuses the request (`ValidationError`).
        required: refuse the request when the field is missing.
        default: sent when the request leaves the field unset.
        bounds: the inclusive `(min, max)` a number must lie in, if limited.
    """

    source: str
    target: str
    allowed: tuple[Any, ...] | None = None
    convert: str | dict[Any, Any] = "same"
    required: bool = False
    default: Any = None
    bounds: tuple[float, float] | None = None


class ModelSpec(NamedTuple):
    """A model (or model family, by prefix) and the fields it takes."""

    model: str
    kind: str
    fields: tuple[Field, ...]
    title: str = ""
    fixed: Mapping[str, Any] = MappingProxyType({})  # always sent, e.g. {"model": "sd3.5-large"}


def find_spec(specs: Iterable[ModelSpec], model: str, kind: str) -> ModelSpec | None:
    """The spec with the longest name that equals `model` or prefixes it on a boundary."""
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
    if "+" in source:
        parts = tuple(_read(request, part) for part in source.split("+"))
        return None if all(part is None for part in parts) else parts
    if source.startswith("extra_params:"):
        return (getattr(request, "extra_params", None) or {}).get(source.split(":", 1)[1])
    if source.startswith("image_list:") and source.endswith("[]"):
        return _images(request, source[len("image_list:") : -2]) or None
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


def map_request(
    spec: ModelSpec,
    request: Any,
    *,
    provider: str,
    model: str,
    reads: Iterable[str] = (),
    strict: bool = False,
) -> dict[str, Any]:
    """The provider payload for `request` under `spec`, then `extra_params` on top.

    Request fields the model does not take (not read by a rule, nor in `reads`, the
    fields the provider handles itself) are left out, and reported: logged once per
    provider, model and field, or, with `strict`, refused with a `ValidationError`
    that names them and the fields the model takes.
    """
    unused = unused_fields(spec, request, reads)
    if unused:
        _report_unused(spec, unused, provider=provider, model=model, strict=strict, reads=reads)
    payload: dict[str, Any] = {}
    for key, value in spec.fixed.items():
        _put(payload, key, value)
    for rule in spec.fields:
        value = _read(request, rule.source)
        if value is None or value == []:
            if rule.required:
                raise UnsupportedRequestError(
                    f"{model} needs {rule.source.replace('image_list:', 'an image_list entry of type ')}",
                    provider=provider,
                    model=model,
                )
            if rule.default is None:
                continue
            value = rule.default
        if rule.allowed is not None and value not in rule.allowed:
            allowed = ", ".join(repr(a) for a in rule.allowed)
            raise UnsupportedRequestError(
                f"{model} does not take {rule.source}={value!r}; allowed: {allowed}",
                provider=provider,
                model=model,
            )
        if rule.bounds is not None and not _within(value, rule.bounds):
            low, high = rule.bounds
            raise UnsupportedRequestError(
                f"{model} does not take {rule.source}={value!r}; allowed: {_number(low)}..{_number(high)}",
                provider=provider,
                model=model,
            )
        convert = rule.convert
        try:
            wire = convert.get(value, value) if isinstance(convert, dict) else CONVERTERS[convert](value)
        except (TypeError, ValueError, ValidationError) as error:
            raise UnsupportedRequestError(
                f"{model} cannot take {rule.source}: {error}", provider=provider, model=model
            ) from None
        if rule.target:
            _put(payload, rule.target, wire)
    consumed = {r.source.split(":", 1)[1] for r in spec.fields if r.source.startswith("extra_params:")}
    for key, value in (getattr(request, "extra_params", None) or {}).items():
        if key not in consumed:
            _put(payload, key, value)
    return payload


_ALWAYS_READ = frozenset({"prompt", "extra_params"})


def unused_fields(spec: ModelSpec, request: Any, reads: Iterable[str] = ()) -> list[str]:
    """The request fields set to something other than their default that nothing reads."""
    read = {part.split(":", 1)[0] for rule in spec.fields for part in rule.source.split("+")}
    read |= _ALWAYS_READ | set(reads)
    fields = type(request).model_fields
    unused = []
    for name, info in fields.items():
        if name in read:
            continue
        value = getattr(request, name)
        if value is None or value == [] or value == {} or value == info.get_default(call_default_factory=True):
            continue
        unused.append(name)
    return unused


_reported: set[tuple[str, str, str]] = set()


def _report_unused(
    spec: ModelSpec, unused: list[str], *, provider: str, model: str, strict: bool, reads: Iterable[str]
) -> None:
    if strict:
        takes = sorted({part.split(":", 1)[0] for rule in spec.fields for part in rule.source.split("+")} | set(reads))
        raise UnsupportedRequestError(
            f"{model} does not take {', '.join(unused)} (strict_fields); it takes: {', '.join(takes)}",
            provider=provider,
            model=model,
        )
    for name in unused:
        key = (provider, model, name)
        if key not in _reported:
            _reported.add(key)
            import logging  # loads only when there is something to say

            logging.getLogger("tarash.tarash_gateway.providers").warning(
                "%s %s does not take %s: left out of the request (provider_config strict_fields=True or "
                "TARASH_STRICT_FIELDS=1 refuses such requests instead)",
                provider,
                model,
                name,
            )


def strict_fields(config: Any) -> bool:
    """Whether unused request fields are refused: `provider_config["strict_fields"]`, else
    `TARASH_STRICT_FIELDS=1` in the environment."""
    own = (config.provider_config or {}).get("strict_fields")
    return bool(own) if own is not None else env_flag("TARASH_STRICT_FIELDS")


def _number(value: float) -> str:
    """`35` not `35.0`, and `4294967294` not `4.29497e+09`."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _within(value: Any, bounds: tuple[float, float]) -> bool:
    try:
        return bounds[0] <= float(value) <= bounds[1] and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False


def mapping_table(specs: Iterable[ModelSpec]) -> str:
    """A Markdown table per model: request field, wire field, allowed values."""
    out: list[str] = []
    for spec in specs:
        out.append(f"### `{spec.model}` ({spec.kind}){' - ' + spec.title if spec.title else ''}\n")
        out.append("| request field | sent as | allowed values | required |")
        out.append("|---|---|---|---|")
        for rule in spec.fields:
            if rule.allowed:
                allowed = ", ".join(f"`{'+'.join(map(str, a)) if isinstance(a, tuple) else a}`" for a in rule.allowed)
            elif rule.bounds:
                allowed = f"`{_number(rule.bounds[0])}`..`{_number(rule.bounds[1])}`"
            else:
                allowed = "any"
            sent = f"`{rule.target}`" if rule.target else "(checked, not sent)"
            out.append(f"| `{rule.source}` | {sent} | {allowed} | {'yes' if rule.required else ''} |")
        for key, value in spec.fixed.items():
            out.append(f"| (always) | `{key}` = `{value}` | | |")
        out.append("")
    return "\n".join(out)
