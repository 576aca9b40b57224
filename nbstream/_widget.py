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
- ``_can_rerun`` (``bool``, default ``False``): nbstream made the request, so the page offers
  ↻ (``w.rerun()``).
- ``_attempts`` (``bytes``, default ``b""``): the earlier attempts (``w.rerun()``), deflated
  JSON ``[{"status", "stop_reason", "snapshot"}]``, for the page's "< 2/3 >"; sent when a
  re-run starts. Every patch and snapshot carries ``"attempt"``, the current attempt's number.
- ``_key`` (``str``): an id of this widget, the same for all its views (each view gets its own
  model proxy), so a view re-created in place can take over its predecessor's DOM.
  While streaming, views receive small sequence-numbered patches as custom messages instead,
  and ask for a snapshot message (``{"type": "hello"}``) when they join late or see a gap.

What a notebook saves: the static copy of the final answer once the stream has ended (see
``_display.py``); a re-run makes the displays live again until its end.
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

from . import _marimo, _session, _terminal
from ._answer import AnswerView
from ._assets import asset
from ._attempts import Attempt, Launch, packed
from ._connection import ConnectionTracker
from ._display import Displays, live_bundle
from ._followup import Answer, next_request
from ._guards import Guards
from ._markdown import highlight_css
from ._moderation import Moderator
from ._runner import Controller
from ._runtime import Host, runtime
from ._static import static_copy

COMPRESS_FROM = 2048
"""Patches whose parts serialise to this many bytes or more are sent deflated."""


class StreamWidget(AnswerView, anywidget.AnyWidget):
    """A streaming model answer, live in the notebook; create it with ``nbstream.responses()``,
    ``nbstream.chat()``, ``nbstream.completions()`` or ``nbstream.stream()``."""

    _esm = asset("stream.js")  # (a grid's bundle, widget.js, also holds the grid's view)
    _css = asset("widget.css") + "\n" + highlight_css()

    status = traitlets.Unicode("pending", read_only=True).tag(sync=True)
    _snapshot = traitlets.Bytes(b"", read_only=True).tag(sync=True)
    _key = traitlets.Unicode(read_only=True).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    """A label for the answer, shown in its header and kept in the saved copy (``title=``)."""

    @traitlets.default("_key")
    def _new_key(self) -> str:  # in the comm's opening state: no update message of its own
        return uuid.uuid4().hex

    _can_rerun = traitlets.Bool(False).tag(sync=True)
    _attempts = traitlets.Bytes(b"", read_only=True).tag(sync=True)

    def __init__(self, opener: Callable[[], Any], *, source_is_async: bool | None = None,
                 connection: ConnectionTracker | None = None, secrets: Iterable[str] = (),
                 guards: Guards | None = None,
                 cancel_remote: Callable[[str], Any] | None = None,
                 request: dict[str, Any] | None = None, title: str | None = None,
                 moderate: Moderator | None = None,
                 relaunch: Callable[[], Launch] | None = None, **kwargs: Any) -> None:
        # title and _can_rerun go in the comm's opening state
        super().__init__(title=title or "", _can_rerun=relaunch is not None, **kwargs)
        self._status_lock = threading.Lock()
        self._displays = Displays(lambda: live_bundle(self), self._static_bundle)
        # For reply(): the API, the create arguments and how to make the next request (set
        # by nbstream.responses() / chat() / completions(); never synced).
        self._made: tuple[str, dict[str, Any], Callable[..., StreamWidget]] | None = None
        # Publish from every thread as the cell that made the widget: ipykernel routes a
        # page's messages for a comm to the subshell of the request current when the comm
        # last published, and a request of a page's subshell can be gone a moment later
        # (a reloaded page deletes its subshells), which would drop its hello and Stop.
        # (The static display update at the end is not a comm message: see _display.py.)
        self._origin = contextvars.copy_context()
        # What every attempt shares (w.rerun() makes a new one with a fresh Launch).
        self._relaunch = relaunch
        self._secrets = tuple(secrets)  # the client's secret values: scrubbed from all shown
        self._guards = guards if guards is not None else _session.settings().guards
        self._request = request  # the create arguments, to price the stream (never shown)
        self._moderate = moderate
        self._earlier: list[Attempt] = []
        self._retiring: list[Controller] = []  # replaced attempts that have not ended yet
        self._attempt = 0
        self._controller = self._new_controller(
            Launch(opener, source_is_async, connection, cancel_remote), 0)
        self.on_msg(self._on_message)
        if self.comm is not None:
            self.comm.on_close(lambda _msg: self._closed())
        _marimo.watch_cell(self)  # marimo closes comms without on_close: see _marimo.py
        _session.register(self)
        self._start_attempt(self._controller, source_is_async)

    def _host_runtime(self) -> Host | None:
        """The runtime this widget's streams are channels of (a grid's for its panes)."""
        return None

    def _new_controller(self, launch: Launch, attempt: int) -> Controller:
        controller: Controller

        def on_status(_status: str) -> None:
            self._sync_status(controller)

        controller = Controller(
            launch.opener,
            lambda message: self._publish(message, attempt),
            on_status,
            launch.connection,
            self._secrets,
            shared=self._host_runtime(),
            # In a kernel, frames go out once the widget is displayed (see StreamChannel.watch).
            watched=_session.running_kernel() is None,
            guards=self._guards,
            subject=lambda: self,
            cancel_remote=launch.cancel_remote,
            request=self._request,
            moderate=self._moderate,
        )
        return controller

    def _start_attempt(self, controller: Controller, source_is_async: bool | None) -> None:
        """Start an attempt's stream (a grid's pane waits for its turn instead)."""
        controller.start(source_is_async)

    # --- kernel <-> page -------------------------------------------------------------

    def _publish(self, message: dict[str, Any], attempt: int) -> int:
        """Send one message of attempt ``attempt`` to the page (each carries its attempt's
        number); returns how many IOPub messages that took (the runtime counts them)."""
        message = {**message, "attempt": attempt}
        if message.get("type") == "snapshot":
            message["snapshot"] = {**message["snapshot"], "attempt": attempt}
            if message.get("final"):
                if attempt != self._attempt:
                    return 0  # replaced by a re-run: it is archived when that one starts
                return self._publish_end(message["snapshot"])
        return self._send_patch(message)

    def _publish_end(self, snapshot: dict[str, Any]) -> int:
        """The final state, deflated, for views that join later and for saved widget state,
        in one update message with the final status; then the displays go static."""
        self._sync_status(self._controller)
        self.set_trait("_snapshot", packed(snapshot))
        self._as_origin(self.send_state, ["status", "_snapshot"])
        return 1 + self._displays.ended()

    def _send_patch(self, message: dict[str, Any]) -> int:
        """Send one patch or snapshot message to the page; returns the IOPub messages sent."""
        parts = message.get("parts")
        if parts is not None:
            raw = json.dumps(parts, separators=(",", ":")).encode()
            if len(raw) >= COMPRESS_FROM:
                # Rendered HTML compresses ~5x: large patches travel as a deflated buffer.
                message = {**message, "parts": None, "z": 1}
                self._as_origin(self.send, message, [zlib.compress(raw, 1)])
                return 1
        self._as_origin(self.send, message)
        return 1

    def _to_page(self, message: dict[str, Any]) -> None:
        """An answer to the page's request, outside the frames (counted against the budget)."""
        runtime().charge(1)
        self._as_origin(self.send, message)

    def _should_send_property(self, key: str, value: Any) -> bool:
        """``status``, ``_snapshot`` and ``_attempts`` reach the page in one message at the end
        or at a re-run (and the live status with every patch): a change of either sends nothing
        by itself, so a hundred streams starting do not cost a hundred messages."""
        if key in ("status", "_snapshot", "_attempts"):
            return False
        return bool(super()._should_send_property(key, value))

    def _as_origin(self, publish: Callable[..., Any], *args: Any) -> Any:
        """Run a comm publish as the cell that made the widget (see ``__init__``)."""
        return self._origin.copy().run(publish, *args)

    def _static_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The final answer for wherever widgets do not run (nbconvert, GitHub, a restarted
        kernel) and for the saved notebook (see ``_static.py``): no widget view."""
        controller = self._controller
        copy = static_copy(self._key, controller.status, self.html, title=self.title,
                           hidden=self._read(lambda doc: doc.hidden), error=controller.error,
                           metrics=self.metrics)
        return {"text/html": copy, "text/plain": repr(self)}, {}

    def _ipython_display_(self) -> None:
        self._controller.channel.watch()
        if _terminal.in_a_terminal():  # IPython in a terminal: the answer as it arrives
            _terminal.show(self)
            return
        self._displays.show()

    def _interrupt(self) -> None:
        """Ctrl-C in a terminal while the answer shows: stop it (``"interrupt"``)."""
        self._controller.stop("interrupt")

    def __str__(self) -> str:
        """In a terminal or a script, the answer: ``print(w)`` waits for it (showing it as it
        arrives when output is a terminal), then prints its text, and a line saying why when
        it did not complete; Ctrl-C stops it. Elsewhere (a notebook), ``repr(w)``."""
        if not _terminal.in_a_terminal() or \
                threading.current_thread() is not threading.main_thread():
            return repr(self)
        try:
            _terminal.show(self, transient=True)
        except RuntimeError:  # waiting would block the event loop the stream runs on
            return self.text
        if self.status == "done":
            return self.text
        return f"{self.text}\n[{_terminal.ending(self)}]"

    def _sync_status(self, controller: Controller) -> None:
        """The ``status`` trait takes the current attempt's status (in Python: see
        ``_should_send_property`` for the page); an earlier attempt's changes are its own."""
        with self._status_lock:
            if controller is not self._controller:
                return
            self.set_trait("status", controller.status)
        if controller.status in ("done", "stopped", "error"):
            _session.unregister(self)  # not live any more (a stopped one is ending)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "stop":
            self.stop()
        elif kind == "gone":  # its output was cleared while it streamed: it went away
            self._closed()
        elif kind == "hello":
            self._controller.channel.request_snapshot()
        elif kind == "rerun" and self._relaunch is not None:
            self.rerun()
        elif kind == "source":
            texts = self._read(lambda doc: {str(p.id): p.text for p in doc.parts_of("text", None)})
            self._to_page({"type": "source", "parts": texts})

    # --- control ----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the stream and close its connection, keeping the text so far.

        Safe from any thread, and safe to call twice. This is what the Stop button does
        (``stop_reason`` becomes ``"user"``).
        """
        self._controller.stop("user")

    def rerun(self) -> None:
        """Make the same request again, in this widget (the ↻ button does the same).

        A live attempt is stopped first (``stop_reason == "user"``); earlier attempts stay
        readable in ``w.attempts`` and in the page ("< 2/3 >" navigator). ``wait()`` and ``await w``
        wait for the new attempt. Only for widgets nbstream made the request for
        (``nbstream.responses()``, ``chat()``, ``completions()``, a grid's panes).
        """
        if self._relaunch is None:
            raise TypeError("rerun() repeats a request nbstream made: a widget of "
                            "nbstream.responses(), chat() or completions(), not of "
                            "nbstream.stream() (a stream cannot be read twice).")
        launch = self._relaunch()
        with self._status_lock:
            old = self._controller
            self._attempt += 1
            new = self._controller = self._new_controller(launch, self._attempt)
            self._retiring.append(old)  # (until it has ended: a grid still serves it)
        old.stop("user")  # (does nothing if it has ended)
        # The new attempt starts once the old one has published its end.
        old.future().add_done_callback(lambda _f: self._begin(old, new, launch))

    def _begin(self, old: Controller, new: Controller, launch: Launch) -> None:
        """The previous attempt has ended: archive it, tell the page, start ``new``."""
        with old.lock:
            earlier = Attempt(old.document.text(), old.status, old.document.stop_reason
                              if old.status == "stopped" else None, old.document.metrics(),
                              old.channel.html, old.channel.final_snapshot)
        with self._status_lock:
            if old in self._retiring:
                self._retiring.remove(old)
            self._earlier.append(earlier)
            pages = [a.for_page() for a in self._earlier]
            self.set_trait("status", new.status)
            self.set_trait("_snapshot", b"")
        self._restarted(pages)
        _session.register(self)
        if old._loop is not None and old._loop.is_running() and launch.source_is_async:
            loop = old._loop  # an async client belongs to the loop the first attempt ran on
            loop.call_soon_threadsafe(self._start_attempt, new, True)
        else:
            self._start_attempt(new, launch.source_is_async)

    def _restarted(self, attempts: list[dict[str, Any]]) -> None:
        """Tell the page a new attempt starts: one state update, and live displays again."""
        self.set_trait("_attempts", packed(attempts))
        runtime().charge(1)
        self._as_origin(self.send_state, ["status", "_snapshot", "_attempts"])
        self._displays.live_again()

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """Every attempt of this widget's request, the current one last (``w.rerun()`` adds
        one): ``text``, ``status``, ``stop_reason``, ``metrics`` and ``html`` of each."""
        with self._status_lock:
            earlier = [a.as_dict() for a in self._earlier]
        current = {"text": self.text, "status": self._controller.status,
                   "stop_reason": self.stop_reason, "metrics": self.metrics, "html": self.html}
        return [*earlier, current]

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
        controller = getattr(self, "_controller", None)  # (None: __init__ failed before it)
        if controller is not None and _session.settings().stop_on_close:
            controller.stop("closed")

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
        _marimo.before_display(self)  # (a marimo export waits for the end)
        return self._displays.current

    def _display_(self) -> Any:
        """What marimo shows (its display protocol): see ``_marimo.display``."""
        return _marimo.display(self)
