"""The kinds of open block (see ``_inner.py``): a table's rows, a list's items and a long
paragraph's pieces, each committed once."""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS, escapedSplit
from markdown_it.token import Token

from ._inner import (
    FinalLines,
    InnerLimits,
    InnerUpdate,
    OpenBlock,
    block_starts,
    inert,
    line_offset,
    scratch,
)
from ._inner_code import Code
from ._inner_quote import Quote

_PREFIX = "a "  # the paragraph's virtual first line starts as a paragraph line
_CUT = re.compile(r"(?<=\S) (?=\S)")
# A line that may make the line before it a table header or a setext heading.
_UNDERLINE = re.compile(r" {0,3}[-=|:][-=|: \t]*")
_MATH_SOURCE = re.compile(r"\$\$|\\\[|\\begin")
_INDENT = re.compile(r"(?:[ \t]*\n)*([ \t]*)")
_LIST_TYPES = frozenset({"bullet_list_open", "ordered_list_open"})
class _Table(OpenBlock):
    """A table: the children are body rows (``<tr>…</tr>\\n``), one per complete line."""

    def _begin(self, tail: str, env: dict[str, Any]) -> bool:
        complete = tail[: tail.rfind("\n") + 1]
        tokens = self._md.parse(complete, scratch(env))
        starts = block_starts(tokens)
        if not starts or tokens[starts[0]].type != "table_open":
            return False
        first = tokens[starts[0]].map
        assert first is not None
        self.consumed = line_offset(complete, first[0] + 2)  # the header, the delimiter row
        self._head = tail[: self.consumed]
        self._columns = sum(t.type == "th_open" for t in tokens)
        self._autocompleted = 0
        html = self._render(tokens, dict(env))
        end = html.find("</thead>\n")
        if end < 0:
            return False
        self._empty = html[: end + 9] + "</table>\n"
        self.open, self.close = html[: end + 9] + "<tbody>\n", "</tbody>\n</table>\n"
        return True

    def _virtual(self, tail: str) -> str:
        return self._head + tail[self.consumed :]

    def _real(self, offset: int) -> int:
        return self.consumed + offset - len(self._head)

    def _commit(self, tail: str, virtual: str, complete: str,
                env: dict[str, Any]) -> list[str] | None:
        rows = complete[len(self._head) :]
        if not rows.strip() or "\\begin" in rows:  # an environment may end the table
            return []
        tokens = self._md.parse(complete, scratch(env))
        table = next((t for t in tokens if t.type == "table_open"), None)
        if table is None or table.map is None:
            return None
        inner = self._inner(self._render(tokens, dict(env)))
        if inner is None:
            return None
        end = line_offset(complete, table.map[1]) - len(self._head)
        # The parser stops a table that autocompleted too many cells: never cut there.
        for line in rows[:end].splitlines():
            cells = escapedSplit(line.strip())
            cells = cells[1:] if cells and cells[0] == "" else cells
            cells = cells[:-1] if cells and cells[-1] == "" else cells
            self._autocompleted += self._columns - len(cells)
        if self._autocompleted > MAX_AUTOCOMPLETED_CELLS // 2:
            self.ended = True  # committed whole (from the whole parse) when it ends
            return None
        self.consumed += end
        return [inner] if inner else []

    def _inner(self, html: str) -> str | None:
        if html == self._empty:
            return ""
        if html.startswith(self.open) and html.endswith(self.close):
            return html[len(self.open) : len(html) - len(self.close)]
        return None


_LI = re.compile(r"<(/?)li[ >]")


def _split_items(body: str) -> list[str] | None:
    """A list's rendered items (``<li…>…</li>\\n`` each, nested lists inside)."""
    items, depth, start = [], 0, 0
    for match in _LI.finditer(body):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            end = body.index(">", match.start()) + 1
            end += body.startswith("\n", end)
            items.append(body[start:end])
            start = end
    return items if start == len(body) and depth == 0 else None


_START = re.compile(r' start="\d+"')
_TASKS = ' class="contains-task-list"'


class _List(OpenBlock):
    """A list: the children are its items. The virtual text starts at the last committed
    item (the *anchor*), whose HTML must come out the same; a loose list's virtual text starts
    with a dummy item and a blank line, which keep it loose (the blank lines that made it so
    were committed)."""

    def _begin(self, tail: str, env: dict[str, Any]) -> bool:
        self._anchor: str | None = None
        complete = tail[: tail.rfind("\n") + 1]
        tokens = self._md.parse(complete, scratch(env))
        starts = block_starts(tokens)
        if not starts or tokens[starts[0]].type not in _LIST_TYPES:
            return False
        self._type, self._markup = tokens[starts[0]].type, tokens[starts[0]].markup
        end = starts[1] if len(starts) > 1 else len(tokens)
        own = [t for t in tokens[:end] if t.type == "paragraph_open" and t.level == 2]
        if not own:
            return False  # tight or loose cannot be told yet
        self._mark = self._markup if self._type == "bullet_list_open" else "1" + self._markup
        self._loose = not own[0].hidden
        self._dummy = ""
        html = self._render(tokens[:end], dict(env))
        self.open = html[: html.index("\n") + 1]
        self.close = "</ul>\n" if self._type == "bullet_list_open" else "</ol>\n"
        return True

    def _virtual(self, tail: str) -> str:
        rest = tail[self.consumed :]
        if self._loose:  # the dummy item is indented as the first one, its sibling
            indent = _INDENT.match(rest)
            self._dummy = f"{indent.group(1) if indent else ''}{self._mark} x\n\n"
        return self._dummy + rest

    def _real(self, offset: int) -> int:
        return self.consumed + offset - len(self._dummy)

    def _items(self, html: str) -> list[str] | None:
        """The items after the dummy and the anchor (checked), or ``None``."""
        newline = html.find("\n") + 1
        tag, own = _START.sub("", html[:newline]), _START.sub("", self.open)
        # Task items mark the whole list: the anchor's own list may lack the class.
        if tag not in (own, own.replace(_TASKS, "")) or not html.endswith(self.close):
            return None
        items = _split_items(html[newline : len(html) - len(self.close)])
        skip = 1 if self._dummy else 0
        if items is None or len(items) <= skip:
            return None
        if self._anchor is not None:
            if items[skip] != self._anchor:
                return None  # the list turned loose (or the anchor item changed otherwise)
            skip += 1
        return items[skip:]

    def _commit(self, tail: str, virtual: str, complete: str,
                env: dict[str, Any]) -> list[str] | None:
        parsed_env = scratch(env)
        tokens = self._md.parse(complete, parsed_env)
        if len(parsed_env["references"]) != len(env.get("references", {})):
            self.ended = True  # a definition in an item: later items' links depend on it
            return None
        starts = block_starts(tokens)
        if not starts:
            return []
        first = tokens[starts[0]]
        if first.type != self._type or first.markup != self._markup:
            return None
        end = starts[1] if len(starts) > 1 else len(tokens)
        items = self._items(self._render(tokens[:end], dict(env)))
        maps = [t.map for t in tokens[:end] if t.type == "list_item_open" and t.level == 1]
        if items is None:
            return None
        maps = maps[len(maps) - len(items) :]  # those of the new items
        final = len(items) - 1  # an item is final once the next one starts
        for i in range(final):  # display math may run on past the next item
            source = virtual[line_offset(virtual, maps[i][0]) : line_offset(  # type: ignore[index]
                virtual, maps[i + 1][0])]  # type: ignore[index]
            if _MATH_SOURCE.search(source):
                final = i
                break
        if final <= 0:
            return []
        self._anchor = items[final - 1]
        self.consumed = self._real(line_offset(virtual, maps[final - 1][0]))  # type: ignore[index]
        return ["".join(items[:final])]

    def _inner(self, html: str) -> str | None:
        items = self._items(html)
        return None if items is None else "".join(items)


class _Paragraph(OpenBlock):
    """A paragraph: the children are pieces of its inline HTML, cut at safe spaces."""

    def _begin(self, tail: str, env: dict[str, Any]) -> bool:
        self.consumed = len(tail) - len(tail.lstrip())
        self._cut = False
        if tail.startswith(("[", "$$", "\\[", "\\begin"), self.consumed):
            return False  # a reference definition or a formula, perhaps
        self.open, self.close = "<p>", "</p>\n"
        return True

    def _virtual(self, tail: str) -> str:
        return _PREFIX + tail[self.consumed :] if self._cut else tail

    def _real(self, offset: int) -> int:
        return self.consumed + offset - len(_PREFIX) if self._cut else offset

    def _commit(self, tail: str, virtual: str, complete: str,
                env: dict[str, Any]) -> list[str] | None:
        if self._changed(tail):
            return None
        rest = tail[self.consumed :]
        if len(rest) < self._limits.paragraph:
            return []
        cuts: list[int] = []
        position = 0
        lines = rest.split("\n")
        for i, line in enumerate(lines):  # never in a line the next one may underline
            if i + 1 == len(lines) or not _UNDERLINE.fullmatch(lines[i + 1] or "x"):
                cuts.extend(position + m.end() for m in _CUT.finditer(line))
            position += len(line) + 1
        cuts = [c for c in cuts if c >= self._limits.paragraph // 2]
        tries = 0
        while cuts and tries < 3:
            cut = cuts[-1]
            tokens = self._md.parseInline(rest[:cut], dict(env))
            children = tokens[0].children or []
            if all(t.type != "text" or inert(t.content) for t in children):
                self.consumed += cut
                self._cut = True
                return [self._render(tokens, dict(env))]
            tries += 1
            cuts = [c for c in cuts if c <= cut // 2]
        return []

    def _changed(self, tail: str) -> bool:
        # the line of the last cut may become a table header or a heading
        return self._cut and self._underlined(tail, self.consumed)

    @staticmethod
    def _underlined(tail: str, at: int) -> bool:
        """Whether the line after the one holding ``tail[at]`` looks like a delimiter row or
        a setext underline (even in part)."""
        newline = tail.find("\n", at)
        if newline < 0:
            return False
        end = tail.find("\n", newline + 1)
        line = tail[newline + 1 : None if end < 0 else end]
        return bool(line) and _UNDERLINE.fullmatch(line) is not None

    def _inner(self, html: str) -> str | None:
        head = "<p>" + (_PREFIX if self._cut else "")
        if html.startswith(head) and html.endswith("</p>\n") and html.count("<p>") == 1:
            return html[len(head) : -5]
        return None


def open_block(tail: str, tokens: list[Token], md: MarkdownIt, env: dict[str, Any],
              display_env: dict[str, Any], limits: InnerLimits,
              final_lines: FinalLines) -> tuple[OpenBlock, InnerUpdate] | None:
    """An open block for ``tail`` (whose healed parse is ``tokens``), when its only block
    is a table with a complete body row, a list with a final item, a long paragraph, a
    long fenced code block or a block quote with a final child block,
    and something of it can be committed now; with its first update."""
    starts = block_starts(tokens)
    if len(starts) != 1 or len(tail) < limits.block or "\r" in tail or "\0" in tail:
        return None
    kind = tokens[starts[0]].type
    block: OpenBlock
    if kind == "table_open":
        block = _Table(md, limits, final_lines)
    elif kind in _LIST_TYPES and sum(t.type == "list_item_open" and t.level == 1
                                     for t in tokens) >= limits.items:
        block = _List(md, limits, final_lines)
    elif kind == "paragraph_open" and len(tail) >= limits.paragraph:
        block = _Paragraph(md, limits, final_lines)
    elif kind == "fence":
        block = Code(md, limits, final_lines)
    elif kind == "blockquote_open":
        block = Quote(md, limits, final_lines)
    else:
        return None
    if not block._begin(tail, env):
        return None
    update = block.frame(tail, env, display_env)
    if not isinstance(update, InnerUpdate) or not block.committed:
        return None
    update.started = True
    update.children = [block.committed]
    return block, update
