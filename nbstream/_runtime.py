"""The shared runtime: one frame clock and one publisher for every live stream of a kernel.

Streams do not publish by themselves. Each live stream is a :class:`Channel` of the
:class:`Runtime`: it says when it next wants a frame (``due``) and publishes one when asked
(``frame``). One thread, ``nbstream-clock``, asks them in turn:

- **fair**: of the channels whose frame is due, the end of a stream goes first, then the one
  that published least recently, so a busy stream cannot starve a quiet one; a channel with
  nothing new is not due and sends nothing;
- **within one budget**: every message a channel sends, and every message sent for nbstream
  outside a frame (a display, a reply to the page: :meth:`Runtime.charge`), spends a token of
  one bucket for the whole kernel (:data:`RATE` a second, :data:`BURST` at once), so any
  one-second window holds at most ``RATE + BURST`` messages, whatever the number of streams
  (jupyter_server drops IOPub output above 1,000 messages/s);
- **from one thread**: ipykernel gives every thread that publishes its own IOPub pipe socket,
  kept until about 10 s after the thread ends; one publishing thread is one socket.

Sync sources get a thread each from :class:`~nbstream._workers.Workers` while they stream;
async sources run as tasks on the kernel's event loop. The clock ends when it has had no
channel for :data:`IDLE_SECONDS`, and starts again with the next stream. A grid of panes is
one channel that publishes all its panes in one message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
import time
from typing import Any, Protocol

from ._workers import IDLE_SECONDS as WORKER_IDLE_SECONDS
from ._workers import Job, Workers

RATE = 120.0
"""Messages a second, for every stream of the kernel together. The budget is 200 in any second
as they arrive; the IOPub thread, when a hundred sources keep the interpreter busy, delivers
messages up to a second late and in bunches (measured: 179 sent in the busiest second arrived
as 205), so the clock keeps well below it."""
BURST = 10.0
"""Messages that may go at once after a quiet spell: any second sends ``RATE + BURST`` at most."""
IDLE_SECONDS = 5.0
"""The clock thread ends after this long without a live stream."""

_log = logging.getLogger("nbstream")


class Channel(Protocol):
    """What the runtime needs of a live stream (or of a grid of them)."""

    last_frame: float
    """When it last published a frame (``time.monotonic()``); 0 before the first."""

    def due(self, now: float) -> tuple[float, int, bool] | None:
        """``(when, messages, ending)`` of its next frame, or ``None`` while it has nothing
        to send: the time it wants it, how many messages it will send, and whether it is the
        end of the stream (which goes first)."""

    def frame(self) -> tuple[int, bool]:
        """Publish one frame now; returns ``(messages sent, ended)``. Never raises."""


class Host(Protocol):
    """Where a stream's channel lives: the runtime itself, or a grid that publishes its panes
    together (and is the runtime's channel in their place)."""

    def add(self, channel: Channel) -> None:
        """Take a channel (a new stream, or an ended one with something left to send)."""

    def wake(self) -> None:
        """A channel has something new (or has ended)."""

    def run_source(self, job: Job) -> None:
        """Run a job (a sync source's consumer) on a worker thread."""


class Budget:
    """A token bucket that may run into debt: messages sent outside the clock's control (a
    display made by the user's cell) are charged all the same, and later frames wait."""

    def __init__(self, rate: float = RATE, burst: float = BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = time.monotonic()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def delay(self, messages: int, now: float) -> float:
        """Seconds until ``messages`` may be sent (0 when they may go now)."""
        self._refill(now)
        wanted = min(float(messages), self.burst)
        return max(0.0, (wanted - self._tokens) / self.rate)

    def spend(self, messages: int, now: float) -> None:
        """Account for ``messages`` sent at ``now``."""
        self._refill(now)
        self._tokens -= messages


class Runtime:
    """The one clock and publisher every live stream of this process shares."""

    def __init__(self, rate: float = RATE, burst: float = BURST,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        """``idle_seconds`` applies to the clock and to the pool's threads alike."""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._channels: list[Channel] = []
        self._budget = Budget(rate, burst)
        self._idle_seconds = idle_seconds
        self._woken = False
        self._thread: threading.Thread | None = None
        self.workers = Workers(idle_seconds=min(idle_seconds, WORKER_IDLE_SECONDS))

    # --- for streams ------------------------------------------------------------------

    def add(self, channel: Channel) -> None:
        """Take a channel (a new stream, or an ended one with something left to send)."""
        with self._lock:
            if channel not in self._channels:
                self._channels.append(channel)
            self._woken = True
            self._changed.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nbstream-clock",
                                                daemon=True)
                self._thread.start()

    def wake(self) -> None:
        """A channel has something new (or has ended): look again now. Any thread; never
        call it holding a lock that ``Channel.due`` takes."""
        with self._lock:
            self._woken = True
            self._changed.notify()

    def charge(self, messages: int = 1) -> None:
        """Count messages sent for nbstream outside a frame against the shared budget (a
        display made by the user's cell: the sources it started wait until it is done)."""
        with self._lock:
            self._budget.spend(messages, time.monotonic())
        self.workers.poke()

    def run_source(self, job: Job) -> None:
        """Run a sync source's consumer on a worker thread (returns at once)."""
        self.workers.submit(job)

    def threads(self) -> dict[str, int]:
        """This runtime's threads alive now, by name (the clock, the pool's workers and
        spawner), for tests and benchmarks."""
        with self._lock:
            clock = [self._thread] if self._thread is not None else []
        counts: dict[str, int] = {}
        for thread in [*clock, *self.workers.threads()]:
            if thread.is_alive():
                counts[thread.name] = counts.get(thread.name, 0) + 1
        return counts

    # --- the clock --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                channel = self._next()
                if channel is None:
                    return  # idle long enough: the thread ends (the next add starts one)
            sent, ended = channel.frame()
            with self._lock:
                self._budget.spend(sent, time.monotonic())
                channel.last_frame = time.monotonic()
                if ended and channel in self._channels:
                    self._channels.remove(channel)

    def _next(self) -> Channel | None:
        """Wait (lock held) until a channel's frame is due and the budget allows it; ``None``
        when there has been no channel for ``idle_seconds``."""
        idle_since = None
        while True:
            self._woken = False
            now = time.monotonic()
            if not self._channels:
                idle_since = idle_since or now
                if now - idle_since >= self._idle_seconds:
                    self._thread = None
                    return None
                self._changed.wait(self._idle_seconds - (now - idle_since))
                continue
            idle_since = None
            best, wait = self._choose(now)
            if best is not None:
                return best
            if not self._woken:
                self._changed.wait(wait)

    def _choose(self, now: float) -> tuple[Channel | None, float | None]:
        """The channel to serve now, or how long to wait (``None``: until woken)."""
        ready: list[tuple[bool, float, int, Channel]] = []
        soonest: float | None = None
        for channel in self._channels:
            try:
                due = channel.due(now)
            except Exception:  # a broken channel must not stop the clock for the others
                _log.exception("nbstream: a stream failed to schedule; it is dropped")
                self._channels.remove(channel)
                return None, 0.0
            if due is None:
                continue
            when, messages, ending = due
            if when <= now:
                ready.append((not ending, channel.last_frame, messages, channel))
            else:
                soonest = when if soonest is None else min(soonest, when)
        if ready:
            _, _, messages, channel = min(ready, key=lambda r: (r[0], r[1]))
            delay = self._budget.delay(messages, now)
            if delay <= 0:
                return channel, None
            return None, delay if soonest is None else min(delay, soonest - now)
        return None, None if soonest is None else soonest - now


async def _awaited(value: Any) -> Any:
    return await value


def settle(value: Any, loop: asyncio.AbstractEventLoop | None, wait: float,
           too_slow: str) -> Any:
    """``value``, awaited if it is awaitable, from a worker thread: on the stream's event loop
    while it runs (an async client belongs to it; at most ``wait`` seconds, then
    ``TimeoutError(too_slow)``), else on a loop of its own."""
    if not inspect.isawaitable(value):
        return value
    if loop is not None and loop.is_running():
        future = asyncio.run_coroutine_threadsafe(_awaited(value), loop)
        try:
            return future.result(wait)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(too_slow) from None
    return asyncio.run(_awaited(value))


_RUNTIME: Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def runtime() -> Runtime:
    """The process's shared runtime (made on first use)."""
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = Runtime()
        return _RUNTIME
