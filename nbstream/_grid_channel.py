"""A grid's panes as one channel of the runtime: all their frames in one message.

Each pane is a stream with a :class:`~nbstream._channel.StreamChannel` of its own, but its
host is the grid's :class:`GridChannel`, not the runtime: the runtime's clock serves the grid,
and the grid serves every pane that is due, collecting what they publish into one ``frame``
message (at most :data:`GRID_RATE` a second for all panes together). The grid also keeps the
queue of panes waiting for a connection (``max_concurrency``) and ends (publishing the grid's
final state) once every pane has ended.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ._runtime import Channel, runtime
from ._workers import Job

if TYPE_CHECKING:
    from ._runner import Controller

GRID_RATE = 10.0
"""Frames a second of a whole grid, at most (each one message, whatever the number of panes)."""
END_MESSAGES = 3
"""Messages the end of a grid sends: its final state and, typically, a display update."""

_log = logging.getLogger("nbstream")


class Panes(Protocol):
    """What the channel needs of its grid."""

    def controllers(self) -> list[Controller]:
        """The attempts to serve, in pane order (each pane's current one, and any a re-run
        replaced that has not ended yet)."""

    def send_frame(self, panes: dict[str, list[dict[str, Any]]]) -> int:
        """Send one frame (messages by pane index) to the page; returns the messages sent."""

    def publish_end(self) -> int:
        """Every pane has ended: publish the grid's final state; returns the messages sent."""

    def restarted(self) -> None:
        """A pane is re-run (after the grid's end, the grid is live again)."""


@dataclass
class _Start:
    index: int
    controller: Controller
    source_is_async: bool | None
    loop: asyncio.AbstractEventLoop | None


class GridChannel:
    """The runtime's channel for a grid, and the host of its panes' channels."""

    def __init__(self, grid: Panes, max_concurrency: int | None) -> None:
        self._grid = grid
        self._max = max_concurrency
        self._lock = threading.Lock()
        self._outbox: dict[int, list[dict[str, Any]]] = {}
        self._queue: deque[_Start] = deque()
        self._open: list[Controller] = []
        self._watched = False
        self._ready = False  # until every pane is made: no frame, no start, no end
        self._end_published = False
        self.last_frame = 0.0

    # --- the panes' host (``_runtime.Host``) ------------------------------------------

    def add(self, channel: Channel) -> None:
        """A pane's channel has something to send: the grid is served."""
        runtime().add(self)

    def wake(self) -> None:
        """A pane has something new."""
        runtime().wake()

    def run_source(self, job: Job) -> None:
        """A pane's sync source (or a check of its) runs on the runtime's workers."""
        runtime().run_source(job)

    # --- what the grid tells it -------------------------------------------------------

    def post(self, index: int, message: dict[str, Any]) -> int:
        """Queue one message of pane ``index`` for the next frame (an answer to the page, a
        notice); returns 0 (the frame is counted when it goes)."""
        self.collect(index, message)
        runtime().add(self)
        return 0

    def collect(self, index: int, message: dict[str, Any]) -> int:
        """One message a pane publishes while the grid's frame runs: in this frame."""
        with self._lock:
            self._outbox.setdefault(index, []).append(message)
        return 0

    def request_start(self, index: int, controller: Controller,
                      source_is_async: bool | None) -> None:
        """Start a pane's attempt when a connection is free (``max_concurrency``)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._queue.append(_Start(index, controller, source_is_async, loop))
            self._end_published = False
            waiting = self._max is not None and len(self._live_open()) >= self._max
        if waiting:
            self.post(index, {"type": "queue", "state": "queued"})
        runtime().add(self)

    def restarted(self) -> None:
        """A pane's re-run starts (its attempts went to the page)."""
        self._grid.restarted()

    def start_now(self) -> None:
        """Every pane is made: start what may start, in the caller's thread (the cell that
        made the grid), and serve the grid from now on."""
        with self._lock:
            self._ready = True
        self._start_due(in_caller=True)
        runtime().add(self)

    def watch(self) -> None:
        """The grid is shown: its panes' frames are sent from now on."""
        with self._lock:
            self._watched = True
        for controller in self._grid.controllers():
            controller.channel.watch()

    @property
    def watched(self) -> bool:
        """Whether a page shows the grid."""
        with self._lock:
            return self._watched

    def queued(self) -> int:
        """How many panes wait for a connection."""
        with self._lock:
            return len(self._queue)

    # --- the runtime's ``Channel`` ----------------------------------------------------

    def due(self, now: float) -> tuple[float, int, bool] | None:
        """When the grid's next frame is due (see ``_runtime.Channel``)."""
        with self._lock:
            if not self._ready:
                return None
            startable = bool(self._queue) and self._has_a_free_connection()
            soonest = now if (self._outbox or startable) else None
            end_published = self._end_published
            queued = bool(self._queue)
        ended = True
        for controller in self._grid.controllers():
            ended = ended and controller.ended
            due = controller.channel.due(now)
            if due is not None:
                soonest = due[0] if soonest is None else min(soonest, due[0])
        if ended and not queued and not end_published:
            return now, END_MESSAGES, True
        if soonest is None:
            return None
        return max(soonest, self.last_frame + 1.0 / GRID_RATE), 1, False

    def frame(self) -> tuple[int, bool]:
        """Serve every pane that is due, start queued panes, send one frame. Never raises."""
        sent = 0
        with self._lock:
            if not self._ready:
                return 0, False
        try:
            self._start_due()
            now = time.monotonic()
            for controller in self._grid.controllers():
                channel = controller.channel
                due = channel.due(now)
                if due is not None and due[0] <= now:
                    channel.frame()  # (its messages land in the outbox: see collect)
                    channel.last_frame = time.monotonic()
            self._start_due()  # (a pane that ended frees a connection)
            with self._lock:
                outbox, self._outbox = self._outbox, {}
            if outbox:
                sent += self._grid.send_frame({str(i): m for i, m in sorted(outbox.items())})
            ending, ended = self._end_if_over()
            return sent + ending, ended
        except Exception:  # a failure of the grid's must not stop the clock for the others
            _log.exception("nbstream: a grid's frame failed")
            return sent, False

    def _end_if_over(self) -> tuple[int, bool]:
        """``(messages sent, ended)``: once every pane has ended and none waits, the grid's
        final state goes out (once; again after a re-run)."""
        with self._lock:
            queued, published = bool(self._queue), self._end_published
        if queued or not all(c.ended for c in self._grid.controllers()):
            return 0, False
        if published:
            return 0, True
        with self._lock:
            self._end_published = True
        return self._grid.publish_end(), True

    # --- starting panes ---------------------------------------------------------------

    def _live_open(self) -> list[Controller]:
        self._open = [c for c in self._open if not c.ended]
        return self._open

    def _has_a_free_connection(self) -> bool:
        if self._queue and self._queue[0].controller.stop_requested:
            return True  # a stopped pane starts at once (it makes no request: it just ends)
        return self._max is None or len(self._live_open()) < self._max

    def _start_due(self, in_caller: bool = False) -> None:
        while True:
            with self._lock:
                if not self._queue or not self._has_a_free_connection():
                    return
                start = self._queue.popleft()
                if not start.controller.stop_requested:
                    self._open.append(start.controller)
                if self._max is not None and not in_caller:
                    self._outbox.setdefault(start.index, []).append(
                        {"type": "queue", "state": "started"})
            loop = start.loop
            if (not in_caller and start.source_is_async and loop is not None
                    and loop.is_running()):
                # An async client belongs to its loop: the attempt starts there.
                loop.call_soon_threadsafe(start.controller.start, True)
            else:
                start.controller.start(start.source_is_async)
