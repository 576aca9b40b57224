"""The one markdown-it configuration nbstream renders with, and its safety rules.

GFM tables, strikethrough, task lists and autolinks; fenced code highlighted by Pygments
(CSS classes, not inline styles) inside a labelled block with a copy button; math typeset as
MathML in the kernel (``_math.py``), so saved notebooks and exports show it too. Model output
is untrusted: raw HTML is escaped (``html=False``), links with dangerous schemes are refused,
and images may only load from absolute ``http(s)`` URLs or inline raster ``data:`` URLs.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from mdit_py_plugins.texmath import texmath_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from ._math import math_html

_SAFE_LINK = re.compile(r"^(?:https?:|mailto:|#)", re.I)
_SAFE_IMAGE = re.compile(r"^(?:https?://|data:image/(?:gif|png|jpeg|webp);)", re.I)
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
FORMATTER = HtmlFormatter(nowrap=True)
"""The HTML formatter of code blocks (spans with CSS classes, no wrapper)."""


def is_safe_link(url: str) -> bool:
    """Whether a link target may be rendered as a clickable link."""
    return bool(_SAFE_LINK.match(_CONTROL.sub("", html.unescape(url))))


def is_safe_image(url: str) -> bool:
    """Whether an image source may be loaded (absolute http(s) or an inline raster image)."""
    return bool(_SAFE_IMAGE.match(_CONTROL.sub("", html.unescape(url))))


@lru_cache(maxsize=64)
def _lexer(lang: str) -> Any:
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def highlight_code(code: str, lang: str) -> str:
    """Highlighted HTML for ``code`` (escaped plain text when the language is unknown)."""
    lexer = _lexer(lang.lower()) if lang else None
    if lexer is None:
        return html.escape(code)
    return pygments_highlight(code, lexer, FORMATTER)


_TOP_LEVEL_LINE = re.compile(r"\n(?=\S|\n)")


class _OpenFenceCache:
    """Highlighting of a code block that is still streaming, reused frame after frame.

    The code up to its last top-level line (a line starting in column 0, or after a blank
    line: where lexers are almost always back in their root state) is highlighted once and
    kept; only the lines from there on are highlighted again. Used for the open tail only:
    committed blocks and the final render highlight the whole block.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str], str] = OrderedDict()

    def highlight(self, code: str, lang: str) -> str:
        cut = 0
        for match in _TOP_LEVEL_LINE.finditer(code, max(0, len(code) - 4096)):
            cut = match.end()
        if cut == 0:
            return highlight_code(code, lang)
        key = (lang, code[:cut])
        head = self._entries.get(key)
        if head is None:
            head = highlight_code(key[1], lang)
            self._entries[key] = head
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return head + highlight_code(code[cut:], lang)


OPEN_MATH = "nbstream_open"
"""A math block token whose ``meta`` has this key is still arriving: shown as source."""

OPEN_FENCE_KEY = "nbstream_open_fences"
"""Put an :class:`_OpenFenceCache` under this env key to render a streaming tail with it."""


def open_fence_cache() -> _OpenFenceCache:
    """A cache for highlighting the streaming tail's code blocks."""
    return _OpenFenceCache()


def _render_fence(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict,
                  env: EnvType) -> str:
    token = tokens[idx]
    info = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    lang = html.escape(info)
    cache = env.get(OPEN_FENCE_KEY) if isinstance(env, dict) else None
    if isinstance(cache, _OpenFenceCache):
        body = cache.highlight(token.content, info)
    else:
        body = highlight_code(token.content, info)
    label = f'<span class="nbs-lang">{lang}</span>' if lang else ""
    lang_class = f' class="language-{lang}"' if lang else ""
    return (
        f'<div class="nbs-code" data-lang="{lang}"><div class="nbs-code-bar">{label}'
        '<button class="nbs-copy" type="button" aria-label="Copy code">Copy</button></div>'
        f"<pre><code{lang_class}>{body}</code></pre></div>\n"
    )


def _render_link_open(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict,
                      env: EnvType) -> str:
    token = tokens[idx]
    token.attrSet("target", "_blank")
    token.attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


def _render_image(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict,
                  env: EnvType) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if not is_safe_image(src):
        return f'<span class="nbs-blocked-image" title="image not loaded">{html.escape(alt)}</span>'
    token.attrSet("alt", alt)
    token.attrSet("loading", "lazy")
    token.attrSet("referrerpolicy", "no-referrer")
    return self.renderToken(tokens, idx, options, env)


def _render_math_inline(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict,
                        env: EnvType) -> str:
    token = tokens[idx]
    return math_html(token.content, token.type == "math_inline_double", block=False)


def _render_math_block(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict,
                       env: EnvType) -> str:
    token = tokens[idx]
    content = token.content.strip()
    still_open = bool(token.meta.get(OPEN_MATH))
    if still_open and token.type == "amsmath":  # without the "\end{...}" healing added
        content = content.rpartition("\n")[0]
    return math_html(content, True, open_=still_open)


def make_markdown() -> MarkdownIt:
    """A fresh markdown-it parser with nbstream's configuration."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.use(tasklists_plugin)
    # Pandoc's rule for "$": no space inside the delimiters, no digit after the closing one,
    # so prices ("$5 and $10") stay text.
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    md.use(texmath_plugin, delimiters="brackets")
    md.use(amsmath_plugin)
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_fence)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("image", _render_image)
    for name in ("math_inline", "math_inline_double", "math_inline_eq"):
        md.add_render_rule(name, _render_math_inline)
    for name in ("math_block", "math_block_label", "math_block_eqno", "math_block_eq", "amsmath"):
        md.add_render_rule(name, _render_math_block)
    return md


_PER_THREAD = threading.local()
_BLOCKS = make_markdown()
_BLOCKS.core.ruler.disable(["inline", "github-tasklists", "linkify", "replacements",
                            "smartquotes", "text_join"], ignoreInvalid=True)


def block_parser() -> MarkdownIt:
    """A parser sharing nbstream's configuration that stops at block structure (no inline
    parsing): enough to tell where blocks start, at about half the cost."""
    return _BLOCKS


def shared_markdown() -> MarkdownIt:
    """The parser with nbstream's configuration that every renderer on this thread shares.

    One per thread, not one per process: linkify-it keeps the state of its last match on its
    instance, so one instance must not parse on two threads at once. All live streams render
    on the runtime's clock thread, so they share one parser (and one highlighter cache)."""
    md: MarkdownIt | None = getattr(_PER_THREAD, "md", None)
    if md is None:
        md = _PER_THREAD.md = make_markdown()
    return md


def render(text: str) -> str:
    """Render ``text`` to HTML with nbstream's configuration (the final, whole-text render)."""
    return shared_markdown().render(text)


_DARK_HOSTS = (':is(body[data-jp-theme-light="false"],body.vscode-dark,body.vscode-high-contrast,'
               '.marimo .dark)')  # (marimo: in the widget's shadow root)
_STYLE_RULE = re.compile(r"^X (\.[\w-]+) \{ (.*?) \}")


def _token_rules(style: str, scope: str) -> str:
    """Compact CSS for one Pygments style: token classes with equal styles share a rule."""
    groups: dict[str, list[str]] = {}
    for line in HtmlFormatter(style=style).get_style_defs("X").splitlines():
        match = _STYLE_RULE.match(line)
        if match and "background" not in match.group(2):
            declarations = match.group(2).replace(": ", ":").replace("; ", ";")
            groups.setdefault(declarations, []).append(match.group(1))
    return "\n".join(
        f"{scope} .nbs-code pre :is({','.join(classes)}){{{declarations}}}"
        for declarations, classes in groups.items()
    )


def highlight_css() -> str:
    """Pygments CSS for code blocks: a light theme, and a dark one under dark hosts."""
    return _token_rules("default", ".nbstream") + "\n" + _token_rules(
        "monokai", f"{_DARK_HOSTS} .nbstream"
    )
