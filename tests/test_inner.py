"""Commits inside the open block (``nbstream/_inner.py``): table rows, list items and pieces
of a long paragraph are committed once, exactly, and the stream ends at the whole render.

Over generated tables (alignment, escaped pipes, code spans, emoji and CJK cells, rows short
or long of cells), nested tight and loose lists with lazy continuation lines and task items,
and long paragraphs full of emphasis, code, links, ``_snake_case_`` and ``$5``, with endings
that turn them into headings or split a table off them, at random chunkings.
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inner_shapes import (
    fences,
    lists,
    paragraphs,
    pieces_of,
    quotes,
    stream_checked,
    tables,
)
from test_streaming_property import random_pieces, spec_examples

from nbstream._incremental import IncrementalRenderer
from nbstream._inner import inert
from nbstream._markdown import render

SIZES = st.lists(st.integers(1, 90), min_size=1, max_size=12)
EXAMPLES = int(os.environ.get("INNER_EXAMPLES", "50"))  # more for a deeper search
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=tables(), sizes=SIZES)
def test_tables_commit_rows_exactly(text: str, sizes: list[int]) -> None:
    outcome = stream_checked(text, pieces_of(text, sizes))
    assert not outcome.dropped, outcome  # a table's complete rows never change


@SETTINGS
@given(text=lists(), sizes=SIZES)
def test_lists_commit_items_exactly(text: str, sizes: list[int]) -> None:
    stream_checked(text, pieces_of(text, sizes))


@SETTINGS
@given(text=paragraphs(), sizes=SIZES)
def test_long_paragraphs_commit_pieces_exactly(text: str, sizes: list[int]) -> None:
    stream_checked(text, pieces_of(text, sizes))


@SETTINGS
@given(text=fences(), sizes=SIZES)
def test_code_fences_commit_lines_exactly(text: str, sizes: list[int]) -> None:
    stream_checked(text, pieces_of(text, sizes))


@SETTINGS
@given(text=quotes(), sizes=SIZES)
def test_block_quotes_commit_child_blocks_exactly(text: str, sizes: list[int]) -> None:
    stream_checked(text, pieces_of(text, sizes))


def test_each_shape_opens_a_block_and_commits_inside_it() -> None:
    table = "| a | b |\n|---|--:|\n" + "".join(f"| {i} | **{i}** |\n" for i in range(300))
    items = "".join(f"- item {i} with `code`\n" for i in range(300))
    paragraph = " ".join(f"word{i} **b** `c`" for i in range(600)) + "\n"
    code = "```python\n" + "".join(f'def f{i}(x):\n    """Doc\n\n    more.\n    """\n'
                                    f"    return x + {i}  # note\n\n" for i in range(100))
    quote = "".join(f"> Paragraph {i} with *it*\n> and more.\n>\n> - a\n> - b {i}\n>\n"
                    for i in range(100))
    for text in (table, items, paragraph, code, quote):
        outcome = stream_checked(text, pieces_of(text, [7]))
        assert outcome.started == 1 and outcome.children > 20 and not outcome.dropped, outcome


def test_code_a_later_comment_changes_is_dropped_at_its_end() -> None:
    """JavaScript reads ``/*`` as an error token until ``*/`` arrives, then every line since
    as a comment: lines are not cut after it for 100 lines, then they are, as code, so the
    end (checked) drops the block and commits it whole; Python's docstrings are never cut
    inside."""
    body = "let a = 1;\n/* start\n" + "".join(f"f({i});\n" for i in range(160)) + "*/\n"
    text = "```js\n" + body + "```\n\nafter\n"
    outcome = stream_checked(text, pieces_of(text, [7]))  # past 100 lines, cut as code
    assert outcome.children > 20 and len(outcome.dropped) == 1, outcome
    short = "```go\n" + "".join(f"/* a\n   b {i}\n*/\nf({i})\n" for i in range(40)) + "```\nx\n"
    outcome = stream_checked(short, pieces_of(short, [7]))  # cut once the comments close
    assert outcome.children > 20 and not outcome.dropped, outcome
    ending = text[: text.index("\nafter")]  # the stream ends with the block
    stream_checked(ending, pieces_of(ending, [7]))
    doc = "```python\n" + "".join(f'x{i} = 1\n"""\n\n"abc"\n"""\n' for i in range(40))
    outcome = stream_checked(doc, pieces_of(doc, [5]))
    assert outcome.children > 20 and not outcome.dropped, outcome


def test_a_list_that_turns_loose_is_reset_once() -> None:
    text = "".join(f"- item {i}\n" for i in range(40)) + "\n- loose now\n- and more\n"
    outcome = stream_checked(text, pieces_of(text, [5]))
    assert len(outcome.dropped) == 1 and outcome.started == 2, outcome


def test_a_loose_list_whose_items_are_indented_stays_one_list() -> None:
    """Found by the search: the dummy item that keeps a loose list's virtual text loose must
    be indented as the items, or an indented item becomes its child."""
    text = ("Intro\n\n   4) fox fox\n\n   5) *it* `code`\n   6) 5 * 3 word\nlazy 5 * 3\n"
            "4) $5 fox\n5) $5\n6) the *it*\n10) **bold** `code`\n    more text\n"
            "11) fox the $x$\n\n# Next\n")
    for size in (1, 7, 13):
        outcome = stream_checked(text, pieces_of(text, [size]))
        assert outcome.started and not outcome.dropped, outcome


def test_a_paragraph_that_becomes_a_heading_is_reset() -> None:
    text = " ".join(["word"] * 300) + "\n===\n\nafter\n"
    outcome = stream_checked(text, pieces_of(text, [6]))
    assert outcome.dropped and outcome.ended_fit == 0, outcome


def test_a_frame_costs_the_uncommitted_text_not_the_block() -> None:
    """The 200th row costs about what the 20th did (a whole re-parse would cost ten times more)."""
    head = "| a | b | c |\n|---|---|---|\n"
    renderer = IncrementalRenderer()
    renderer.append(head)
    costs = []
    for i in range(2000):
        renderer.append(f"| {i} | item **{i}** | `code {i}` |\n")
        start = time.perf_counter()
        renderer.render()
        costs.append(time.perf_counter() - start)
    early, late = sorted(costs[100:300])[100], sorted(costs[1700:1900])[100]
    assert late < 3 * early, (early, late)
    assert "".join(renderer.blocks) + renderer.raw_tail_html == render(
        head + "".join(f"| {i} | item **{i}** | `code {i}` |\n" for i in range(2000)))


def test_only_inert_markup_lets_a_paragraph_be_cut() -> None:
    assert inert("plain words, 5 * 3 and snake_case and a ~ b ")
    for text in ("*open ", "a_ ", "`x ", "[x ", "cost $5 ", "a\\b ", "~~s "):
        assert not inert(text), text


def test_commonmark_spec_examples_with_blocks_open_at_any_size() -> None:
    """The spec's examples (an outside oracle) streamed with blocks opening however small:
    every inner commit ends exact."""
    for seed, example in enumerate(spec_examples()):
        stream_checked(example, random_pieces(example, seed))
        stream_checked(example, pieces_of(example, [1]))


def test_a_heading_with_a_pipe_is_not_committed_before_a_delimiter_row_may_follow() -> None:
    """Found by the search: ``# 🎉 | b`` after a list's lazy lines was committed as a heading
    once a line began after it, but ``|---|---|`` makes it a table's header (the table rule
    comes before the heading's)."""
    text = ("Intro.\n\nx_ ~~s~~ $5 > a<b> *it* # fox https://example.com/a quick 漢字 *it* "
            "[link](https://e.com) ~ ~ quick **open ~ quick https://example.com/a 漢字 \n"
            "1. _snake_case_ snake_case_word ~~s~~ ~ `tick `code` https://example.com/a\n"
            "&amp; $x$ snake_case_word \n`code` \n$5 fox quick a<b> \n"
            "$5 [link](https://e.com) a<b> ~ > x_ a<b> $x$ # close** fox $x$ $5 [ref] [ref]\n"
            "**open # ~ \n[link](https://e.com) $5 `tick [ref] https://example.com/a a\\*b "
            "~~s~~ 5 * 3 _snake_case_  \na\\*b close** 🎉 $5 `tick quick x_ fox 1. a\\*b &amp; "
            "fox \n`code` [link](https://e.com) quick - a\\*b - 5 * 3 `tick **open `code` 1. "
            "_snake_case_ 5 * 3 &amp; 漢字 \n# 🎉 | b\n|---|---|\n| 1 | 2 |\n")
    stream_checked(text, pieces_of(text, [5, 18, 84, 89, 18, 40, 10, 52, 46, 6]))
    for short in ("# x | b\n|---|---|\n| 1 | 2 |\n", "para\n# x | b\n  |:-|--|\n",
                  "1. item\nlazy\n# x | b\n|---|---|\n| 1 | 2 |\n"):
        for size in (1, 2, 3, 9):
            stream_checked(short, pieces_of(short, [size]))
    for plain in ("# x | b\nnext\n", "# x b\n|---|\n"):  # still committed at once
        renderer = IncrementalRenderer()
        renderer.append(plain[: plain.index("\n") + 2])
        assert renderer.render().appended == ["<h1>" + plain[2 : plain.index("\n")] + "</h1>\n"]
