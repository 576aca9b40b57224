"""The static copy of a finished grid: its summary table and every pane's answer.

What a saved notebook, nbconvert and GitHub show of a grid: escaped text and our own rendered
answers, no script; the page's live grid moves into its place (``data-nbstream-key``).
"""

from __future__ import annotations

import html as html_lib
from typing import Any

from ._reasons import describe_stop
from ._static import NOT_TYPESET

NONE = "\N{EN DASH}"
"""What an empty cell says."""

COLUMNS = ("Pane", "Status", "TTFT", "Tokens/s", "Output tokens", "Duration",
           "Finish / stop", "Est. cost")


def _number(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return NONE
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def summary_row(result: dict[str, Any]) -> list[str]:
    """One pane's row of the summary table, as text."""
    m = result["metrics"]
    status = result["status"]
    if status == "stopped":
        ending = describe_stop(result["stop_reason"], m.get("stopped_after_s"))
    elif status == "error":
        ending = f"Error: {result.get('error') or ''}".strip().rstrip(":")
    else:
        ending = str(m.get("finish_reason") or "")
    cost = m.get("cost_usd")
    said_cost = NONE if cost is None else f"{'≈' if m.get('cost_estimated') else ''}${cost:.4f}"
    tokens = m.get("output_tokens")
    said_tokens = NONE if tokens is None else \
        f"{'≈' if m.get('output_tokens_estimated') else ''}{tokens}"
    return [result["label"], status, _number(m.get("ttft_s"), " s"),
            _number(m.get("tokens_per_s"), "", 1), said_tokens,
            _number(m.get("duration_s"), " s"), ending, said_cost]


def grid_static_copy(key: str, status: str, title: str, results: list[dict[str, Any]],
                     panes: list[str]) -> str:
    """The ``text/html`` of a grid's copy: the summary table, then each pane's copy."""
    esc = html_lib.escape
    head = f'<p class="nbstream-static-title"><strong>{esc(title)}</strong></p>' if title else ""
    heads = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in summary_row(r))
                   + "</tr>" for r in results)
    table = (f'<table class="nbstream-summary"><thead><tr>{heads}</tr></thead>'
             f"<tbody>{rows}</tbody></table>")
    body = "".join(f'<div class="nbstream-grid-pane">{pane}</div>' for pane in panes)
    return (f'<div class="nbstream-static nbstream-grid-static {NOT_TYPESET}" '
            f'data-nbstream-key="{esc(key, quote=True)}" data-status="{esc(status, quote=True)}">'
            f'{head}{table}<div class="nbstream-grid-panes">{body}</div></div>')
