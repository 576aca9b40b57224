"""Guards: what stops a generation by itself (a time or token budget, silence, a loop, a test).

:class:`Guards` is what the user passes (``guards=nbstream.Guards(...)`` per call, or as a
session default with ``nbstream.configure(guards=...)``); :class:`GuardWatch` applies it to
one stream. Counting guards (tokens, the loop detector) are checked as events arrive, on the
thread that feeds the document; time guards and ``stop_when`` on the runtime's clock, which
wakes at their deadline (a server that goes silent sends no event to check on).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._document import Document
from ._loops import LoopDetector
from ._prices import check_prices

_log = logging.getLogger("nbstream")

PREDICATE_EVERY = 0.25
"""Seconds between two calls of ``stop_when`` while the stream runs (and at every frame)."""

Stop = tuple[str, str | None]
"""A guard's verdict: the ``stop_reason`` and a detail for people."""


def _positive(name: str, value: Any, kind: type = float, dollars: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
            or (isinstance(value, float) and math.isinf(value)):
        unit = " of dollars" if dollars else " of tokens" if kind is int else " of seconds"
        raise ValueError(f"nbstream.Guards({name}=...) expects a positive number{unit} or "
                         f"None, got {value!r}")


@dataclass(frozen=True)
class Guards:
    """Limits that stop a stream by themselves (each ``None`` / ``False`` is off).

    - ``max_seconds``: seconds from the call (``stop_reason == "max_seconds"``);
    - ``max_output_tokens``: output tokens as they arrive, counted like
      ``metrics["output_tokens"]`` (``"max_output_tokens"``);
    - ``max_cost_usd``: the estimated cost so far, ``metrics["cost_usd"]`` (``"max_cost"``),
      priced by ``prices`` (model -> USD per 1M input and output tokens) or else by the small
      dated table in ``nbstream._prices``;
    - ``idle_seconds``: no event for that long, also before the first one (``"idle"``);
    - ``loops``: the repetition detector, on by default (``"loop"``);
    - ``stop_when``: a callable of the widget, called on the clock while it streams, returning
      a truthy reason to stop (``"predicate"``; the reason becomes the detail).
    """

    max_seconds: float | None = None
    max_output_tokens: int | None = None
    max_cost_usd: float | None = None
    prices: Mapping[str, tuple[float, float]] | None = None
    idle_seconds: float | None = None
    loops: bool = True
    stop_when: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        _positive("max_seconds", self.max_seconds)
        _positive("max_output_tokens", self.max_output_tokens, int)
        _positive("idle_seconds", self.idle_seconds)
        _positive("max_cost_usd", self.max_cost_usd, dollars=True)
        check_prices(self.prices)
        if not isinstance(self.loops, bool):
            raise TypeError(f"nbstream.Guards(loops=...) expects True or False, "
                            f"got {self.loops!r}")
        if self.stop_when is not None and not callable(self.stop_when):
            raise TypeError("nbstream.Guards(stop_when=...) expects a callable of the widget "
                            f"returning a reason to stop (or None), got {self.stop_when!r}")

    @classmethod
    def none(cls) -> Guards:
        """No guard at all (the loop detector off too)."""
        return cls(loops=False)


class GuardWatch:
    """One stream's guards at work (call everything with the stream's lock held)."""

    def __init__(self, guards: Guards, subject: Callable[[], Any]) -> None:
        self._guards = guards
        self._subject = subject  # the widget, for stop_when
        self._started = time.monotonic()
        self._last_event = self._started
        self._last_predicate = self._started
        self._loops = LoopDetector() if guards.loops else None
        self._seen = 0

    def after_events(self, document: Document) -> Stop | None:
        """New events were applied: check the counting guards."""
        self._last_event = time.monotonic()
        limit = self._guards.max_output_tokens
        if limit is not None:
            tokens, estimated = document.output_tokens()
            if tokens >= limit:
                return "max_output_tokens", f"{tokens}{' (estimated)' if estimated else ''} " \
                    f"output tokens, limit {limit}"
        budget = self._guards.max_cost_usd
        if budget is not None:
            cost = document.cost()
            if cost is not None and cost[0] >= budget:
                return "max_cost", f"${cost[0]:.4f}{' (estimated)' if cost[1] else ''}, " \
                    f"limit ${budget:g}"
        if self._loops is not None:
            text = document.text()
            if len(text) < self._seen:  # replaced (a new attempt): start again
                self._loops.reset()
                self._seen = 0
            said = self._loops.feed(text[self._seen:])
            self._seen = len(text)
            if said:
                return "loop", said
        return None

    def deadline(self) -> float | None:
        """When the clock must look at this stream's time guards next (``None``: never)."""
        times = []
        if self._guards.max_seconds is not None:
            times.append(self._started + self._guards.max_seconds)
        if self._guards.idle_seconds is not None:
            times.append(self._last_event + self._guards.idle_seconds)
        if self._guards.stop_when is not None:
            times.append(self._last_predicate + PREDICATE_EVERY)
        return min(times) if times else None

    def on_the_clock(self, now: float) -> Stop | None:
        """Check the time guards (the clock is here); ``stop_when`` is checked by
        :meth:`ask_predicate`, outside the stream's lock."""
        g = self._guards
        if g.max_seconds is not None and now - self._started >= g.max_seconds:
            return "max_seconds", f"{g.max_seconds:g} s"
        if g.idle_seconds is not None and now - self._last_event >= g.idle_seconds:
            return "idle", f"no event for {g.idle_seconds:g} s"
        return None

    def ask_predicate(self, now: float) -> Stop | None:
        """Call ``stop_when``, if there is one (without the stream's lock: it reads the
        widget). One that raises is reported in the log and counts as "go on"."""
        predicate = self._guards.stop_when
        if predicate is None:
            return None
        self._last_predicate = now
        try:
            reason = predicate(self._subject())
        except Exception:
            _log.exception("nbstream: stop_when raised; the stream goes on")
            return None
        return ("predicate", str(reason) if reason is not True else None) if reason else None
