"""Closing a stream's HTTP connection promptly, from any thread.

Breaking out of a stream's loop leaves the connection open, and a sync ``close()`` from
another thread does not wake a thread blocked in ``recv`` while the server is silent (the
server kept such a connection for its full read timeout). What does wake it is shutting the
socket down: the blocked read returns at once and the server sees the connection go. We shut
down a duplicate of the socket's descriptor, so the reading thread still owns (and closes)
the original; for transports without a socket (in-process ones), the response is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import socket
from collections.abc import Iterator
from typing import Any

import httpx2


def _inner(stream: Any) -> Iterator[Any]:
    """``stream`` and the objects it wraps (an SDK stream's helper layers, its response)."""
    seen: set[int] = set()
    todo = [stream]
    while todo:
        obj = todo.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, httpx2.Response):
            continue
        for name in ("response", "_response", "_raw_stream", "_stream"):
            value = getattr(obj, name, None)
            if value is not None and not callable(value):
                todo.append(value)


def find_response(stream: Any) -> httpx2.Response | None:
    """The ``httpx2.Response`` behind an SDK stream or stream helper, if there is one."""
    return next((obj for obj in _inner(stream) if isinstance(obj, httpx2.Response)), None)


def find_client(stream: Any) -> Any:
    """The openai client that made an SDK stream, if it is known (for its secrets)."""
    for obj in _inner(stream):
        client = getattr(obj, "_client", None)
        if client is not None and hasattr(client, "api_key"):
            return client
    return None


def not_an_event_stream(response: httpx2.Response | None) -> bool:
    """Whether a successful answer came as a whole JSON document instead of a stream."""
    if response is None or response.status_code >= 300:
        return False
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _socket_of(response: httpx2.Response) -> socket.socket | None:
    return _stream_socket(response.extensions.get("network_stream"))


class ConnectionTracker:
    """Remembers the connection a sync request opens, so Stop can close it while the request
    is still waiting for its response (``status == "pending"``).

    It rides on httpcore's ``trace`` request extension, installed on a private copy of the
    caller's client (:func:`tracked_client`): the caller's own client is left untouched.
    """

    def __init__(self) -> None:
        self.network_stream: Any = None

    def install(self, request: httpx2.Request) -> None:
        """Add the tracing hook to one outgoing request."""
        previous = request.extensions.get("trace")

        def trace(name: str, info: dict[str, Any]) -> None:
            if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                self.network_stream = info.get("return_value")
            if previous is not None:
                previous(name, info)

        request.extensions = {**request.extensions, "trace": trace}

    def abort(self) -> bool:
        """Shut down the tracked connection, if the request opened one."""
        return _shutdown(_stream_socket(self.network_stream))


def tracked_client(client: Any, tracker: ConnectionTracker) -> Any:
    """A copy of a sync openai client (same connection pool) whose requests feed ``tracker``."""
    copy = getattr(client, "with_options", None)
    own = copy() if callable(copy) else None
    prepare = getattr(own, "_prepare_request", None)
    if own is None or not callable(prepare) or inspect.iscoroutinefunction(prepare):
        return client

    def prepare_request(request: httpx2.Request) -> Any:
        tracker.install(request)
        return prepare(request)

    own._prepare_request = prepare_request
    return own


def _stream_socket(network_stream: Any) -> socket.socket | None:
    get_extra_info = getattr(network_stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    sock = get_extra_info("socket")
    return sock if isinstance(sock, socket.socket) else None


def _shutdown(sock: socket.socket | None) -> bool:
    """Shut down a duplicate of the socket's descriptor: wakes a blocked reader at once."""
    if sock is None:
        return False
    fd = sock.fileno()
    if fd < 0:
        return False
    with contextlib.suppress(OSError):
        duplicate = socket.socket(fileno=os.dup(fd))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()
        return True
    return False


def close_stream(stream: Any, source: Any) -> Exception | None:
    """Close a sync stream (or, if it has no ``close``, its source); returns what closing
    raised, if anything (the stream had already ended badly)."""
    for obj in (stream, source):
        close = getattr(obj, "close", None)
        if callable(close):
            try:
                close()
            except Exception as exc:
                return exc
            break
    return None


async def aclose_stream(stream: Any, source: Any) -> BaseException | None:
    """Close an async stream (or its source), shielded from the task's cancellation; returns
    what closing raised, if anything."""
    for obj in (stream, source):
        close = getattr(obj, "aclose", None) or getattr(obj, "close", None)
        if callable(close):
            try:
                result = close()
                if inspect.isawaitable(result):
                    await asyncio.shield(asyncio.ensure_future(result))
            except BaseException as exc:
                return exc
            break
    return None


def abort(response: httpx2.Response | None) -> bool:
    """Close the connection behind ``response`` now; safe from any thread.

    Returns whether a connection was found to close.
    """
    if response is None:
        return False
    if _shutdown(_socket_of(response)):
        return True
    # No socket (an in-process transport): its stream's close() must be thread-safe.
    stream = getattr(response, "stream", None)
    close = getattr(stream, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):
            close()
            return True
    return False

