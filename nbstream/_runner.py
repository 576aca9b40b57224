"""Consume a stream in the background and publish it on a frame clock.

A sync source is consumed on a worker thread (it keeps streaming while another cell blocks
the kernel); an async source runs as a task on the event loop that was running when the
stream started (or on a private loop in a worker thread when none was). A flusher thread
publishes coalesced patches at most :data:`FRAME_RATE` times a second and always ends with
a final flush. :meth:`Controller.stop` only signals: it sets a flag, shuts the connection
down and cancels the task thread-safely, so it is safe from any thread, and twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx2

from ._adapters import normalise
from ._clean import Cleaner, client_secrets, request_secrets
from ._connection import (
    ConnectionTracker,
    abort,
    aclose_stream,
    close_stream,
    find_client,
    find_response,
    not_an_event_stream,
)
from ._document import Document
from ._ending import EndSignal, refuse_to_block
from ._errors import PublishFailed, describe_error, not_streamed
from ._events import Event
from ._patches import PartView, PatchBuilder, plain_snapshot_part

FRAME_RATE = 20
"""Patches per second at most (the server drops IOPub output above 1,000 messages/s)."""
RENDER_SHARE = 4
"""A flush that took ``t`` seconds is followed by at least ``RENDER_SHARE * t`` of rest."""
METRICS_INTERVAL = 1.0
"""Seconds between live metrics updates in patches."""
STUCK_SOURCE_GRACE = 0.5
"""Seconds a stopped source may take to return before the stream ends without it."""

_log = logging.getLogger("nbstream")
__all__ = ["Controller", "describe_error", "is_async_source"]

Publish = Callable[[dict[str, Any]], None]


class _Stopped(Exception):
    """Raised inside the consumer when Stop was requested before the response arrived."""


def is_async_source(source: Any) -> bool:
    """Whether ``source`` is consumed with ``async for`` / ``async with`` (not sync)."""
    return (hasattr(source, "__aiter__") or hasattr(source, "__aenter__")) and not (
        hasattr(source, "__iter__") or hasattr(source, "__enter__")
    )


class Controller:
    """Owns one stream: its document, its consumer, its flusher and its Stop."""

    def __init__(self, opener: Callable[[], Any], publish: Publish,
                 on_status: Callable[[str], None],
                 tracker: ConnectionTracker | None = None,
                 secrets: Iterable[str] = ()) -> None:
        self._opener = opener
        self._tracker = tracker
        self._publish_to_page = publish
        self._on_status = on_status
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._clean = Cleaner(secrets)
        self.document = Document(cleaner=self._clean)
        self._builder = PatchBuilder()
        self._dirty = False
        self._stop = threading.Event()
        self._ended = EndSignal()
        self._consumer_done = False
        self._finalizing = False
        self._internal_failure = False
        self._snapshot_wanted = False
        self._response: httpx2.Response | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Future[Any] | None = None
        self._last_metrics = 0.0
        self.status = "pending"
        self.error: str | None = None
        self.html = ""
        self.final_snapshot: dict[str, Any] | None = None

    # --- starting -------------------------------------------------------------------

    def start(self, source_is_async: bool | None) -> None:
        """Start consuming in the background; returns at once."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._spawn(self._flush_loop, "flusher")
        if source_is_async and self._loop is not None:
            self._task = self._loop.create_task(self._consume_async(self._opener))
        else:
            self._spawn(self._consume_in_thread, "consumer")

    def _spawn(self, target: Callable[[], None], role: str) -> None:
        threading.Thread(target=target, name=f"nbstream-{role}", daemon=True).start()

    def _consume_in_thread(self) -> None:
        try:
            source = self._opener()
            if inspect.isawaitable(source) or is_async_source(source):
                self._hand_over_async(source)
                return
            self._consume_sync(source)
        except BaseException as exc:  # every failure ends the stream
            self._fail(exc)
            self._consumer_finished()

    def _hand_over_async(self, source: Any) -> None:
        """An async source found on the worker thread: run it on the captured loop."""
        opener: Callable[[], Any] = lambda: source  # noqa: E731
        if self._loop is not None and self._loop.is_running():
            coro = self._consume_async(opener)
            self._task = asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(coro, self._loop), loop=self._loop
            )
            if self._stop.is_set():
                self._cancel_task()
        else:
            try:
                asyncio.run(self._consume_async(opener, own_loop=True))
            finally:  # the stream ends once its private loop (and its threads) are gone
                self._consumer_finished()

    # --- consuming --------------------------------------------------------------------

    def _consume_sync(self, source: Any) -> None:
        stream = source
        try:
            if hasattr(source, "__enter__") and not hasattr(source, "__iter__"):
                stream = source.__enter__()
            whole = self._attach(stream)
            if whole is not None:
                self._take_whole(whole, whole.read())
                return
            for item in stream:
                if self._stop.is_set():
                    break
                self._feed(item)
        except BaseException as exc:
            self._fail(exc)
        finally:
            failure = close_stream(stream, source)
            if failure is not None:
                self._fail(failure)
            self._consumer_finished()

    async def _consume_async(self, opener: Callable[[], Any], own_loop: bool = False) -> None:
        if own_loop:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        stream = source = None
        try:
            source = opener()
            if inspect.isawaitable(source):
                source = await source
            stream = source
            if hasattr(source, "__aenter__") and not hasattr(source, "__aiter__"):
                stream = await source.__aenter__()
            whole = self._attach(stream)
            if whole is not None:
                body = await whole.aread() if hasattr(stream, "__aiter__") else whole.read()
                self._take_whole(whole, body)
            elif hasattr(stream, "__aiter__"):
                async for item in stream:
                    if self._stop.is_set():
                        break
                    self._feed(item)
            else:
                for item in stream:
                    if self._stop.is_set():
                        break
                    self._feed(item)
        except BaseException as exc:  # includes CancelledError from Stop
            self._fail(exc)
        finally:
            failure = await aclose_stream(stream, source)
            if failure is not None:
                self._fail(failure)
            if not own_loop:
                self._consumer_finished()

    def _attach(self, stream: Any) -> httpx2.Response | None:
        """The API answered: start streaming. Returns the response if it is a whole
        document rather than an event stream (to be read at once)."""
        response = find_response(stream)
        secrets = client_secrets(find_client(stream))
        secrets += request_secrets(response)
        with self._lock:
            self._clean.add(secrets)
            self._response = response
            stopped = self._stop.is_set()
            if not stopped:
                self.status = "streaming"
        if stopped:
            abort(response)
            raise _Stopped
        self._status_changed("streaming")
        return response if not_an_event_stream(response) else None

    def _take_whole(self, response: httpx2.Response, body: bytes) -> None:
        """A 200 answer that did not stream: keep its text, end in error saying so."""
        events, message = not_streamed(response.headers.get("content-type", ""), body)
        self._apply("json", events)
        with self._lock:
            self.error = self.error or self._clean.message(message)

    def _feed(self, item: Any) -> None:
        self._apply(*normalise(item))

    def _apply(self, name: str, events: list[Event]) -> None:
        with self._wake:
            if self._stop.is_set() or self._finalizing:
                return
            self.document.apply(name, events)
            if not self._dirty:
                self._dirty = True
                self._wake.notify()

    def _fail(self, exc: BaseException) -> None:
        if self._stop.is_set() or isinstance(exc, _Stopped):
            return
        if isinstance(exc, asyncio.CancelledError | GeneratorExit | KeyboardInterrupt):
            message = f"The stream was cancelled ({type(exc).__name__})."
        else:
            with self._lock:
                self._clean.add(request_secrets(exc))
            connected = self._response is not None
            message = describe_error(exc, connected=connected, cleaner=self._clean)
        with self._lock:
            if self._finalizing:
                return
            self.error = self.error or message

    def _consumer_finished(self) -> None:
        with self._wake:
            self._consumer_done = True
            self._dirty = True
            self._wake.notify()

    # --- stopping -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the stream: close the connection now, keep the text so far. Any thread."""
        with self._lock:
            if self._stop.is_set() or self._finalizing:
                return
            self._stop.set()
            self.status = "stopped"  # decided now: later items are ignored
        self._status_changed("stopped")
        self._abort_and_cancel()
        with self._wake:
            self._dirty = True
            self._wake.notify()

    def _abort_and_cancel(self) -> None:
        with self._lock:
            response = self._response
        if response is not None:
            abort(response)
        elif self._tracker is not None:
            self._tracker.abort()  # the request is still waiting for its response
        self._cancel_task()

    def _cancel_task(self) -> None:
        task, loop = self._task, self._loop
        if task is None or loop is None or task.done():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task.cancel()
        else:
            loop.call_soon_threadsafe(task.cancel)

    # --- publishing -----------------------------------------------------------------

    def request_snapshot(self) -> None:
        """A view asked for the whole state (it joined late or saw a gap)."""
        with self._wake:
            if self._ended.is_set():
                snapshot = self.final_snapshot
            else:
                self._snapshot_wanted = True
                self._dirty = True
                self._wake.notify()
                return
        if snapshot is not None:
            self._publish({"type": "snapshot", "snapshot": snapshot, "final": False})

    def _publish(self, message: dict[str, Any]) -> None:
        try:
            self._publish_to_page(message)
        except Exception as exc:
            raise PublishFailed from exc

    def _status_changed(self, status: str) -> None:
        """Tell the widget; if that cannot be published, the stream ends in error."""
        try:
            self._on_status(status)
        except Exception as exc:
            failure = PublishFailed()
            failure.__cause__ = exc
            self._broken(failure)

    def _broken(self, exc: BaseException) -> None:
        """Rendering or publishing failed: end the stream in error (never hang it)."""
        if isinstance(exc, PublishFailed):
            message = describe_error(exc, cleaner=self._clean)
        else:
            message = f"nbstream internal error: {describe_error(exc, cleaner=self._clean)}"
        with self._wake:
            first = not self._internal_failure
            self.error = message if first else self.error
            self._internal_failure = True
            self._stop.set()
            self._dirty = True
            self._wake.notify()
        if first:
            _log.error("nbstream: %s", message, exc_info=exc)
            self._abort_and_cancel()

    def _flush_loop(self) -> None:
        try:
            self._flush_frames()
        except BaseException as exc:  # a bug in rendering or publishing must not hang the stream
            self._broken(exc)
            if not self._ended.is_set():
                self._final_flush()

    def _flush_frames(self) -> None:
        last, cost = 0.0, 0.0
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._dirty)
                # A frame clock that also keeps rendering under ~1/RENDER_SHARE of the time.
                delay = last + max(1.0 / FRAME_RATE, cost * RENDER_SHARE) - time.monotonic()
                # The rest ends early when the stream does: the final flush goes out at once.
                self._wake.wait_for(lambda: self._consumer_done or self._stop.is_set(), delay)
            if self._stop.is_set():
                # The consumer normally returns at once; a stuck source is left behind.
                with self._wake:
                    self._wake.wait_for(lambda: self._consumer_done, timeout=STUCK_SOURCE_GRACE)
            if self._consumer_done or self._stop.is_set():
                self._final_flush()
                return
            started = time.monotonic()
            self._flush()
            last = time.monotonic()
            cost = last - started

    def _views(self) -> list[PartView]:
        """What changed in each part since the last flush (call with the lock held)."""
        views = []
        for part in self.document.parts.values():
            generation, length = self._builder.known(part.id)
            new_text = part.text if part.generation != generation else part.text[length:]
            views.append(
                PartView(part.id, part.kind, part.slot, dict(part.info), part.done,
                         part.generation, new_text)
            )
        return views

    def _flush(self, final: bool = False) -> None:
        with self._wake:
            self._dirty = False
            views = self._views()
            status, error = self.status, self.error
            want_snapshot, self._snapshot_wanted = self._snapshot_wanted, False
            now = time.monotonic()
            metrics = log = None
            if final or now - self._last_metrics >= METRICS_INTERVAL:
                metrics = self.document.metrics()
                self._last_metrics = now
            if final:
                log = self.document.event_log()
        ops = self._builder.build(views, final=final)
        html = "".join(
            self._builder.html_of(v.id) for v in views if v.kind == "text" and v.choice == 0
        )
        if ops or metrics is not None or final:
            self._builder.seq += 1
            patch: dict[str, Any] = {"type": "patch", "seq": self._builder.seq, "status": status}
            if ops:
                patch["parts"] = ops
            if metrics is not None:
                patch["metrics"] = metrics
            if error:
                patch["error"] = error
            if final:
                patch.update(final=True, log=log)
            with self._lock:
                self.html = html
            self._publish(patch)
        if want_snapshot or final:
            snapshot = self._snapshot(views, status, error, metrics if final else None, log)
            if final:
                self.final_snapshot = snapshot
            self._publish({"type": "snapshot", "snapshot": snapshot, "final": final})

    def _snapshot(self, views: list[PartView], status: str, error: str | None,
                  metrics: dict[str, Any] | None = None,
                  log: dict[str, Any] | None = None) -> dict[str, Any]:
        if metrics is None or log is None:
            with self._lock:
                metrics = self.document.metrics()
                log = self.document.event_log()
        return {
            "seq": self._builder.seq,
            "status": status,
            "error": error,
            "parts": self._builder.snapshot_parts(views),
            "metrics": metrics,
            "log": log,
        }

    def _final_flush(self) -> None:
        with self._lock:
            self._finalizing = True
            self.document.end()
            unfinished = self.document.unfinished(expect_events=self._response is not None)
            if self._internal_failure:
                self.status = "error"
            elif self._stop.is_set():
                self.status = "stopped"
            elif self.error is not None or self.document.failure is not None:
                self.status = "error"
                self.error = self.error or self.document.failure
            elif unfinished is not None:
                self.status, self.error = "error", unfinished
            else:
                self.status = "done"
        try:
            self._flush(final=True)
            self._builder.release()  # a finished widget keeps its text, HTML and snapshot
        except Exception as exc:  # the page could not be told: the stream ends all the same
            self._broken(exc)
            with self._lock:
                self.status = "error"
            with contextlib.suppress(Exception):
                self._publish_plain_snapshot()
        finally:
            with contextlib.suppress(Exception):
                self._on_status(self.status)
            self._ended.set()

    def _publish_plain_snapshot(self) -> None:
        """After a failure in the final flush: the text as escaped plain text, so late views
        and the saved notebook still show the answer (``status`` is ``error`` by then)."""
        with self._lock:
            parts = [plain_snapshot_part(p.id, p.kind, p.slot, dict(p.info), p.done, p.text)
                     for p in self.document.parts.values()]
            snapshot = {"seq": self._builder.seq + 1, "status": self.status, "error": self.error,
                        "parts": parts, "metrics": self.document.metrics(), "log": None}
            self.html = "".join(p["blocks"][0] for p in parts
                                if p.get("blocks") and p["choice"] == 0 and p["kind"] == "text")
            self.final_snapshot = snapshot
        self._publish({"type": "snapshot", "snapshot": snapshot, "final": True})

    # --- waiting --------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        """Whether the stream has ended and everything was published."""
        return self._ended.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the stream ends; returns whether it did within ``timeout``."""
        if self._task is not None and not self._ended.is_set():
            refuse_to_block(self._loop)
        return self._ended.wait(timeout)

    def future(self) -> concurrent.futures.Future[None]:
        """A new future resolved when the stream has ended: one per waiter, so a waiter
        that gives up (cancelling its future) does not cancel anybody else's."""
        return self._ended.future()
