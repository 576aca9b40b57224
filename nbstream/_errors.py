"""Readable, truthful messages for the ways a stream can fail.

Every message says what happened (could not connect, failed mid-stream, ended early, the
server did not stream, the page could not be reached) and passes through a
:class:`~nbstream._clean.Cleaner`, so nothing like a secret reaches widget state.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai

from ._adapters import json_answer
from ._clean import Cleaner
from ._events import Event

_CONNECT_FAILURES = (httpx2.ConnectError, httpx2.ConnectTimeout, ConnectionRefusedError)


class PublishFailed(Exception):
    """Publishing to the page (the kernel's IOPub channel) raised."""


def _connection_message(exc: BaseException, connected: bool) -> str:
    cause = exc.__cause__ if isinstance(exc, openai.APIConnectionError) else exc
    reason = f": {type(cause).__name__}: {cause}" if cause else ""
    if isinstance(cause, _CONNECT_FAILURES):
        return f"Connection error: could not connect to the API{reason}"
    if not connected:
        return f"Connection error: the connection failed before the API answered{reason}"
    return f"Connection error: the connection to the API failed mid-stream{reason}"


def describe_error(exc: BaseException, *, connected: bool = True,
                   cleaner: Cleaner | None = None) -> str:
    """A readable one-line message for a failure, with anything like a secret removed.

    ``connected`` says whether the API had answered (the stream had started) when it failed.
    """
    if isinstance(exc, PublishFailed):
        cause = exc.__cause__
        message = (f"Publishing to the page failed ({type(cause).__name__}: {cause}); "
                   "the stream was stopped.")
    elif isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("message") or exc.message
        kind = body.get("type") or body.get("code") or type(exc).__name__
        message = f"HTTP {exc.status_code} ({kind}): {detail}"
    elif isinstance(exc, openai.APITimeoutError):
        message = "The request timed out waiting for the API."
    elif isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        message = _connection_message(exc, connected)
    elif isinstance(exc, openai.APIError):
        message = f"API error: {exc.message}"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return (cleaner or Cleaner()).message(message)


def not_streamed(content_type: str, body: bytes) -> tuple[list[Event], str]:
    """A 200 answer that is not an event stream: the events of whatever answer its body
    holds, and the message saying what happened."""
    media = content_type.split(";")[0].strip() or "no content type"
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    events, detail = json_answer(data)
    message = (f"The server answered with {media}, not an event stream: it (or a proxy in "
               "between) does not stream.")
    if detail:
        message += f" It said: {detail}"
    elif events:
        message += " The text of its answer is kept."
    return events, message
