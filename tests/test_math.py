# ruff: noqa: RUF001  (MathML holds the letters TeX names, double-struck R among them)
"""Math typeset while it streams: MathML made in the kernel, on an allow-list, never early.

``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` and amsmath environments become ``<math>`` in the
kernel (latex2mathml), written out by nbstream's own allow-list serialiser; prices stay text;
TeX that does not convert shows as its escaped source; a formula still arriving shows as
source and is never committed before it closes; the page's sanitiser keeps the same lists.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from page_model import apply_ops, shown_html
from test_page_js import kernel_patches, random_cuts, run_page
from test_streaming_property import assert_commits_are_final, one_by_one, random_pieces

import nbstream
from nbstream._incremental import IncrementalRenderer
from nbstream._markdown import render
from nbstream._math import MATH_ATTRIBUTES, MATH_ELEMENTS, to_mathml
from nbstream._patches import PartView, PatchBuilder
from nbstream._static import static_copy

SANITIZE_JS = Path(__file__).resolve().parent.parent / "js" / "src" / "sanitize.js"


# --- what latex2mathml makes of what answers write ----------------------------------------

@pytest.mark.parametrize(("tex", "expected"), [
    (r"\frac{a}{b}", "<mfrac><mrow><mi>a</mi></mrow><mrow><mi>b</mi></mrow></mfrac>"),
    (r"\sum_{i=1}^n i", "<munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow>"
                        "<mi>n</mi></munderover>"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}",
     "<mo>(</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>2</mn></mtd></mtr><mtr><mtd><mn>3"),
    (r"\mathbb{R}^n", "<msup><mi>ℝ</mi><mi>n</mi></msup>"),
    (r"\begin{aligned}a&=b\\c&=d\end{aligned}",
     '<mtable displaystyle="true" rowspacing="3pt" columnspacing="0em 2em"><mtr>'
     '<mtd columnalign="right"><mi>a</mi></mtd><mtd columnalign="left"><mi></mi><mo>=</mo>'),
    (r"\begin{cases}1 & x>0\\0&\text{else}\end{cases}", "<mtext>else</mtext>"),
    (r"\sqrt[3]{x}", "<mroot><mrow><mi>x</mi></mrow><mn>3</mn></mroot>"),
])
def test_common_tex_becomes_mathml(tex: str, expected: str) -> None:
    block = to_mathml(tex, True)
    assert block is not None and block.startswith('<math display="block"><mrow>'), block
    assert expected in block
    assert to_mathml(tex, False).startswith('<math display="inline">')  # type: ignore[union-attr]


def test_display_math_is_a_block_and_inline_math_a_span() -> None:
    out = render("Inline $x^2$ and \\(y\\).\n\n$$\n\\frac{a}{b}\n$$\n\n\\[\nz\n\\]\n")
    assert out.count('<span class="nbs-math" data-display="inline"><math display="inline">') == 2
    assert out.count('<div class="nbs-math" data-display="block"><math display="block">') == 2


def test_amsmath_environments_are_display_math() -> None:
    out = render("Text\n\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}\n")
    assert out.startswith("<p>Text</p>\n")
    assert '<div class="nbs-math" data-display="block"><math display="block"><mrow><mtable' in out


@pytest.mark.parametrize("text", ["It costs $5 and $10.", "from $5, to $10 and $15.",
                                  "$5-$10 a month", "between $ 3 and $ 4", "US$5 vs $6"])
def test_prices_stay_text(text: str) -> None:
    assert render(text) == f"<p>{text}</p>\n"


@pytest.mark.parametrize("tex", [r"\frac{", r"x^{", r"\left(", r"\begin{matrix}",
                                 "a" * 9000, "{" * 3000 + "x" + "}" * 3000])
def test_bad_tex_shows_as_its_escaped_source_never_an_error(tex: str) -> None:
    out = render(f"see $<b>{tex}$ here")
    assert '<span class="nbs-math nbs-math-error" data-display="inline">' in out
    assert "&lt;b&gt;" in out and "<math" not in out


def test_conversions_are_cached_across_frames() -> None:
    tex = r"\int_0^{\infty} e^{-x^2}\,dx = \frac{\sqrt{\pi}}{2} + 123457"
    to_mathml(tex, False)
    hits = to_mathml.cache_info().hits
    renderer = IncrementalRenderer()
    for word in ["Inline ", f"${tex}$", " and", " more", " words"]:
        renderer.append(word)
        renderer.render()
    assert to_mathml.cache_info().hits >= hits + 3


# --- the allow-list, in the kernel and in the page ----------------------------------------

def _js_set(name: str) -> set[str]:
    source = SANITIZE_JS.read_text(encoding="utf-8")
    match = re.search(rf"const {name} = new Set\(\((.*?)\)\.split", source, re.S)
    assert match, name
    return set("".join(re.findall(r'"([^"]*)"', match.group(1))).split())


def test_the_page_keeps_the_same_mathml_allow_list_as_the_kernel() -> None:
    assert _js_set("MATH_TAGS") == MATH_ELEMENTS
    assert _js_set("MATH_ATTRIBUTES") == MATH_ATTRIBUTES
    assert not {"maction", "semantics", "annotation", "annotation-xml", "mglyph"} & MATH_ELEMENTS
    assert not {"href", "style", "class", "id", "mathcolor", "mathbackground", "src"} & \
        MATH_ATTRIBUTES


@pytest.mark.parametrize("tex", [
    r"\href{javascript:alert(1)}{x}", r"\style{position:fixed}{x}", r"\class{nbs-x}{x}",
    r"\color{red}{x}", r"\text{<script>alert(1)</script>}", r"\unicode{x3c}b\unicode{x3e}",
    r"\text{&lt;b&gt;}", r"\mathrm{</math><img src=x onerror=alert(1)>}", r"\toggle{a}{b}",
    r"\hspace{1em\" onclick=\"x}",
])
def test_mathml_keeps_only_allowed_elements_attributes_and_escaped_text(tex: str) -> None:
    out = to_mathml(tex, True) or ""
    for tag, attrs in re.findall(r"<([a-z-]+)((?: [a-z-]+=\"[^\"]*\")*)>", out):
        assert tag in MATH_ELEMENTS, out
        assert {name for name in re.findall(r" ([a-z-]+)=", attrs)} <= MATH_ATTRIBUTES, out
    assert not re.search(r"<(?!/?m)", out), out  # any "<" in a text is escaped
    assert not re.search(r" (href|style|class|mathcolor|onclick)=", out), out


# --- streaming: source while open, never committed early ----------------------------------

def test_a_display_formula_still_arriving_shows_as_source() -> None:
    renderer = IncrementalRenderer()
    tail = renderer.update("Intro\n\n$$\n\\frac{a}{b} <").tail
    assert tail == ('<div class="nbs-math nbs-math-open" data-display="block">'
                    "\\frac{a}{b} &lt;</div>\n")
    tail = renderer.update("Intro\n\n$$\n\\frac{a}{b} <\n$$\n").tail
    assert '<math display="block">' in tail and "nbs-math-open" not in tail
    open_env = IncrementalRenderer().update("\\begin{align}\na &= b").tail
    assert open_env == ('<div class="nbs-math nbs-math-open" data-display="block">'
                        "\\begin{align}\na &amp;= b</div>\n")


def test_healing_leaves_tex_in_a_closed_formula_alone() -> None:
    tail = IncrementalRenderer().update("$a_{i}$ and $b_{j}$ then **bold").tail
    assert "<strong>bold</strong>" in tail and "_" not in re.sub(r"<[^>]+>", "", tail)


# Failed before: a "$$" opened inside a list item takes the lines after the list once it
# closes, but the list was committed when the next top-level line came ("<li>$$\nx</li>").
EARLY = [
    "- $$\n  x\n\ny\n$$\n",
    "- a\n\n  $$\n  x\n\ny\n$$\n\nafter\n",
    "1. $$\nx\n\ny\n$$\n",
    "text\n\\begin{align}\na\n\nb\n\\end{align}\n\nafter\n",
    "> quote\n\\begin{align}\nx\n\\end{align}\n",
    "Setext\n\\begin{align}\n---\n\\end{align}\n",
    "$$\nx\n\ny\n$$\n\nafter\n",
]


@pytest.mark.parametrize("doc", EARLY)
def test_an_open_formula_is_never_committed_early(doc: str) -> None:
    assert_commits_are_final(one_by_one(doc))
    for seed in range(5):
        assert_commits_are_final(random_pieces(doc, seed))


MATH_FIXTURES = [
    "# Gaussian integral\n\nWe have $\\int_0^\\infty e^{-x^2}dx = \\frac{\\sqrt\\pi}{2}$, so\n\n"
    "$$\n\\sum_{i=1}^n i = \\frac{n(n+1)}{2}\n$$\n\nand \\(a^2+b^2=c^2\\) costs $5 and $10.\n",
    "\\[\n\\begin{aligned}\nf(x) &= x^2 \\\\\n&= x \\cdot x\n\\end{aligned}\n\\]\n\n"
    "- item $x_1$\n- $$\n  y\n  $$\n\n| a | $b$ |\n|---|---|\n| $\\alpha$ | 2 |\n",
    "Matrix:\n\\begin{pmatrix}\n1 & 2\\\\\n3 & 4\n\\end{pmatrix}\n\nBad: $\\frac{$ ok.\n\n"
    "$$x$$ inline double and $$\n\\mathbb{R}\n\n\\mathcal{L}\n$$\n",
]

MATH_LINES = [
    "$$", "$$ x $$", "\\[", "\\]", "\\begin{align}", "\\end{align}", "a &= b \\\\", "$x$ and $y$",
    "$5 and $10", "- $$", "  $$", "- item", "1. $x$", "> $$", "x", "", "\\(a\\)", "---", "===",
    "```", "    $$", "$\\frac{a}{b}$", "[ref]: /url", "see [ref]",
]


@pytest.mark.parametrize("doc", MATH_FIXTURES)
def test_math_fixtures_stream_to_the_whole_render(doc: str) -> None:
    assert_commits_are_final(one_by_one(doc))
    for seed in range(10):
        assert_commits_are_final(random_pieces(doc, seed))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.sampled_from(MATH_LINES), min_size=1, max_size=12),
       end=st.sampled_from(["", "\n", "\n\n"]), seed=st.integers(0, 10**6))
def test_documents_of_math_lines_at_random_chunkings(lines: list[str], end: str,
                                                      seed: int) -> None:
    assert_commits_are_final(random_pieces("\n".join(lines) + end, seed))


def test_the_real_page_ends_at_the_whole_render_of_math() -> None:
    """Kernel-made patches of the math fixtures at random chunkings, applied by the real
    ``widget.js`` in node: the page's sanitiser keeps the MathML, and the page ends at the
    whole render."""
    rng = random.Random(5)
    chunkings = [random_cuts(rng, doc) for doc in MATH_FIXTURES for _ in range(6)]
    built = [kernel_patches(chunks) for chunks in chunkings]
    for chunks, frames, (_, expected) in zip(chunkings, run_page([p for p, _ in built]),
                                              built, strict=True):
        assert all(frame["outcome"] == "applied" for frame in frames), chunks
        assert all(frame["parts"]["0"]["dom_equals_html"] for frame in frames), chunks
        assert frames[-1]["parts"]["0"]["html"] == expected[-1] == render("".join(chunks))


def test_a_saved_answer_stays_typeset() -> None:
    w = nbstream.stream(["Euler: $e^{i\\pi", "} + 1 = 0$\n\n$$\n\\frac", "{1}{2}\n$$\n"])
    assert w.wait(30)
    copy = static_copy("k", w.status, w.html)
    assert '<math display="inline"><mrow><msup><mi>e</mi>' in copy
    assert '<div class="nbs-math" data-display="block"><math display="block">' in copy


# --- late reference definitions: only the blocks they change ------------------------------

def test_a_late_definition_settles_only_the_blocks_that_use_it() -> None:
    doc = ("Intro [x] here.\n\nplain\n\n## Heading\n\nagain [x]\n\nlast\n\n"
           "[x]: https://example.com/x\n")
    builder, page = PatchBuilder(), {}
    for piece in random_pieces(doc, 3):
        apply_ops(page, builder.build([PartView(0, "text", 0, {}, False, 0, piece)]))
    before = list(page[0]["blocks"])
    ops = builder.build([PartView(0, "text", 0, {}, True, 0, "")], final=True)
    apply_ops(page, ops)
    (op,) = ops
    assert "reset" not in op and "append" not in op
    changed = [index for index, _ in op["settle"]]
    assert all("[x]" in before[i] for i in changed) and len(changed) == 2
    assert all(page[0]["blocks"][i] == before[i] for i in range(len(before)) if i not in changed)
    assert shown_html(page[0]) == render(doc)


USES = ["see [a]", "and [b][a]", "![img][a]", "plain", "- [a] in a list", "> [a] quoted",
        "$[a]$", "| [a] | b |\n|---|---|", "[a]: https://first.example", "# [a]"]


def test_late_definitions_settle_to_the_whole_render_in_the_real_page() -> None:
    """Documents using ``[a]`` before its definition, at random chunkings: the end never
    resets the page, and the real page ends at the whole render."""
    rng = random.Random(11)
    docs = ["\n\n".join(rng.choices(USES, k=rng.randint(1, 8))) + "\n\n[a]: https://e.com/a\n"
            for _ in range(60)]
    chunkings = [random_cuts(rng, doc) for doc in docs]
    built = [kernel_patches(chunks) for chunks in chunkings]
    for chunks, frames, (patches, _) in zip(chunkings, run_page([p for p, _ in built]), built,
                                            strict=True):
        assert not any(op.get("reset") for op in patches[-1]), chunks
        assert all(frame["outcome"] == "applied" for frame in frames), chunks
        assert frames[-1]["parts"]["0"]["html"] == render("".join(chunks))
    assert sum(any("settle" in op for op in patches[-1]) for patches, _ in built) >= 20
