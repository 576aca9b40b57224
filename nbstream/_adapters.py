"""Normalise whatever a source yields into :mod:`nbstream._events`.

One function, :func:`normalise`, takes one item from a stream (a Responses event, a Chat
chunk, a legacy Completions chunk, a chat-helper event, or a plain ``str``) and returns its
type name (for the per-type event counts) and the events it means. Dispatch is on the
``type``/``object`` field, never on the Python class: the SDK parses unknown event types into
unrelated classes that keep the right ``.type``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._events import (
    Event,
    FinishReason,
    Lifecycle,
    PartDelta,
    PartDone,
    PartKind,
    PartReplaced,
    PartStarted,
    StreamFailed,
    UsageReported,
)

_NO_EVENTS: list[Event] = []

#: Hosted tool item types shown as a compact progress line (a ``tool`` part).
HOSTED_TOOL_ITEMS = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "image_generation_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "computer_call",
        "local_shell_call",
        "shell_call",
        "shell_call_output",
        "apply_patch_call",
        "compaction",
    }
)
#: Item types whose streamed payload is a tool call's input.
TOOL_CALL_ITEMS = frozenset({"function_call", "custom_tool_call", "mcp_call"})


def field(obj: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a pydantic model, an unknown SDK object or a plain dict."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def as_dict(obj: Any) -> dict[str, Any] | None:
    """A JSON-able dict of a pydantic model or dict (``None`` stays ``None``)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        result: dict[str, Any] = dump(mode="json", exclude_none=True)
        return result
    return None


def normalise(item: Any) -> tuple[str, list[Event]]:
    """Return ``(type name, events)`` for one item of any supported stream."""
    if isinstance(item, str):
        return "text", [PartDelta(("text",), "text", item)] if item else _NO_EVENTS
    kind = field(item, "type")
    if isinstance(kind, str):
        if kind == "chunk" and field(item, "chunk") is not None:
            return normalise(field(item, "chunk"))
        handler = _RESPONSES.get(kind)
        if handler is not None:
            return kind, handler(item)
        if kind.startswith(("response.", "error")):
            return kind, _NO_EVENTS
        # A chat-helper event other than "chunk" (content.delta, ...): the chunk carried it.
        return kind, _NO_EVENTS
    obj = field(item, "object")
    if obj == "chat.completion.chunk":
        return obj, _chat_chunk(item)
    if obj == "text_completion":
        return obj, _completion_chunk(item)
    raise TypeError(
        f"nbstream cannot read stream items of type {type(item).__name__}: expected a "
        "Responses event, a Chat or Completions chunk, or str"
    )


# --- Responses API ---------------------------------------------------------------------


def _text_key(ev: Any, kind: str) -> tuple[Any, ...]:
    return (kind, field(ev, "output_index", 0), field(ev, "content_index", 0))


def _lifecycle(phase: str) -> Callable[[Any], list[Event]]:
    def handle(ev: Any) -> list[Event]:
        response = field(ev, "response")
        reason = None
        if phase == "incomplete":
            reason = field(field(response, "incomplete_details"), "reason") or "incomplete"
        events: list[Event] = [
            Lifecycle(phase, field(response, "model"), field(response, "id"), reason)
        ]
        usage = as_dict(field(response, "usage"))
        if usage:
            events.append(UsageReported(usage))
        if phase == "failed":
            error = field(response, "error")
            message = field(error, "message") or "the response failed"
            code = field(error, "code")
            events.append(StreamFailed(f"{code}: {message}" if code else str(message)))
        return events

    return handle


def _error_event(ev: Any) -> list[Event]:
    message = field(ev, "message")
    nested = field(ev, "error")
    if not message and nested is not None:
        message = field(nested, "message")
    code = field(ev, "code") or field(nested, "code")
    text = str(message or "the API reported an error")
    return [StreamFailed(f"{code}: {text}" if code else text)]


def _item_added(ev: Any) -> list[Event]:
    item = field(ev, "item")
    item_type = field(item, "type")
    index = field(ev, "output_index", 0)
    if item_type in TOOL_CALL_ITEMS:
        info = {
            "call_id": field(item, "call_id") or field(item, "id"),
            "name": field(item, "name"),
            "type": item_type,
            "server": field(item, "server_label"),
        }
        return [PartStarted(("tool_call", index), "tool_call", info)]
    if item_type in HOSTED_TOOL_ITEMS or (item_type and item_type.endswith("_call")):
        info = {"type": item_type, "status": field(item, "status") or "in_progress"}
        return [PartStarted(("tool", index), "tool", info)]
    return _NO_EVENTS


def _item_done(ev: Any) -> list[Event]:
    item = field(ev, "item")
    item_type = field(item, "type")
    index = field(ev, "output_index", 0)
    if item_type == "message":
        events: list[Event] = []
        for content_index, content in enumerate(field(item, "content") or ()):
            ctype = field(content, "type")
            if ctype == "output_text":
                key = ("text", index, content_index)
                events.append(PartDone(key, "text", field(content, "text")))
            elif ctype == "refusal":
                key = ("refusal", index, content_index)
                events.append(PartDone(key, "refusal", field(content, "refusal")))
        return events
    if item_type in TOOL_CALL_ITEMS:
        payload = field(item, "arguments")
        if payload is None:
            payload = field(item, "input")
        info = {"call_id": field(item, "call_id") or field(item, "id"), "name": field(item, "name")}
        return [PartDone(("tool_call", index), "tool_call", payload, info)]
    if item_type in HOSTED_TOOL_ITEMS or (item_type and item_type.endswith("_call")):
        info = {"type": item_type, "status": field(item, "status") or "completed"}
        result = field(item, "result") if item_type == "image_generation_call" else None
        code = field(item, "code") if item_type == "code_interpreter_call" else None
        if item_type == "shell_call":
            commands = field(field(item, "action"), "commands")
            if isinstance(commands, list) and all(isinstance(c, str) for c in commands):
                code = "\n".join(commands)
        content = result if isinstance(result, str) else code if isinstance(code, str) else None
        return [PartDone(("tool", index), "tool", content, info)]
    return _NO_EVENTS


def _content_added(ev: Any) -> list[Event]:
    part_type = field(field(ev, "part"), "type")
    if part_type == "output_text":
        return [PartStarted(_text_key(ev, "text"), "text")]
    if part_type == "refusal":
        return [PartStarted(_text_key(ev, "refusal"), "refusal")]
    return _NO_EVENTS


def _delta(kind: str, part: str, key_of: Callable[[Any], tuple[Any, ...]]) -> Callable:
    def handle(ev: Any) -> list[Event]:
        delta = field(ev, "delta")
        return [PartDelta(key_of(ev), part, delta)] if delta else _NO_EVENTS  # type: ignore[arg-type]

    return handle


def _done(part: str, key_of: Callable[[Any], tuple[Any, ...]], attr: str) -> Callable:
    def handle(ev: Any) -> list[Event]:
        return [PartDone(key_of(ev), part, field(ev, attr))]  # type: ignore[arg-type]

    return handle


def _summary_key(ev: Any) -> tuple[Any, ...]:
    return ("reasoning", field(ev, "output_index", 0), "summary", field(ev, "summary_index", 0))


def _reasoning_key(ev: Any) -> tuple[Any, ...]:
    return ("reasoning", field(ev, "output_index", 0), "text", field(ev, "content_index", 0))


def _output_key(prefix: str) -> Callable[[Any], tuple[Any, ...]]:
    return lambda ev: (prefix, field(ev, "output_index", 0))


def _tool_status(status: str, kind: PartKind = "tool") -> Callable[[Any], list[Event]]:
    def handle(ev: Any) -> list[Event]:
        return [PartStarted((kind, field(ev, "output_index", 0)), kind, {"status": status})]

    return handle


def _code_done(ev: Any) -> list[Event]:
    """The code is complete, but the interpreter still runs it: not the part's end."""
    code = field(ev, "code")
    return [PartReplaced(_TOOL(ev), "tool", code)] if isinstance(code, str) else _NO_EVENTS


def _shell_command_added(ev: Any) -> list[Event]:
    """A shell call's next command: on a line of its own (the deltas append to it)."""
    command = field(ev, "command") or ""
    text = ("\n" if field(ev, "command_index", 0) else "") + command
    return [PartDelta(("tool", field(ev, "output_index", 0)), "tool", text)] if text else _NO_EVENTS


def _tool_call_done(attr: str) -> Callable[[Any], list[Event]]:
    def handle(ev: Any) -> list[Event]:
        info = {"name": field(ev, "name")} if field(ev, "name") else {}
        key = ("tool_call", field(ev, "output_index", 0))
        return [PartDone(key, "tool_call", field(ev, attr), info)]

    return handle


def _summary_added(ev: Any) -> list[Event]:
    return [PartStarted(_summary_key(ev), "reasoning", {"source": "summary"})]


def _annotation(ev: Any) -> list[Event]:
    annotation = as_dict(field(ev, "annotation"))
    if not annotation:
        return _NO_EVENTS
    return [PartStarted(_text_key(ev, "text"), "text", {"annotation": annotation})]


def _partial_image(ev: Any) -> list[Event]:
    key = ("tool", field(ev, "output_index", 0))
    info = {"status": "generating", "partial_image": field(ev, "partial_image_index")}
    image = field(ev, "partial_image_b64")
    events: list[Event] = [PartStarted(key, "tool", info)]
    if isinstance(image, str) and image:
        events.append(PartReplaced(key, "tool", image))
    return events


_TOOL = _output_key("tool")
_TOOL_CALL = _output_key("tool_call")
_AUDIO: Callable[[Any], tuple[Any, ...]] = lambda ev: ("text", "audio", 0)  # noqa: E731

_RESPONSES: dict[str, Callable[[Any], list[Event]]] = {
    "response.created": _lifecycle("created"),
    "response.queued": _lifecycle("queued"),
    "response.in_progress": _lifecycle("in_progress"),
    "response.completed": _lifecycle("completed"),
    "response.incomplete": _lifecycle("incomplete"),
    "response.failed": _lifecycle("failed"),
    "error": _error_event,
    "response.output_item.added": _item_added,
    "response.output_item.done": _item_done,
    "response.content_part.added": _content_added,
    "response.output_text.delta": _delta("text", "text", lambda ev: _text_key(ev, "text")),
    "response.output_text.done": _done("text", lambda ev: _text_key(ev, "text"), "text"),
    "response.output_text.annotation.added": _annotation,
    "response.refusal.delta": _delta("refusal", "refusal", lambda ev: _text_key(ev, "refusal")),
    "response.refusal.done": _done("refusal", lambda ev: _text_key(ev, "refusal"), "refusal"),
    "response.reasoning_summary_part.added": _summary_added,
    "response.reasoning_summary_text.delta": _delta("reasoning", "reasoning", _summary_key),
    "response.reasoning_summary_text.done": _done("reasoning", _summary_key, "text"),
    "response.reasoning_text.delta": _delta("reasoning", "reasoning", _reasoning_key),
    "response.reasoning_text.done": _done("reasoning", _reasoning_key, "text"),
    "response.function_call_arguments.delta": _delta("tool_call", "tool_call", _TOOL_CALL),
    "response.function_call_arguments.done": _tool_call_done("arguments"),
    "response.custom_tool_call_input.delta": _delta("tool_call", "tool_call", _TOOL_CALL),
    "response.custom_tool_call_input.done": _tool_call_done("input"),
    "response.mcp_call_arguments.delta": _delta("tool_call", "tool_call", _TOOL_CALL),
    "response.mcp_call_arguments.done": _tool_call_done("arguments"),
    "response.code_interpreter_call_code.delta": _delta("tool", "tool", _TOOL),
    "response.code_interpreter_call_code.done": _code_done,
    "response.shell_call_command.added": _shell_command_added,
    "response.shell_call_command.delta": _delta("tool", "tool", _TOOL),
    "response.image_generation_call.partial_image": _partial_image,
    "response.audio.transcript.delta": _delta("text", "text", _AUDIO),
    "response.audio.transcript.done": _done("text", _AUDIO, "transcript"),
}
for _tool_kind in ("web_search", "file_search", "code_interpreter", "image_generation"):
    for _phase in ("in_progress", "searching", "interpreting", "generating", "completed", "failed"):
        _RESPONSES.setdefault(f"response.{_tool_kind}_call.{_phase}", _tool_status(_phase))
for _phase in ("in_progress", "completed", "failed"):
    _RESPONSES[f"response.mcp_list_tools.{_phase}"] = _tool_status(_phase)
    # an MCP call is a tool_call part (its arguments stream): its status belongs there
    _RESPONSES[f"response.mcp_call.{_phase}"] = _tool_status(_phase, "tool_call")


# --- Chat Completions and legacy Completions ---------------------------------------------


def _choices_chunk(chunk: Any, read_choice: Callable[[int, Any], list[Event]]) -> list[Event]:
    """Events of a Chat or Completions chunk: one reader per choice, then finish and usage."""
    events: list[Event] = [
        Lifecycle("streaming", model=field(chunk, "model"), response_id=field(chunk, "id"))
    ]
    for index, choice in _by_index(field(chunk, "choices") or ()):
        events.extend(read_choice(index, choice))
        reason = field(choice, "finish_reason")
        if reason:
            events.append(FinishReason(index, reason))
    usage = as_dict(field(chunk, "usage"))
    if usage:
        events.append(UsageReported(usage))
    return events


def _by_index(choices: Any) -> list[tuple[int, Any]]:
    """A chunk's choices with their index (a non-integer one read as 0), lowest first: the
    first choice to appear is the one ``w.text`` shows."""
    indexed = []
    for choice in choices:
        index = field(choice, "index", 0)
        indexed.append((index if isinstance(index, int) else 0, choice))
    return sorted(indexed, key=lambda pair: pair[0])


def _chat_choice(index: int, choice: Any) -> list[Event]:
    delta = field(choice, "delta")
    if delta is None:
        return _NO_EVENTS
    events: list[Event] = []
    content = field(delta, "content")
    if content:
        events.append(PartDelta(("choice", index, "text"), "text", content))
    refusal = field(delta, "refusal")
    if refusal:
        events.append(PartDelta(("choice", index, "refusal"), "refusal", refusal))
    for call in field(delta, "tool_calls") or ():
        events.extend(_chat_tool_call(index, call))
    return events


def _completion_choice(index: int, choice: Any) -> list[Event]:
    text = field(choice, "text")
    return [PartDelta(("choice", index, "text"), "text", text)] if text else _NO_EVENTS


def _chat_chunk(chunk: Any) -> list[Event]:
    return _choices_chunk(chunk, _chat_choice)


def _completion_chunk(chunk: Any) -> list[Event]:
    return _choices_chunk(chunk, _completion_choice)


def _chat_tool_call(choice: int, call: Any) -> list[Event]:
    key = ("choice", choice, "tool_call", field(call, "index", 0))
    function = field(call, "function")
    events: list[Event] = []
    call_id, name = field(call, "id"), field(function, "name")
    if call_id or name:
        info = {k: v for k, v in (("call_id", call_id), ("name", name)) if v}
        events.append(PartStarted(key, "tool_call", info))
    arguments = field(function, "arguments")
    if arguments:
        events.append(PartDelta(key, "tool_call", arguments))
    return events


# --- a whole answer where a stream was expected ------------------------------------------


def json_answer(data: Any) -> tuple[list[Event], str | None]:
    """Events for a whole, non-streamed answer (a Responses ``response``, a
    ``chat.completion`` or a ``text_completion`` object), and the error it reports, if any.
    Anything else gives no events."""
    if not isinstance(data, dict):
        return [], None
    error = data.get("error")
    detail = field(error, "message") if isinstance(error, dict) else error
    detail = str(detail) if detail else None
    kind = data.get("object")
    events: list[Event] = []
    if kind == "response":
        for index, item in enumerate(data.get("output") or ()):
            events.extend(_item_done({"item": item, "output_index": index}))
        usage = as_dict(data.get("usage"))
        if usage:
            events.append(UsageReported(usage))
    elif kind in ("chat.completion", "text_completion"):
        choices = [_as_delta(c) for c in data.get("choices") or () if isinstance(c, dict)]
        reader = _chat_choice if kind == "chat.completion" else _completion_choice
        events = _choices_chunk({**data, "choices": choices}, reader)
    return events, detail


def _as_delta(choice: dict[str, Any]) -> dict[str, Any]:
    """A whole Chat choice in the shape of a streamed one (``message`` read as ``delta``)."""
    message = choice.get("message")
    if not isinstance(message, dict):
        return choice
    calls = [{**c, "index": i} for i, c in enumerate(message.get("tool_calls") or ())
             if isinstance(c, dict)]
    return {**choice, "delta": {**message, "tool_calls": calls}}
