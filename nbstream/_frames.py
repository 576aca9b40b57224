"""One stream's frames: what the page gets of the document at each tick of the clock.

A frame is a sequence-numbered patch (the parts that changed, live metrics about once a
second, the status and error) and, when a view asked for it or at the end, a whole snapshot.
:class:`Frames` keeps what the page already has (the :class:`~nbstream._patches.PatchBuilder`)
and turns a copy of the document, taken under the stream's lock, into those messages.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._document import Document
from ._patches import PartView, PatchBuilder, plain_snapshot_part

METRICS_INTERVAL = 1.0
"""Seconds between live metrics updates in patches."""


@dataclass(slots=True)
class Copy:
    """The document as one frame sees it (taken under the stream's lock)."""

    views: list[PartView]
    status: str
    error: str | None
    metrics: dict[str, Any] | None
    log: dict[str, Any] | None


class Frames:
    """Builds the patches and snapshots of one stream."""

    def __init__(self) -> None:
        self._builder = PatchBuilder()
        self._last_metrics = 0.0

    def copy(self, document: Document, status: str, error: str | None,
             final: bool) -> Copy:
        """What changed since the last frame (call with the stream's lock held)."""
        views = []
        for part in document.parts.values():
            generation, length = self._builder.known(part.id)
            new_text = part.text if part.generation != generation else part.text[length:]
            views.append(PartView(part.id, part.kind, part.slot, dict(part.info), part.done,
                                  part.generation, new_text))
        now = time.monotonic()
        metrics = None
        if final or now - self._last_metrics >= METRICS_INTERVAL:
            metrics = document.metrics()
            self._last_metrics = now
        return Copy(views, status, error, metrics, document.event_log() if final else None)

    def patch(self, copy: Copy, final: bool) -> dict[str, Any] | None:
        """The patch for ``copy`` (``None`` when nothing changed that the page shows)."""
        ops = self._builder.build(copy.views, final=final)
        if not (ops or copy.metrics is not None or final):
            return None
        self._builder.seq += 1
        patch: dict[str, Any] = {"type": "patch", "seq": self._builder.seq,
                                 "status": copy.status}
        if ops:
            patch["parts"] = ops
        if copy.metrics is not None:
            patch["metrics"] = copy.metrics
        if copy.error:
            patch["error"] = copy.error
        if final:
            patch.update(final=True, log=copy.log)
        return patch

    def html(self, views: Iterable[PartView]) -> str:
        """The rendered answer (choice 0's text parts), as the page has it now."""
        return "".join(self._builder.html_of(v.id) for v in views
                       if v.kind == "text" and v.choice == 0)

    def snapshot(self, copy: Copy, metrics: dict[str, Any],
                 log: dict[str, Any]) -> dict[str, Any]:
        """The whole state, for a view that joins (and, at the end, for the saved one)."""
        return {"seq": self._builder.seq, "status": copy.status, "error": copy.error,
                "parts": self._builder.snapshot_parts(copy.views), "metrics": metrics,
                "log": log}

    def release(self) -> None:
        """The stream has ended: drop the renderers (a finished widget keeps its text, HTML
        and snapshot, nothing else heavy)."""
        self._builder.release()

    def plain_snapshot(self, document: Document, status: str,
                       error: str | None) -> tuple[dict[str, Any], str]:
        """After a failure to render: the text as escaped plain text (call with the lock
        held), so late views and the saved notebook still show the answer. Returns the
        snapshot and its HTML."""
        parts = [plain_snapshot_part(p.id, p.kind, p.slot, dict(p.info), p.done, p.text)
                 for p in document.parts.values()]
        snapshot = {"seq": self._builder.seq + 1, "status": status, "error": error,
                    "parts": parts, "metrics": document.metrics(), "log": None}
        html = "".join(p["blocks"][0] for p in parts
                       if p.get("blocks") and p["choice"] == 0 and p["kind"] == "text")
        return snapshot, html
