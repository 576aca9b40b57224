"""One live stream: its source, its document, its status and its Stop.

A sync source is read on a worker thread of the shared runtime (it keeps streaming while
another cell blocks the kernel); an async source runs as a task on the event loop that was
running when the stream started (or on a private loop in a worker thread when none was).
The stream never publishes by itself: its :class:`~nbstream._channel.StreamChannel` does, when
the runtime's clock asks, and the stream wakes the clock when it has something new or has
ended. :meth:`Controller.stop` only signals: it sets a flag, shuts the connection down and
cancels the task thread-safely, so it is safe from any thread, and twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx2

from ._adapters import normalise
from ._channel import Publish, StreamChannel
from ._clean import Cleaner, client_secrets, request_secrets
from ._connection import ConnectionTracker, abort, find_client, find_response, not_an_event_stream
from ._consume import consume_async, consume_sync, is_async_source
from ._document import Document
from ._ending import EndSignal, refuse_to_block
from ._errors import PublishFailed, describe_error, not_streamed
from ._events import Event
from ._guards import Guards, GuardWatch
from ._moderation import ModerationWatch, Moderator
from ._prices import Pricing, input_tokens_estimate
from ._runtime import Host, runtime, settle

CANCEL_TIMEOUT = 30.0
"""Seconds the ``responses.cancel`` call of a stopped background response may take."""

_log = logging.getLogger("nbstream")
__all__ = ["Controller", "describe_error", "is_async_source"]


class _Stopped(Exception):
    """Raised inside the consumer when Stop was requested before the response arrived."""


class Controller:
    """Owns one stream: its source, its document, its status and its Stop. Its ``channel``
    publishes it (through ``publish``) when the runtime's clock asks."""

    def __init__(self, opener: Callable[[], Any], publish: Publish,
                 on_status: Callable[[str], None],
                 tracker: ConnectionTracker | None = None,
                 secrets: Iterable[str] = (), shared: Host | None = None,
                 watched: bool = True, guards: Guards | None = None,
                 subject: Callable[[], Any] = lambda: None,
                 cancel_remote: Callable[[str], Any] | None = None,
                 request: Mapping[str, Any] | None = None,
                 moderate: Moderator | None = None) -> None:
        self._opener = opener
        self._tracker = tracker
        self._cancel_remote = cancel_remote  # a background response: closing does not stop it
        self._on_status = on_status
        self.runtime: Host = shared or runtime()
        self.lock = threading.Lock()
        """Guards the document and the state below (the channel reads them under it)."""
        self._clean = Cleaner(secrets)
        self.document = Document(cleaner=self._clean)
        self.dirty = False
        """Something changed since the channel's last frame."""
        self._stop = threading.Event()
        self.stopped_at = 0.0
        self._ended = EndSignal()
        self.consumer_started = False
        """A sync source's worker has taken it up (before that, Stop needs no grace)."""
        self.consumer_done = False
        self._finalizing = False
        self._internal_failure = False
        self._response: httpx2.Response | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Future[Any] | None = None
        self.status = "pending"
        self.error: str | None = None
        guards = guards if guards is not None else Guards.none()
        self._guard = GuardWatch(guards, subject)
        request = request or {}
        self.document.pricing = Pricing(guards.prices, request.get("model"),
                                        input_tokens_estimate(request))
        self._moderation = None if moderate is None \
            else ModerationWatch(moderate, self, lambda: self._loop)
        self.channel = StreamChannel(self, publish, watched)

    # --- starting -------------------------------------------------------------------

    def start(self, source_is_async: bool | None) -> None:
        """Start consuming in the background; returns at once."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self.runtime.add(self.channel)
        if self._stop.is_set():  # stopped before its turn came: the channel ends it, and no
            return               # request is made at all
        if source_is_async and self._loop is not None:
            # The task reports its end (one cancelled before it ran: after the grace).
            self.consumer_started = True
            self._task = self._loop.create_task(consume_async(self._opener, self))
        else:
            self.runtime.run_source(self._consume_in_thread)

    def _consume_in_thread(self) -> None:
        with self.lock:
            self.consumer_started = True
            stopped = self._stop.is_set()
        if stopped:  # stopped before its turn came: no request is made at all
            self.finished()
            return
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

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` unless Stop comes first; returns whether it was stopped."""
        return self._stop.wait(seconds)

    def attach(self, stream: Any) -> httpx2.Response | None:
        """The API answered: start streaming. Returns the response if it is a whole
        document rather than an event stream (to be read at once)."""
        response = find_response(stream)
        secrets = client_secrets(find_client(stream))
        secrets += request_secrets(response)
        with self.lock:
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
        with self.lock:
            self.error = self.error or self._clean.message(message)

    def feed(self, item: Any) -> None:
        """One item of the stream."""
        self._apply(*normalise(item))

    def _apply(self, name: str, events: list[Event]) -> None:
        with self.lock:
            if self._stop.is_set() or self._finalizing:
                return
            self.document.apply(name, events)
            news = not self.dirty
            self.dirty = True
            verdict = self._guard.after_events(self.document)
            moderate = self._moderation is not None \
                and self._moderation.after_events(self.document)
        if news:
            self.runtime.wake()
        if moderate and self._moderation is not None:
            self._moderation.start()  # in the background: the stream goes on meanwhile
        if verdict is not None:
            self.stop(*verdict)

    def fail(self, exc: BaseException) -> None:
        """The source raised: keep a readable message (the stream ends in error)."""
        if self._stop.is_set() or isinstance(exc, _Stopped):
            return
        if isinstance(exc, asyncio.CancelledError | GeneratorExit | KeyboardInterrupt):
            message = f"The stream was cancelled ({type(exc).__name__})."
        else:
            with self.lock:
                self._clean.add(request_secrets(exc))
            connected = self._response is not None
            message = describe_error(exc, connected=connected, cleaner=self._clean)
        with self.lock:
            if not self._finalizing:
                self.error = self.error or message

    def finished(self) -> None:
        """The consumer is done: the end goes out as soon as the budget allows (and, for a
        moderated stream not stopped, once its last check is done: see :meth:`end_held`)."""
        with self.lock:
            self.consumer_done = True
            moderate = self._moderation is not None and not self._stop.is_set() \
                and self._moderation.final(self.document, time.monotonic())
        if moderate and self._moderation is not None:
            self._moderation.start()
        self.runtime.wake()

    def end_held(self, now: float) -> float | None:
        """Until when the end waits for the last moderation check (call with the lock held;
        ``None``: it does not wait)."""
        if self._moderation is None or self._stop.is_set():
            return None
        return self._moderation.holding(now)

    # --- stopping -------------------------------------------------------------------

    def stop(self, reason: str = "user", detail: str | None = None) -> bool:
        """Stop the stream: close the connection now, keep the text so far. Any thread.

        ``reason`` says why (``"user"``, ``"interrupt"``, ``"rerun"``, ``"closed"``, a guard's
        name); returns whether this call stopped it (``False`` if it had stopped or ended)."""
        with self.lock:
            if self._stop.is_set() or self._finalizing:
                return False
            self._stop.set()
            self.stopped_at = time.monotonic()
            self.status = "stopped"  # decided now: later items are ignored
            self.document.stopped(reason, detail)
        self._status_changed()
        self._abort_and_cancel()
        self.runtime.wake()
        return True

    def guard_deadline(self) -> float | None:
        """When the clock must check this stream's time guards (call with the lock held)."""
        if self._stop.is_set() or self.consumer_done:
            return None
        return self._guard.deadline()

    def check_guards(self, now: float) -> None:
        """On the clock: stop the stream if a time guard or ``stop_when`` says so."""
        with self.lock:
            if self._stop.is_set() or self.consumer_done:
                return
            verdict = self._guard.on_the_clock(now)
        if verdict is None:
            verdict = self._guard.ask_predicate(now)
        if verdict is not None:
            self.stop(*verdict)

    @property
    def stop_reason(self) -> str | None:
        """Why the stream was stopped; ``None`` unless its status is ``stopped``."""
        with self.lock:
            return self.document.stop_reason if self.status == "stopped" else None

    def _abort_and_cancel(self) -> None:
        with self.lock:
            response = self._response
            response_id = self.document.response_id
        if response is not None:
            abort(response)
        elif self._tracker is not None:
            self._tracker.abort()  # the request is still waiting for its response
        self._cancel_task()
        if self._cancel_remote is not None and response_id:
            self._cancel_on_the_server(self._cancel_remote, response_id)

    def _cancel_on_the_server(self, cancel: Callable[[str], Any], response_id: str) -> None:
        """A background response goes on generating after its connection closes: cancel it
        (``responses.cancel(id)``), never blocking the caller (a worker thread, or the
        stream's loop for an async client)."""

        def call() -> None:
            try:
                settle(cancel(response_id), self._loop, CANCEL_TIMEOUT,
                       f"cancelling took more than {CANCEL_TIMEOUT:g} s")
            except Exception as exc:
                _log.warning("nbstream: cancelling background response %s failed: %s",
                             response_id, describe_error(exc, cleaner=self._clean))

        self.runtime.run_source(call)

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

    def broken(self, exc: BaseException) -> None:
        """Rendering or publishing failed: end the stream in error (never hang it)."""
        if isinstance(exc, PublishFailed):
            message = describe_error(exc, cleaner=self._clean)
        else:
            message = f"nbstream internal error: {describe_error(exc, cleaner=self._clean)}"
        with self.lock:
            first = not self._internal_failure
            self.error = message if first else self.error
            self._internal_failure = True
            if not self._stop.is_set():
                self.stopped_at = time.monotonic()
            self._stop.set()
        if first:
            _log.error("nbstream: %s", message, exc_info=exc)
            self._abort_and_cancel()

    # --- the end ----------------------------------------------------------------------

    @property
    def stop_requested(self) -> bool:
        """Whether Stop was asked for (or publishing broke)."""
        return self._stop.is_set()

    def conclude(self) -> None:
        """The end: decide the stream's status (call with the lock held, once)."""
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

    def ended_now(self) -> None:
        """The channel published the end: tell the widget, wake every waiter."""
        self._status_changed()
        self._ended.set()

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
