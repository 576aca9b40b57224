"""Threads for sync sources: one per source while it streams, reused, gone when idle.

A blocking iterator needs a thread of its own while it streams (nothing else can wait on it).
:class:`Workers` keeps those threads: a job goes to an idle worker when there is one, and a
worker that has had nothing to do for :data:`IDLE_SECONDS` ends.

Jobs start once the thread that submits them has been quiet for :data:`QUIET_SECONDS` (and at
most :data:`MAX_DEFER_SECONDS` after they were submitted), and threads are started by a
dispatcher thread, never by the caller. A cell that starts a hundred streams then runs alone:
each busy source thread would otherwise take the interpreter lock from it at every message it
publishes (measured: 0.5 s of the cell's own work took 1.9 s with a hundred sources running).
An async source waits for its cell in the same way, because the event loop does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

IDLE_SECONDS = 2.0
"""A worker (or the dispatcher) with nothing to do for this long ends."""
QUIET_SECONDS = 0.02
"""Jobs start once their submitter has made no call for this long ..."""
MAX_DEFER_SECONDS = 1.0
"""... or this long after the first of them was submitted, whichever comes first."""

_log = logging.getLogger("nbstream")

Job = Callable[[], None]


class Workers:
    """A pool of daemon threads that grows with the jobs waiting and shrinks when idle."""

    def __init__(self, name: str = "nbstream-source", idle_seconds: float = IDLE_SECONDS) -> None:
        self._name = name
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # workers wait here for a job
        self._submitted = threading.Condition(self._lock)  # the dispatcher waits here
        self._pending: list[Job] = []  # submitted, not released yet
        self._first_pending = 0.0
        self._last_call = 0.0
        self._jobs: deque[Job] = deque()  # released, waiting for a worker
        self._idle = 0  # workers waiting for a job
        self._starting = 0  # workers started, not serving yet
        self._dispatcher: threading.Thread | None = None
        self._threads: set[threading.Thread] = set()

    def submit(self, job: Job) -> None:
        """Run ``job`` on a worker thread soon; returns at once (the only thread it may
        start is the dispatcher, when that is not running)."""
        with self._lock:
            now = time.monotonic()
            if not self._pending:
                self._first_pending = now
            self._pending.append(job)
            self._last_call = now
            if self._dispatcher is not None:
                self._submitted.notify()
                return
            dispatcher = self._dispatcher = threading.Thread(
                target=self._dispatch, name=f"{self._name}-dispatcher", daemon=True)
        dispatcher.start()

    def poke(self) -> None:
        """The submitting side is still busy (it displayed a widget, say): hold back the
        jobs waiting to start a little longer (never past ``MAX_DEFER_SECONDS``)."""
        with self._lock:
            if self._pending:
                self._last_call = time.monotonic()

    def threads(self) -> list[threading.Thread]:
        """The pool's threads alive now: its workers (idle or busy) and its dispatcher."""
        with self._lock:
            dispatcher = [self._dispatcher] if self._dispatcher is not None else []
            return [t for t in [*self._threads, *dispatcher] if t.is_alive()]

    def _release_when_quiet(self) -> int | None:
        """Wait (lock held) for pending jobs and a quiet submitter, release the jobs to the
        workers, and return how many new workers they need; ``None`` after an idle spell."""
        if not self._submitted.wait_for(lambda: bool(self._pending), self._idle_seconds):
            self._dispatcher = None
            return None
        while True:
            now = time.monotonic()
            quiet = QUIET_SECONDS - (now - self._last_call)
            deferred = MAX_DEFER_SECONDS - (now - self._first_pending)
            if quiet <= 0 or deferred <= 0:
                break
            self._submitted.wait(min(quiet, deferred))
        self._jobs.extend(self._pending)
        self._work.notify(len(self._pending))
        self._pending = []
        needed = max(0, len(self._jobs) - self._idle - self._starting)
        self._starting += needed
        return needed

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                needed = self._release_when_quiet()
            if needed is None:
                return
            for _ in range(needed):
                worker = threading.Thread(target=self._serve, name=self._name, daemon=True)
                with self._lock:
                    self._threads.add(worker)
                worker.start()

    def _serve(self) -> None:
        with self._lock:
            self._starting -= 1
            self._idle += 1
        while True:
            with self._lock:
                if not self._work.wait_for(lambda: bool(self._jobs), self._idle_seconds):
                    self._idle -= 1
                    self._threads.discard(threading.current_thread())
                    return
                job = self._jobs.popleft()
                self._idle -= 1
            try:
                job()
            except BaseException:  # a job reports its own failures; this only keeps the pool
                _log.exception("nbstream: a background job failed")
            finally:
                with self._lock:
                    self._idle += 1
