"""One live stream: its source, its document and its Stop, as a channel of the runtime.

A sync source is read on a worker thread of the shared runtime (it keeps streaming while
another cell blocks the kernel); an async source runs as a task on the event loop that was
running when the stream started (or on a private loop in a worker thread when none was).
The stream never publishes by itself: the runtime's clock asks it for a frame when one is due
(:meth:`Controller.due`, :meth:`Controller.frame`), and the end of the stream wakes the clock
at once. :meth:`Controller.stop` only signals: it sets a flag, shuts the connection down and
cancels the task thread-safely, so it is safe from any thread, and twice.
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
from ._connection import ConnectionTracker, abort, find_client, find_response, not_an_event_stream
from ._consume import consume_async, consume_sync, is_async_source
from ._document import Document
from ._ending import EndSignal, refuse_to_block
from ._errors import PublishFailed, describe_error, not_streamed
from ._events import Event
from ._frames import Frames
from ._runtime import Runtime, runtime

FRAME_RATE = 20
"""Frames per second of one stream at most (all streams together share the runtime's budget)."""
RENDER_SHARE = 4
"""A frame that took ``t`` seconds is followed by at least ``RENDER_SHARE * t`` of rest."""
STUCK_SOURCE_GRACE = 0.5
"""Seconds a stopped source may take to return before the stream ends without it."""
END_MESSAGES = 3
"""Messages the end of a stream sends: the final patch, the final state, a display update."""

_log = logging.getLogger("nbstream")
__all__ = ["Controller", "describe_error", "is_async_source"]

Publish = Callable[[dict[str, Any]], int]


class _Stopped(Exception):
    """Raised inside the consumer when Stop was requested before the response arrived."""


class Controller:
    """Owns one stream: its document, its consumer and its Stop; the runtime's clock asks it
    for frames. ``publish`` sends a message to the page and returns how many it sent."""

    def __init__(self, opener: Callable[[], Any], publish: Publish,
                 on_status: Callable[[str], None],
                 tracker: ConnectionTracker | None = None,
                 secrets: Iterable[str] = (), shared: Runtime | None = None,
                 watched: bool = True) -> None:
        self._opener = opener
        self._tracker = tracker
        self._publish_to_page = publish
        self._on_status = on_status
        self._runtime = shared or runtime()
        self._lock = threading.Lock()
        self._clean = Cleaner(secrets)
        self.document = Document(cleaner=self._clean)
        self._frames = Frames()
        self._dirty = False
        self._stop = threading.Event()
        self._stopped_at = 0.0
        self._ended = EndSignal()
        self._consumer_done = False
        self._finalizing = False
        self._internal_failure = False
        self._snapshot_wanted = False
        self._response: httpx2.Response | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Future[Any] | None = None
        self._rest = 1.0 / FRAME_RATE
        self._watched = watched
        self.last_frame = 0.0
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
        self._runtime.add(self)
        if source_is_async and self._loop is not None:
            self._task = self._loop.create_task(consume_async(self._opener, self))
        else:
            self._runtime.run_source(self._consume_in_thread)

    def _consume_in_thread(self) -> None:
        try:
            source = self._opener()
            if inspect.isawaitable(source) or is_async_source(source):
                self._hand_over_async(source)
                return
        except BaseException as exc:  # every failure ends the stream
            self.fail(exc)
            self.finished()
            return
        consume_sync(source, self)

    def _hand_over_async(self, source: Any) -> None:
        """An async source found on the worker thread: run it on the captured loop."""
        opener: Callable[[], Any] = lambda: source  # noqa: E731
        if self._loop is not None and self._loop.is_running():
            coro = consume_async(opener, self)
            self._task = asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(coro, self._loop), loop=self._loop
            )
            if self._stop.is_set():
                self._cancel_task()
            return
        try:
            asyncio.run(self._consume_on_private_loop(opener))
        finally:  # the stream ends once its private loop (and its threads) are gone
            self.finished()

    async def _consume_on_private_loop(self, opener: Callable[[], Any]) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        await consume_async(opener, self, report_end=False)

    # --- what the consumer feeds (``_consume.Sink``) ------------------------------------

    def stopped(self) -> bool:
        """Whether Stop was asked for."""
        return self._stop.is_set()

    def attach(self, stream: Any) -> httpx2.Response | None:
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
        self._status_changed()
        return response if not_an_event_stream(response) else None

    def take_whole(self, response: httpx2.Response, body: bytes) -> None:
        """A 200 answer that did not stream: keep its text, end in error saying so."""
        events, message = not_streamed(response.headers.get("content-type", ""), body)
        self._apply("json", events)
        with self._lock:
            self.error = self.error or self._clean.message(message)

    def feed(self, item: Any) -> None:
        """One item of the stream."""
        self._apply(*normalise(item))

    def _apply(self, name: str, events: list[Event]) -> None:
        with self._lock:
            if self._stop.is_set() or self._finalizing:
                return
            self.document.apply(name, events)
            news = not self._dirty
            self._dirty = True
        if news:
            self._runtime.wake()

    def fail(self, exc: BaseException) -> None:
        """The source raised: keep a readable message (the stream ends in error)."""
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
            if not self._finalizing:
                self.error = self.error or message

    def finished(self) -> None:
        """The consumer is done: the end goes out as soon as the budget allows."""
        with self._lock:
            self._consumer_done = True
        self._runtime.wake()

    # --- stopping -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the stream: close the connection now, keep the text so far. Any thread."""
        with self._lock:
            if self._stop.is_set() or self._finalizing:
                return
            self._stop.set()
            self._stopped_at = time.monotonic()
            self.status = "stopped"  # decided now: later items are ignored
        self._status_changed()
        self._abort_and_cancel()
        self._runtime.wake()

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

    def _status_changed(self) -> None:
        """Tell the widget (its trait changes in Python; the page hears it in the frames)."""
        try:
            self._on_status(self.status)
        except Exception:  # an observer of the user's: its failure is not the stream's
            _log.exception("nbstream: an observer of the status raised")

    def _broken(self, exc: BaseException) -> None:
        """Rendering or publishing failed: end the stream in error (never hang it)."""
        if isinstance(exc, PublishFailed):
            message = describe_error(exc, cleaner=self._clean)
        else:
            message = f"nbstream internal error: {describe_error(exc, cleaner=self._clean)}"
        with self._lock:
            first = not self._internal_failure
            self.error = message if first else self.error
            self._internal_failure = True
            if not self._stop.is_set():
                self._stopped_at = time.monotonic()
            self._stop.set()
        if first:
            _log.error("nbstream: %s", message, exc_info=exc)
            self._abort_and_cancel()

    # --- frames (the runtime's ``Channel``) -------------------------------------------

    def watch(self) -> None:
        """A page shows the stream (it was displayed): from now on its frames are sent.

        Until then they are not: a comm with no view drops them (a view that joins later asks
        for a snapshot), and a cell that makes a hundred streams before displaying them would
        otherwise spend the kernel's budget on messages nobody sees."""
        with self._lock:
            news = not self._watched
            self._watched = True
        if news:
            self._runtime.wake()

    def request_snapshot(self) -> None:
        """A view asked for the whole state (it joined late or saw a gap)."""
        with self._lock:
            self._snapshot_wanted = True
            self._watched = True
        self._runtime.add(self)  # an ended stream is served again, for this one message

    def due(self, now: float) -> tuple[float, int, bool] | None:
        """When this stream's next frame is due, its messages, and whether it ends it."""
        with self._lock:
            if self._ended.is_set():
                return (now, 1, False) if self._snapshot_wanted else None
            if self._consumer_done:
                return now, END_MESSAGES, True
            if self._stop.is_set():  # the consumer normally returns at once; a stuck one is
                return self._stopped_at + STUCK_SOURCE_GRACE, END_MESSAGES, True  # left behind
            if self._snapshot_wanted:
                return now, 2, False
            if self._dirty and self._watched:
                return self.last_frame + self._rest, 1, False
            return None

    def frame(self) -> tuple[int, bool]:
        """Publish what is due now; returns ``(messages sent, ended)``. Never raises."""
        sent = 0
        try:
            with self._lock:
                ended, ending = self._ended.is_set(), self._consumer_done or self._stop.is_set()
            if ended:
                return self._publish_final_snapshot(), True
            if ending:
                return self._final_flush(), True
            started = time.monotonic()
            sent = self._flush()
            self._rest = max(1.0 / FRAME_RATE, (time.monotonic() - started) * RENDER_SHARE)
            return sent, False
        except BaseException as exc:  # a bug in rendering or publishing must not hang it
            self._broken(exc)
            if self._ended.is_set():
                return sent, True
            return sent + self._final_flush(), True

    def _publish(self, message: dict[str, Any]) -> int:
        try:
            return self._publish_to_page(message)
        except Exception as exc:
            raise PublishFailed from exc

    def _flush(self, final: bool = False) -> int:
        with self._lock:
            self._dirty = False
            copy = self._frames.copy(self.document, self.status, self.error, final)
            want_snapshot, self._snapshot_wanted = self._snapshot_wanted, False
            watched = self._watched
        sent = 0
        patch = self._frames.patch(copy, final)
        if patch is not None:
            html = self._frames.html(copy.views)
            with self._lock:
                self.html = html
            if watched:  # the end of a stream nobody watches: its final state says it all
                sent += self._publish(patch)
        if want_snapshot or final:
            with self._lock:
                metrics = copy.metrics or self.document.metrics()
                log = copy.log or self.document.event_log()
            snapshot = self._frames.snapshot(copy, metrics, log)
            if final:
                self.final_snapshot = snapshot
            sent += self._publish({"type": "snapshot", "snapshot": snapshot, "final": final})
        return sent

    def _publish_final_snapshot(self) -> int:
        """A view asked for the state after the end: the final snapshot, once."""
        with self._lock:
            wanted, self._snapshot_wanted = self._snapshot_wanted, False
            snapshot = self.final_snapshot
        if not wanted or snapshot is None:
            return 0
        with contextlib.suppress(PublishFailed):
            return self._publish({"type": "snapshot", "snapshot": snapshot, "final": False})
        return 0

    def _decide_status(self) -> None:
        """The end: what the stream's status is (call with the lock held)."""
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

    def _final_flush(self) -> int:
        with self._lock:
            self._decide_status()
            self._snapshot_wanted = False
        sent = 0
        try:
            sent = self._flush(final=True)
            self._frames.release()  # a finished widget keeps its text, HTML and snapshot
        except Exception as exc:  # the page could not be told: the stream ends all the same
            self._broken(exc)
            with self._lock:
                self.status = "error"
            with contextlib.suppress(Exception):
                sent += self._publish_plain_snapshot()
        finally:
            self._status_changed()
            self._ended.set()
        return sent

    def _publish_plain_snapshot(self) -> int:
        """After a failure in the final flush: the text as escaped plain text, so late views
        and the saved notebook still show the answer (``status`` is ``error`` by then)."""
        with self._lock:
            snapshot, self.html = self._frames.plain_snapshot(self.document, self.status,
                                                              self.error)
            self.final_snapshot = snapshot
        return self._publish({"type": "snapshot", "snapshot": snapshot, "final": True})

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
