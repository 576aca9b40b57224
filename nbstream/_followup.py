"""Following up on an answer: the create arguments of the next turn of the conversation.

``w.reply(input, **overrides)`` keeps every create argument of the original request except
its input (``input``, ``messages``, ``prompt``) and continues from the answer:

- Responses: ``previous_response_id`` is the answer's response id, ``input`` the new input;
- Chat: ``messages`` are the original ones, then this answer as an ``assistant`` message (its
  tool calls included), then the new input (a ``str`` becomes a ``user`` message; a list of
  messages, e.g. tool results, is added as it is);
- Completions: ``prompt`` is the original prompt, the answer, then the new text.

The overrides win over all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    """What the next turn needs of an answer."""

    text: str
    tool_calls: list[dict[str, Any]]
    response_id: str | None


def next_request(api: str, request: Mapping[str, Any], answer: Answer, new_input: Any,
                 overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The create arguments of the turn after ``answer`` (see the module docstring)."""
    if api == "responses":
        if not answer.response_id:
            raise ValueError("reply(): this answer has no response id yet (the server has not "
                             "answered): wait for it (`await w`) and reply then.")
        base = {k: v for k, v in request.items() if k != "input"}
        base.update(previous_response_id=answer.response_id, input=new_input)
    elif api == "chat":
        base = {k: v for k, v in request.items() if k != "messages"}
        base["messages"] = [*request.get("messages", []), _assistant(answer),
                            *_as_messages(new_input)]
    elif api == "completions":
        if not isinstance(new_input, str):
            raise TypeError("reply() on a Completions answer expects the new text as a str, "
                            f"got {type(new_input).__name__}")
        base = {k: v for k, v in request.items() if k != "prompt"}
        base["prompt"] = f"{request.get('prompt', '')}{answer.text}{new_input}"
    else:
        raise TypeError(f"reply(): cannot continue a {api!r} request")
    base.update(overrides)
    return base


def _assistant(answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.text or None}
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": call.get("call_id"), "type": "function",
             "function": {"name": call.get("name"), "arguments": call.get("arguments") or ""}}
            for call in answer.tool_calls
        ]
    return message


def _as_messages(new_input: Any) -> list[Any]:
    if isinstance(new_input, str):
        return [{"role": "user", "content": new_input}]
    if isinstance(new_input, Mapping):
        return [dict(new_input)]
    if isinstance(new_input, list | tuple):
        return list(new_input)
    raise TypeError("reply() on a Chat answer expects the new input as a str (a user "
                    "message), a message dict or a list of messages, got "
                    f"{type(new_input).__name__}")
