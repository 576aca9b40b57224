"""Attempts: each run of one request in one widget (``w.rerun()`` makes another).

A :class:`Launch` is what starting one attempt needs (a fresh opener and connection tracker
each time, so a re-run is a new request on a new connection); an :class:`Attempt` is what an
ended attempt leaves behind, readable from Python
(``w.attempts``) and in the page ("< 2/3 >").
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._connection import ConnectionTracker


@dataclass(frozen=True)
class Launch:
    """How to start one attempt of a request."""

    opener: Callable[[], Any]
    """Makes the request (returns the stream, or an awaitable of it)."""
    source_is_async: bool | None
    connection: ConnectionTracker | None = None
    cancel_remote: Callable[[str], Any] | None = None


@dataclass(frozen=True)
class Attempt:
    """An ended attempt: its answer, how it ended, its metrics and the page's final state."""

    text: str
    status: str
    stop_reason: str | None
    metrics: dict[str, Any]
    html: str
    snapshot: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """For Python readers: ``text``, ``status``, ``stop_reason``, ``metrics``, ``html``."""
        return {"text": self.text, "status": self.status, "stop_reason": self.stop_reason,
                "metrics": dict(self.metrics), "html": self.html}

    def for_page(self) -> dict[str, Any]:
        """What the page keeps of it (to browse back to it): status, stop reason, snapshot."""
        return {"status": self.status, "stop_reason": self.stop_reason,
                "snapshot": self.snapshot}


def packed(value: Any) -> bytes:
    """``value`` as deflated JSON (how snapshots travel in traits)."""
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)
