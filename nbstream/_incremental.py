"""Render a growing markdown text in linear total time: stable blocks plus an open tail.

A top-level block followed by the start of another block is final: it is rendered once,
appended to :attr:`IncrementalRenderer.blocks`, and never rendered again. Only the open tail
(the last top-level block) is parsed and rendered again on each update, from its start
offset, so the cost of an update does not grow with the length of the answer.

Invariant (tested): ``"".join(blocks) + raw_tail_html == render(text_so_far)`` whenever the
text contains no reference-style link definition used before it is defined; the final
:meth:`IncrementalRenderer.finish` is a whole-text render that settles those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ._heal import heal
from ._markdown import OPEN_FENCE_KEY, make_markdown, open_fence_cache
from ._text import append_in_place


@dataclass(slots=True)
class RenderUpdate:
    """What changed in one :meth:`IncrementalRenderer.update`."""

    appended: list[str] = field(default_factory=list)
    """HTML of blocks committed by this update, in order."""
    tail: str = ""
    """The healed HTML of the open tail, replacing the previous one."""
    reset: bool = False
    """The text was not an extension of the previous one: all blocks were re-rendered."""


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


class IncrementalRenderer:
    """Incremental markdown rendering of one part's growing text.

    Feed it with :meth:`append` (cheap) or :meth:`replace`, and call :meth:`render` when the
    page should be updated (on the frame clock): the cost of a render is that of the open
    tail, whatever the length of the text and however many chunks arrived since.
    """

    def __init__(self, md: MarkdownIt | None = None) -> None:
        self._md = md or make_markdown()
        self._fences = open_fence_cache()
        self._reset_state()

    def _reset_state(self) -> None:
        self._text = ""
        self._offset = 0
        self._references: dict[str, Any] = {}
        self._reset_pending = False
        self.blocks: list[str] = []
        self.tail_html = ""

    @property
    def text(self) -> str:
        """The text fed so far."""
        return self._text

    def append(self, delta: str) -> None:
        """Add streamed text (linear time over a whole stream)."""
        append_in_place(self, "_text", delta)

    def replace(self, text: str) -> None:
        """Set the whole text; an extension of the current text stays incremental."""
        if text.startswith(self._text):
            self.append(text[len(self._text) :])
            return
        self._reset_state()
        self._text = text
        self._reset_pending = True

    def update(self, text: str) -> RenderUpdate:
        """``replace(text)`` then :meth:`render`."""
        self.replace(text)
        return self.render()

    def render(self) -> RenderUpdate:
        """Commit the blocks that became final and render the open tail (healed)."""
        result = RenderUpdate(reset=self._reset_pending)
        self._reset_pending = False
        tail = self._text[self._offset :]
        healed = heal(tail)
        env = self._env()
        tokens = self._md.parse(healed, env)
        starts = [i for i, t in enumerate(tokens) if t.level == 0 and t.nesting >= 0 and t.map]
        if len(starts) >= 2:
            # Healing only touches the last line, so the lines before are the raw ones.
            last = starts[-1]
            cut = _line_offset(tail, tokens[last].map[0])  # type: ignore[index]
            self._commit(tail[:cut], tokens[:last], result)
            self._offset += cut
            tokens = tokens[last:]
        env[OPEN_FENCE_KEY] = self._fences
        self.tail_html = self._render(tokens, env)
        result.tail = self.tail_html
        return result

    def _env(self) -> dict[str, Any]:
        return {"references": dict(self._references)}

    def _commit(self, source: str, tokens: list[Token], result: RenderUpdate) -> None:
        env = self._env()
        self._md.block.parse(source, self._md, env, [])
        html = self._render(tokens, env)
        self._references = env.get("references", {})
        self.blocks.append(html)
        result.appended.append(html)

    def _render(self, tokens: list[Token], env: dict[str, Any]) -> str:
        return self._md.renderer.render(tokens, self._md.options, env)

    @property
    def raw_tail_html(self) -> str:
        """The open tail rendered without healing."""
        env = self._env()
        return self._render(self._md.parse(self._text[self._offset :], env), env)

    @property
    def html(self) -> str:
        """Committed blocks followed by the unhealed tail (equals a whole render, see module)."""
        return "".join(self.blocks) + self.raw_tail_html

    def finish(self) -> str:
        """The whole text rendered once more; settles reference-style link definitions."""
        return self._md.render(self._text)
