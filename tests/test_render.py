"""The incremental renderer: exactness invariant, healing, features, and untrusted output."""

from __future__ import annotations

import html.parser
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_corpus import VARIED, XSS_PAYLOADS, corpus_document

from nbstream._heal import heal
from nbstream._incremental import IncrementalRenderer
from nbstream._markdown import render
from nbstream._math import MATH_ATTRIBUTES, MATH_ELEMENTS

DOCUMENT = corpus_document()


def chunkings(text: str) -> st.SearchStrategy[list[str]]:
    """Random splits of ``text`` into consecutive chunks (sizes 1..80)."""

    @st.composite
    def split(draw: st.DrawFn) -> list[str]:
        pieces, i = [], 0
        while i < len(text):
            size = draw(st.integers(min_value=1, max_value=80))
            pieces.append(text[i : i + size])
            i += size
        return pieces

    return split()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=chunkings(DOCUMENT))
def test_blocks_plus_raw_tail_equal_a_whole_render_at_every_flush(pieces: list[str]) -> None:
    renderer = IncrementalRenderer()
    text = ""
    committed_before: list[str] = []
    for piece in pieces:
        renderer.append(piece)
        text += piece
        update = renderer.render()
        assert not update.reset
        assert renderer.blocks[: len(committed_before)] == committed_before, "a block changed"
        committed_before = list(renderer.blocks)
        assert "".join(renderer.blocks) + renderer.raw_tail_html == render(text)
    assert renderer.finish() == render(DOCUMENT)


@settings(max_examples=40, deadline=None)
@given(doc=st.sampled_from(VARIED), data=st.data())
def test_each_document_at_every_chunking(doc: str, data: st.DataObject) -> None:
    pieces = data.draw(chunkings(doc))
    renderer = IncrementalRenderer()
    for i, piece in enumerate(pieces):
        renderer.append(piece)
        renderer.render()
        assert renderer.html == render("".join(pieces[: i + 1]))
    assert renderer.finish() == render(doc)


def test_blocks_commit_as_soon_as_the_next_block_starts() -> None:
    renderer = IncrementalRenderer()
    renderer.append("# Title\n\nfirst para")
    update = renderer.render()
    assert update.appended == ["<h1>Title</h1>\n"]
    renderer.append("graph\n\n- item")
    update = renderer.render()
    assert update.appended == ["<p>first paragraph</p>\n"]
    assert "<li>item</li>" in update.tail


def test_a_text_that_is_not_an_extension_resets() -> None:
    renderer = IncrementalRenderer()
    renderer.update("# One\n\ntwo")
    update = renderer.update("# Other\n\nthree")
    assert update.reset
    assert renderer.html == render("# Other\n\nthree")


def test_reference_definitions_are_settled_by_the_final_render() -> None:
    text = "See [the docs][d].\n\nMore text.\n\n[d]: https://example.com/docs\n"
    renderer = IncrementalRenderer()
    for i in range(1, len(text) + 1):
        renderer.update(text[:i])
    assert renderer.finish() == render(text)
    assert 'href="https://example.com/docs"' in renderer.finish()


# --- healing -----------------------------------------------------------------------------

HEALED = [
    ("Hello **wor", "<strong>wor</strong>"),
    ("Hello __wor", "<strong>wor</strong>"),
    ("an *ital", "<em>ital</em>"),
    ("an _ital", "<em>ital</em>"),
    ("some ~~stru", "<s>stru</s>"),
    ("inline `co", "<code>co</code>"),
    ("a [link](https://exa", '<a href="https://exa"'),
    ("```python\nx = 1\ny", '<div class="nbs-code" data-lang="python">'),
    ("| a | b |\n|--", "<table>"),
    ("| a | b |\n|---|---|\n| 1 | 2", "<td>2</td>"),
    ("| a | b |", "<th>a</th>"),
    ("- item **bo", "<li>item <strong>bo</strong></li>"),
]


@pytest.mark.parametrize(("tail", "expected"), HEALED)
def test_the_open_tail_renders_as_if_closed(tail: str, expected: str) -> None:
    renderer = IncrementalRenderer()
    renderer.append(tail)
    update = renderer.render()
    assert expected in update.tail
    assert renderer.text == tail, "healing must never change the text"


RAW_MARKERS = [
    ("Paragraph\n-", "<h2>"),
    ("Paragraph\n=", "<h1>"),
    ("Paragraph\n\n#", "<h1></h1>"),
    ("Paragraph\n\n-", "<li></li>"),
    ("Paragraph\n\n1.", "<ol>"),
    ("Paragraph\n\n```pyth", "pyth"),
    ("Hello **", "**"),
    ("```python\ncode\n``", "``"),
    ("[unfinished link te", "["),
]


@pytest.mark.parametrize(("tail", "flash"), RAW_MARKERS)
def test_half_typed_markers_do_not_flash(tail: str, flash: str) -> None:
    renderer = IncrementalRenderer()
    renderer.append(tail)
    assert flash not in renderer.render().tail


def test_healing_touches_only_the_last_line() -> None:
    tail = "**a** line\n**bold still open"
    healed = heal(tail)
    assert healed.startswith("**a** line\n")
    assert healed.endswith("**")


def test_every_prefix_of_the_corpus_renders_without_raw_emphasis_markers() -> None:
    text = "Some **bold words** and *italic words* and `code spans` here.\n"
    renderer = IncrementalRenderer()
    for i in range(1, len(text) + 1):
        renderer.update(text[:i])
        visible = re.sub(r"<[^>]+>", "", renderer.tail_html)
        assert "*" not in visible and "`" not in visible, (text[:i], renderer.tail_html)


# --- features ----------------------------------------------------------------------------


def test_features_people_expect_from_chat_uis() -> None:
    out = render(corpus_document())
    assert "<table>" in out and 'style="text-align:center"' in out
    assert "<s>struck</s>" in out
    assert 'class="task-list-item-checkbox" checked="checked"' in out
    assert '<a href="http://www.example.com"' in out
    assert 'rel="noopener noreferrer nofollow"' in out
    assert '<span class="nbs-lang">python</span>' in out
    assert '<button class="nbs-copy"' in out
    assert '<span class="k">def</span>' in out, "Pygments classes, not inline styles"
    assert "style=\"color" not in out
    assert ('<span class="nbs-math" data-display="inline"><math display="inline"><mrow><msup>'
            '<mi>x</mi><mn>2</mn></msup><mo>+</mo><msup><mi>y</mi><mn>2</mn></msup></mrow></math>'
            '</span>') in out
    assert ('<div class="nbs-math" data-display="block"><math display="block"><mrow><msubsup>'
            '<mo>∫</mo><mn>0</mn><mn>1</mn></msubsup>') in out
    assert ('<span class="nbs-math" data-display="inline"><math display="inline"><mrow><mi>a</mi>'
            '</mrow></math></span>') in out


def test_open_code_fences_are_highlighted_while_streaming() -> None:
    renderer = IncrementalRenderer()
    renderer.append("```python\ndef f(x):\n    return x")
    tail = renderer.render().tail
    assert '<span class="k">def</span>' in tail
    renderer.append("\n```\n")
    closed = renderer.render().tail
    assert '<span class="k">def</span>' in closed


# --- untrusted output --------------------------------------------------------------------

_DANGEROUS_TAGS = {"script", "iframe", "svg", "style", "object", "embed", "form",
                   "details", "base", "meta", "link"}


class _Audit(html.parser.HTMLParser):
    """Unsafe markup: dangerous elements, handlers, link schemes; and in ``<math>`` (only the
    renderer's, inside its ``nbs-math`` element) anything off the MathML allow-list."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.math = 0
        self.wrapper = False

    def handle_endtag(self, tag: str) -> None:
        self.math -= tag == "math"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "math":
            if not self.wrapper or self.math:
                self.problems.append("<math> outside the renderer's nbs-math element")
            self.math += 1
        self.wrapper = tag in ("span", "div") and "nbs-math" in (dict(attrs).get("class") or "")
        if self.math:
            if tag not in MATH_ELEMENTS:
                self.problems.append(f"<{tag}> in <math>")
            self.problems += [f"{tag} {name}= in <math>" for name, value in attrs
                              if name not in MATH_ATTRIBUTES]
        if tag in _DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name in ("href", "src") and value is not None:
                scheme = re.sub(r"[\x00-\x20]", "", value).lower()
                image = tag == "img" and re.match(r"data:image/(png|gif|jpeg|webp);", scheme)
                if not (scheme.startswith(("http:", "https:", "mailto:", "#")) or image):
                    self.problems.append(f"{tag} {name}={value!r}")


def audit(html_text: str) -> list[str]:
    """Everything unsafe in ``html_text`` (elements, handlers, link schemes)."""
    parser = _Audit()
    parser.feed(html_text)
    parser.close()
    return parser.problems


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_render_inert(payload: str) -> None:
    out = render(f"Before\n\n{payload}\n\nafter")
    assert audit(out) == [], out


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_split_across_chunks_stay_inert_at_every_flush(payload: str) -> None:
    text = f"Intro text\n\n{payload}\n"
    for cut in range(1, len(text)):
        renderer = IncrementalRenderer()
        renderer.append(text[:cut])
        first = renderer.render()
        renderer.append(text[cut:])
        second = renderer.render()
        shown = "".join(first.appended + second.appended) + first.tail + second.tail
        assert audit(shown) == [], (cut, shown)
    assert audit(IncrementalRenderer().update(text).tail) == []
