# ruff: noqa: RUF001  (the ambiguous characters are the point: text real models write)
"""Kernel-made patches applied by the page's own code: ``js/src/widget.js`` in node (jsdom).

A model of the page written in Python shares Python's assumptions (strings count code points;
JavaScript's count UTF-16 units), which is how an offset bug that let model output run script
hid from the tests. Here the real ``StreamView`` applies the patches that ``PatchBuilder``
and a real ``StreamWidget`` make, over text real models write (emoji, ZWJ sequences, flags,
combining marks, RTL, CJK, math letters, lone surrogates, markup-like text), and what the page
holds after every patch must equal what the kernel says it shows, and in the end ``w.html``.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from markdown_corpus import VARIED, XSS_PAYLOADS

import nbstream
from nbstream._markdown import render
from nbstream._patches import PartView, PatchBuilder

JS = Path(__file__).resolve().parent.parent / "js"
HARNESS = JS / "tests" / "apply_patches.mjs"

# Pieces of text real answers contain, chosen for what they do to string offsets and escaping.
UNICODE = [
    "👌", "🎉", "👩‍👩‍👧‍👦", "🇫🇷", "🏳️‍🌈", "𝛼", "𝔘𝔫𝔦", "é", "e\u0301", "ñ", "\u0915\u094d\u0937",
    "مرحبا بالعالم", "שלום", "\u202etxt", "漢字かなカナ", "한국어", "\ud800", "\udfff", "\u200b",
    "\ufeff", "\u00a0", "\U0010ffff",
]
MARKUP = [
    "**", "*", "_", "`", "```", "~~", "[", "](", ")", "|", " | ", "-", "1. ", "# ", "> ", "$",
    "$$", "\\", "<", ">", "&", '"', "'", "<img src=x onerror=alert(1)>", " onmouseover=alert(1) ",
    "\n", "\n\n", "\n- ", "\n| a | b |\n|---|---|\n", "\n```py\n", "http://x.io/?a=b&c=d",
]
WORDS = ["word", "text ", "the answer", "x", "Done", "!", "Next", " a", "b"]


def random_document(rng: random.Random) -> str:
    pool = [UNICODE, MARKUP, WORDS]
    return "".join(rng.choice(rng.choice(pool)) for _ in range(rng.randint(5, 60)))


def random_cuts(rng: random.Random, text: str) -> list[str]:
    if len(text) < 2:
        return [text]
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(1, 25))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def as_page_string(text: str) -> str:
    """``text`` as the page's string reads back into Python (JSON joins a lone high surrogate
    and a lone low one that follows it into one character, as JavaScript does)."""
    return json.loads(json.dumps(text))


def run_page(cases: list[list[list[dict[str, Any]]]]) -> list[list[dict[str, Any]]]:
    """Apply each case's patches (a list of op lists) with the real widget.js; the page's
    state after every patch."""
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "jsdom").is_dir():
        pytest.fail("needs node and js/node_modules: run `npm install` in js/ (tests/run.sh does)")
    payload = json.dumps([{"patches": patches} for patches in cases])
    done = subprocess.run([node, str(HARNESS)], input=payload.encode(), capture_output=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def kernel_patches(chunks: list[str], kind: str = "text") -> tuple[list[Any], list[str]]:
    """The ops a PatchBuilder makes for ``chunks`` (one flush per chunk, then the final one)
    and what the kernel says the page shows after each."""
    builder = PatchBuilder()
    patches, expected = [], []
    for i, chunk in enumerate([*chunks, ""]):
        final = i == len(chunks)
        view = PartView(0, kind, 0, {}, final, 0, chunk)
        patches.append(builder.build([view], final=final))
        expected.append(builder.html_of(0) if kind == "text" else "".join(chunks[: i + 1]))
    return patches, expected


FIXED = [
    ["👌 a", "b"],
    ["Done 🎉", "!\n\nNext"],
    ["🎉🎉🎉 &lt;b x=", "1&gt; <img src=x onerror=alert(1)>", " tail"],
    ["👩‍👩‍👧‍👦 **bo", "ld** 𝛼", "\n\n| a | b |\n|---|---|\n| 🇫🇷 | ", "x |\n\nend"],
    ["مرحبا 漢字 ", "e\u0301 `co", "de` done"],
]


def test_the_real_page_rebuilds_every_flush_over_random_unicode() -> None:
    rng = random.Random(20261201)
    chunkings = [*FIXED, *(random_cuts(rng, d) for d in VARIED + XSS_PAYLOADS)]
    chunkings += [random_cuts(rng, random_document(rng)) for _ in range(250)]
    built = [kernel_patches(chunks) for chunks in chunkings]
    results = run_page([patches for patches, _ in built])
    for chunks, (_, expected), frames in zip(chunkings, built, results, strict=True):
        for frame, want in zip(frames, expected, strict=True):
            assert frame["outcome"] == "applied", chunks
            page = frame["parts"]["0"]
            assert page["html"] == as_page_string(want), chunks
            assert page["dom_equals_html"], chunks
        assert frames[-1]["parts"]["0"]["html"] == as_page_string(render("".join(chunks)))


def test_plain_parts_splice_in_the_pages_unit() -> None:
    rng = random.Random(7)
    chunkings = [['{"q": "👌', ' a", "x": "🎉', '!"}'], *(
        random_cuts(rng, random_document(rng)) for _ in range(60))]
    built = [kernel_patches(chunks, kind="tool_call") for chunks in chunkings]
    results = run_page([patches for patches, _ in built])
    for chunks, (_, expected), frames in zip(chunkings, built, results, strict=True):
        for frame, want in zip(frames, expected, strict=True):
            assert frame["outcome"] == "applied", chunks
            assert frame["parts"]["0"]["text"] == as_page_string(want), chunks


def test_a_page_copy_that_differs_is_never_spliced() -> None:
    """A patch meant for another tail (here: the previous patch was lost) is refused."""
    patches, _ = kernel_patches(["👌 &lt;img src=x ", "onerror=alert(1)&gt; a", "b", "c"])
    lossy = [patches[0], patches[2], patches[3]]  # the page missed patch 2's change
    frames = run_page([[*lossy]])[0]
    assert frames[0]["outcome"] == "applied"
    assert frames[1]["outcome"] == "mismatch"
    assert "<img" not in frames[1]["parts"]["0"]["html"]


def test_a_streamed_emoji_answer_in_the_real_page_equals_w_html(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A real StreamWidget: every patch it sends, applied by widget.js, ends at ``w.html``."""
    sent: list[dict[str, Any]] = []
    arrived = threading.Condition()

    def capture(self: Any, message: dict[str, Any], buffers: Any = None) -> None:
        if buffers:
            import zlib

            message = {**message, "parts": json.loads(zlib.decompress(buffers[0]))}
        with arrived:
            sent.append(message)
            arrived.notify_all()

    monkeypatch.setattr(nbstream.StreamWidget, "send", capture)
    chunks = ["Done 🎉", "!\n\nNext 👌 a", "b **👩‍👩‍👧‍👦", " bold** 🇫🇷\n\n",
              "| a | 𝛼 |\n|---|---|\n", "| 漢字 | مرحبا |\n\n", "end ✅"]

    def source() -> Any:
        for chunk in chunks:
            with arrived:
                seen = len(sent)
            yield chunk
            with arrived:  # one flush per chunk: wait until the patch with it went out
                arrived.wait_for(lambda seen=seen: len(sent) > seen, timeout=10)

    w = nbstream.stream(source)
    assert w.wait(30)
    patches = [m.get("parts") or [] for m in sent if m.get("type") == "patch"]
    frames = run_page([patches])[0]
    assert all(frame["outcome"] == "applied" for frame in frames)
    assert w.status == "done"
    assert frames[-1]["parts"]["0"]["html"] == w.html == render(w.text)
    assert w.text == "".join(chunks)


def test_the_js_suites_fixture_of_kernel_patches_is_current() -> None:
    """``npm test`` applies ``js/tests/fixtures/kernel_patches.json``: it must be what the
    kernel makes today (regenerate with ``python tests/make_page_fixture.py``)."""
    from make_page_fixture import FIXTURE, fixture_text

    assert FIXTURE.read_text(encoding="utf-8") == fixture_text(), (
        "stale fixture: run `python tests/make_page_fixture.py`")


def test_a_late_reference_definition_replaces_only_the_blocks_it_changes() -> None:
    """The end of a stream whose last line defines ``[docs]``: the kernel's ``settle`` names
    only the blocks that use it, and the real page swaps just their nodes; every other
    committed node is the same DOM object as before the final patch."""
    doc = ("# Title\n\nSee [docs] for more.\n\nplain text here\n\n- a list\n- of items\n\n"
           "| a | b |\n|---|---|\n| 1 | 2 |\n\nMore [docs] here.\n\nthe end\n\n"
           "[docs]: https://example.com/docs\n")
    chunks = [doc[i : i + 9] for i in range(0, len(doc), 9)]
    patches, expected = kernel_patches(chunks)
    settle = [op for op in patches[-1] if "settle" in op]
    assert [[index for index, _ in op["settle"]] for op in settle] == [[1, 5]], patches[-1]
    assert all("reset" not in op for op in patches[-1])
    frames = run_page([patches])[0]
    assert all(frame["outcome"] == "applied" for frame in frames)
    before, after = frames[-2]["parts"]["0"], frames[-1]["parts"]["0"]
    assert after["html"] == expected[-1] == render(doc)
    assert after["dom_equals_html"]
    kept = set(before["block_nodes"]) & set(after["block_nodes"])
    replaced = set(before["block_nodes"]) - kept
    # The two paragraphs with [docs] (one element and its newline each) are new nodes; the
    # heading, the other paragraphs, the list and the table (and their newlines) are the same.
    assert len(replaced) == 4, (before, after)
    assert len(kept) == len(before["block_nodes"]) - 4 >= 10
