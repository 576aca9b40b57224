"""A long fenced code block as an open block (see ``_inner.py``): its children are lines of
highlighted HTML, committed once.

The container is the fence's own HTML around its code: ``<div class="nbs-code" …>…<pre>
<code …>`` / ``</code></pre></div>\\n`` (the page appends children into its innermost last
element: the ``<code>``). The virtual text is the opening fence line followed by the code not
committed yet, so each frame highlights only that.

Pygments' HTML formatter closes every span at the end of a line and opens it again on the
next one, so highlighted HTML is a concatenation of self-contained lines; what must hold is
that the lexer reads the code after a cut as it reads it in context. A cut is made at the
start of a complete line when

- the uncommitted code is at least :attr:`~nbstream._inner.InnerLimits.code` long;
- the lexer is in its root state there, a match of its starting there (seen in its
  generator's frame: ``RegexLexer``; for the lexers that wrap theirs, such as C's, the line
  before must end outside strings, comments and error tokens instead);
- a non-blank line follows it and the line before it is not blank (Python's docstring rule
  takes the blank lines before a docstring as its indentation);
- the code up to the last complete line highlights, split there, exactly as it does whole
  (the lines before the cut as the committed HTML, the rest as the lexer alone reads them).

Some lexers read earlier text differently once later text arrives (a ``/*`` with no ``*/``
yet is an operator or an error token, then the start of a comment; a heredoc): for them
(every lexer but Python's, whose only rules across lines are strings in their own states,
and plain text, escaped) the end of the block is checked against a whole highlight of its
code, and the open block is dropped should they differ (the caller then renders and commits
it whole, as without an open block). Until then the page shows their committed lines as
they were read. For them no cut is made after a ``/*`` or ``<!--`` not closed yet (within
100 lines), the usual case.
"""

from __future__ import annotations

import re
from typing import Any

from pygments import format as format_tokens
from pygments.lexer import RegexLexer

from ._inner import Ended, InnerUpdate, OpenBlock, line_offset, scratch
from ._markdown import FORMATTER, _lexer, block_parser, highlight_code

# Lexers that never read committed lines differently once more code arrives: their only
# rules across lines are strings in their own states (never cut inside: see the module).
_LINE_SAFE = frozenset({"PythonLexer"})
# The class of the last span on a line: a string (``s…``), a comment (``c…``), an error.
_LAST_CLASS = re.compile(r'<span class="([\w-]+)">[^<]*</span>$')
_OPEN_AT_END = re.compile(r"s\w*|c(?!1$)\w*|err")  # (``c1``: a comment to the line's end)


class Code(OpenBlock):
    """A fenced code block: the children are complete lines of its highlighted HTML."""

    def _begin(self, tail: str, env: dict[str, Any]) -> bool:
        complete = tail[: tail.rfind("\n") + 1]
        tokens = block_parser().parse(complete, scratch(env))
        if not tokens or tokens[0].type != "fence" or tokens[0].map is None:
            return False
        fence = tokens[0]
        self._lines = fence.map[0] + 1  # type: ignore[index]  # the virtual text's head
        self.consumed = line_offset(complete, self._lines)
        self._head = tail[: self.consumed]
        info = fence.info.strip()
        self._lang = info.split(maxsplit=1)[0] if info else ""
        lexer = _lexer(self._lang.lower()) if self._lang else None
        self._checked = lexer is not None and type(lexer).__name__ not in _LINE_SAFE
        self._code = ""  # the committed code
        html = self._render(self._md.parse(self._head, scratch(env)), dict(env))
        close = "</code></pre></div>\n"
        start = html.find("<code")
        if start < 0 or not html.endswith(close):
            return False
        self.open, self.close = html[: html.index(">", start) + 1], close
        return html == self.open + self.close

    def _virtual(self, tail: str) -> str:
        return self._head + tail[self.consumed :]

    def _real(self, offset: int) -> int:
        return self.consumed + offset - len(self._head)

    def _content(self, virtual: str, env: dict[str, Any]) -> str | None:
        """The code of the virtual text's fence (``None``: not a fence from its start)."""
        tokens = block_parser().parse(virtual, scratch(env))
        return tokens[0].content if tokens and tokens[0].type == "fence" else None

    def _commit(self, tail: str, virtual: str, complete: str,
                env: dict[str, Any]) -> list[str] | None:
        code = self._content(complete, env)
        if code is None:
            return None
        if len(code) < self._limits.code or "\ufeff" in code:
            return []
        whole, roots = _highlight(code, self._lang)
        lines = code.splitlines(keepends=True)
        html_lines = whole.splitlines(keepends=True)
        if len(html_lines) != len(lines):
            return []
        end = _before_open_comment(code) if self._checked else len(lines)
        for _ in range(3):  # the latest cut, then earlier ones
            cut = _last_cut(lines, html_lines, roots, end)
            if cut <= 0:
                return []
            piece = "".join(html_lines[:cut])
            start = sum(len(line) for line in lines[:cut])
            if piece + highlight_code(code[start:], self._lang) == whole:
                self._code += code[:start]
                self.consumed = self._real(line_offset(virtual, self._lines + cut))
                return [piece]
            end = cut - 1
        return []

    def _inner(self, html: str) -> str | None:
        if html.startswith(self.open) and html.endswith(self.close):
            return html[len(self.open) : len(html) - len(self.close)]
        return None

    def _exact(self, virtual: str, inner: str, env: dict[str, Any]) -> bool:
        """Whether the committed lines and ``inner`` (the rest's HTML) are the whole code's
        highlight (checked only for lexers that may read earlier code again)."""
        if not self._checked:
            return True
        rest = self._content(virtual, env)
        return rest is not None and highlight_code(self._code + rest, self._lang) == (
            self.committed + inner)

    def _end(self, virtual: str, lines: int, env: dict[str, Any]) -> Ended | None:
        ended = super()._end(virtual, lines, env)
        if ended is None or not self._exact(
                virtual[: line_offset(virtual, lines)],
                ended.html[len(self.open) + len(self.committed) : -len(self.close)], env):
            return None
        return ended

    def settle(self, tail: str, env: dict[str, Any]) -> InnerUpdate | None:
        """The end of the stream (see :meth:`OpenBlock.settle`), checked as the block's end
        is."""
        settled = super().settle(tail, env)
        if settled is None or not self._exact(self._virtual(tail), settled.tail, env):
            return None
        return settled


def _highlight(code: str, lang: str) -> tuple[str, set[int] | None]:
    """``code``'s highlighted HTML, and the indices of the lines at whose start the lexer is
    in its root state, a match of its starting there (``None``: not known, this lexer's
    state is not seen; every line without a lexer)."""
    lexer = _lexer(lang.lower()) if lang else None
    if lexer is None:
        return highlight_code(code, lang), set(range(code.count("\n") + 1))
    if type(lexer).get_tokens_unprocessed is not RegexLexer.get_tokens_unprocessed:
        return highlight_code(code, lang), None
    tokens = lexer.get_tokens_unprocessed(code)
    frame = tokens.gi_frame
    out: list[tuple[Any, str]] = []
    roots: set[int] = set()
    line = counted = 0
    for pos, kind, value in tokens:
        if value and (pos == 0 or code[pos - 1] == "\n"):
            line, counted = line + code.count("\n", counted, pos), pos
            here = frame.f_locals  # the lexer's state before this match
            if here.get("pos") == pos and list(here.get("statestack", ())) == ["root"]:
                roots.add(line)
        out.append((kind, value))
    return format_tokens(out, FORMATTER), roots


_COMMENTS = (("/*", "*/"), ("<!--", "-->"))
_COMMENT_LINES = 100


def _before_open_comment(code: str) -> int:
    """The last line index a cut may take: that of a ``/*`` or ``<!--`` not closed yet (the
    lexers that read earlier code again take it as code or an error until it closes), unless
    it opened more than :data:`_COMMENT_LINES` lines ago (the end's check is left)."""
    end = code.count("\n")
    for opener, closer in _COMMENTS:
        at = code.rfind(opener)
        if at >= 0 and code.find(closer, at + len(opener)) < 0:
            line = code.count("\n", 0, at)
            if end - line <= _COMMENT_LINES:
                end = min(end, line)
    return end


def _last_cut(lines: list[str], html_lines: list[str], roots: set[int] | None,
              end: int) -> int:
    """The latest line index ``i <= end`` to cut at: the lexer's root state (``roots``; when not
    known, the line before ends outside strings and comments), a non-blank line at ``i`` or
    after it, and a non-blank line before it (a run of space may join a construct on the
    next line: Python's docstring rule takes blank lines before it as its indentation);
    0 when none."""
    after_text = False
    for i in range(min(end, len(lines) - 1), 0, -1):
        after_text = after_text or bool(lines[i].strip())
        if not after_text or not lines[i - 1].strip():
            continue
        if roots is not None:
            if i in roots:
                return i
            continue
        match = _LAST_CLASS.search(html_lines[i - 1].rstrip("\n"))
        if match is None or not _OPEN_AT_END.fullmatch(match.group(1)):
            return i
    return 0
