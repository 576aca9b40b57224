"""What a stream costs: per-model prices and the estimate while tokens arrive.

The table is small, dated and overridable (``Guards(prices={...})``): prices change, and a
cost shown here is always labelled an estimate. Input tokens are the usage's once the API
reports it; before that (and for a stopped stream, which never gets usage) they are estimated
from the request's text, output tokens from the deltas (``metrics["output_tokens"]``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PRICES_CHECKED = "2025-08"
"""When :data:`PRICES` was taken from OpenAI's published price list."""

PRICES: dict[str, tuple[float, float]] = {
    # model: (USD per 1M input tokens, USD per 1M output tokens), standard tier
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}
"""USD per million tokens (input, output) as published on :data:`PRICES_CHECKED`."""

Prices = Mapping[str, tuple[float, float]]


def check_prices(prices: Any) -> None:
    """Refuse, at the call, a price table nbstream cannot use."""
    if prices is None:
        return
    if not isinstance(prices, Mapping):
        raise TypeError("nbstream.Guards(prices=...) expects a dict of model name -> "
                        "(USD per 1M input tokens, USD per 1M output tokens), e.g. "
                        f"prices={{'gpt-4.1-mini': (0.40, 1.60)}}; got {type(prices).__name__}")
    for model, pair in prices.items():
        ok = isinstance(model, str) and isinstance(pair, tuple | list) and len(pair) == 2 and all(
            isinstance(p, int | float) and not isinstance(p, bool) and p >= 0 for p in pair)
        if not ok:
            raise TypeError(f"nbstream.Guards(prices=...): {model!r}: expected (USD per 1M "
                            f"input tokens, USD per 1M output tokens), got {pair!r}")


def price_of(model: str | None, overrides: Prices | None = None) -> tuple[float, float] | None:
    """The price of ``model``: the caller's, else the table's; a dated snapshot name
    (``gpt-4.1-mini-2025-04-14``) takes its family's price. ``None`` when unknown."""
    if not model or not isinstance(model, str):
        return None
    table: dict[str, tuple[float, float]] = {**PRICES, **dict(overrides or {})}
    if model in table:
        return tuple(table[model])  # type: ignore[return-value]
    family = [name for name in table if model.startswith(name + "-")]
    return tuple(table[max(family, key=len)]) if family else None  # type: ignore[return-value]


def input_tokens_estimate(arguments: Mapping[str, Any]) -> int:
    """Input tokens of a request, estimated from its text (about 4 characters a token)."""
    parts = [arguments.get(name) for name in ("instructions", "input", "messages", "prompt")]
    text = "".join(p if isinstance(p, str) else json.dumps(p, default=str)
                   for p in parts if p is not None)
    return max(1, len(text) // 4) if text else 0


def cost_usd(price: tuple[float, float], input_tokens: int, output_tokens: int) -> float:
    """Dollars for that many tokens at ``price`` (per million)."""
    return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000


@dataclass
class Pricing:
    """How one stream is priced: the caller's prices (else the table's), the requested model
    (the stream's own once it says) and the request's input tokens, estimated."""

    prices: Prices | None
    requested_model: str | None
    input_estimate: int
    _price: tuple[float, float] | None = field(default=None, repr=False)

    def cost(self, model: str | None, usage: Mapping[str, Any] | None, output_tokens: int,
             output_estimated: bool) -> tuple[float, bool] | None:
        """``(USD, estimated)``: the usage's input tokens once reported, else the estimate."""
        if self._price is None:
            self._price = price_of(model, self.prices) or price_of(self.requested_model,
                                                                   self.prices)
            if self._price is None:
                return None
        usage = usage or {}
        input_tokens = next((usage[k] for k in ("input_tokens", "prompt_tokens")
                             if isinstance(usage.get(k), int)), None)
        spent = cost_usd(self._price,
                         self.input_estimate if input_tokens is None else input_tokens,
                         output_tokens)
        return spent, output_estimated or input_tokens is None
