"""Open blocks on the real page: ``js/src/widget.js`` (with ``inner_tail.js``) in node (jsdom)
applies the patches a real ``PatchBuilder`` makes for tables, lists and long paragraphs.

After every patch the page shows exactly what the kernel says it does, and in the end the
whole render; committed rows, items and paragraph pieces are the same DOM nodes frame after
frame (appended, never re-created), and the ended block's container is moved into the
committed blocks; a view that joins late from a snapshot builds the same structure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inner_shapes import SMALL, fences, lists, paragraphs, pieces_of, quotes, tables

from nbstream._markdown import render
from nbstream._patches import PartView, PatchBuilder

JS = Path(__file__).resolve().parent.parent / "js"
HARNESS = JS / "tests" / "inner_patches.mjs"


def run_page(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "jsdom").is_dir():
        pytest.fail("needs node and js/node_modules: run `npm install` in js/ (tests/run.sh does)")
    done = subprocess.run([node, str(HARNESS)], input=json.dumps(cases).encode(),
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def kernel_case(chunks: list[str], join: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """The patches a PatchBuilder makes (one flush per chunk, then the final one), what the
    kernel says the page shows after each, and its snapshot after patch ``join``."""
    builder = PatchBuilder(inner=SMALL)
    case: dict[str, Any] = {"patches": []}
    expected = []
    for i, chunk in enumerate([*chunks, ""]):
        final = i == len(chunks)
        view = PartView(0, "text", 0, {}, final, 0, chunk)
        case["patches"].append(builder.build([view], final=final))
        expected.append(builder.html_of(0))
        if i == join:
            case.update(join=i, snapshot={"parts": builder.snapshot_parts([view])})
    return case, expected


def check(chunks: list[str], frames: list[dict[str, Any]], expected: list[str]) -> int:
    """Every frame shows the kernel's HTML; committed children keep their nodes. Returns
    how many frames had an open block."""
    opened = 0
    previous: dict[str, Any] | None = None
    for frame, want in zip(frames, expected, strict=True):
        assert frame["outcome"] == "applied", chunks
        part = frame["part"]
        assert part["html"] == want, chunks
        assert part["dom_equals_html"], chunks
        if part["container"] is not None:
            opened += 1
        if previous and previous["container"] is not None and (
                part["container"] == previous["container"]):  # the same open block
            n = len(previous["committed"])
            assert part["committed"][:n] == previous["committed"], chunks
        previous = part
    assert frames[-1]["part"]["html"] == render("".join(chunks))
    return opened


def test_a_big_table_list_paragraph_and_quote_keep_their_committed_nodes() -> None:
    table = "Data:\n\n| # | name |\n|--:|---|\n" + "".join(
        f"| {i} | item **{i}** 🎉 |\n" for i in range(200)) + "\nThat's all.\n"
    items = "A list:\n\n" + "".join(f"- item {i} `x`\n" + ("  - nested\n" if i % 7 == 0 else "")
                                    for i in range(200)) + "\nDone.\n"
    paragraph = " ".join(f"word{i} **b** 漢字" for i in range(400)) + "\n\nAfter.\n"
    quote = "Someone wrote:\n\n" + "".join(
        f"> Part {i}: *it* and `x`\n> goes on.\n>\n" + ("> - a\n> - b\n>\n" if i % 5 == 0 else "")
        for i in range(150)) + "\nAfter.\n"
    texts = [table, items, paragraph, quote]
    built = [kernel_case(pieces_of(text, [9, 31, 4]), join=40) for text in texts]
    results = run_page([case for case, _ in built])
    for text, (_, expected), result in zip(texts, built, results, strict=True):
        opened = check(pieces_of(text, [9, 31, 4]), result["frames"], expected)
        assert opened > 20
        # the ended block moved into the committed blocks: its container node is kept
        containers = {f["part"]["container"] for f in result["frames"]} - {None}
        last_blocks = set(result["frames"][-1]["part"]["block_nodes"])
        assert containers & last_blocks, "the open block was re-created at its end"
        # at the frame clock's pace (about 220 characters a frame), the wire carries each
        # committed child once: under twice the final HTML
        paced, _ = kernel_case(pieces_of(text, [220]))
        sent = sum(len(json.dumps(ops, ensure_ascii=False)) for ops in paced["patches"])
        assert sent < 2 * len(render(text)), (sent, len(render(text)))
        joined = result["joined"]
        assert all(outcome == "applied" for outcome in joined["outcomes"])
        assert joined["part"]["html"] == render(text)
        assert joined["part"]["dom_equals_html"]


def _module(n: int) -> str:
    return "".join(
        f'\nclass Store{i}:\n    """Keeps records.\n\n    In memory.\n    """\n\n'
        f"    def get(self, key: str) -> dict | None:\n        # a copy\n"
        f'        return self._items.get(key, {{"n": {i}, "s": "a < b & c"}})\n'
        for i in range(n))


def test_long_code_fences_keep_their_committed_lines() -> None:
    """Python (committed by line), JavaScript with a ``/*`` comment that turns earlier lines
    into a comment once closed (checked at the end: dropped, committed whole), an unknown
    language and none (escaped text)."""
    texts = [
        "Code:\n\n```python\n" + _module(40) + "```\n\nDone.\n",
        "```js\nlet a = 1;\n/* start\n" + "".join(f"f({i});\nx = `t ${{{i}}}`;\n"
                                                for i in range(80)) + "*/\n```\n",
        "~~~foo\n" + "".join(f"<b>{i}</b> & x\n" for i in range(150)) + "~~~\n",
        "```\n" + "".join(f"    line {i} `x`\n" for i in range(150)) + "```\n\nAfter.\n",
    ]
    built = [kernel_case(pieces_of(text, [9, 31, 4]), join=40) for text in texts]
    results = run_page([case for case, _ in built])
    for text, (_, expected), result in zip(texts, built, results, strict=True):
        opened = check(pieces_of(text, [9, 31, 4]), result["frames"], expected)
        assert opened > 20, text[:20]
        joined = result["joined"]
        assert joined["part"]["html"] == render(text) and joined["part"]["dom_equals_html"]
        if text.startswith("```js"):
            continue  # its lines were sent as code, larger than the final comment
        paced, _ = kernel_case(pieces_of(text, [220]))
        sent = sum(len(json.dumps(ops, ensure_ascii=False)) for ops in paced["patches"])
        assert sent < 2 * len(render(text)), (sent, len(render(text)))


def test_a_late_view_builds_the_open_block_from_the_snapshot() -> None:
    text = "| a | b |\n|---|---|\n" + "".join(f"| {i} | {i * 2} |\n" for i in range(60))
    chunks = pieces_of(text, [11])
    case, expected = kernel_case(chunks, join=50)
    entry = case["snapshot"]["parts"][0]
    assert entry["inner"]["children"], entry  # the snapshot carries the open block
    assert entry["tail"] == expected[50][: len(entry["tail"])] or entry["tail"] in expected[50]
    result = run_page([case])[0]
    assert result["joined"]["part"]["html"] == expected[-1] == render(text)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.one_of(tables(), lists(), paragraphs(), fences(), quotes()),
                      min_size=1, max_size=3),
       sizes=st.lists(st.integers(1, 120), min_size=1, max_size=8))
def test_generated_shapes_on_the_page(texts: list[str], sizes: list[int]) -> None:
    text = "\n\n".join(texts)
    chunks = pieces_of(text, sizes)
    case, expected = kernel_case(chunks, join=len(chunks) // 2)
    result = run_page([case])[0]
    check(chunks, result["frames"], expected)
    assert result["joined"]["part"]["html"] == render(text)
