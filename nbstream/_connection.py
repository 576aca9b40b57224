"""Closing a stream's HTTP connection promptly, from any thread.

Breaking out of a stream's loop leaves the connection open, and a sync ``close()`` from
another thread does not wake a thread blocked in ``recv`` while the server is silent (the
server kept such a connection for its full read timeout). What does wake it is shutting the
socket down: the blocked read returns at once and the server sees the connection go. We shut
down a duplicate of the socket's descriptor, so the reading thread still owns (and closes)
the original; for transports without a socket (in-process ones), the response is closed.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

import httpx2


def find_response(stream: Any) -> httpx2.Response | None:
    """The ``httpx2.Response`` behind an SDK stream or stream helper, if there is one."""
    seen: set[int] = set()
    todo = [stream]
    while todo:
        obj = todo.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, httpx2.Response):
            return obj
        for name in ("response", "_response", "_raw_stream", "_stream"):
            value = getattr(obj, name, None)
            if value is not None and not callable(value):
                todo.append(value)
    return None


def _socket_of(response: httpx2.Response) -> socket.socket | None:
    network_stream = response.extensions.get("network_stream")
    get_extra_info = getattr(network_stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    sock = get_extra_info("socket")
    return sock if isinstance(sock, socket.socket) else None


def abort(response: httpx2.Response | None) -> bool:
    """Close the connection behind ``response`` now; safe from any thread.

    Returns whether a connection was found to close.
    """
    if response is None:
        return False
    sock = _socket_of(response)
    if sock is not None:
        fd = sock.fileno()
        if fd >= 0:
            with contextlib.suppress(OSError):
                duplicate = socket.socket(fileno=os.dup(fd))
                try:
                    duplicate.shutdown(socket.SHUT_RDWR)
                finally:
                    duplicate.close()
                return True
    # No socket (an in-process transport): its stream's close() must be thread-safe.
    stream = getattr(response, "stream", None)
    close = getattr(stream, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):
            close()
            return True
    return False

