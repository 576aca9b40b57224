"""A stream as the runtime's clock sees it: when its next frame is due, and the frame.

:class:`StreamChannel` reads its :class:`~nbstream._runner.Controller` (the source, the
document, the status) under the controller's lock and publishes what changed through the
widget; it never publishes by itself, only when the clock calls :meth:`StreamChannel.frame`.
Data flows one way: the controller marks itself dirty and wakes the clock; the channel reads.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import PublishFailed
from ._frames import Frames

if TYPE_CHECKING:
    from ._runner import Controller

FRAME_RATE = 20
"""Frames per second of one stream at most (all streams together share the runtime's budget)."""
RENDER_SHARE = 4
"""A frame that took ``t`` seconds is followed by at least ``RENDER_SHARE * t`` of rest."""
STUCK_SOURCE_GRACE = 0.5
"""Seconds a stopped source may take to return before the stream ends without it."""
END_MESSAGES = 3
"""Messages the end of a stream sends: the final patch, the final state, a display update."""

Publish = Callable[[dict[str, Any]], int]
"""Sends one message of the stream's to the page; returns how many IOPub messages it took."""


class StreamChannel:
    """One stream's frames, published when the runtime's clock asks for them."""

    def __init__(self, stream: Controller, publish: Publish, watched: bool = True) -> None:
        self._stream = stream
        self._lock = stream.lock
        self._publish_to_page = publish
        self._frames = Frames()
        self._rest = 1.0 / FRAME_RATE
        self._watched = watched
        self._snapshot_wanted = False
        self.last_frame = 0.0
        self.html = ""
        """The answer's HTML as the page has it (the final render once the stream ended)."""
        self.final_snapshot: dict[str, Any] | None = None

    # --- what the page asks for -------------------------------------------------------

    def watch(self) -> None:
        """A page shows the stream (it was displayed): from now on its frames are sent.

        Until then they are not: a comm with no view drops them (a view that joins later asks
        for a snapshot), and a cell that makes a hundred streams before displaying them would
        otherwise spend the kernel's budget on messages nobody sees."""
        with self._lock:
            news = not self._watched
            self._watched = True
        if news:
            self._stream.runtime.wake()

    def request_snapshot(self) -> None:
        """A view asked for the whole state (it joined late or saw a gap)."""
        with self._lock:
            self._snapshot_wanted = True
            self._watched = True
        self._stream.runtime.add(self)  # an ended stream is served again, for this message

    # --- the runtime's ``Channel`` ----------------------------------------------------

    def due(self, now: float) -> tuple[float, int, bool] | None:
        """When the next frame is due, how many messages it sends, and whether it ends the
        stream (``None``: nothing to send)."""
        s = self._stream
        with self._lock:
            if s.ended:
                return (now, 1, False) if self._snapshot_wanted else None
            # The end may wait for the last moderation check (which wakes the clock).
            held = s.end_held(now) if s.consumer_done else None
            if held is None:
                if s.consumer_done or (s.stop_requested and not s.consumer_started):
                    return now, END_MESSAGES, True  # (or a sync source stopped before it ran)
                if s.stop_requested:  # the consumer normally returns at once; a stuck one is
                    return s.stopped_at + STUCK_SOURCE_GRACE, END_MESSAGES, True  # left behind
            if self._snapshot_wanted:
                return now, 2, False
            limit = held if held is not None else s.guard_deadline()
            if s.dirty and self._watched:
                when = self.last_frame + self._rest
                return (when if limit is None else min(when, limit)), 1, False
            if held is not None:
                return held, END_MESSAGES, True
            return None if limit is None else (limit, 0, False)

    def frame(self) -> tuple[int, bool]:
        """Publish what is due now; returns ``(messages sent, ended)``. Never raises."""
        s = self._stream
        sent = 0
        try:
            with self._lock:
                ended, ending = s.ended, s.consumer_done or s.stop_requested
                if ending and not s.stop_requested and s.end_held(time.monotonic()) is not None:
                    ending = False  # the last moderation check is not done yet
            if ended:
                return self._publish_final_snapshot(), True
            if ending:
                return self._final_flush(), True
            started = time.monotonic()
            s.check_guards(started)
            with self._lock:
                if not (s.dirty and self._watched) and not self._snapshot_wanted:
                    return 0, False  # the clock came for the guards only
            sent = self._flush()
            self._rest = max(1.0 / FRAME_RATE, (time.monotonic() - started) * RENDER_SHARE)
            return sent, False
        except BaseException as exc:  # a bug in rendering or publishing must not hang it
            s.broken(exc)
            if s.ended:
                return sent, True
            return sent + self._final_flush(), True

    # --- frames -----------------------------------------------------------------------

    def _publish(self, message: dict[str, Any]) -> int:
        try:
            return self._publish_to_page(message)
        except Exception as exc:
            raise PublishFailed from exc

    def _flush(self, final: bool = False) -> int:
        s = self._stream
        with self._lock:
            s.dirty = False
            copy = self._frames.copy(s.document, s.status, s.error, final)
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
                metrics = copy.metrics or s.document.metrics()
                log = copy.log or s.document.event_log()
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

    def _final_flush(self) -> int:
        s = self._stream
        with self._lock:
            s.conclude()
            self._snapshot_wanted = False
        sent = 0
        try:
            sent = self._flush(final=True)
            self._frames.release()  # a finished widget keeps its text, HTML and snapshot
        except Exception as exc:  # the page could not be told: the stream ends all the same
            s.broken(exc)
            with self._lock:
                s.status = "error"
            with contextlib.suppress(Exception):
                sent += self._publish_plain_snapshot()
        finally:
            s.ended_now()
        return sent

    def _publish_plain_snapshot(self) -> int:
        """After a failure in the final flush: the text as escaped plain text, so late views
        and the saved notebook still show the answer (``status`` is ``error`` by then)."""
        s = self._stream
        with self._lock:
            snapshot, self.html = self._frames.plain_snapshot(s.document, s.status, s.error)
            self.final_snapshot = snapshot
        return self._publish({"type": "snapshot", "snapshot": snapshot, "final": True})
