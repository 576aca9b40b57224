"""The end of a stream, as waiters see it: ``wait()`` from a thread, ``await`` in a loop.

Each ``await`` gets a future of its own: one waiter that gives up (``asyncio.wait_for``
timing out cancels the future it awaited) must not cancel what every later waiter waits on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading


class EndSignal:
    """Set once when a stream has ended; any number of threads and coroutines wait for it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[concurrent.futures.Future[None]] = []

    def is_set(self) -> bool:
        """Whether the stream has ended."""
        return self._event.is_set()

    def set(self) -> None:
        """The stream has ended: wake every waiter."""
        with self._lock:
            self._event.set()
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                waiter.set_result(None)  # unless its awaiter gave up (cancelled it)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the end; returns whether it came within ``timeout``."""
        return self._event.wait(timeout)

    def future(self) -> concurrent.futures.Future[None]:
        """A new future, resolved at the end, for one waiter alone."""
        waiter = concurrent.futures.Future[None]()
        with self._lock:
            if not self._event.is_set():
                self._waiters = [w for w in self._waiters if not w.done()]
                self._waiters.append(waiter)
                return waiter
        waiter.set_result(None)
        return waiter


def refuse_to_block(loop: asyncio.AbstractEventLoop | None) -> None:
    """Raise if blocking here would block ``loop`` (the loop the stream runs on)."""
    if loop is None:
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop or (loop.is_running() and threading.current_thread() is _thread_of(loop)):
        raise RuntimeError(
            "wait() would block the event loop this stream runs on; "
            "use `await widget` instead (or just display the widget)."
        )


def _thread_of(loop: asyncio.AbstractEventLoop) -> threading.Thread | None:
    thread_id = getattr(loop, "_thread_id", None)
    for thread in threading.enumerate():
        if thread.ident == thread_id:
            return thread
    return None
