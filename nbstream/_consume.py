"""Reading a source to its end: the loops over a sync or an async stream.

They only read: what an item means, when to stop and what a failure becomes is the
:class:`Sink`'s (the stream's controller). Whatever happens, the stream is closed (so its
connection goes) and the sink hears of the end exactly once, from ``finished``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol

import httpx2

from ._connection import aclose_stream, close_stream


class Sink(Protocol):
    """What a consumer feeds."""

    def stopped(self) -> bool:
        """Whether Stop was asked for (the loop breaks)."""

    def attach(self, stream: Any) -> httpx2.Response | None:
        """The API answered; returns the response when it is a whole document to be read at
        once instead of an event stream."""

    def take_whole(self, response: httpx2.Response, body: bytes) -> None:
        """The body of a 200 answer that did not stream."""

    def feed(self, item: Any) -> None:
        """One item (an SDK event or chunk, or a ``str``)."""

    def fail(self, exc: BaseException) -> None:
        """The source, or closing it, raised."""

    def finished(self) -> None:
        """The consumer is done (called once, last)."""


def is_async_source(source: Any) -> bool:
    """Whether ``source`` is consumed with ``async for`` / ``async with`` (not sync)."""
    return (hasattr(source, "__aiter__") or hasattr(source, "__aenter__")) and not (
        hasattr(source, "__iter__") or hasattr(source, "__enter__")
    )


def consume_sync(source: Any, sink: Sink) -> None:
    """Read a sync source (a stream, a stream manager or any iterable) to its end."""
    stream = source
    try:
        if hasattr(source, "__enter__") and not hasattr(source, "__iter__"):
            stream = source.__enter__()
        whole = sink.attach(stream)
        if whole is not None:
            sink.take_whole(whole, whole.read())
            return
        for item in stream:
            if sink.stopped():
                break
            sink.feed(item)
    except BaseException as exc:
        sink.fail(exc)
    finally:
        failure = close_stream(stream, source)
        if failure is not None:
            sink.fail(failure)
        sink.finished()


async def consume_async(opener: Callable[[], Any], sink: Sink, report_end: bool = True) -> None:
    """Open a source (awaiting it if need be) and read it to its end, in a task.
    ``report_end=False`` leaves ``sink.finished()`` to the caller (a private loop's owner
    reports the end once the loop is gone)."""
    stream = source = None
    try:
        source = opener()
        if inspect.isawaitable(source):
            source = await source
        stream = source
        if hasattr(source, "__aenter__") and not hasattr(source, "__aiter__"):
            stream = await source.__aenter__()
        whole = sink.attach(stream)
        if whole is not None:
            body = await whole.aread() if hasattr(stream, "__aiter__") else whole.read()
            sink.take_whole(whole, body)
        elif hasattr(stream, "__aiter__"):
            async for item in stream:
                if sink.stopped():
                    break
                sink.feed(item)
        else:
            for item in stream:
                if sink.stopped():
                    break
                sink.feed(item)
    except BaseException as exc:  # includes CancelledError from Stop
        sink.fail(exc)
    finally:
        failure = await aclose_stream(stream, source)
        if failure is not None:
            sink.fail(failure)
        if report_end:
            sink.finished()
