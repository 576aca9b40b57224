"""A long block quote as an open block (see ``_inner.py``): its children are the blocks it
holds (paragraphs, lists, code, headings, quotes), each committed once.

The container is ``<blockquote>\\n`` / ``</blockquote>\\n``. The virtual text is the quote's
source from the line where its first uncommitted child starts: that line begins with the
quote's marker, so it is the same quote, holding the children not committed yet. A child is
final once the next one starts on a complete line (as a top-level block is, in the
renderer), except that

- a child whose source holds ``$$``, ``\\[`` or ``\\begin`` may become a formula taking the
  children after it along: nothing from it on is committed (until the quote ends);
- a reference definition in the quote ends the commits inside it (later links depend on it):
  the quote is committed whole when it ends.

Each commit renders the children of a parse of the virtual text one by one, and checks that
together they are the quote's inner HTML.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it.token import Token

from ._inner import OpenBlock, line_offset, scratch
from ._markdown import block_parser

_MATH_SOURCE = re.compile(r"\$\$|\\\[|\\begin")
_OPEN, _CLOSE = "<blockquote>\n", "</blockquote>\n"


def _children(tokens: list[Token]) -> tuple[list[int], int] | None:
    """The indices of the first block's children (a block quote's), and of its closing
    token; ``None`` when the first block is not a block quote."""
    if not tokens or tokens[0].type != "blockquote_open":
        return None
    children: list[int] = []
    for i, token in enumerate(tokens):
        if token.level == 0 and token.type == "blockquote_close":
            return children, i
        if token.level == 1 and token.nesting >= 0 and token.map:
            children.append(i)
    return None


def _final_child(virtual: str, maps: list[list[int]]) -> int:
    """How many of the children (their line ranges in ``virtual``) are final: all but the
    last, and none from one whose source holds a formula opener on."""
    for i in range(len(maps) - 1):
        source = virtual[line_offset(virtual, maps[i][0]) : line_offset(virtual, maps[i + 1][0])]
        if _MATH_SOURCE.search(source):
            return i
    return max(0, len(maps) - 1)


class Quote(OpenBlock):
    """A block quote: the children are its blocks."""

    def _begin(self, tail: str, env: dict[str, Any]) -> bool:
        complete = tail[: tail.rfind("\n") + 1]
        parsed_env = scratch(env)  # (kept unchanged)
        found = _children(self._md.parse(complete, parsed_env))
        if found is None or len(found[0]) < 2:
            return False
        self.open, self.close = _OPEN, _CLOSE
        return True

    def _virtual(self, tail: str) -> str:
        return tail[self.consumed :]

    def _real(self, offset: int) -> int:
        return self.consumed + offset

    def _commit(self, tail: str, virtual: str, complete: str,
                env: dict[str, Any]) -> list[str] | None:
        parsed_env = scratch(env)
        blocks = block_parser().parse(complete, parsed_env)  # (inline parsing when it commits)
        if len(parsed_env["references"]) != len(env.get("references", {})):
            self.ended = True  # a definition in the quote: later links depend on it
            return None
        found = _children(blocks)
        if found is None:
            return None
        final = _final_child(virtual, [blocks[i].map for i in found[0]])  # type: ignore[misc]
        if final <= 0:
            return []
        tokens = self._md.parse(complete, dict(env))
        found = _children(tokens)
        if found is None or len(found[0]) <= final:
            return None
        children, close = found
        bounds = [*children, close]
        pieces = [self._render(tokens[bounds[i] : bounds[i + 1]], dict(env))
                  for i in range(len(children))]
        if self._inner(self._render(tokens[: close + 1], dict(env))) != "".join(pieces):
            return None
        self.consumed = self._real(line_offset(virtual, tokens[children[final]].map[0]))  # type: ignore[index]
        return ["".join(pieces[:final])]

    def _inner(self, html: str) -> str | None:
        if html.startswith(_OPEN) and html.endswith(_CLOSE) and len(html) >= len(_OPEN + _CLOSE):
            return html[len(_OPEN) : len(html) - len(_CLOSE)]
        return None
