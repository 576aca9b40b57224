"""The small event model every source is normalised into.

Adapters turn Responses events, Chat chunks, Completions chunks and plain strings into a
handful of event kinds; the document applies them. Nothing here knows about openai or widgets.

A *part key* is a tuple identifying one output part the way the API keys it, e.g.
``("text", output_index, content_index)`` for Responses output text or
``("text", choice_index)`` for a Chat choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PartKind = Literal["text", "refusal", "reasoning", "tool_call", "tool"]
PartKey = tuple[Any, ...]


@dataclass(slots=True)
class PartStarted:
    """A part appeared (an output item or content part was added)."""

    key: PartKey
    kind: PartKind
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PartDelta:
    """Text was appended to a part's streamed content (creates the part if new)."""

    key: PartKey
    kind: PartKind
    text: str


@dataclass(slots=True)
class PartReplaced:
    """A part's content was replaced while it streams (e.g. a newer partial image)."""

    key: PartKey
    kind: PartKind
    text: str


@dataclass(slots=True)
class PartDone:
    """A part finished; ``text``, when given, is the authoritative full content."""

    key: PartKey
    kind: PartKind
    text: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Lifecycle:
    """The response moved through its lifecycle (queued, in_progress, completed, ...)."""

    phase: str
    model: str | None = None
    response_id: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class UsageReported:
    """The API reported token usage."""

    usage: dict[str, Any]


@dataclass(slots=True)
class FinishReason:
    """A choice finished with a reason (Chat/Completions ``finish_reason``)."""

    choice: int
    reason: str


@dataclass(slots=True)
class StreamFailed:
    """The stream reported an error in-band; the stream ends in ``status == "error"``."""

    message: str


Event = (
    PartStarted
    | PartDelta
    | PartReplaced
    | PartDone
    | Lifecycle
    | UsageReported
    | FinishReason
    | StreamFailed
)
