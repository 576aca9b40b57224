"""A word-level diff of two answers (``g.diff(i, j)`` and the page's "Diff").

Words keep the whitespace that follows them, so joining the ``"="`` and ``"-"`` pieces gives
the first text back exactly, and ``"="`` and ``"+"`` the second.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_WORD = re.compile(r"\s+|\S+\s*")
MAX_WORDS = 50_000
"""Longer answers are compared by lines (a word diff of huge texts takes too long)."""


@dataclass(frozen=True, repr=False)
class Diff:
    """The pieces of a diff, in order: ``("=", same)``, ``("-", only in a)``, ``("+", only
    in b)``."""

    a: str
    b: str
    ops: list[tuple[str, str]]

    @property
    def ratio(self) -> float:
        """How alike the texts are, from 0 to 1 (by the length of the common pieces)."""
        same = sum(len(text) for op, text in self.ops if op == "=")
        total = len(self.a) + len(self.b)
        return 1.0 if total == 0 else 2 * same / total

    def __repr__(self) -> str:
        removed = sum(len(t.split()) for op, t in self.ops if op == "-")
        added = sum(len(t.split()) for op, t in self.ops if op == "+")
        return f"<Diff {self.ratio:.0%} alike: {removed} words removed, {added} added>"

    def __str__(self) -> str:
        """The diff as text: ``[-removed-]{+added+}``, as ``git diff --word-diff`` writes it."""
        marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
        return "".join(marks[op].format(text) for op, text in self.ops)

    def _repr_html_(self) -> str:
        import html

        tags = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
        body = "".join(tags[op].format(html.escape(text)) for op, text in self.ops)
        return f'<pre class="nbstream-diff" style="white-space:pre-wrap">{body}</pre>'


def word_diff(a: str, b: str) -> Diff:
    """The word-level diff of ``a`` and ``b``."""
    left, right = _WORD.findall(a), _WORD.findall(b)
    if len(left) + len(right) > MAX_WORDS:
        left, right = a.splitlines(keepends=True), b.splitlines(keepends=True)
    ops: list[tuple[str, str]] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if ops and ops[-1][0] == op:
            ops[-1] = (op, ops[-1][1] + text)
        else:
            ops.append((op, text))

    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("=", "".join(left[i1:i2]))
        else:
            add("-", "".join(left[i1:i2]))
            add("+", "".join(right[j1:j2]))
    return Diff(a, b, ops)
