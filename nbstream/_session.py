"""The kernel's live streams, and what stops them besides their Stop button.

Every stream is registered here while it lives, with the notebook cell that made it (the
execute request's ``cellId`` metadata, which JupyterLab and Notebook 7 send). In a kernel,
on first use, nbstream hooks into IPython's ``pre_run_cell`` event:

- **re-run**: executing the cell that made a widget again stops that widget (``"rerun"``);
  a request without ``cellId`` (nbclient, plain clients) never counts as a re-run;
- **Interrupt**: the kernel's Interrupt is SIGINT. ipykernel ignores it while idle and raises
  ``KeyboardInterrupt`` while a cell runs; nbstream's handler wraps whichever handler is in
  place (idle and during each cell) and stops every live stream (``"interrupt"``) before
  passing the signal on, so the interrupted cell still gets its ``KeyboardInterrupt``.

A signal handler runs in the main thread between two bytecodes, possibly while that thread
holds one of nbstream's locks: it only puts a request on a ``queue.SimpleQueue`` (safe there),
and a small thread, ``nbstream-signals``, does the stopping.
"""

from __future__ import annotations

import atexit
import contextlib
import queue
import signal
import sys
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._guards import Guards

if TYPE_CHECKING:
    from ._widget import StreamWidget


@dataclass(frozen=True)
class Settings:
    """Session defaults (see :func:`configure`)."""

    guards: Guards = field(default_factory=Guards)
    stop_on_interrupt: bool = True
    stop_on_rerun: bool = True
    stop_on_close: bool = True


_settings = Settings()
_lock = threading.Lock()
_live: dict[int, tuple[StreamWidget, str | None]] = {}  # id -> (widget, the cell that made it)
_hooked = False
_requests: queue.SimpleQueue[str] = queue.SimpleQueue()
_UNSET: Any = object()


def settings() -> Settings:
    """The session's defaults now."""
    return _settings


def configure(*, guards: Guards | None = _UNSET, stop_on_interrupt: bool = _UNSET,
              stop_on_rerun: bool = _UNSET, stop_on_close: bool = _UNSET) -> Settings:
    """Set session defaults; what is not passed stays as it is. Returns the new settings.

    - ``guards``: the :class:`Guards` of every stream that is not given its own
      (``None``: no guard at all, not even the loop detector);
    - ``stop_on_interrupt``: the kernel's Interrupt stops every live stream;
    - ``stop_on_rerun``: running a cell again stops the streams it made before;
    - ``stop_on_close``: closing a widget (or its comm) stops its stream.
    """
    global _settings
    changes: dict[str, Any] = {}
    for name, value in (("stop_on_interrupt", stop_on_interrupt),
                        ("stop_on_rerun", stop_on_rerun), ("stop_on_close", stop_on_close)):
        if value is not _UNSET:
            if not isinstance(value, bool):
                raise TypeError(f"nbstream.configure({name}=...) expects True or False, "
                                f"got {value!r}")
            changes[name] = value
    if guards is not _UNSET:
        if guards is not None and not isinstance(guards, Guards):
            raise TypeError("nbstream.configure(guards=...) expects nbstream.Guards(...) or "
                            f"None, got {type(guards).__name__}")
        changes["guards"] = guards if guards is not None else Guards.none()
    _settings = replace(_settings, **changes)
    return _settings


def register(widget: StreamWidget) -> None:
    """A stream starts: remember it (and the cell that made it) until it ends."""
    _hook_the_kernel()
    _hook_the_exit()
    with _lock:
        _live[id(widget)] = (widget, _current_cell_id())


def unregister(widget: StreamWidget) -> None:
    """A stream has ended."""
    with _lock:
        _live.pop(id(widget), None)


def live() -> list[StreamWidget]:
    """The widgets whose stream is live now (``pending`` or ``streaming``), oldest first."""
    with _lock:
        return [widget for widget, _ in _live.values()]


def stop_all(reason: str = "user") -> int:
    """Stop every live stream of this kernel; returns how many this call stopped."""
    stopped = 0
    for widget in live():
        if widget._controller.stop(reason):
            stopped += 1
    return stopped


# --- the kernel's hooks ---------------------------------------------------------------


def running_kernel() -> Any:
    """The Jupyter kernel this process is (``None`` in a script or a terminal IPython)."""
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None)


def _current_cell_id() -> str | None:
    """The ``cellId`` of the execute request being handled, if the front-end sent one."""
    kernel = running_kernel()
    get_parent = getattr(kernel, "get_parent", None)
    if not callable(get_parent):
        return None
    with contextlib.suppress(Exception):
        parent = get_parent("shell") or {}
        if parent.get("header", {}).get("msg_type") == "execute_request":
            cell_id = (parent.get("metadata") or {}).get("cellId")
            return str(cell_id) if cell_id else None
    return None


def _hook_the_kernel() -> None:
    global _hooked
    if _hooked:
        return
    kernel = running_kernel()
    if kernel is None or threading.current_thread() is not threading.main_thread():
        return
    _hooked = True
    kernel.shell.events.register("pre_run_cell", _before_a_cell)
    threading.Thread(target=_serve_requests, name="nbstream-signals", daemon=True).start()
    _wrap_sigint(kernel)


_exit_hooked = False


def _hook_the_exit() -> None:
    global _exit_hooked
    if not _exit_hooked:
        _exit_hooked = True
        atexit.register(_at_exit)


def _at_exit() -> None:
    """Python is exiting (a script's end) with answers still streaming: they are cut. Stop
    them (their connections close) and say so, rather than drop them silently."""
    cut = 0
    for widget in live():
        with contextlib.suppress(Exception):  # (a loop already closed, no thread to start)
            cut += widget._controller.stop("closed")
    if cut:
        answers = "an answer was" if cut == 1 else f"{cut} answers were"
        print(f"nbstream: {answers} still streaming when Python exited, and stopped there "
              "(wait for an answer with w.wait(), or `await w`).", file=sys.stderr)


def _before_a_cell(_info: Any = None) -> None:
    """A cell is about to run: stop what its earlier run made; catch its interrupts too."""
    cell_id = _current_cell_id()
    if cell_id and _settings.stop_on_rerun:
        with _lock:
            again = [w for w, made_in in _live.values() if made_in == cell_id]
        for widget in again:
            widget._controller.stop("rerun")
    kernel = running_kernel()
    if kernel is not None and threading.current_thread() is threading.main_thread():
        _wrap_sigint(kernel)


def _wrap_sigint(kernel: Any) -> None:
    """Put nbstream's handler in front of the one in place now, and of the one ipykernel
    restores once the cell is over (``saved_sigint_handler``)."""
    with contextlib.suppress(ValueError, AttributeError):  # not the main thread; no such hook
        signal.signal(signal.SIGINT, _chained(signal.getsignal(signal.SIGINT)))
        saved = getattr(kernel, "saved_sigint_handler", None)
        if saved is not None:
            kernel.saved_sigint_handler = _chained(saved)


def _chained(previous: Any) -> Any:
    if getattr(previous, "_nbstream", False):
        return previous

    def on_sigint(signum: int, frame: Any) -> None:
        if _settings.stop_on_interrupt:
            _requests.put("interrupt")  # reentrant-safe; never a lock here
        if callable(previous):
            previous(signum, frame)

    on_sigint._nbstream = True  # type: ignore[attr-defined]
    return on_sigint


def _serve_requests() -> None:
    while True:
        reason = _requests.get()
        with contextlib.suppress(Exception):
            stop_all(reason)
