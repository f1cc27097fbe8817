"""Mock requests refused exactly where the real adapter refuses them, before any network call.

The check *is* the adapter's: its provider lookup (an unknown name lists the known
ones), its kind check, and its own `prepare` (model ids, the model's field specs in
`providers/mapping.py`, input rules), run dry: credentials and endpoints are filled
in (a mock needs neither), and media inputs are not read (the check needs their
presence, not their bytes). Calls to a registered handler are not checked: its rules
are its own.

The verdict is cached by the value of the config's provider settings and of the
request (so apps that build a config on every call check once), and the last request
object of a config, unchanged, is recognised at once (in its `state.CallState`): a
mock that checks pays once per distinct request, not once per call.
"""

from __future__ import annotations

import copy
from typing import Any

from ..call import Call
from ..exceptions import UnsupportedRequestError, ValidationError
from ..flow import Blocking, Flow
from ..media_io import load_media
from ..provider_layer import builtin_adapter
from ..providers.mapping import strict_fields
from ..registry import get_handler
from .state import CallState

__all__ = ["check_request"]

_REMEMBERED = 4096  # distinct (config, request) values whose verdict is kept
# By value, across config objects: apps that build their config on every call check once.
_by_value: dict[tuple[Any, ...], ValidationError | None] = {}


def check_request(call: Call, state: CallState) -> None:
    """Raise the `ValidationError` the real adapter would raise for this call, if any."""
    config = call.config
    if get_handler(config.provider) is not None:
        return
    request, verdicts = call.request, state.verdicts
    if verdicts is None:
        verdicts = state.verdicts = _Verdicts()
    strict = strict_fields(config)
    last = verdicts.last
    if last is not None and last[0] is request and last[1] == strict and last[2] == request.__dict__:
        verdict = last[3]  # the same request as last time, unchanged: the common case, kept short
    else:
        key = _fingerprint(call, strict)
        if key is not None and key in _by_value:
            verdict = _by_value[key]
        else:
            verdict = _dry_run(call)
            if key is not None:
                if len(_by_value) >= _REMEMBERED:
                    _by_value.clear()
                _by_value[key] = verdict
        verdicts.last = (request, strict, copy.deepcopy(request.__dict__), verdict)
    if verdict is not None:
        raise copy.copy(verdict)


class _Verdicts:
    """The last request one config object checked, as it was then, and its verdict."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[Any, bool, dict[str, Any], ValidationError | None] | None = None


def _fingerprint(call: Call, strict: bool) -> tuple[Any, ...] | None:
    """The request's value as a key, or `None` when it holds lists or dicts (inputs: not cached by value)."""
    values = []
    for value in call.request.__dict__.values():
        if value.__hash__ is None:
            if value:
                return None
            value = ()
        values.append(value)
    config = call.config
    settings = _settings(config.provider_config)
    if settings is None:
        return None
    return (call.kind, type(call.request), strict, config.provider, config.model, config.base_url,
            config.api_version, settings, *values)


def _settings(provider_config: dict[str, Any]) -> tuple[Any, ...] | None:
    """`provider_config` as a key (its values matter to some adapters), or `None` when unhashable."""
    if not provider_config:
        return ()
    try:
        items = tuple(sorted(provider_config.items()))
        hash(items)
    except TypeError:
        return None
    return items


def _dry_run(call: Call) -> ValidationError | None:
    config = call.config
    try:
        protocol = builtin_adapter(call).protocol
        try:
            protocol.check_kind(call)
            keyed = config.model_copy(
                update={"api_key": config.api_key or "mock-key", "base_url": config.base_url or "https://mock.invalid"}
            )
            _drive(protocol.prepare(Call(call.kind, keyed, call.request)))
        except UnsupportedRequestError:
            raise
        except ValidationError as error:  # refused before any network call, as the real adapter's boundary says
            raise UnsupportedRequestError(**error.field_values()) from None
    except ValidationError as error:  # an unknown provider stays a plain ValidationError, as for real calls
        error.__traceback__ = None
        return error
    except Exception as error:  # noqa: BLE001 - a check that cannot tell lets the call through
        import logging  # loads only when there is something to say

        logging.getLogger("tarash.tarash_gateway.mock").debug("mock request check of %s/%s skipped: %r", config.provider, config.model, error)
    return None


def _drive(flow: Flow[Any]) -> None:
    """Run `prepare` to its end with media loads answered by empty bytes."""
    value: Any = None
    while True:
        try:
            effect = flow.send(value)
        except StopIteration:
            return
        if not (isinstance(effect, Blocking) and effect.fn is load_media):
            flow.close()  # no other effect is expected of prepare: the checks so far passed
            return
        value = (b"", effect.args[1] if len(effect.args) > 1 else "application/octet-stream")
