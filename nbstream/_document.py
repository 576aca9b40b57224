"""The response as a document: ordered parts, their streamed content, and metrics.

The document applies normalised events (:mod:`nbstream._events`) and answers questions about
the response so far. It holds no lock and knows nothing of threads or widgets: the controller
serialises access. Part content accumulates in chunk lists joined lazily, so a stream of a
million tiny deltas costs linear time.
"""

from __future__ import annotations

import json
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._clean import Cleaner, fix_surrogates
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
from ._prices import Pricing
from ._stats import Reservoir, Timeline
from ._text import append_in_place

LOG_EDGE = 50
"""How many events the log keeps at each end (the first and the last)."""
HIDING_REASONS = frozenset({"moderation"})
"""Stop reasons that hide the answer (``Document.hide``): the text stays in ``w.text``."""


@dataclass(slots=True)
class Part:
    """One output part: its kind, the choice it belongs to, its content and details."""

    id: int
    key: PartKey
    kind: PartKind
    choice: int
    slot: int = 0
    """Where the page shows it: choices in order of first appearance (0 = ``w.text``)."""
    info: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    generation: int = 0
    """Bumped when the content is replaced rather than appended to."""
    text: str = ""
    pending: str = ""
    """A high surrogate that ended the last delta: its pair may start the next one."""

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


def as_text(value: Any) -> str:
    """Content as text: a server may send a number or an object where text belongs."""
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, default=str)


def source_of(type_name: str) -> str | None:
    """The kind of stream an item's type name belongs to (``None``: cannot tell)."""
    if type_name.startswith("response.") or type_name == "error":
        return "responses"
    return _SOURCES.get(type_name)


_SOURCES = {"text": "text", "chat.completion.chunk": "chat", "text_completion": "completions"}
_TERMINAL_PHASES = frozenset({"completed", "incomplete", "failed"})


def choice_of(key: PartKey) -> int:
    """The choice index a part key belongs to (Chat ``choices[].index``; 0 otherwise)."""
    index = key[1] if len(key) > 1 and key[0] == "choice" else 0
    return index if isinstance(index, int) else 0


class Document:
    """Everything known about one streamed response."""

    def __init__(self, clock: Any = time.monotonic, cleaner: Cleaner | None = None) -> None:
        self._clock = clock
        self.clean = cleaner or Cleaner()
        self.parts: dict[PartKey, Part] = {}
        self._slots: dict[int, int] = {}
        """Choice index (as the API numbers it) -> slot, in order of first appearance."""
        self._names: dict[str, str] = {}
        self.source: str | None = None
        """What the items are: ``"responses"``, ``"chat"``, ``"completions"`` or ``"text"``."""
        self.started_at = clock()
        self.first_token_at: float | None = None
        self.last_token_at: float | None = None
        self.ended_at: float | None = None
        self.pricing: Pricing | None = None
        """How to price the stream (set by its controller), for ``metrics["cost_usd"]``."""
        self.stop_reason: str | None = None
        """Why the stream was stopped (``"user"``, ``"interrupt"``, ``"loop"``, ...), if it was."""
        self.stop_detail: str | None = None
        self.stopped_after: float | None = None
        self.hidden: str | None = None
        """Why the answer is hidden in the page and the saved copy (``"moderation"``), if it is."""
        self.moderation: dict[str, Any] | None = None
        """``moderate=``'s counts (``metrics["moderation"]``), when the stream is moderated."""
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
        self._gaps = Reservoir()
        self.timeline = Timeline()

    # --- applying events ------------------------------------------------------------

    def apply(self, type_name: str, events: Iterable[Event]) -> None:
        """Record one stream item (its type name) and apply the events it meant."""
        now = self._clock()
        if self.source is None:
            self.source = source_of(type_name)
        type_name = self._name(type_name)
        self.events += 1
        self.event_counts[type_name] += 1
        entry = (now - self.started_at, type_name)
        if len(self.log_head) < LOG_EDGE:
            self.log_head.append(entry)
        else:
            self.log_tail.append(entry)
        for event in events:
            self._apply_one(event, now)

    def _name(self, type_name: str) -> str:
        """An event type name as shown (a hostile server chooses it): cleaned, cached."""
        name = self._names.get(type_name)
        if name is None:
            name = self.clean.message(str(type_name))
            if len(self._names) < 4096:
                self._names[type_name] = name
        return name

    def _part(self, key: PartKey, kind: PartKind) -> Part:
        part = self.parts.get(key)
        if part is None:
            choice = choice_of(key)
            slot = self._slots.setdefault(choice, len(self._slots))
            part = Part(len(self.parts), key, kind, choice, slot)
            self.parts[key] = part
        return part

    def _append(self, part: Part, text: str) -> None:
        """Append a delta: surrogates fixed (a pair split across deltas joined) and secrets
        redacted, also one that straddles the boundary with the text before."""
        text = as_text(text)
        if part.pending:
            text, part.pending = part.pending + text, ""
        if "\ud800" <= text[-1:] <= "\udbff":
            text, part.pending = text[:-1], text[-1]
        text = fix_surrogates(text)
        reach = self.clean.longest - 1
        if reach > 0 and self.clean.has_secret(part.text[-reach:] + text):
            part.replace(self.clean.text(part.text + text))
        else:
            part.append(text)

    @staticmethod
    def _settle(part: Part) -> None:
        """A held high surrogate that no low one followed is shown as U+FFFD."""
        if part.pending:
            part.pending = ""
            part.append("\ufffd")

    def _apply_one(self, event: Event, now: float) -> None:
        clean = self.clean
        if isinstance(event, PartDelta):
            self._append(self._part(event.key, event.kind), event.text)
            self._token(now)
        elif isinstance(event, PartReplaced):
            part = self._part(event.key, event.kind)
            part.pending = ""
            part.replace(clean.text(as_text(event.text)))
        elif isinstance(event, PartStarted):
            self._merge_info(self._part(event.key, event.kind), event.info)
        elif isinstance(event, PartDone):
            self._done(event)
        elif isinstance(event, Lifecycle):
            self.phase = event.phase
            self.model = clean.value(event.model) if event.model else self.model
            self.response_id = clean.value(event.response_id) if event.response_id \
                else self.response_id
            if event.reason:
                self.incomplete_reason = clean.value(event.reason)
        elif isinstance(event, UsageReported):
            self.usage = clean.value(event.usage)
        elif isinstance(event, FinishReason):
            self.finish_reasons[event.choice] = clean.value(event.reason)
            for part in self.parts.values():
                if part.choice == event.choice:
                    self._settle(part)
                    part.done = True
        elif isinstance(event, StreamFailed):
            self.failure = clean.message(as_text(event.message))

    def _done(self, event: PartDone) -> None:
        part = self._part(event.key, event.kind)
        if event.text is not None:
            part.pending = ""
            text = self.clean.text(as_text(event.text))
            if text != part.text:
                part.replace(text)
        self._settle(part)
        self._merge_info(part, event.info)
        part.done = True

    def _merge_info(self, part: Part, info: dict[str, Any]) -> None:
        for key, value in self.clean.value(info).items():
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

    def stopped(self, reason: str, detail: str | None = None) -> None:
        """The stream was stopped, and why (the first reason given is kept)."""
        if self.stop_reason is None:
            self.stop_reason, self.stop_detail = reason, detail
            self.stopped_after = self._clock() - self.started_at
            if reason in HIDING_REASONS:
                self.hide(reason)

    def hide(self, reason: str) -> None:
        """Hide the answer behind a control (the page, the saved copy): every part is marked
        ``"hidden": reason`` (its text is kept)."""
        self.hidden = reason
        for part in self.parts.values():
            part.info["hidden"] = reason

    def end(self) -> None:
        """Mark the end of the stream (for durations)."""
        if self.ended_at is None:
            self.ended_at = self._clock()
        for part in self.parts.values():
            self._settle(part)

    def unfinished(self, expect_events: bool) -> str | None:
        """Why a stream that ended without an error is not a complete response, or ``None``.

        Complete means: Responses, a terminal ``response.*`` event; Chat and Completions, a
        ``finish_reason`` for every choice with output (or the closing usage chunk); an
        iterable of ``str``, always; no items at all, only when none were expected.
        """
        if self.source == "responses" and self.phase not in _TERMINAL_PHASES:
            missing = "no response.completed event"
        elif self.source in ("chat", "completions") and self.usage is None and not (
            self.finish_reasons
            and all(p.choice in self.finish_reasons for p in self.parts.values())
        ):
            missing = "no finish_reason"
        elif self.source is None and expect_events:
            missing = "no events at all" if not self.events else "no response events"
        else:
            return None
        return f"The stream ended before the response completed ({missing}); the text so " \
            "far is kept."

    # --- reading ----------------------------------------------------------------------

    def parts_of(self, kind: str, slot: int | None = 0) -> list[Part]:
        """Parts of one kind, in output order: of the choice in one slot (0: the one
        ``w.text`` shows), or of all choices with ``None``."""
        return [
            p
            for p in self.parts.values()
            if p.kind == kind and (slot is None or p.slot == slot)
        ]

    def text(self, slot: int = 0) -> str:
        """The output text of the choice in one slot (0: the first choice that appeared)."""
        return "".join(p.text for p in self.parts_of("text", slot))

    def text_length(self, slot: int = 0) -> int:
        """``len(self.text(slot))``, without joining the text."""
        return sum(len(p.text) for p in self.parts_of("text", slot))

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
        """The output text of every choice present, in choice index order (never allocated
        by index: a server may number its only choice 1,000,000,000)."""
        if not self._slots:
            return [""]
        return [self.text(self._slots[index]) for index in sorted(self._slots)]

    def finish_reason(self) -> str | None:
        """Why the output ended: Chat/Completions ``finish_reason`` or the Responses outcome."""
        primary = next((index for index, slot in self._slots.items() if slot == 0), 0)
        if primary in self.finish_reasons:
            return self.finish_reasons[primary]
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

    def cost(self) -> tuple[float, bool] | None:
        """``(USD, estimated)`` so far, or ``None`` when no price is known for the model."""
        if self.pricing is None:
            return None
        output_tokens, estimated = self.output_tokens()
        return self.pricing.cost(self.model, self.usage, output_tokens, estimated)

    def metrics(self) -> dict[str, Any]:
        """Per-stream metrics (see DESIGN.md); live while streaming, final after."""
        now = self.ended_at if self.ended_at is not None else self._clock()
        tokens, estimated = self.output_tokens()
        cost = self.cost()
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
            "cost_usd": None if cost is None else round(cost[0], 6),
            "cost_estimated": None if cost is None else cost[1],
            "stop_reason": self.stop_reason,
            "stop_detail": self.stop_detail,
            "stopped_after_s": _round(self.stopped_after),
            **({} if self.moderation is None else {"moderation": dict(self.moderation)}),
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
