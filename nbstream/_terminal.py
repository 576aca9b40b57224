"""Answers in a terminal: where no widget front-end is attached (a script, IPython in a
terminal), displaying or printing a stream shows it as it arrives.

- On a terminal: rich's ``Live`` renders the markdown as it grows (a few times a second),
  then the final render and a status line stay on screen.
- When output is not a terminal (piped to a file or another program): the text is written as
  it arrives, exactly, then a status line on a line of its own when the answer did not
  complete (so ``python script.py > out.txt`` keeps the answer).
- Ctrl-C while it shows stops the generation (``stop_reason == "interrupt"``, the connection
  closes) and the partial answer stays.

Nothing is written from a background thread: it all happens in the caller's, while it waits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

from ._reasons import describe_stop

REFRESH = 0.1
"""Seconds between two looks at the answer while it streams (rich's refresh rate too)."""
STOP_WAIT = 5.0
"""Seconds to wait, after Ctrl-C, for the stopped answer to end."""


class Shown(Protocol):
    """What a terminal shows of a stream (a ``StreamWidget``)."""

    status: str

    @property
    def text(self) -> str: ...

    @property
    def metrics(self) -> dict[str, Any]: ...

    @property
    def error(self) -> str | None: ...

    def wait(self, timeout: float | None = None) -> bool: ...

    def _interrupt(self) -> None: ...


def in_a_terminal() -> bool:
    """Whether no widget front-end shows our widgets: no Jupyter kernel, no marimo."""
    from ._session import running_kernel

    if running_kernel() is not None:
        return False
    marimo = sys.modules.get("marimo")
    running = getattr(marimo, "running_in_notebook", None)
    return not (callable(running) and running())


def ending(widget: Shown) -> str:
    """The status line of an ended answer: ``done · 205 tokens · 3.5 s`` or why it stopped."""
    m = widget.metrics
    if widget.status == "stopped":
        return f"{describe_stop(m.get('stop_reason'), m.get('stopped_after_s'))} (the answer " \
               "is incomplete)"
    if widget.status == "error":
        return f"Error: {widget.error or 'the stream failed'}"
    said = [widget.status]
    if m.get("output_tokens") is not None:
        said.append(f"{'~' if m.get('output_tokens_estimated') else ''}"
                    f"{m['output_tokens']} tokens")
    if m.get("duration_s") is not None:
        said.append(f"{m['duration_s']:.1f} s")
    return " · ".join(said)


def _until_ended(widget: Shown, tick: Callable[[], None]) -> bool:
    """Call ``tick`` until the answer ends; Ctrl-C stops it. Returns whether it was
    interrupted."""
    try:
        while not widget.wait(REFRESH):
            tick()
        return False
    except KeyboardInterrupt:
        widget._interrupt()
        widget.wait(STOP_WAIT)
        return True
    finally:
        tick()


def show(widget: Shown, *, file: Any = None, transient: bool = False) -> bool:
    """Show ``widget``'s answer as it arrives until it ends (see the module docstring);
    returns whether Ctrl-C stopped it. ``transient``: on a terminal, leave nothing on screen
    (``print(w)`` then prints the text itself)."""
    out = file if file is not None else sys.stdout
    if getattr(out, "isatty", lambda: False)():
        return _show_live(widget, out, transient)
    if transient:  # not a terminal: print(w) writes the text, nothing to show meanwhile
        return _until_ended(widget, lambda: None)
    return _show_plain(widget, out)


def _show_plain(widget: Shown, out: Any) -> bool:
    written = 0

    def tick() -> None:
        nonlocal written
        text = widget.text
        if len(text) > written:
            out.write(text[written:])
            out.flush()
            written = len(text)

    interrupted = _until_ended(widget, tick)
    if widget.text and not widget.text.endswith("\n"):
        out.write("\n")
    if widget.status != "done":
        out.write(f"[{ending(widget)}]\n")
    out.flush()
    return interrupted


def _show_live(widget: Shown, out: Any, transient: bool) -> bool:
    from rich.console import Console, Group
    from rich.live import Live
    from rich.markdown import Markdown
    from rich.text import Text

    console = Console(file=out)

    def view() -> Any:
        status = widget.status
        said = "streaming…" if status in ("pending", "streaming") else ending(widget)
        style = {"error": "red", "stopped": "yellow"}.get(status, "dim")
        return Group(Markdown(widget.text), Text(said, style=style))

    with Live(view(), console=console, refresh_per_second=1 / REFRESH, transient=transient,
              vertical_overflow="visible") as live:
        return _until_ended(widget, lambda: live.update(view()))


def show_grid(panes: list[Any], labels: list[str], *, file: Any = None) -> bool:
    """Show a grid in a terminal: a live table of the panes while they stream (on a
    terminal), then each pane's answer under its label. Returns whether Ctrl-C stopped it."""
    out = file if file is not None else sys.stdout
    interrupted = wait_for_grid(panes, labels, file=out)
    out.write(grid_text(panes, labels))
    out.flush()
    return interrupted


def wait_for_grid(panes: list[Any], labels: list[str], *, file: Any = None) -> bool:
    """Wait for every pane to end, with a live table of them on a terminal (left off the
    screen at the end); Ctrl-C stops them all. Returns whether it did."""
    out = file if file is not None else sys.stdout
    for pane in panes:  # waiting on each in turn ends once all have ended
        if getattr(out, "isatty", lambda: False)():
            interrupted = _live_table(pane, panes, labels, out)
        else:
            interrupted = _until_ended(pane, lambda: None)
        if interrupted:
            for other in panes:
                other._interrupt()
            for other in panes:
                other.wait(STOP_WAIT)
            return True
    return False


def grid_text(panes: list[Any], labels: list[str]) -> str:
    """Each pane's answer under its label, and how it ended."""
    blocks = []
    for pane, label in zip(panes, labels, strict=True):
        text = pane.text
        blocks.append(f"── {label} ──\n{text}{'' if text.endswith(chr(10)) else chr(10)}"
                      f"[{ending(pane)}]\n")
    return "\n".join(blocks)


def _live_table(waited: Shown, panes: list[Any], labels: list[str], out: Any) -> bool:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    def view() -> Table:
        table = Table("pane", "status", "tokens", "seconds")
        for pane, label in zip(panes, labels, strict=True):
            m = pane.metrics
            table.add_row(label, pane.status, str(m.get("output_tokens") or ""),
                          f"{m.get('duration_s') or 0:.1f}")
        return table

    with Live(view(), console=Console(file=out), refresh_per_second=1 / REFRESH,
              transient=True) as live:
        return _until_ended(waited, lambda: live.update(view()))
