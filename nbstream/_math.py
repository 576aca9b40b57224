"""TeX math typeset as MathML in the kernel, kept to an allow-list of elements and attributes.

latex2mathml turns the TeX of a ``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` or amsmath span
into an element tree; :func:`to_mathml` writes that tree out again itself, keeping only the
presentation-MathML elements and attributes listed here (no ``href``, ``maction``,
``xlink:*``, event handler, ``style``, ``class``, colour or ``semantics``/``annotation-xml``)
with every text escaped. latex2mathml's own serialiser un-escapes its output
(``\\text{<script>}`` would come out as a tag), so it is never used. The page's sanitiser
(``js/src/sanitize.js``) keeps the same lists, tested to agree.

TeX that does not convert (a typo, an unsupported command, a formula cut short) is shown as
its escaped source in the same element, marked ``nbs-math-error``: never an error. The open
tail renders every frame, so conversions are cached.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element

MATH_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "munder",
    "mover", "munderover", "mfrac", "msqrt", "mroot", "mtable", "mtr", "mtd", "mstyle", "mpadded",
    "mphantom", "menclose", "merror",
})
"""The MathML elements kept (presentation markup only); any other becomes an ``mrow`` of its
children."""

MATH_ATTRIBUTES = frozenset({
    "display", "mathvariant", "displaystyle", "scriptlevel", "stretchy", "fence", "form",
    "largeop", "movablelimits", "accent", "accentunder", "separator", "lspace", "rspace",
    "minsize", "maxsize", "symmetric", "width", "height", "depth", "voffset", "linethickness",
    "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame",
    "framespacing", "notation", "linebreak",
})
"""The MathML attributes kept, each with a value of :data:`_SAFE_VALUE` only: layout and
font, never a link, a script, a style, a class or a colour (``\\color{white}`` could hide
text)."""

_SAFE_VALUE = re.compile(r"^[\w .%+-]{0,64}$", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEX = 8000
"""Longer TeX is shown as source (latex2mathml is recursive and not linear on every input)."""

# Inner amsmath environments latex2mathml knows under another name.
_ENVIRONMENTS = {"aligned": "align*", "alignedat": "align*", "gathered": "gather*",
                 "equation": "", "equation*": "", "multline": "gather*", "multline*": "gather*",
                 "gather": "gather*"}
_ENVIRONMENT = re.compile(r"\\(begin|end)\{(" + "|".join(re.escape(name) for name in
                                                       _ENVIRONMENTS) + r")\}(\{\d+\})?")


def _environment(match: re.Match[str]) -> str:
    name = _ENVIRONMENTS[match.group(2)]
    return f"\\{match.group(1)}{{{name}}}" if name else ""


def _text(value: str | None) -> str:
    # latex2mathml leaves character references (``&#x0003D;``) in its texts: resolve them,
    # then escape everything again.
    return html.escape(_CONTROL.sub("", html.unescape(value or "")), quote=False)


def _write(element: Element, out: list[str]) -> None:
    tag = element.tag if element.tag in MATH_ELEMENTS else "mrow"
    out.append(f"<{tag}")
    for name, value in element.attrib.items():
        if name in MATH_ATTRIBUTES and _SAFE_VALUE.match(value):
            if tag == "math" and name == "display" and value not in ("block", "inline"):
                continue
            out.append(f' {name}="{value}"')
    out.append(">")
    out.append(_text(element.text))
    for child in element:
        _write(child, out)
        out.append(_text(child.tail))
    out.append(f"</{tag}>")


@lru_cache(maxsize=4096)
def to_mathml(tex: str, display: bool) -> str | None:
    """``tex`` as sanitised MathML (``<math display="block">`` for display math), or ``None``
    when it does not convert."""
    if len(tex) > MAX_TEX or not tex.strip():
        return None
    source = _ENVIRONMENT.sub(_environment, tex)
    try:
        tree = convert_to_element(source, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds (and RecursionError) on bad TeX
        return None
    tree.attrib.pop("xmlns", None)  # the HTML parser puts <math> in the MathML namespace
    out: list[str] = []
    _write(tree, out)
    return "".join(out)


def math_html(tex: str, display: bool, *, block: bool | None = None, open_: bool = False) -> str:
    """The HTML of one formula: a ``<div class="nbs-math">`` (a block, by default for display
    math) or ``<span>`` around its MathML, or around its escaped source when it does not
    convert (``nbs-math-error``) or is still arriving (``open_``: ``nbs-math-open``)."""
    block = display if block is None else block
    tag = "div" if block else "span"
    kind = "block" if display else "inline"
    mathml = None if open_ else to_mathml(tex, display)
    if mathml is not None:
        inner, extra = mathml, ""
    else:
        inner = html.escape(tex)
        extra = " nbs-math-open" if open_ else " nbs-math-error"
    tail = "\n" if block else ""
    return f'<{tag} class="nbs-math{extra}" data-display="{kind}">{inner}</{tag}>{tail}'
