"""A spending budget: real (paid) calls past it are refused before they are sent.

`TARASH_BUDGET_USD=0` makes a test run that can never spend money: every real call
raises `BudgetExceededError` (not retryable: it stops a fallback
chain), while replays and mocks go on. A positive budget lets real calls through while
the process's estimated spending (`cost`) stays within it. A config's
`budget_usd` sets the limit for that config's calls instead of the environment (one
account for the process either way):

```text
TARASH_BUDGET_USD=2.50 python app.py

config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", budget_usd=0)
```

With a budget in force, a real call is charged its estimate before it is sent (under a
lock, so threads and tasks racing for the last dollar cannot both pass), and refunded
when it is refused before any network call or its submit is answered with an error. A
model the price table has no price for is refused too (the budget could not be kept);
give it a price with `TARASH_PRICES` or `set_price_table`. Nothing here
runs while no budget is set.
"""

from __future__ import annotations

import threading
from typing import Any

from .call import Call
from .cost import estimate
from .env import env_value
from .exceptions import BudgetExceededError, UnsupportedRequestError, ValidationError
from .flow import Flow
from .layers import Layer
from .metadata import Origin
from .models import AnyConfig

__all__ = ["BudgetLayer", "budget_limit", "reset_spending", "spent_usd"]

_spent = 0.0
_lock = threading.Lock()


def budget_limit(config: AnyConfig) -> float | None:
    """The budget in force for `config`: its `budget_usd`, else `TARASH_BUDGET_USD`, else none."""
    if config.budget_usd is not None:
        return config.budget_usd
    value = env_value("TARASH_BUDGET_USD")
    if value is None or not value.strip():
        return None
    try:
        limit = float(value)
    except ValueError:
        raise ValidationError(f"TARASH_BUDGET_USD must be a number of US dollars, got {value!r}") from None
    if limit < 0 or limit != limit:
        raise ValidationError(f"TARASH_BUDGET_USD must be 0 or more, got {value!r}")
    return limit


def spent_usd() -> float:
    """The estimated spending charged against the budget so far in this process."""
    return _spent


def reset_spending() -> None:
    """Start the process's budget account again from zero."""
    global _spent
    with _lock:
        _spent = 0.0


def _charge(usd: float, limit: float, call: Call) -> None:
    global _spent
    with _lock:
        if _spent + usd > limit + 1e-9:
            spent = _spent
        else:
            _spent += usd
            return
    config = call.config
    raise _refused(BudgetExceededError(
        f"refused a real {call.kind} call to {config.provider}/{config.model}: about ${usd:.2f} would take the "
        f"spending to ${spent + usd:.2f}, past the budget of ${limit:.2f} (TARASH_BUDGET_USD or budget_usd)",
        provider=config.provider,
        model=config.model,
        limit_usd=limit,
        spent_usd=spent,
        estimate_usd=usd,
    ))


def _refund(usd: float) -> None:
    global _spent
    with _lock:
        _spent = max(_spent - usd, 0.0)


def _nothing_billed(error: BaseException) -> bool:
    """Refused before the network, or the submit itself was answered with an error."""
    if isinstance(error, UnsupportedRequestError):
        return True
    raw = getattr(error, "raw_response", None)
    return isinstance(raw, dict) and raw.get("phase") == "submit" and "status_code" in raw


def _refused(error: BudgetExceededError) -> BudgetExceededError:
    """The refusal says where it came from, like every error: the real call it stopped at submit."""
    error.origin = Origin(source="provider", provider=error.provider, model=error.model, phase="submit")  # type: ignore[attr-defined]
    return error


class BudgetLayer(Layer):
    """Right above the provider: charges each real call its estimate, or refuses it.

    Built into the stack only while a budget is in force (see `budget_limit`).
    """

    def __init__(self, next: Layer, limit: float) -> None:  # noqa: A002 - the stack's word
        super().__init__(next)
        self.limit = limit

    def flow(self, call: Call) -> Flow[Any]:
        config = call.config
        usd = estimate(call.kind, config.provider, config.model, call.request)
        if usd is None:
            raise _refused(BudgetExceededError(
                f"refused a real {call.kind} call to {config.provider}/{config.model}: a budget of "
                f"${self.limit:.2f} is in force and the price table has no price for this model "
                "(add one with TARASH_PRICES or set_price_table)",
                provider=config.provider,
                model=config.model,
                limit_usd=self.limit,
                spent_usd=_spent,
            ))
        _charge(usd, self.limit, call)
        try:
            return (yield self.call_next(call))
        except Exception as error:
            if _nothing_billed(error):
                _refund(usd)
            raise
