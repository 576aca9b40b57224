"""The response as a document: ordered parts, their streamed content, and metrics.

The document applies normalised events (:mod:`nbstream._events`) and answers questions about
the response so far. It holds no lock and knows nothing of threads or widgets: the controller
serialises access. Part content accumulates in chunk lists joined lazily, so a stream of a
million tiny deltas costs linear time.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._events import (
    Event,
    FinishReason,
    Lifecycle,
    PartDelta,
    PartDone,
    PartKey,
    PartKind,
    PartReplaced,
    PartStarted,
    StreamFailed,
    UsageReported,
)
from ._text import append_in_place

LOG_EDGE = 50
"""How many events the log keeps at each end (the first and the last)."""
TIMELINE_BUCKETS = 120
"""The token-arrival timeline keeps at most this many buckets (their width doubles)."""
_SAMPLES = 4096


@dataclass(slots=True)
class Part:
    """One output part: its kind, the choice it belongs to, its content and details."""

    id: int
    key: PartKey
    kind: PartKind
    choice: int
    info: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    generation: int = 0
    """Bumped when the content is replaced rather than appended to."""
    text: str = ""

    def append(self, delta: str) -> None:
        """Append streamed content (linear time over a whole stream)."""
        append_in_place(self, "text", delta)

    def replace(self, text: str) -> None:
        """Replace the content with the authoritative full text."""
        self.text = text
        self.generation += 1

    def as_dict(self) -> dict[str, Any]:
        """The public description of this part (``StreamWidget.parts`` entries)."""
        out: dict[str, Any] = {"kind": self.kind, "choice": self.choice, "done": self.done}
        out.update({k: v for k, v in self.info.items() if v is not None})
        if self.kind == "tool_call":
            out["arguments"] = self.text
        elif self.kind == "tool":
            out["content"] = self.text
        else:
            out["text"] = self.text
        return out


class _Timeline:
    """Token arrivals counted in time buckets; the bucket width doubles to stay bounded."""

    def __init__(self, width: float = 0.05, limit: int = TIMELINE_BUCKETS) -> None:
        self.width = width
        self.limit = limit
        self.counts: list[int] = []

    def add(self, at: float) -> None:
        index = int(at / self.width)
        while index >= self.limit:
            self.counts = [sum(self.counts[i : i + 2]) for i in range(0, len(self.counts), 2)]
            self.width *= 2
            index = int(at / self.width)
        if index >= len(self.counts):
            self.counts.extend([0] * (index + 1 - len(self.counts)))
        self.counts[index] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"bucket_s": self.width, "counts": list(self.counts)}


class _Reservoir:
    """A bounded uniform sample of a number series (for latency percentiles)."""

    def __init__(self, size: int = _SAMPLES, seed: int = 0) -> None:
        self.size = size
        self.count = 0
        self.values: list[float] = []
        self._random = random.Random(seed)

    def add(self, value: float) -> None:
        self.count += 1
        if len(self.values) < self.size:
            self.values.append(value)
        else:
            slot = self._random.randrange(self.count)
            if slot < self.size:
                self.values[slot] = value

    def quantile(self, q: float) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def choice_of(key: PartKey) -> int:
    """The choice index a part key belongs to (Chat ``choices[].index``; 0 otherwise)."""
    return int(key[1]) if key and key[0] == "choice" else 0


class Document:
    """Everything known about one streamed response."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self.parts: dict[PartKey, Part] = {}
        self.started_at = clock()
        self.first_token_at: float | None = None
        self.last_token_at: float | None = None
        self.ended_at: float | None = None
        self.events = 0
        self.event_counts: Counter[str] = Counter()
        self.deltas = 0
        self.usage: dict[str, Any] | None = None
        self.finish_reasons: dict[int, str] = {}
        self.phase: str | None = None
        self.incomplete_reason: str | None = None
        self.model: str | None = None
        self.response_id: str | None = None
        self.failure: str | None = None
        self.log_head: list[tuple[float, str]] = []
        self.log_tail: deque[tuple[float, str]] = deque(maxlen=LOG_EDGE)
        self._gaps = _Reservoir()
        self.timeline = _Timeline()

    # --- applying events ------------------------------------------------------------

    def apply(self, type_name: str, events: Iterable[Event]) -> None:
        """Record one stream item (its type name) and apply the events it meant."""
        now = self._clock()
        self.events += 1
        self.event_counts[type_name] += 1
        entry = (now - self.started_at, type_name)
        if len(self.log_head) < LOG_EDGE:
            self.log_head.append(entry)
        else:
            self.log_tail.append(entry)
        for event in events:
            self._apply_one(event, now)

    def _part(self, key: PartKey, kind: PartKind) -> Part:
        part = self.parts.get(key)
        if part is None:
            part = Part(len(self.parts), key, kind, choice_of(key))
            self.parts[key] = part
        return part

    def _apply_one(self, event: Event, now: float) -> None:
        if isinstance(event, PartDelta):
            part = self._part(event.key, event.kind)
            part.append(event.text)
            self._token(now)
        elif isinstance(event, PartReplaced):
            self._part(event.key, event.kind).replace(event.text)
        elif isinstance(event, PartStarted):
            part = self._part(event.key, event.kind)
            self._merge_info(part, event.info)
        elif isinstance(event, PartDone):
            part = self._part(event.key, event.kind)
            if event.text is not None and event.text != part.text:
                part.replace(event.text)
            self._merge_info(part, event.info)
            part.done = True
        elif isinstance(event, Lifecycle):
            self.phase = event.phase
            self.model = event.model or self.model
            self.response_id = event.response_id or self.response_id
            if event.reason:
                self.incomplete_reason = event.reason
        elif isinstance(event, UsageReported):
            self.usage = event.usage
        elif isinstance(event, FinishReason):
            self.finish_reasons[event.choice] = event.reason
            for part in self.parts.values():
                if part.choice == event.choice:
                    part.done = True
        elif isinstance(event, StreamFailed):
            self.failure = event.message

    @staticmethod
    def _merge_info(part: Part, info: dict[str, Any]) -> None:
        for key, value in info.items():
            if key == "annotation":
                part.info.setdefault("annotations", []).append(value)
            elif value is not None:
                part.info[key] = value

    def _token(self, now: float) -> None:
        self.deltas += 1
        self.timeline.add(now - self.started_at)
        if self.first_token_at is None:
            self.first_token_at = now
        elif self.last_token_at is not None:
            self._gaps.add(now - self.last_token_at)
        self.last_token_at = now

    def end(self) -> None:
        """Mark the end of the stream (for durations)."""
        if self.ended_at is None:
            self.ended_at = self._clock()

    # --- reading ----------------------------------------------------------------------

    def parts_of(self, kind: str, choice: int | None = 0) -> list[Part]:
        """Parts of one kind, in output order (of one choice, or of all with ``None``)."""
        return [
            p
            for p in self.parts.values()
            if p.kind == kind and (choice is None or p.choice == choice)
        ]

    def text(self, choice: int = 0) -> str:
        """The output text of one choice."""
        return "".join(p.text for p in self.parts_of("text", choice))

    def refusal(self) -> str | None:
        """The refusal text of choice 0, if the model refused."""
        parts = self.parts_of("refusal")
        return "".join(p.text for p in parts) if parts else None

    def tool_calls(self) -> list[dict[str, Any]]:
        """Calls for the caller to run (function and custom tools) of choice 0, in output
        order, arguments as the raw JSON string. Server-run MCP calls are only in ``parts``."""
        return [
            {"call_id": p.info.get("call_id"), "name": p.info.get("name"), "arguments": p.text}
            for p in self.parts_of("tool_call")
            if p.info.get("type") != "mcp_call"
        ]

    def choices(self) -> list[str]:
        """The output text of every choice, by choice index."""
        count = 1 + max((p.choice for p in self.parts.values()), default=0)
        return [self.text(i) for i in range(count)]

    def finish_reason(self) -> str | None:
        """Why the output ended: Chat/Completions ``finish_reason`` or the Responses outcome."""
        if 0 in self.finish_reasons:
            return self.finish_reasons[0]
        if self.phase == "incomplete":
            return self.incomplete_reason or "incomplete"
        if self.phase in ("completed", "failed"):
            return "tool_calls" if self.tool_calls() and not self.text() else self.phase
        return None

    def output_tokens(self) -> tuple[int, bool]:
        """Output tokens: ``(usage count, False)`` when reported, else ``(estimate, True)``."""
        usage = self.usage or {}
        for name in ("output_tokens", "completion_tokens"):
            if isinstance(usage.get(name), int):
                return usage[name], False
        return self.deltas, True

    def metrics(self) -> dict[str, Any]:
        """Per-stream metrics (see DESIGN.md); live while streaming, final after."""
        now = self.ended_at if self.ended_at is not None else self._clock()
        tokens, estimated = self.output_tokens()
        ttft = None if self.first_token_at is None else self.first_token_at - self.started_at
        generating = None
        if self.first_token_at is not None:
            generating = (self.last_token_at or now) - self.first_token_at
        rate = tokens / generating if generating and generating > 0 and tokens > 1 else None
        return {
            "ttft_s": _round(ttft),
            "duration_s": _round(now - self.started_at),
            "events": self.events,
            "event_counts": dict(self.event_counts),
            "output_tokens": tokens,
            "output_tokens_estimated": estimated,
            "tokens_per_s": _round(rate, 1),
            "itl_median_s": _round(self._gaps.quantile(0.5), 4),
            "itl_p95_s": _round(self._gaps.quantile(0.95), 4),
            "finish_reason": self.finish_reason(),
            "model": self.model,
            "response_id": self.response_id,
            "phase": self.phase,
            "timeline": self.timeline.as_dict(),
        }

    def event_log(self) -> dict[str, Any]:
        """The bounded event log: first and last events with relative times, and counts."""
        return {
            "first": [[round(t, 4), name] for t, name in self.log_head],
            "last": [[round(t, 4), name] for t, name in self.log_tail],
            "omitted": max(0, self.events - len(self.log_head) - len(self.log_tail)),
            "counts": dict(self.event_counts),
        }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
