"""Healing changes how the tail looks, never which blocks are committed.

At every flush the committed blocks must be a prefix of the whole render of the final text
(they are never taken back), and the stream must end exactly at the whole render: over the
CommonMark spec's examples (an outside oracle) at 1-character and random chunkings, over
documents made of the line shapes whose meaning depends on what follows (tables, setext
underlines, list markers, fences, math), and over the cases outside testing found.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbstream
from nbstream._incremental import IncrementalRenderer
from nbstream._markdown import render

SPEC = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "commonmark-spec.json"


def spec_examples() -> list[str]:
    if not SPEC.is_file():
        pytest.fail(f"the CommonMark spec corpus is missing: {SPEC}")
    return [example["markdown"] for example in json.loads(SPEC.read_text(encoding="utf-8"))]


def assert_commits_are_final(pieces: list[str]) -> None:
    """Stream ``pieces`` through the renderer; committed blocks always prefix the end."""
    whole = render("".join(pieces))
    renderer = IncrementalRenderer()
    for piece in pieces:
        renderer.append(piece)
        renderer.render()
        committed = "".join(renderer.blocks)
        assert whole.startswith(committed), (pieces, committed)
    settled = renderer.settle()
    if not renderer.has_references:  # the end then needs no whole render: it must be exact
        assert "".join(renderer.blocks) + settled.tail == whole, pieces
    assert renderer.finish() == whole


def one_by_one(text: str) -> list[str]:
    return list(text)


def random_pieces(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces, i = [], 0
    while i < len(text):
        step = rng.randint(1, 12)
        pieces.append(text[i : i + step])
        i += step
    return pieces


def test_commonmark_spec_examples_streamed_one_character_at_a_time() -> None:
    for example in spec_examples():
        assert_commits_are_final(one_by_one(example))


def test_commonmark_spec_examples_streamed_in_random_pieces() -> None:
    for seed, example in enumerate(spec_examples()):
        assert_commits_are_final(random_pieces(example, seed))


FOUND = [
    "foo\n| a | b |\n| - |\n",  # a healed delimiter row must not let a table split a paragraph
    "foo\n| a | b |\n| - | - |\n| 1 | 2 |\n\nafter\n",
    "    | a | b",  # healing added a line to an indented code block
    "Text\n\n    | a | b",
    "foo\n#x\n",  # a lone "#" is a heading only until the next character
    "$$\nx\n\ny\n$$\n\nafter\n",  # an open math block takes the blank line and what follows
    "\\[\na\n\nb\n\\]\n",
    "text\n- \nmore\n",
    "# Title\nfirst para\n===\n",
    "```\ncode\n``\n```\nafter\n",
    "> quote\nlazy\n\n> other\n",
]


@pytest.mark.parametrize("doc", FOUND)
def test_documents_outside_testing_found(doc: str) -> None:
    assert_commits_are_final(one_by_one(doc))
    for seed in range(5):
        assert_commits_are_final(random_pieces(doc, seed))


LINES = [
    "| a | b |", "| - | - |", "|---|---|", "| - |", "| 1 | 2 |", "    | x | y", "foo", "bar baz",
    "===", "---", "- item", "-", "1. one", "2)", "  continued", "    indented", "> quote",
    "```", "```py", "~~~", "$$", "$$ x $$", "\\[", "\\]", "# head", "#", "***", "[ref]: /url",
    "see [ref]", "**bold", "text**", "`code", "",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.sampled_from(LINES), min_size=1, max_size=14),
       end=st.sampled_from(["", "\n", "\n\n"]), seed=st.integers(0, 10**6))
def test_documents_of_ambiguous_lines(lines: list[str], end: str, seed: int) -> None:
    doc = "\n".join(lines) + end
    assert_commits_are_final(random_pieces(doc, seed))


@pytest.mark.parametrize("pieces", [["    | a | b"], ["Text\n\n", "    | a | b"]])
def test_a_stream_whose_healing_adds_lines_ends_done_with_its_answer(pieces: list[str]) -> None:
    w = nbstream.stream(pieces)
    assert w.wait(30)
    assert w.status == "done", w.error
    assert w.html == render("".join(pieces))
    assert "| a | b" in w.html


def test_a_failure_inside_the_final_flush_keeps_the_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering that fails at the very end: ``error`` (never ``done``), and the saved state
    and late views still show the text, as escaped plain text."""
    import zlib

    def broken(self: IncrementalRenderer) -> None:
        raise ValueError("renderer bug")

    monkeypatch.setattr(IncrementalRenderer, "settle", broken)
    w = nbstream.stream(["Text <b>one</b>\n\n", "two 🎉"])
    assert w.wait(30)
    assert w.status == "error"
    assert "renderer bug" in (w.error or "")
    assert w.text == "Text <b>one</b>\n\ntwo 🎉"
    saved = json.loads(zlib.decompress(w._snapshot))
    shown = "".join("".join(p.get("blocks", [])) for p in saved["parts"])
    assert "Text &lt;b&gt;one&lt;/b&gt;" in shown and "two 🎉" in shown
    assert saved["status"] == "error"
    assert "two 🎉" in w.html and "<b>" not in w.html
