"""A grid's pane: a :class:`~nbstream._widget.StreamWidget` with no comm of its own.

Everything a pane says to the page goes through its grid (one widget, one comm): its frames
are collected into the grid's frame message, its answers to the page and its notices are
queued there, and its attempts start when the grid has a connection free for them. A 429 of
its request is shown in the pane and retried after the server's ``retry-after``.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import openai

from ._attempts import Launch
from ._runner import Controller
from ._runtime import Host
from ._static import static_copy
from ._widget import StreamWidget

if TYPE_CHECKING:
    from ._grid_channel import GridChannel

RATE_LIMIT_RETRIES = 3
"""Times a pane retries a request answered with 429 (then it ends in error)."""
DEFAULT_WAIT = 2.0
"""Seconds to wait after a 429 without ``retry-after`` (doubling at each retry)."""
MAX_WAIT = 60.0
"""Longest wait a ``retry-after`` may ask for."""


def retry_after(exc: openai.APIStatusError, attempt: int) -> float:
    """Seconds to wait before retrying: the server's ``retry-after-ms`` or ``retry-after``
    (seconds or an HTTP date), else :data:`DEFAULT_WAIT` doubling; at most :data:`MAX_WAIT`."""
    headers = exc.response.headers
    wait: float | None = None
    try:
        if "retry-after-ms" in headers:
            wait = float(headers["retry-after-ms"]) / 1000
        elif "retry-after" in headers:
            value = headers["retry-after"]
            try:
                wait = float(value)
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                wait = when.timestamp() - time.time()
    except (TypeError, ValueError):
        wait = None
    if wait is None or wait < 0:
        wait = DEFAULT_WAIT * 2 ** attempt
    return min(wait, MAX_WAIT)


class GridPane(StreamWidget):
    """One pane of a :class:`~nbstream._grid.Grid` (``g.panes[i]``)."""

    def __init__(self, opener: Callable[[], Any], *, grid: GridChannel, index: int,
                 params: dict[str, Any], label: str, **kwargs: Any) -> None:
        self._grid_channel = grid
        self._index = index
        self._final_snapshot: dict[str, Any] | None = None
        self.params = params
        """The varied arguments' names and values of this pane."""
        self.label = label
        """How the page names this pane (``model=gpt-5 · temperature=0.2``)."""
        relaunch: Callable[[], Launch] | None = kwargs.pop("relaunch", None)
        if relaunch is not None:
            made = relaunch
            kwargs["relaunch"] = lambda: self._retrying(made())
        first = self._retrying(Launch(opener, kwargs.get("source_is_async")))
        super().__init__(first.opener, **kwargs)

    def open(self) -> None:
        """No comm: the grid speaks for its panes."""

    # --- through the grid -------------------------------------------------------------

    def _host_runtime(self) -> Host | None:
        return self._grid_channel

    def _new_controller(self, launch: Launch, attempt: int) -> Controller:
        controller = super()._new_controller(launch, attempt)
        if self._grid_channel.watched:
            controller.channel.watch()
        return controller

    def _start_attempt(self, controller: Controller, source_is_async: bool | None) -> None:
        self._grid_channel.request_start(self._index, controller, source_is_async)

    def _send_patch(self, message: dict[str, Any]) -> int:
        return self._grid_channel.collect(self._index, message)

    def _publish_end(self, snapshot: dict[str, Any]) -> int:
        self._sync_status(self._controller)
        self._grid_channel.collect(self._index, {"type": "snapshot", "snapshot": snapshot,
                                                 "final": True, "attempt": self._attempt})
        self._final_snapshot = snapshot
        return 0

    def _to_page(self, message: dict[str, Any]) -> None:
        self._grid_channel.post(self._index, message)

    def _restarted(self, attempts: list[dict[str, Any]]) -> None:
        self._final_snapshot = None
        self._grid_channel.post(self._index, {"type": "attempts", "attempts": attempts,
                                              "can_rerun": True})
        self._grid_channel.restarted()

    def _notice(self, text: str | None) -> None:
        self._grid_channel.post(self._index, {"type": "notice", "text": text})

    @property
    def final_snapshot(self) -> dict[str, Any] | None:
        """The page's final state of the current attempt (``None`` until it ended)."""
        return self._final_snapshot

    def earlier_for_page(self) -> list[dict[str, Any]]:
        """The earlier attempts, as the page keeps them."""
        with self._status_lock:
            return [a.for_page() for a in self._earlier]

    def static_html(self) -> str:
        """This pane's static copy (in the grid's)."""
        controller = self._controller
        return static_copy(self._key, controller.status, self.html, title=self.label,
                           hidden=self._read(lambda doc: doc.hidden), error=controller.error,
                           metrics=self.metrics)

    def _ipython_display_(self) -> None:
        """A pane shows in its grid; on its own, its static copy once it ended."""
        from IPython.display import display

        if self._controller.ended:
            display({"text/html": self.static_html(), "text/plain": repr(self)}, raw=True)
        else:
            display({"text/plain": f"{self!r} (a pane of a grid: it streams in the grid)"},
                    raw=True)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return {"text/plain": repr(self)}, {}

    # --- 429: shown in the pane, retried after retry-after ---------------------------

    def _retrying(self, launch: Launch) -> Launch:
        opener = launch.opener
        if launch.source_is_async:
            async def open_async() -> Any:
                for attempt in range(RATE_LIMIT_RETRIES + 1):
                    try:
                        source = await opener()
                    except openai.RateLimitError as exc:
                        if attempt == RATE_LIMIT_RETRIES:
                            raise
                        await asyncio.sleep(self._waiting(exc, attempt))
                        continue
                    self._cleared(attempt)
                    return source

            return Launch(open_async, True, launch.connection, launch.cancel_remote)

        def open_sync() -> Any:
            for attempt in range(RATE_LIMIT_RETRIES + 1):
                try:
                    source = opener()
                except openai.RateLimitError as exc:
                    if attempt == RATE_LIMIT_RETRIES or self._controller.sleep(
                            self._waiting(exc, attempt)):
                        raise
                    continue
                self._cleared(attempt)
                return source

        return Launch(open_sync, launch.source_is_async, launch.connection,
                      launch.cancel_remote)

    def _waiting(self, exc: openai.RateLimitError, attempt: int) -> float:
        wait = retry_after(exc, attempt)
        self._notice(f"Rate limited (429): retrying in {wait:.1f} s "
                     f"({attempt + 1} of {RATE_LIMIT_RETRIES})")
        return wait

    def _cleared(self, attempt: int) -> None:
        if attempt:
            self._notice(None)
