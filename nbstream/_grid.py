"""``Grid``: many answers side by side in one widget (``nbstream.compare()``).

One widget, one comm: its panes (``g.panes``, each a :class:`~nbstream._pane.GridPane`, a
:class:`~nbstream.StreamWidget` with no comm of its own) publish through the grid's channel
(``_grid_channel.py``), at most ten frame messages a second for all of them together.

Synced traits:

- ``_kind`` (``str``, ``"grid"``): tells the page to render a grid.
- ``_key`` (``str``): an id of this grid, the same for all its views (as a stream's).
- ``title`` (``str``, default ``""``): a label shown in the grid's header and saved copy.
- ``_columns`` (``list[str]``): the varied arguments' names, in order.
- ``_panes`` (``list[dict]``): per pane ``label``, ``params`` (the varied values as text),
  ``queued`` and ``can_rerun``; in the comm's opening state.
- ``status`` (``str``, default ``"pending"``): ``done``, ``stopped`` or ``error`` (the worst of
  the panes') once every pane has ended; sent once, at the end, with ``_snapshot``.
- ``_snapshot`` (``bytes``): the panes' final states, deflated JSON ``{"panes": [{"status",
  "snapshot", "attempts", "attempt"}]}``, for views that join later and saved widget state.

While streaming, views receive ``{"type": "frame", "panes": {index: [messages]}}`` custom
messages (deflated when large); see ``js/src`` for the rest of the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import threading
import time
import uuid
import zlib
from collections.abc import Generator
from typing import Any

import anywidget
import traitlets

from . import _marimo, _terminal
from ._assets import asset
from ._attempts import packed
from ._diff import Diff, word_diff
from ._display import Displays, live_bundle
from ._ending import EndSignal
from ._grid_channel import GridChannel
from ._grid_static import grid_static_copy
from ._markdown import highlight_css
from ._pane import GridPane
from ._runner import Controller
from ._runtime import runtime
from ._widget import COMPRESS_FROM

_WORST = ("error", "stopped", "done")


class Grid(anywidget.AnyWidget):
    """Answers side by side: every combination of ``nbstream.compare()``'s varied arguments,
    each streaming in its own pane, with a summary table, Stop all and a diff."""

    _esm = asset("widget.js")
    _css = asset("widget.css") + "\n" + highlight_css()

    _kind = traitlets.Unicode("grid", read_only=True).tag(sync=True)
    _key = traitlets.Unicode(read_only=True).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    """A label for the grid, shown in its header and kept in the saved copy (``title=``)."""
    status = traitlets.Unicode("pending", read_only=True).tag(sync=True)
    _columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _panes = traitlets.List(traitlets.Dict()).tag(sync=True)
    _snapshot = traitlets.Bytes(b"", read_only=True).tag(sync=True)

    @traitlets.default("_key")
    def _new_key(self) -> str:
        return uuid.uuid4().hex

    def __init__(self, *, columns: list[str], panes: list[dict[str, Any]],
                 max_concurrency: int | None, title: str | None = None) -> None:
        super().__init__(title=title or "", _columns=columns, _panes=panes)
        self.channel = GridChannel(self, max_concurrency)
        self.panes: list[GridPane] = []
        """The panes, in order: each a ``StreamWidget`` with ``params``, its varied values."""
        self._status_lock = threading.Lock()
        self._ended = EndSignal()  # the grid's final state was published (a new one per run)
        self._displays = Displays(lambda: live_bundle(self), self._static_bundle)
        # Publish from every thread as the cell that made the grid (see StreamWidget).
        self._origin = contextvars.copy_context()
        self.on_msg(self._on_message)
        if self.comm is not None:
            self.comm.on_close(lambda _msg: self._closed())

    # --- what the channel needs (``_grid_channel.Panes``) ------------------------------

    def controllers(self) -> list[Controller]:
        """Each pane's attempts that the grid serves: the current one, and one a re-run
        replaced until it has ended (its end starts the new one)."""
        return [c for pane in self.panes for c in (*pane._retiring, pane._controller)]

    def send_frame(self, panes: dict[str, list[dict[str, Any]]]) -> int:
        """One frame of every pane that had something new: one message."""
        raw = json.dumps(panes, separators=(",", ":")).encode()
        if len(raw) >= COMPRESS_FROM:
            self._as_origin(self.send, {"type": "frame", "z": 1}, [zlib.compress(raw, 1)])
        else:
            self._as_origin(self.send, {"type": "frame", "panes": panes})
        return 1

    def _as_origin(self, publish: Any, *args: Any) -> Any:
        """Run a comm publish as the cell that made the grid."""
        return self._origin.copy().run(publish, *args)

    def publish_end(self) -> int:
        """Every pane has ended: the final state in one message, then the static copy."""
        statuses = [pane._controller.status for pane in self.panes]
        status = next((s for s in _WORST if s in statuses), "done")
        state = {"panes": [{"status": pane._controller.status,
                            "snapshot": pane.final_snapshot,
                            "attempts": pane.earlier_for_page(),
                            "attempt": pane._attempt} for pane in self.panes]}
        with self._status_lock:
            self.set_trait("status", status)
            self.set_trait("_snapshot", packed(state))
            ended = self._ended
        self._as_origin(self.send_state, ["status", "_snapshot"])
        sent = 1 + self._displays.ended()
        ended.set()
        return sent

    def _should_send_property(self, key: str, value: Any) -> bool:
        if key in ("status", "_snapshot"):
            return False  # once, together, at the end (and at a re-run)
        return bool(super()._should_send_property(key, value))

    # --- the page -----------------------------------------------------------------------

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind, pane = content.get("type"), content.get("pane")
        if isinstance(pane, int) and 0 <= pane < len(self.panes):
            if kind in ("stop", "hello", "source", "rerun"):
                self.panes[pane]._on_message(self, {"type": kind}, None)
            return
        if kind == "stop":
            self.stop()
        elif kind == "rerun":
            self.rerun()
        elif kind == "hello":
            self.channel.watch()
            for each in self.panes:
                each._controller.channel.request_snapshot()
        elif kind == "gone":
            self._closed()
        elif kind == "diff":
            self._answer_diff(content.get("a"), content.get("b"))

    def _answer_diff(self, a: Any, b: Any) -> None:
        message: dict[str, Any] = {"type": "diff", "a": a, "b": b}
        try:
            message["ops"] = self.diff(a, b).ops
        except (TypeError, IndexError, ValueError) as exc:
            message["error"] = str(exc)
        runtime().charge(1)
        self._as_origin(self.send, message)

    def _static_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        copy = grid_static_copy(self._key, self.status, self.title, self.results,
                                [pane.static_html() for pane in self.panes])
        return {"text/html": copy, "text/plain": repr(self)}, {}

    def _ipython_display_(self) -> None:
        self.channel.watch()
        if _terminal.in_a_terminal():  # each pane's answer, once they have ended
            _terminal.show_grid(self.panes, [pane.label for pane in self.panes])
            return
        self._displays.show()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        self.channel.watch()
        _marimo.before_display(self)  # (a marimo export waits for every pane's end)
        return self._displays.current

    def _display_(self) -> Any:
        """What marimo shows (its display protocol): see ``_marimo.display``."""
        return _marimo.display(self)

    # --- the Python view ----------------------------------------------------------------

    @property
    def results(self) -> list[dict[str, Any]]:
        """Per pane: ``params``, ``label``, ``status``, ``text``, ``metrics``, ``stop_reason``
        (and ``error`` when it failed)."""
        return [{"params": dict(pane.params), "label": pane.label, "status": pane.status,
                 "text": pane.text, "metrics": pane.metrics, "stop_reason": pane.stop_reason,
                 "error": pane.error} for pane in self.panes]

    def to_pandas(self) -> Any:
        """The results as a ``pandas.DataFrame``: one row per pane, its varied values, status,
        stop reason, the main metrics and the text (needs pandas, not a dependency)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Grid.to_pandas() needs pandas: pip install pandas "
                              "(or read g.results, a list of dicts)") from None
        keys = ("ttft_s", "tokens_per_s", "output_tokens", "duration_s", "finish_reason",
                "cost_usd")
        rows = [{**{name: _cell(value) for name, value in result["params"].items()},
                 "status": result["status"], "stop_reason": result["stop_reason"],
                 **{key: result["metrics"].get(key) for key in keys}, "text": result["text"]}
                for result in self.results]
        return pandas.DataFrame(rows)

    def diff(self, i: int, j: int) -> Diff:
        """The word-level diff of pane ``i``'s answer and pane ``j``'s (``str()`` of it reads
        like ``git diff --word-diff``; in a notebook it shows with deletions and insertions)."""
        for index in (i, j):
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(f"Grid.diff(i, j) expects pane numbers (int), got {index!r}")
            if not -len(self.panes) <= index < len(self.panes):
                raise IndexError(f"Grid.diff(): no pane {index} (the grid has "
                                 f"{len(self.panes)}, numbered from 0)")
        return word_diff(self.panes[i].text, self.panes[j].text)

    # --- control ------------------------------------------------------------------------

    def stop(self) -> int:
        """Stop every pane (queued ones never start); returns how many this call stopped."""
        return sum(1 for pane in self.panes if pane._controller.stop("user"))

    def rerun(self) -> None:
        """Re-run every pane (each keeps its earlier attempts; ``max_concurrency`` holds)."""
        for pane in self.panes:
            pane.rerun()

    def _closed(self) -> None:
        for pane in self.panes:
            pane._closed()

    def close(self) -> None:
        """Close the grid (its views go from the page) and stop its panes (``"closed"``)."""
        self._closed()
        super().close()

    def restarted(self) -> None:
        """A pane is re-run: after the grid's end, the grid streams again."""
        with self._status_lock:
            was_final = self.status in _WORST
            self.set_trait("status", "streaming")
            if self._ended.is_set():
                self._ended = EndSignal()
        if was_final:
            runtime().charge(1)
            self._as_origin(self.send_state, ["status"])
            self._displays.live_again()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every pane has ended (and the grid's final state is out); ``False`` if
        ``timeout`` seconds passed first. For scripts and tests; in a running event loop use
        ``await g``."""
        if timeout is not None and not isinstance(timeout, int | float):
            raise TypeError(f"wait(timeout=...) expects seconds as a number, got {timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        for pane in list(self.panes):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not pane.wait(left):
                return False
        with self._status_lock:
            ended = self._ended
        return ended.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def __await__(self) -> Generator[Any, None, Grid]:
        async def until_ended() -> Grid:
            for pane in list(self.panes):
                await pane
            with self._status_lock:
                ended = self._ended
            await asyncio.wrap_future(ended.future())
            return self

        return until_ended().__await__()

    def __str__(self) -> str:
        """In a terminal or a script, every pane's answer under its label: ``print(g)`` waits
        for them (a live table meanwhile on a terminal); Ctrl-C stops them. Elsewhere,
        ``repr(g)``."""
        if not _terminal.in_a_terminal() or \
                threading.current_thread() is not threading.main_thread():
            return repr(self)
        labels = [pane.label for pane in self.panes]
        with contextlib.suppress(RuntimeError):  # (waiting would block the panes' loop)
            _terminal.wait_for_grid(self.panes, labels)
        return _terminal.grid_text(self.panes, labels)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for pane in self.panes:
            status = pane._controller.status
            counts[status] = counts.get(status, 0) + 1
        said = ", ".join(f"{n} {s}" for s, n in counts.items())
        label = f" title={self.title!r}" if self.title else ""
        return f"<Grid{label} panes={len(self.panes)} ({said})>"


def _cell(value: Any) -> Any:
    """A varied value as a table cell: a client by its base URL."""
    if hasattr(value, "base_url") and hasattr(value, "api_key"):
        return str(value.base_url)
    return value
