"""``StreamWidget``: the live, displayable object a stream becomes.

Synced traits (kernel ↔ page) are kept to what the page needs and what a saved notebook
should hold; everything else is a read-only Python attribute backed by the document.

Synced traits:

- ``status`` (``str``, default ``"pending"``): ``pending``, ``streaming``, ``done``,
  ``stopped`` or ``error``. Observe it with ``w.observe(callback, names="status")``.
- ``_snapshot`` (``bytes``, default ``b""``): the whole rendered state (parts, metrics,
  error, event log) as deflated JSON, set when the stream ends, so views that join later and
  saved widget state show the answer (about a fifth of the HTML's size, sent once).
- ``title`` (``str``, default ``""``): a label shown in the header (``title=`` on every
  entry point; set it to change it) and kept in the saved copy.
- ``_key`` (``str``): an id of this widget, the same for all its views (each view gets its own
  model proxy), so a view re-created in place can take over its predecessor's DOM.
  While streaming, views receive small sequence-numbered patches as custom messages instead,
  and ask for a snapshot message (``{"type": "hello"}``) when they join late or see a gap.

What a notebook saves: while the stream runs, a display holds the widget view (and
``text/plain``); when it ends, every display is updated to a static copy only (``text/html``
with ``data-nbstream-key``, and ``text/plain``), and a widget displayed after its end is shown
as that static copy. So a saved notebook never holds a widget view whose model is gone (which
JupyterLab and Notebook 7 show as "Error displaying widget: model not found" after a kernel
restart, and which nbconvert prefers to ``text/html`` when the notebook holds widget state).
A page that watches keeps its live widget: its view, removed by the update, moves its DOM
into the static copy's place (``render()`` in ``widget.js``). No guess is made about whether a
page is watching, so a busy kernel (which cannot hear a page) changes nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import uuid
import zlib
from collections.abc import Callable, Generator, Iterable
from typing import Any

import anywidget
import traitlets

from . import _session
from ._assets import asset
from ._connection import ConnectionTracker
from ._followup import Answer, next_request
from ._guards import Guards
from ._markdown import highlight_css
from ._moderation import Moderator
from ._runner import Controller
from ._runtime import runtime
from ._static import static_copy

COMPRESS_FROM = 2048
"""Patches whose parts serialise to this many bytes or more are sent deflated."""


def _publish_as_current_request(handles: list[Any], data: Any, metadata: Any) -> None:
    """Update displays under the request the kernel is handling now (run in an empty context:
    ipykernel then resolves the shell parent to its latest request, not this thread's)."""
    from IPython import get_ipython

    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    set_thread_parent = getattr(getattr(shell, "display_pub", None), "set_thread_parent", None)
    if kernel is not None and callable(set_thread_parent):
        set_thread_parent(kernel.get_parent("shell"))
    for handle in handles:
        handle.update(data, metadata=metadata, raw=True)


class StreamWidget(anywidget.AnyWidget):
    """A streaming model answer, live in the notebook; create it with ``nbstream.responses()``,
    ``nbstream.chat()``, ``nbstream.completions()`` or ``nbstream.stream()``."""

    _esm = asset("widget.js")
    _css = asset("widget.css") + "\n" + highlight_css()

    status = traitlets.Unicode("pending", read_only=True).tag(sync=True)
    _snapshot = traitlets.Bytes(b"", read_only=True).tag(sync=True)
    _key = traitlets.Unicode(read_only=True).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    """A label for the answer, shown in its header and kept in the saved copy (``title=``)."""

    @traitlets.default("_key")
    def _new_key(self) -> str:  # in the comm's opening state: no update message of its own
        return uuid.uuid4().hex

    def __init__(self, opener: Callable[[], Any], *, source_is_async: bool | None = None,
                 connection: ConnectionTracker | None = None, secrets: Iterable[str] = (),
                 guards: Guards | None = None,
                 cancel_remote: Callable[[str], Any] | None = None,
                 request: dict[str, Any] | None = None, title: str | None = None,
                 moderate: Moderator | None = None, **kwargs: Any) -> None:
        super().__init__(title=title or "", **kwargs)  # in the comm's opening state
        self._status_lock = threading.Lock()
        # Displays showing the live view, and the static copy once the stream has ended: both
        # under one lock, so a display is either updated at the end or shown static.
        self._display_lock = threading.Lock()
        self._displays: list[Any] = []
        self._static: tuple[dict[str, Any], dict[str, Any]] | None = None
        # For reply(): the API, the create arguments and how to make the next request (set
        # by nbstream.responses() / chat() / completions(); never synced).
        self._made: tuple[str, dict[str, Any], Callable[..., StreamWidget]] | None = None
        # Publish from every thread as the cell that made the widget: ipykernel routes a
        # page's messages for a comm to the subshell of the request current when the comm
        # last published, and a request of a page's subshell can be gone a moment later
        # (a reloaded page deletes its subshells), which would drop its hello and Stop.
        # (The static display update at the end is not a comm message: see _update_displays.)
        self._origin = contextvars.copy_context()
        self._controller = Controller(
            opener,
            self._send_patch,
            self._sync_status,
            connection,
            secrets,  # the client's secret values: scrubbed from everything shown
            # In a kernel, frames go out once the widget is displayed (see StreamChannel.watch).
            watched=_session.running_kernel() is None,
            guards=guards if guards is not None else _session.settings().guards,
            subject=lambda: self,
            cancel_remote=cancel_remote,
            request=request,  # the create arguments, to price the stream (never shown)
            moderate=moderate,
        )
        self.on_msg(self._on_message)
        if self.comm is not None:
            self.comm.on_close(lambda _msg: self._closed())
        _session.register(self)
        self._controller.start(source_is_async)

    # --- kernel <-> page -------------------------------------------------------------

    def _send_patch(self, message: dict[str, Any]) -> int:
        """Send one message of the stream's to the page; returns how many IOPub messages
        that took (the runtime counts them against the kernel's budget)."""
        if message.get("type") == "snapshot" and message.get("final"):
            # The final state, deflated, for views that join later and for saved widget state,
            # in one update message with the final status.
            packed = json.dumps(message["snapshot"], separators=(",", ":")).encode()
            self._sync_status()
            self.set_trait("_snapshot", zlib.compress(packed, 6))
            self._as_origin(self.send_state, ["status", "_snapshot"])
            return 1 + self._update_displays()
        parts = message.get("parts")
        if parts is not None:
            packed = json.dumps(parts, separators=(",", ":")).encode()
            if len(packed) >= COMPRESS_FROM:
                # Rendered HTML compresses ~5x: large patches travel as a deflated buffer.
                message = {**message, "parts": None, "z": 1}
                self._as_origin(self.send, message, [zlib.compress(packed, 1)])
                return 1
        self._as_origin(self.send, message)
        return 1

    def _should_send_property(self, key: str, value: Any) -> bool:
        """``status`` and ``_snapshot`` reach the page in one message at the end (and the
        live status with every patch): a change of either sends nothing by itself, so a
        hundred streams starting do not cost a hundred messages."""
        if key in ("status", "_snapshot"):
            return False
        return bool(super()._should_send_property(key, value))

    def _as_origin(self, publish: Callable[..., Any], *args: Any) -> Any:
        """Run a comm publish as the cell that made the widget (see ``__init__``)."""
        return self._origin.copy().run(publish, *args)

    def _bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The live display: the widget view (no static copy: the stream is not over)."""
        data, metadata = super()._repr_mimebundle_() or ({}, {})
        data = {k: v for k, v in dict(data).items() if k != "text/html"}
        data["text/plain"] = repr(self)
        return data, dict(metadata)

    def _static_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The final answer for wherever widgets do not run (nbconvert, GitHub, a restarted
        kernel) and for the saved notebook (see ``_static.py``): no widget view."""
        controller = self._controller
        copy = static_copy(self._key, controller.status, self.html, title=self.title,
                           hidden=self._read(lambda doc: doc.hidden), error=controller.error,
                           metrics=self.metrics)
        return {"text/html": copy, "text/plain": repr(self)}, {}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        live = self._bundle()
        runtime().charge(1)  # a display is an IOPub message of nbstream's too
        self._controller.channel.watch()
        with self._display_lock:
            if self._static is not None:
                # Ended already: the static copy, so the output never holds a widget view.
                display(self._static[0], metadata=self._static[1], raw=True)
                return
            if _session.running_kernel() is None:
                # A terminal (IPython without a kernel) prints a display at once: there is no
                # output to update later, and an update would print again in a later cell.
                display(live[0], metadata=live[1], raw=True)
                return
            handle = display(live[0], metadata=live[1], raw=True, display_id=True)
            if handle is not None:
                self._displays.append(handle)

    def _update_displays(self) -> int:
        """Replace every display of this widget by the static copy of the final answer;
        returns how many displays were updated.

        The same update whether or not a page watches: a watching page keeps its live widget
        (its view moves its DOM into the static copy's place), and the saved output holds the
        static copy alone."""
        static = self._static_bundle()
        with self._display_lock:
            self._static = static
            handles, self._displays = self._displays, []
        if not handles:
            return 0
        data, metadata = static
        # In an empty context the display goes out under the request being handled now (a
        # thread otherwise keeps the cell that started it): nbclient records output only for
        # the cell it is executing, and matches the display id across cells.
        contextvars.Context().run(_publish_as_current_request, handles, data, metadata)
        return len(handles)

    def _sync_status(self, _status: str = "") -> None:
        """The ``status`` trait takes the stream's status (in Python: see
        ``_should_send_property`` for the page)."""
        with self._status_lock:
            self.set_trait("status", self._controller.status)
        if self._controller.status in ("done", "stopped", "error"):
            _session.unregister(self)  # not live any more (a stopped one is ending)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "stop":
            self.stop()
        elif kind == "gone":  # its output was cleared while it streamed: it went away
            self._closed()
        elif kind == "hello":
            self._controller.channel.request_snapshot()
        elif kind == "source":
            texts = self._read(lambda doc: {str(p.id): p.text for p in doc.parts_of("text", None)})
            runtime().charge(1)
            self._as_origin(self.send, {"type": "source", "parts": texts})

    # --- the Python view --------------------------------------------------------------

    def _read(self, getter: Callable[[Any], Any]) -> Any:
        controller = self._controller
        with controller.lock:
            return getter(controller.document)

    @property
    def text(self) -> str:
        """The output text so far (Chat with ``n > 1``: choice 0)."""
        return str(self._read(lambda doc: doc.text()))

    @property
    def html(self) -> str:
        """``text`` rendered, exactly as the page shows it once the stream has ended."""
        with self._controller.lock:
            return self._controller.channel.html

    @property
    def refusal(self) -> str | None:
        """The refusal text, if the model refused."""
        result: str | None = self._read(lambda doc: doc.refusal())
        return result

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """Tool calls in output order: ``{"call_id", "name", "arguments"}`` (raw JSON)."""
        result: list[dict[str, Any]] = self._read(lambda doc: doc.tool_calls())
        return result

    @property
    def parts(self) -> list[dict[str, Any]]:
        """Every output part in order: ``{"kind": "text"/"refusal"/..., ...}``."""
        return list(self._read(lambda doc: [p.as_dict() for p in doc.parts.values()]))

    @property
    def choices(self) -> list[str]:
        """The output text of every choice (Chat with ``n > 1``)."""
        return list(self._read(lambda doc: doc.choices()))

    @property
    def usage(self) -> dict[str, Any] | None:
        """The usage the API reported, if it did."""
        result: dict[str, Any] | None = self._read(lambda doc: doc.usage)
        return result

    @property
    def error(self) -> str | None:
        """A readable message when ``status == "error"``."""
        with self._controller.lock:
            return self._controller.error if self.status == "error" else None

    @property
    def metrics(self) -> dict[str, Any]:
        """Time to first token, duration, event counts, tokens and rate, finish reason, ..."""
        return dict(self._read(lambda doc: doc.metrics()))

    @property
    def event_log(self) -> dict[str, Any]:
        """The bounded event log: the first and last events with relative times, and counts."""
        return dict(self._read(lambda doc: doc.event_log()))

    # --- control ----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the stream and close its connection, keeping the text so far.

        Safe from any thread, and safe to call twice. This is what the Stop button does
        (``stop_reason`` becomes ``"user"``).
        """
        self._controller.stop("user")

    def reply(self, input: Any, /, **overrides: Any) -> StreamWidget:
        """A new widget that continues the conversation from this answer.

        Responses: ``previous_response_id`` is this answer's; Chat: the messages, this answer
        (its tool calls included) and ``input`` (a ``str`` is a user message; a list of
        messages, e.g. tool results, goes as it is); Completions: the prompt, this answer and
        ``input``. Every other create argument is kept; ``overrides`` win, and may also set
        nbstream's ``title=``, ``guards=`` and ``moderate=``.
        """
        if self._made is None:
            raise TypeError("reply() continues a request nbstream made: a widget of "
                            "nbstream.responses(), chat() or completions(), not of "
                            "nbstream.stream().")
        if not self._controller.ended:
            raise RuntimeError("reply(): the answer is still streaming; wait for it "
                               "(`await w` or `w.wait()`) or stop it, then reply.")
        api, request, remake = self._made
        own = {name: overrides.pop(name) for name in ("title", "guards", "moderate")
               if name in overrides}
        answer = Answer(self.text, self.tool_calls, self.metrics.get("response_id"))
        return remake(next_request(api, request, answer, input, overrides), own)

    def close(self) -> None:
        """Close the widget (its views go from the page) and stop its stream (``"closed"``,
        unless ``nbstream.configure(stop_on_close=False)``)."""
        self._closed()
        super().close()

    def _closed(self) -> None:
        if _session.settings().stop_on_close:
            self._controller.stop("closed")

    @property
    def stop_reason(self) -> str | None:
        """Why the stream was stopped: ``None`` unless ``status == "stopped"``; else one of
        ``"user"``, ``"interrupt"``, ``"rerun"``, ``"closed"``, ``"max_seconds"``,
        ``"max_output_tokens"``, ``"max_cost"``, ``"idle"``, ``"loop"``, ``"moderation"``,
        ``"predicate"``."""
        return self._controller.stop_reason

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the stream ends; returns ``False`` if ``timeout`` seconds passed first.

        For scripts and tests; a notebook never needs it. Inside a running event loop use
        ``await widget``.
        """
        if timeout is not None and not isinstance(timeout, int | float):
            raise TypeError(f"wait(timeout=...) expects seconds as a number, got {timeout!r}")
        try:
            return self._controller.wait(timeout)
        except KeyboardInterrupt:  # Ctrl-C / Interrupt: one line, not the waiting machinery
            raise KeyboardInterrupt("interrupted while waiting for the stream") from None

    def __await__(self) -> Generator[Any, None, StreamWidget]:
        async def until_ended() -> StreamWidget:
            await asyncio.wrap_future(self._controller.future())
            return self

        return until_ended().__await__()

    def __repr__(self) -> str:
        text = self.text
        preview = (text[:60] + "…") if len(text) > 60 else text
        status = self._controller.status
        hidden = self._read(lambda doc: doc.hidden)
        if hidden:  # (the saved copy's text/plain too: the text stays in w.text)
            return f"<StreamWidget status={status!r} chars={len(text)} hidden by {hidden}>"
        label = f" title={self.title!r}" if self.title else ""
        return f"<StreamWidget{label} status={status!r} chars={len(text)} text={preview!r}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        self._controller.channel.watch()  # shown by a front-end without _ipython_display_
        with self._display_lock:
            static = self._static
        return static if static is not None else self._bundle()
