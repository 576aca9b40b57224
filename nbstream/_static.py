"""The static copy of a finished answer: what a saved notebook, nbconvert and GitHub show.

Our own escaped rendering, no widget view and no script. Deliberately no ``text/markdown``:
nbconvert renders that with raw HTML passed through, so model output could run script in an
export. A cut answer says what ended it; one hidden by moderation stays hidden.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from ._reasons import describe_stop

_HEADING = re.compile(r"<h([1-6])>")


def static_html(html: str) -> str:
    """The answer's HTML as the static copy holds it: headings marked ``tocSkip``.

    JupyterLab's and Notebook 7's table of contents list the headings of ``text/html``
    outputs and insert a numbering ``<span>`` into each of them, in the page: into the live
    widget too once it has moved into the copy's place, re-shaping committed blocks under the
    reader's selection. A model's answer is not the notebook's outline either (the live widget's
    headings are never listed), so the copy's headings stay out of it."""
    return _HEADING.sub(r'<h\1 class="tocSkip">', html)


# The copy is typeset already (MathML, made in the kernel): the host's MathJax must leave it
# alone, or it reads the `$` of prices as TeX (JupyterLab / Notebook 7 and nbconvert's HTML:
# MathJax 3's `mathjax_ignore`, the `tex2jax_ignore` of their configurations and MathJax 2).
NOT_TYPESET = "mathjax_ignore tex2jax_ignore"


def static_copy(key: str, status: str, html: str, *, title: str = "",
                hidden: str | None = None, error: str | None = None,
                metrics: dict[str, Any] | None = None) -> str:
    """The ``text/html`` of the copy: ``<div class="nbstream-static" data-nbstream-key=...>``
    (the page's live widget moves into its place), the answer, and what ended a cut one."""
    key = html_lib.escape(key, quote=True)
    quoted = html_lib.escape(status, quote=True)
    head = (f'<p class="nbstream-static-title"><strong>{html_lib.escape(title)}</strong></p>'
            if title else "")
    return (f'<div class="nbstream-static {NOT_TYPESET}" data-nbstream-key="{key}" '
            f'data-status="{quoted}">'
            f"{head}{_answer(html, hidden)}{_note(status, error, metrics or {})}</div>")


def _answer(html: str, hidden: str | None) -> str:
    """The answer's HTML; one hidden by moderation is kept behind a closed ``<details>``
    ("Hidden by moderation — show"): no script, so nbconvert's export hides it too."""
    answer = static_html(html)
    if not hidden:
        return answer
    said = html_lib.escape(f"Hidden by {hidden} — show")
    return (f'<details class="nbstream-hidden" data-hidden="{html_lib.escape(hidden)}">'
            f"<summary>{said}</summary>{answer}</details>")


def _note(status: str, error: str | None, metrics: dict[str, Any]) -> str:
    """For an answer that did not complete, what ended it (the partial text stays above it):
    a saved notebook must not pass a cut answer off as a whole one."""
    if status == "error":
        text = f"Error: {error}" if error else "Error"
    elif status == "stopped":
        said = describe_stop(metrics.get("stop_reason"), metrics.get("stopped_after_s"))
        text = f"{said}, before the answer was complete."
        if metrics.get("stop_reason") == "moderation":  # (the answer may be whole: hidden)
            detail = metrics.get("stop_detail")
            text = f"{said}{f' ({detail})' if detail else ''}: the answer is hidden."
    else:
        return ""
    return f'<p class="nbstream-static-note" role="note"><em>{html_lib.escape(text)}</em></p>'
