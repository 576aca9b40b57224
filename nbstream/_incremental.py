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

import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ._heal import MATH_OPENER, closed_math, heal, math_closer, open_environment
from ._inner import Ended, InnerLimits, InnerUpdate, OpenBlock
from ._inner_blocks import open_block
from ._markdown import (
    OPEN_FENCE_KEY,
    OPEN_MATH,
    block_parser,
    open_fence_cache,
    shared_markdown,
)
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
    inner: InnerUpdate | None = None
    """The tail's open block, committed inside (``_inner.py``): :meth:`IncrementalRenderer.
    render` then gives as ``tail`` its open children only; :meth:`~IncrementalRenderer.settle`
    the whole tail, and here its split, should it agree with the open block."""


def _block_starts(tokens: list[Token]) -> list[int]:
    """Indices of the tokens that open a top-level block."""
    return [i for i, t in enumerate(tokens) if t.level == 0 and t.nesting >= 0 and t.map]


def _opens_math(source: str, token: Token) -> bool:
    """Whether a block holds a display math opener not closed on its line: ``$$`` or ``\\[``
    on its first line, or an amsmath environment (``\\begin{align}``) on any line, since that
    one may interrupt a paragraph."""
    if not token.map or token.type in _VERBATIM:  # a closed formula, code: final as they are
        return False
    start = _line_offset(source, token.map[0])
    end = source.find("\n", start)
    end = len(source) if end < 0 else end
    match = MATH_OPENER.match(source, start, end)
    if match is not None and not math_closer(match, source[start:end]):
        return True
    end = start
    for _ in range(token.map[1] - token.map[0]):
        end = source.find("\n", end) + 1 or len(source)
    if token.type in _LISTS:  # "$$" in an item takes the lines after the list as well
        for nested in _NESTED_DOLLARS.finditer(source, start, end):
            if "$$" not in nested.group(1):
                return True
    return open_environment(source, start, end)


_LISTS = frozenset({"bullet_list_open", "ordered_list_open"})
_NESTED_DOLLARS = re.compile(r"^[ \t]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)*\$\$(.*)$", re.M)


_VERBATIM = frozenset({"fence", "code_block", "html_block", "math_block", "math_block_label",
                       "math_block_eqno", "math_block_eq", "amsmath"})


def _mark_open_math(tokens: list[Token]) -> None:
    """Mark the formula that healing closed (the tail's last block): it is still arriving, and
    shows as its source (see :func:`~nbstream._heal.heal`)."""
    if tokens and tokens[-1].type in _MATH_BLOCKS:
        tokens[-1].meta[OPEN_MATH] = True


_MATH_BLOCKS = frozenset({"math_block", "math_block_label", "math_block_eqno", "math_block_eq",
                          "amsmath"})
_ALWAYS_CLOSED = frozenset({"heading_open", "hr"})
_CLOSED_BY_BLANK = frozenset({"paragraph_open", "blockquote_open", "table_open"})


# What a line may still become a table's delimiter row from (a prefix of one, ``=`` too).
_DELIMITER_START = re.compile(r" {0,3}(?:[-=|:][-=|: \t]*)?")


_FENCE_INDENT = re.compile(r" {0,3}")


def _closed(source: str, token: Token, partial: str = "") -> bool:
    """Whether the last block of ``source`` (complete lines) can take no more lines, whatever
    the ``partial`` line after them becomes: a heading whose line holds a ``|`` is a table's
    header once a delimiter row follows it (the table rule comes first)."""
    if token.type in _ALWAYS_CLOSED:
        if token.type != "heading_open" or not token.map:
            return True
        line = source.split("\n")[token.map[1] - 1]
        return "|" not in line or _DELIMITER_START.fullmatch(partial) is None
    ends_blank = not source.rsplit("\n", 2)[-2].strip()  # the last complete line is blank
    if token.type in _CLOSED_BY_BLANK:
        return ends_blank
    if token.type == "fence" and token.map and token.map[1] - token.map[0] >= 2:
        raw = source.split("\n")[token.map[1] - 1]
        last = raw.strip()
        # (indented four columns or more, or by a tab, the line is code: not a closing fence)
        return last.startswith(token.markup) and not last.strip(token.markup[0]) and (
            _FENCE_INDENT.fullmatch(raw[: len(raw) - len(raw.lstrip())]) is not None)
    return False


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

    def __init__(self, md: MarkdownIt | None = None,
                 inner: InnerLimits | None = InnerLimits()) -> None:  # noqa: B008
        self._own_md = md  # None: the thread's shared parser (see shared_markdown)
        self._inner_limits = inner  # None: never commit inside a block
        self._fences = open_fence_cache()
        self._reset_state()

    def _markdown(self) -> MarkdownIt:
        return self._own_md or shared_markdown()

    def _reset_state(self) -> None:
        self._text = ""
        self._offset = 0
        self._references: dict[str, Any] = {}
        self._reset_pending = False
        self._ends: list[int] = []  # where each committed block's source ends in the text
        self.blocks: list[str] = []
        self.tail_html = ""
        self._open: OpenBlock | None = None
        self._refused = -1  # the offset of an open block that ended: commit it whole
        self.has_references = False

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
        """Commit the blocks that became final and render the open tail (healed).

        Which blocks are final is decided on the raw text's complete lines, never on the
        healed tail: healing changes how the tail looks, not what is committed.
        """
        result = RenderUpdate(reset=self._reset_pending)
        self._reset_pending = False
        tail = self._text[self._offset :]
        if self._open is not None:
            if self._inner_frame(tail, result):
                return result
            tail = self._text[self._offset :]  # the block ended: committed whole
        env = self._env()
        healed = heal(tail)
        tokens = self._markdown().parse(healed, env)
        starts = _block_starts(tokens)
        line = self._final_lines(tail) if len(starts) >= 2 else 0
        if line:
            cut = _line_offset(tail, line)
            # The healed parse agrees with the raw one up to a block starting on that line.
            first_open = next((i for i in starts if tokens[i].map[0] == line), None)  # type: ignore[index]
            self._commit(tail[:cut], None if first_open is None else tokens[:first_open], result)
            self._offset += cut
            if first_open is None:
                env = self._env()
                tail, healed = tail[cut:], heal(tail[cut:])
                tokens = self._markdown().parse(healed, env)
            else:
                tokens = tokens[first_open:]
        env[OPEN_FENCE_KEY] = self._fences
        if closed_math(tail, healed):
            _mark_open_math(tokens)
        self.tail_html = self._render(tokens, env)
        result.tail = self.tail_html
        self._inner_start(tokens, result)
        return result

    def _inner_frame(self, tail: str, result: RenderUpdate) -> bool:
        """A frame of the open block; ``False`` when it ended or changed (dropped)."""
        assert self._open is not None
        env = self._env()
        inner = self._open.frame(tail, env, {**env, OPEN_FENCE_KEY: self._fences})
        if isinstance(inner, Ended):  # as _commit would, from the parts already rendered
            self._ends.append(self._offset + inner.length)
            self._offset += inner.length
            self.blocks.append(inner.html)
            result.appended.append(inner.html)
        if not isinstance(inner, InnerUpdate):
            self._refused = self._offset if inner is None and self._open.ended else -1
            self._open = None
            return False
        result.inner, result.tail, self.tail_html = inner, inner.tail, self._open.html()
        return True

    def _inner_start(self, tokens: list[Token], result: RenderUpdate) -> None:
        """Open the tail's block for commits inside it, when it is one that allows them."""
        if self._inner_limits is None or self._offset == self._refused:
            return
        env = self._env()
        started = open_block(self._text[self._offset :], tokens, self._markdown(), env,
                             {**env, OPEN_FENCE_KEY: self._fences}, self._inner_limits,
                             self._final_lines)
        if started is not None:
            self._open, inner = started
            result.inner, result.tail, self.tail_html = inner, inner.tail, self._open.html()

    def _final_lines(self, tail: str) -> int:
        """How many of the tail's first lines hold only blocks no later text can change: those
        another block follows on a complete line, and the last complete one too when it is
        closed (a heading, a rule, a closed fence; a paragraph, quote or table after a blank
        line). Decided on the raw complete lines, parsed for their blocks only."""
        complete = tail[: tail.rfind("\n") + 1]
        if not complete:
            return 0
        tokens = block_parser().parse(complete, self._env())
        starts = _block_starts(tokens)
        if not starts:
            return 0
        # A paragraph or heading that opens a math block ("$$", "\\[") becomes math when the
        # block closes, taking the blocks after it along: nothing from there on is final yet.
        opener = next((i for i in starts if _opens_math(complete, tokens[i])), None)
        if opener is None and len(complete) < len(tail) and _closed(
                complete, tokens[starts[-1]], tail[len(complete) :]):
            return complete.count("\n")
        last = starts[-1] if opener is None else opener
        return 0 if last == starts[0] else tokens[last].map[0]  # type: ignore[index]

    def _env(self) -> dict[str, Any]:
        return {"references": dict(self._references)}

    def _commit(self, source: str, tokens: list[Token] | None, result: RenderUpdate) -> None:
        """Append the blocks of ``source`` (their tokens when already parsed)."""
        env = self._env()
        if tokens is None:
            tokens = self._markdown().parse(source, env)
        else:
            md = self._markdown()
            md.block.parse(source, md, env, [])  # its reference definitions
        html = self._render(tokens, env)
        self._references = env.get("references", {})
        self._ends.append(self._offset + len(source))
        self.blocks.append(html)
        result.appended.append(html)

    def _render(self, tokens: list[Token], env: dict[str, Any]) -> str:
        md = self._markdown()
        return md.renderer.render(tokens, md.options, env)

    def settle(self) -> RenderUpdate:
        """The end of the stream: the open tail rendered as it is (no healing, one parse),
        committing nothing more. :attr:`has_references` then says whether a reference-style
        link definition may have changed earlier blocks (see :meth:`finish`)."""
        result = RenderUpdate(reset=self._reset_pending)
        self._reset_pending = False
        env = self._env()
        inner = None if self._open is None else self._open.settle(
            self._text[self._offset :], env)
        if inner is not None and self._open is not None:  # the uncommitted text parsed only
            result.inner, self.tail_html = inner, self._open.html()
        else:
            env = self._env()
            tokens = self._markdown().parse(self._text[self._offset :], env)
            self.tail_html = self._render(tokens, env)
        result.tail = self.tail_html
        self.has_references = bool(env.get("references"))
        return result

    @property
    def raw_tail_html(self) -> str:
        """The open tail rendered without healing."""
        env = self._env()
        return self._render(self._markdown().parse(self._text[self._offset :], env), env)

    @property
    def html(self) -> str:
        """Committed blocks followed by the unhealed tail (equals a whole render, see module)."""
        return "".join(self.blocks) + self.raw_tail_html

    def settled(self) -> tuple[list[str], str]:
        """Every committed block and the tail rendered again from its own source with all the
        text's reference-style definitions (the first of a label wins, as in a whole render):
        what a whole render gives each of them, so that the end of a stream replaces only the
        blocks whose links a later definition changed. Returns ``(blocks, tail)``; their
        concatenation equals :meth:`finish` (checked by the caller, tested)."""
        md = self._markdown()
        env: dict[str, Any] = {}
        md.block.parse(self._text, md, env, [])
        references = env.get("references", {})
        out, start = [], 0
        for end in [*self._ends, len(self._text)]:
            env = {"references": dict(references)}
            out.append(self._render(md.parse(self._text[start:end], env), env))
            start = end
        return out[:-1], out[-1]

    def finish(self) -> str:
        """The whole text rendered once more; settles reference-style link definitions."""
        return self._markdown().render(self._text)
