"""Commit inside the open block: table rows, list items, paragraph pieces, lines of code and
a quote's blocks, once each.

The incremental renderer commits whole top-level blocks; the last one stays open and is parsed
again every frame. When that block is huge (a 2,000-row table, a 3,000-item list, one 100 KB
paragraph) the frame costs grow with it. An :class:`OpenBlock` keeps the open block's container
(its opening and closing HTML: ``<table>…<tbody>\\n`` / ``</tbody>\\n</table>\\n``, ``<ul>\\n`` /
``</ul>\\n``, ``<p>`` / ``</p>\\n``) and the HTML of its *committed children*, and parses each
frame only a small **virtual text** standing for the rest:

- a table: its header and delimiter lines followed by the rows not committed yet (a row
  depends on its own line and the header only; a complete row line is final);
- a list: the last committed item followed by the rest (so that a blank line after it, which
  makes the whole list loose, is seen: the committed item then renders differently, and the
  block is reset); an item is final once the next item starts;
- a paragraph: ``"a "`` followed by the text after the last cut (the ``"a "`` keeps a first
  line such as ``- x`` or ``# x`` a paragraph line, as it is in the real text). A cut is made
  after a single space between two non-space characters of a line, where the piece before it
  parses to text holding no markup character that a later one could still pair with;
- a fenced code block (``_inner_code.py``): its opening line followed by the code not
  committed yet; complete lines of highlighted HTML are committed where the lexer is back in
  its root state;
- a block quote (``_inner_quote.py``): its lines from the first child block not committed
  yet; a child is final once the next one starts.

Raw HTML is escaped (``html=False``), so the rendered HTML's tags are the renderer's own and
splitting it on ``<li``/``</li>`` with depth counting is exact. Any disagreement (the
container renders differently, the anchor item changed, a committed line may become a table
header or a heading underline) drops the open block: the caller renders the whole tail as
before and starts a new one (a *reset*, announced to the page). When the block ends (another
block follows), the caller commits it whole as a top-level block, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ._heal import heal
from ._text import append_in_place

FinalLines = Callable[[str], int]
"""How many of a text's first lines hold only final blocks (the renderer's rule)."""


@dataclass(frozen=True, slots=True)
class InnerLimits:
    """When a block is committed inside (sizes in characters of its source)."""

    block: int = 2048
    """A block opens once the tail is this long: a smaller one costs little to parse again,
    less than opening it (the reference workload's small lists and tables)."""
    paragraph: int = 384
    """A paragraph is committed in pieces of at least half this many characters (a frame
    parses up to about this much of it again)."""
    items: int = 2
    """A list opens once this many of its items are there (one of them final)."""
    code: int = 200
    """A fenced code block's lines are committed once this much of its code is not (each
    commit highlights that much again, twice)."""


@dataclass(slots=True)
class InnerUpdate:
    """The open block after one frame."""

    open: str
    """The container's opening HTML."""
    close: str
    """The container's closing HTML."""
    started: bool
    """A new open block: ``children`` then holds all its committed children."""
    children: list[str] = field(default_factory=list)
    """The HTML of the children committed by this frame."""
    tail: str = ""
    """The HTML of the open children (inside the container, after the committed ones)."""
    after: str = ""
    """The HTML of what the tail holds after the block (the start of the next one)."""


@dataclass(slots=True)
class Ended:
    """The open block ended: its whole HTML (its container, committed children and the
    rest), and the length of its source in the tail (a top-level block to commit)."""

    html: str
    length: int


def block_starts(tokens: list[Token]) -> list[int]:
    return [i for i, t in enumerate(tokens) if t.level == 0 and t.nesting >= 0 and t.map]


def scratch(env: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``env`` to parse with: its own ``references`` (a parse adds the definitions it
    finds to them, and a definition a stand-in parse saw must not pass for a known one)."""
    return {**env, "references": dict(env.get("references", {}))}


def line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


_LOOSE_MARKUP = re.compile(r"[*_~]+")
_PAIRING = frozenset("`[\\$")


def inert(text: str) -> bool:
    """Whether ``text`` (a text token of a piece's inline parse) holds no markup character a
    later piece could pair with: no backtick, ``[``, backslash or ``$``; a run of ``*``, ``_``
    or ``~`` only with spaces on both sides (it can neither open nor close), an ``_`` run
    inside a word, or a single ``~`` (strikethrough needs two)."""
    if any(c in _PAIRING for c in text):
        return False
    for match in _LOOSE_MARKUP.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        run = match.group()
        if before.isspace() and after.isspace():
            continue
        if run == "~" or (run.strip("_") == "" and before.isalnum() and after.isalnum()):
            continue
        return False
    return True


class OpenBlock:
    """The open block of a tail, committed inside (see the module). Subclasses: one per kind."""

    def __init__(self, md: MarkdownIt, limits: InnerLimits, final_lines: FinalLines) -> None:
        self._md = md
        self._limits = limits
        self._final_lines = final_lines
        self.open = ""
        self.close = ""
        self.consumed = 0  # where the source not committed yet starts, in the tail
        self.committed = ""  # the committed children's HTML, joined
        self.ended = False  # the block ended (not changed): it is committed whole next
        self._last = InnerUpdate("", "", False)

    def frame(self, tail: str, env: dict[str, Any],
              display_env: dict[str, Any]) -> InnerUpdate | Ended | None:
        """Commit what became final and render the rest. :class:`Ended` when another block
        follows (or a blank line closed it); ``None`` when the block changed, or ended in a
        way only a whole parse settles (:attr:`ended`): the caller renders the whole tail."""
        virtual = self._virtual(tail)
        lines = self._final_lines(virtual)
        if lines:
            self.ended = True
            return self._end(virtual, lines, env)
        complete = virtual[: virtual.rfind("\n") + 1]
        children = self._commit(tail, virtual, complete, env)
        if children is None:
            return None
        for html in children:
            append_in_place(self, "committed", html)
        shown = self._display(self._virtual(tail) if children else virtual, display_env)
        if shown is None:
            return None
        self._last = InnerUpdate(self.open, self.close, False, children, *shown)
        return self._last

    def _end(self, virtual: str, lines: int, env: dict[str, Any]) -> Ended | None:
        """The block as a whole, from the virtual text's first ``lines`` (the block, perhaps
        blocks after it): committed up to where the next block starts."""
        md = self._md
        tokens = md.parse(virtual[: line_offset(virtual, lines)], scratch(env))
        starts = block_starts(tokens)
        if not starts or starts[0] != 0:
            return None
        end = starts[1] if len(starts) > 1 else len(tokens)
        inner = self._inner(md.renderer.render(tokens[:end], md.options, dict(env)))
        if inner is None:
            return None
        line = tokens[end].map[0] if end < len(tokens) else lines  # type: ignore[index]
        length = self._real(line_offset(virtual, line))
        return Ended(self.open + self.committed + inner + self.close, length)

    def html(self) -> str:
        """The block as the page shows it (with what follows it in the tail)."""
        last = self._last
        return self.open + self.committed + last.tail + self.close + last.after

    def settle(self, tail: str, env: dict[str, Any]) -> InnerUpdate | None:
        """The end of the stream: the rest of the block and what follows it, unhealed, from
        the virtual text (one parse of the uncommitted text, as the whole tail's would give
        them); ``None`` should the block have changed."""
        if self._changed(tail):
            return None
        md = self._md
        tokens = md.parse(self._virtual(tail), env)
        starts = block_starts(tokens)
        if not starts or starts[0] != 0:
            return None
        end = starts[1] if len(starts) > 1 else len(tokens)
        inner = self._inner(md.renderer.render(tokens[:end], md.options, env))
        if inner is None:
            return None
        after = md.renderer.render(tokens[end:], md.options, env) if end < len(tokens) else ""
        self._last = InnerUpdate(self.open, self.close, False, [], inner, after)
        return self._last

    # --- per kind ------------------------------------------------------------------------

    def _begin(self, tail: str, env: dict[str, Any]) -> bool:
        raise NotImplementedError

    def _changed(self, tail: str) -> bool:
        """Whether the committed children may have become something else (a paragraph's
        line a table header or heading)."""
        return False

    def _virtual(self, tail: str) -> str:
        raise NotImplementedError

    def _real(self, offset: int) -> int:
        """The tail offset of the virtual text's ``offset`` (in the uncommitted source)."""
        raise NotImplementedError

    def _commit(self, tail: str, virtual: str, complete: str,
                env: dict[str, Any]) -> list[str] | None:
        """The children that became final (advancing :attr:`consumed`); ``None``: changed."""
        raise NotImplementedError

    def _inner(self, html: str) -> str | None:
        """The open children's HTML in a rendering of the virtual text's first block."""
        raise NotImplementedError

    def _display(self, virtual: str, env: dict[str, Any]) -> tuple[str, str] | None:
        """``(open children, after)`` HTML, healed (unhealed should healing change the
        container), or ``None``."""
        md = self._md
        for source in (heal(virtual), virtual):
            tokens = md.parse(source, scratch(env))
            starts = block_starts(tokens)
            if not starts:
                continue
            end = starts[1] if len(starts) > 1 else len(tokens)
            inner = self._inner(md.renderer.render(tokens[:end], md.options, env))
            if inner is not None:
                after = md.renderer.render(tokens[end:], md.options, env) if end < len(tokens) \
                    else ""
                return inner, after
        return None

    def _render(self, tokens: list[Token], env: dict[str, Any]) -> str:
        return self._md.renderer.render(tokens, self._md.options, env)
