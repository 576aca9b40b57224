"""Moderation of partial output: ``moderate=`` checks the answer as it grows, in the background.

``moderate=`` is a callable ``text -> falsy or reason`` (a ``str``, or ``True``; an ``async``
function works too), ``"openai"`` (the request's client: ``client.moderations.create(
model="omni-moderation-latest", input=...)``) or ``("openai", client)`` (another client: the
only way for ``nbstream.stream(source)``, which has none). :func:`moderator` checks it at the
call; :class:`ModerationWatch` applies it to one stream.

What is checked: choice 0's answer text (``w.text``), in windows with overlap. A check is
asked for once :data:`STEP` new characters have arrived (or :data:`EVERY_SECONDS` passed with
any new text), on the last :data:`WINDOW` characters, so consecutive windows overlap by
about ``WINDOW - STEP`` characters (1,500) at the stream's pace; and once more at the end, on
what no window has covered yet. Reasoning summaries, refusals, tool-call arguments and other
choices are not checked (when a check flags, every part is hidden all the same).

Never blocking the stream: checks run on a worker thread of the shared runtime, one at a time
per stream, with at most one more wanted (coalesced: a stream that outpaces its moderator is
checked on fewer, longer windows: everything since the last window, with :data:`OVERLAP`
characters of context, in windows of up to :data:`LONGEST` characters). The end of a stream
that was not stopped waits for the last check, at most :data:`FINAL_TIMEOUT` seconds, so a
flagged answer never ends ``done``; past that the stream ends as it would have (fail-open,
logged, and ``metrics["moderation"]["complete"]`` says so). A moderator that raises is logged
(the first failure with its traceback) and counted in ``metrics["moderation"]``; the stream goes
on. When a check flags, the stream stops with ``stop_reason == "moderation"`` (the reason is
``metrics["stop_detail"]``) and its parts are marked ``"hidden": "moderation"``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._runtime import settle

if TYPE_CHECKING:
    from ._document import Document
    from ._runner import Controller

_log = logging.getLogger("nbstream")

STEP = 500
"""New characters of answer text that make a check due."""
EVERY_SECONDS = 2.0
"""... or seconds since the last check asked for, when any new text has arrived since."""
WINDOW = 2000
"""A check at the stream's pace looks at the last this many characters."""
OVERLAP = 200
"""Characters a window always shares with the one before (when the text is that long)."""
LONGEST = 8000
"""The longest window, when the stream has outpaced its moderator and a check catches up."""
FINAL_TIMEOUT = 10.0
"""Seconds the end of a stream waits for its last check at most."""
CALL_TIMEOUT = 10.0
"""Seconds one ``"openai"`` moderation request (or an ``async`` moderator's call) may take."""
OPENAI_MODEL = "omni-moderation-latest"
DETAIL_LENGTH = 300
"""A reason longer than this is cut (it is shown in the header's tooltip and saved)."""

Moderate = Callable[[str], Any] | str | tuple[str, Any] | None
"""What ``moderate=`` takes."""
Check = Callable[[list[str], "asyncio.AbstractEventLoop | None"], "str | None"]
"""Windows of text (and the stream's event loop, for async work) -> a reason if flagged."""


@dataclass(frozen=True)
class Moderator:
    """A checked ``moderate=`` value: ``check(windows, loop)`` returns a reason to stop (a
    non-empty ``str``) or ``None``, and raises when it could not check."""

    check: Check
    name: str


def moderator(api: str, value: Any, client: Any = None) -> Moderator | None:
    """Check ``moderate=`` at the call (``client``: the request's, ``None`` for
    ``nbstream.stream``); ``None`` when moderation is off."""
    if value is None or value is False:
        return None
    if isinstance(value, str):
        if value != "openai":
            raise TypeError(_expected(api, value))
        if client is None:
            raise TypeError(
                f'nbstream.{api}(moderate="openai") needs a client to call the moderation '
                "endpoint with, and a stream made elsewhere has none: pass "
                'moderate=("openai", client), e.g. moderate=("openai", openai.OpenAI()), or a '
                "callable text -> reason."
            )
        return _openai(api, client)
    if isinstance(value, tuple):
        if len(value) == 2 and value[0] == "openai":
            return _openai(api, value[1])
        raise TypeError(_expected(api, value))
    if callable(value) and not isinstance(value, type):
        try:
            inspect.signature(value).bind("text")
        except TypeError:
            raise TypeError(
                f"nbstream.{api}(moderate=...) calls its moderator with one argument, the text "
                f"to check, but {getattr(value, '__name__', repr(value))} cannot take it: pass a "
                "callable text -> falsy or a reason."
            ) from None
        except ValueError:  # no signature to read (a builtin): it is called as it is
            pass
        return Moderator(_callable_check(value), getattr(value, "__name__", "moderator"))
    raise TypeError(_expected(api, value))


def _expected(api: str, value: Any) -> str:
    got = repr(value) if isinstance(value, str | tuple) else type(value).__name__
    return (f"nbstream.{api}(moderate=...) expects a callable text -> falsy or a reason "
            f'(str or True), "openai" (the client\'s moderation endpoint) or ("openai", client), '
            f"or None; got {got}")


def _callable_check(function: Callable[[str], Any]) -> Check:
    def check(windows: list[str], loop: asyncio.AbstractEventLoop | None) -> str | None:
        for window in windows:
            reason = _settle(function(window), loop)
            if reason:
                return "flagged" if reason is True else str(reason)
        return None

    return check


def _openai(api: str, client: Any) -> Moderator:
    create = getattr(getattr(client, "moderations", None), "create", None)
    if not callable(create) or isinstance(client, str | bytes | dict | list):
        raise TypeError(f'nbstream.{api}(moderate=("openai", client)) expects an OpenAI client '
                        f"(openai.OpenAI() or openai.AsyncOpenAI()), got {type(client).__name__}")

    def check(windows: list[str], loop: asyncio.AbstractEventLoop | None) -> str | None:
        text: str | list[str] = windows[0] if len(windows) == 1 else windows
        response = _settle(create(model=OPENAI_MODEL, input=text, timeout=CALL_TIMEOUT), loop)
        flagged = [r for r in getattr(response, "results", None) or [] if _get(r, "flagged")]
        if not flagged:
            return None
        names = sorted({name for r in flagged for name, on in _categories(r).items() if on})
        return f"flagged: {', '.join(names)}" if names else "flagged"

    return Moderator(check, "openai")


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _categories(result: Any) -> dict[str, Any]:
    """A moderation result's categories by their API names (``harassment/threatening``)."""
    categories = _get(result, "categories")
    dump = getattr(categories, "model_dump", None)
    if callable(dump):
        categories = dump(by_alias=True)
    return categories if isinstance(categories, dict) else {}


def _settle(value: Any, loop: asyncio.AbstractEventLoop | None) -> Any:
    """The moderator's answer, awaited if need be (on a worker thread: see ``settle``)."""
    return settle(value, loop, CALL_TIMEOUT + 1.0,
                  f"the moderator took more than {CALL_TIMEOUT:g} s")


def spans(length: int, checked: int) -> list[tuple[int, int]]:
    """The windows ``(start, end)`` that check ``text[checked:length]``: the last
    :data:`WINDOW` characters when they reach :data:`OVERLAP` characters back over
    ``checked``, else windows of up to :data:`LONGEST` characters, each sharing
    :data:`OVERLAP` with the one before, the last ending at ``length``."""
    if length <= checked:
        return []
    start = max(0, checked - OVERLAP)
    if length - start <= WINDOW:
        return [(max(0, length - WINDOW), length)]
    out = []
    while True:
        end = min(length, start + LONGEST)
        out.append((start, end))
        if end == length:
            return out
        start = end - OVERLAP


class ModerationWatch:
    """One stream's moderation at work. The methods marked "lock held" are called with the
    stream's lock held; :meth:`run` (on a worker thread) takes it itself."""

    def __init__(self, moderator: Moderator, stream: Controller,
                 loop: Callable[[], asyncio.AbstractEventLoop | None]) -> None:
        self._moderator = moderator
        self._stream = stream
        self._loop = loop
        self._asked = 0
        """The text's length when a check was last asked for."""
        self._asked_at = time.monotonic()
        self._checked = 0
        """The text up to here has been checked (or its check failed)."""
        self._wanted = False
        self._running = False
        self._final_deadline: float | None = None
        self._final_done = False
        self._checks = 0
        self._errors = 0
        self._error: str | None = None
        self._publish(stream.document)

    # --- what the stream asks (lock held) ---------------------------------------------

    def after_events(self, document: Document) -> bool:
        """New events were applied: whether a check must start (call :meth:`start`)."""
        length = document.text_length()
        if length < self._asked:  # the text was replaced by a shorter one: check it all
            self._asked = self._checked = 0
        new = length - self._asked
        now = time.monotonic()
        if new >= STEP or (new > 0 and now - self._asked_at >= EVERY_SECONDS):
            self._asked, self._asked_at = length, now
            return self._want()
        return False

    def final(self, document: Document, now: float) -> bool:
        """The source has ended: check what is left; the end waits (see :meth:`holding`).
        Returns whether a check must start."""
        if self._final_deadline is not None:
            return False
        self._final_deadline = now + FINAL_TIMEOUT
        if not self._running and document.text_length() <= self._checked:
            self._final_done = True  # every character has been checked already
            self._publish(document)
            return False
        return self._want()

    def holding(self, now: float) -> float | None:
        """Until when the end of the stream waits for the last check (``None``: it does
        not wait, or no longer)."""
        deadline = self._final_deadline
        if deadline is None or self._final_done or now >= deadline:
            return None
        return deadline

    def _want(self) -> bool:
        self._wanted = True
        if self._running:
            return False  # coalesced: the running check takes it up when it is done
        self._running = True
        return True

    # --- the checks (a worker thread) -------------------------------------------------

    def start(self) -> None:
        """Start the checks on a worker thread (after :meth:`after_events` or :meth:`final`
        said so, without the stream's lock)."""
        self._stream.runtime.run_source(self.run)

    def run(self) -> None:
        """Check windows until none is wanted: one check at a time for this stream."""
        stream = self._stream
        try:
            while True:
                with stream.lock:
                    if stream.stopped() or not self._wanted:
                        break
                    self._wanted = False
                    text = stream.document.text()
                    windows = [text[a:b] for a, b in spans(len(text), self._checked)]
                    end = len(text)
                if windows:
                    self._check(windows, end)
        finally:
            with stream.lock:
                self._running = False
                final = self._final_deadline is not None and not self._final_done
                if final and not self._wanted:
                    self._final_done = True
                    self._publish(stream.document)
                again = self._wanted and not stream.stopped()
                if again:
                    self._running = True
            if again:  # wanted while this one was leaving: go on (on a fresh job)
                self.start()
            elif final:
                stream.runtime.wake()  # the end was waiting for this

    def _check(self, windows: list[str], end: int) -> None:
        stream = self._stream
        reason: str | None = None
        error: str | None = None
        try:
            reason = self._moderator.check(windows, self._loop())
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if not self._errors:
                _log.warning("nbstream: the moderator (%s) raised; the stream goes on, "
                             "unchecked where it failed", self._moderator.name, exc_info=True)
        with stream.lock:
            self._checks += 1
            self._checked = max(self._checked, end)
            if error is not None:
                self._errors += 1
                self._error = stream.document.clean.message(error)[:DETAIL_LENGTH]
            if reason:
                reason = stream.document.clean.message(reason)[:DETAIL_LENGTH]
            self._publish(stream.document)
            late = reason and self._final_deadline is not None \
                and time.monotonic() >= self._final_deadline
        if reason and not stream.stop("moderation", reason) and late:
            _log.warning("nbstream: the moderator flagged the answer after its end had stopped "
                         "waiting (%g s): it was not hidden (%s)", FINAL_TIMEOUT, reason)

    def _publish(self, document: Document) -> None:
        """Put the counts in ``metrics["moderation"]`` (lock held)."""
        document.moderation = {
            "checks": self._checks,
            "checked_chars": self._checked,
            "errors": self._errors,
            "error": self._error,
            "complete": self._final_done and not self._errors
            and self._checked >= document.text_length(),
        }
