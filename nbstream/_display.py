"""The outputs that show a widget: its live view while it streams, its static copy after.

A stream widget and a grid are displayed the same way. While live, a display holds the widget
view (and ``text/plain``); when the stream (or every pane of the grid) has ended, every display
is updated to the static copy only, and a display made after the end shows that copy. A re-run
makes the displays live again, and the next end static again: the handles are kept for that.

The static copy is what a saved notebook holds, so it never holds a widget view whose model is
gone (JupyterLab and Notebook 7 show those as "Error displaying widget: model not found" after
a restart, and nbconvert prefers them to ``text/html``). A watching page keeps its live widget:
its view, removed by the update, moves its DOM into the copy's place (``park`` in the page).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

import anywidget

from . import _session
from ._runtime import runtime

Bundle = tuple[dict[str, Any], dict[str, Any]]
"""A display's ``(data, metadata)``."""


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


def live_bundle(widget: Any) -> Bundle:
    """A widget's live display: its widget view (anywidget's bundle without its
    ``text/html`` fallback) and its repr as ``text/plain``; no static copy, it is not over."""
    data, metadata = anywidget.AnyWidget._repr_mimebundle_(widget) or ({}, {})
    data = {k: v for k, v in dict(data).items() if k != "text/html"}
    data["text/plain"] = repr(widget)
    return data, dict(metadata)


class Displays:
    """The displays of one widget, live or static (see the module docstring)."""

    def __init__(self, live: Callable[[], Bundle], static: Callable[[], Bundle]) -> None:
        self._live = live
        self._make_static = static
        self._lock = threading.Lock()
        self._handles: list[Any] = []
        self._static: Bundle | None = None

    @property
    def current(self) -> Bundle:
        """What a display made now shows: the static copy once ended, else the live view."""
        with self._lock:
            static = self._static
        return static if static is not None else self._live()

    def show(self) -> None:
        """Display the widget in the current output (``_ipython_display_``)."""
        from IPython.display import display

        live = self._live()
        runtime().charge(1)  # a display is an IOPub message of nbstream's too
        with self._lock:
            bundle = self._static if self._static is not None else live
            if _session.running_kernel() is None:
                # A terminal (IPython without a kernel) prints a display at once: there is no
                # output to update later, and an update would print again in a later cell.
                display(bundle[0], metadata=bundle[1], raw=True)
                return
            handle = display(bundle[0], metadata=bundle[1], raw=True, display_id=True)
            if handle is not None:
                self._handles.append(handle)

    def ended(self) -> int:
        """Every display shows the static copy from now on; returns how many were updated."""
        static = self._make_static()
        with self._lock:
            self._static = static
            handles = list(self._handles)
        return self._update(handles, static)

    def live_again(self) -> int:
        """A re-run: every display shows the live view again; returns how many."""
        live = self._live()
        with self._lock:
            was_static, self._static = self._static is not None, None
            handles = list(self._handles) if was_static else []
        runtime().charge(len(handles))  # (outside the clock, which counts the others)
        return self._update(handles, live)

    @staticmethod
    def _update(handles: list[Any], bundle: Bundle) -> int:
        if not handles:
            return 0
        data, metadata = bundle
        # In an empty context the display goes out under the request being handled now (a
        # thread otherwise keeps the cell that started it): nbclient records output only for
        # the cell it is executing, and matches the display id across cells.
        contextvars.Context().run(_publish_as_current_request, handles, data, metadata)
        return len(handles)
