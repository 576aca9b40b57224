"""Threads for sync sources: one per source while it streams, reused, gone when idle.

A blocking iterator needs a thread of its own while it streams (nothing else can wait on it).
:class:`Workers` keeps those threads: a job goes to an idle worker when there is one, and a
worker that has had nothing to do for :data:`IDLE_SECONDS` ends. New threads are started by a
spawner thread, never by the caller: ``Thread.start()`` waits until the new thread runs, and
with a hundred busy threads that wait took tens of milliseconds a stream inside the user's cell.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

IDLE_SECONDS = 2.0
"""A worker (or the spawner) with nothing to do for this long ends."""

_log = logging.getLogger("nbstream")

Job = Callable[[], None]


class Workers:
    """A pool of daemon threads that grows with the jobs waiting and shrinks when idle."""

    def __init__(self, name: str = "nbstream-source", idle_seconds: float = IDLE_SECONDS) -> None:
        self._name = name
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # workers wait here for a job
        self._wanted = threading.Condition(self._lock)  # the spawner waits here
        self._jobs: deque[Job] = deque()
        self._idle = 0  # workers waiting for a job
        self._unstarted = 0  # workers asked for, not serving yet
        self._to_spawn = 0  # of those, the ones the spawner has not started yet
        self._spawner: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        """Run ``job`` on a worker thread; returns at once (no thread is started here but
        the spawner, when it is not running)."""
        with self._lock:
            self._jobs.append(job)
            if self._idle + self._unstarted >= len(self._jobs):
                self._work.notify()
                return
            self._unstarted += 1
            self._to_spawn += 1
            if self._spawner is not None:
                self._wanted.notify()
                return
            spawner = self._spawner = threading.Thread(
                target=self._spawn, name=f"{self._name}-spawner", daemon=True)
        spawner.start()

    def _spawn(self) -> None:
        while True:
            with self._lock:
                if not self._wanted.wait_for(lambda: self._to_spawn > 0, self._idle_seconds):
                    self._spawner = None
                    return
                self._to_spawn -= 1
            threading.Thread(target=self._serve, name=self._name, daemon=True).start()

    def _serve(self) -> None:
        with self._lock:
            self._unstarted -= 1
            self._idle += 1
        while True:
            with self._lock:
                if not self._work.wait_for(lambda: bool(self._jobs), self._idle_seconds):
                    self._idle -= 1
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
