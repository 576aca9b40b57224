"""marimo: what nbstream does differently when a marimo kernel runs it.

marimo displays any anywidget as its own ``<marimo-anywidget>`` element (in a shadow root; the
styles are ``widget.css``'s business), and its comm relays the widget's messages, so a stream
is live and its Stop works as in Jupyter. Three things differ, and this module handles them:

- **Re-running a cell**: marimo closes the comms of the widgets the cell made before
  (``CommLifecycleItem``), but its comm's ``close()`` calls no ``on_close`` callback. nbstream
  adds a lifecycle item of its own to the cell that made a stream: when marimo disposes of the
  cell's items (the cell runs again, or is deleted) the stream stops, ``"rerun"`` (or
  ``"closed"`` for a deleted cell), as ``nbstream.configure(...)`` allows.
- **``marimo export html`` (ipynb, md, ...)**: the exporter runs the notebook once and records
  every output and the widgets' state when the last cell returns, so a stream still running
  then is saved as an empty widget at "Streaming". While marimo exports, displaying a stream
  waits for its end and shows its static copy (``_static.py``: the answer's HTML, readable
  without any script); ``mo.ui.anywidget(w)`` waits the same way, and its saved state holds the
  final answer. An interactive session (``marimo edit``, ``marimo run``) never waits.
- Nothing of marimo is imported unless marimo already is (``sys.modules``).

marimo handles a widget's messages (Stop) between cell runs: while another cell runs, a Stop
click waits for it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Any, Protocol, cast

from . import _session


class _Shown(Protocol):
    """A widget marimo can show: a stream or a grid."""

    def wait(self, timeout: float | None = None) -> bool: ...

    def _static_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]: ...


def mode() -> str | None:
    """marimo's mode for the code running now: ``"edit"``, ``"run"``, ``"script"`` (marimo's
    own names), ``"export"`` (an ``edit`` kernel started by ``marimo export``), or ``None``
    outside marimo."""
    if "marimo" not in sys.modules:
        return None
    try:
        from marimo._runtime.context.utils import get_mode
    except ImportError:
        return None
    found = get_mode()
    if found in (None, "test"):
        return None
    if found == "edit" and _started_by_export():
        return "export"
    return str(found)


@functools.lru_cache(maxsize=1)
def _started_by_export() -> bool:
    """Whether this process, or the one that started it, is ``marimo export ...``.

    An export runs the notebook in an ``edit`` kernel of its own (a child process) with
    nothing in the kernel that says so: the command line of the process tree does."""
    pids = [os.getpid(), os.getppid()]
    return any(_is_export_command(_command_line(pid)) for pid in pids)


def _command_line(pid: int) -> list[str]:
    """A process's arguments as it was started (not ``sys.argv``: marimo rewrites it)."""
    with contextlib.suppress(Exception):
        import psutil  # (a dependency of marimo)

        return [str(arg) for arg in psutil.Process(pid).cmdline()]
    with contextlib.suppress(OSError):
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]
    return []


def _is_export_command(args: list[str]) -> bool:
    """``marimo export ...`` or ``python -m marimo export ...``."""
    for i, arg in enumerate(args[:-1]):
        name = Path(arg).name
        if (name == "marimo" or name.startswith("marimo.")) and args[i + 1] == "export":
            return True
    return False


def exporting() -> bool:
    """Whether a marimo export is running this notebook (outputs are recorded once, when the
    cells return: a stream must have ended by then)."""
    return mode() == "export"


def watch_cell(widget: Any) -> None:
    """In a marimo cell: stop ``widget``'s stream when marimo disposes of the cell (it runs
    again: ``"rerun"``; it is deleted: ``"closed"``). Does nothing elsewhere."""
    if mode() is None:
        return
    try:
        from marimo._runtime.cell_lifecycle_item import CellLifecycleItem
        from marimo._runtime.context import get_context
    except ImportError:
        return

    class StopWithCell(CellLifecycleItem):
        def create(self, context: Any) -> None:
            del context

        def dispose(self, context: Any, deletion: bool) -> bool:
            del context
            settings = _session.settings()
            controller = getattr(widget, "_controller", None)
            if controller is not None:
                if not deletion and settings.stop_on_rerun:
                    controller.stop("rerun")
                elif deletion and settings.stop_on_close:
                    controller.stop("closed")
            return True

    with contextlib.suppress(Exception):  # no cell running (a thread, an import): nothing
        get_context().cell_lifecycle_registry.add(StopWithCell())


def before_display(widget: _Shown) -> None:
    """A front-end is about to show ``widget``: while marimo exports, wait for its end, so
    the state it records is the finished answer's."""
    if exporting():
        widget.wait()


def display(widget: _Shown) -> Any:
    """What marimo shows for ``widget`` (its ``_display_`` protocol): the live widget, or,
    while marimo exports, the static copy of the finished answer (after waiting for it)."""
    import marimo as mo

    if exporting():
        widget.wait()
        return mo.Html(widget._static_bundle()[0]["text/html"])
    return mo.ui.anywidget(cast(Any, widget))
