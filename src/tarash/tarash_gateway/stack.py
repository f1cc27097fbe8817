"""Where the stack is assembled, in one place:

```text
FallbackLayer                 over the chain (config, then fallback_configs)
  per attempt, from that attempt's config:
    user middleware...        add_middleware / use_middleware, first is outermost
      RecordLayer             when a cassette is in force (config, with-block, env)
        MockLayer             when a mock is in force (config, TARASH_MOCK=1)
        or BudgetLayer        when a budget is in force (budget_usd, TARASH_BUDGET_USD)
           ProviderLayer      a registered handler or a built-in provider
```
"""

from __future__ import annotations

from .cassettes.scope import effective_cassette
from .fallback import FallbackLayer
from .layers import Layer, current_middleware
from .mock.layer import MockLayer, effective_mock
from .models import AnyConfig
from .provider_layer import ProviderLayer

__all__ = ["GATEWAY", "attempt_stack"]

_MOCK = MockLayer()
_PROVIDER = ProviderLayer()


def attempt_stack(config: AnyConfig) -> Layer:
    """The layers that serve one attempt of `config`."""
    layer: Layer = _MOCK if effective_mock(config) is not None else _PROVIDER
    if layer is _PROVIDER:
        from .budget import BudgetLayer, budget_limit  # with the price table: real calls only

        limit = budget_limit(config)
        if limit is not None:
            layer = BudgetLayer(layer, limit)
    cassette = effective_cassette(config)
    if cassette is not None:
        from .cassettes.layer import (
            RecordLayer,  # loads sqlite-utils: only when a cassette is in force
        )

        layer = RecordLayer(layer, cassette)
    for middleware in reversed(current_middleware()):
        layer = middleware(layer)
    return layer


GATEWAY = FallbackLayer(attempt_stack)
