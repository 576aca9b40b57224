"""nbstream in a real ipykernel, driven over ZMQ like a front-end (no browser).

What a notebook user relies on, checked from the wire:
- the cell returns at once and the answer keeps streaming in the background;
- Stop sent as the front-end sends it (a widget custom message) really stops the source;
- widget traffic stays under ~60 messages/s and never re-sends the whole document per flush.
"""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from kernel_helpers import KernelSession, Received, kernel_session, max_per_window
from page_model import apply_ops, shown_html

from nbstream._static import static_html

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(180)]

MAX_MSGS_PER_S = 60
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SNAPSHOT_ALLOWANCE = 8 * 1024  # "a few KB" for the final snapshot / envelope of the last sync


def markdown_doc(min_chars: int) -> str:
    """Deterministic markdown like a long model answer: headings, paragraphs, short lists,
    code fences, a table. Blocks stay small, as in real answers."""
    blocks: list[str] = []
    i = 0
    while sum(len(b) + 2 for b in blocks) < min_chars:
        i += 1
        blocks.append(f"## Part {i}: double bubble bath")
        blocks.append(
            f"Paragraph {i} says *double bubble bath* quickly, then **slowly**, and links "
            f"[the docs](https://example.com/{i}) with `inline {i}` code."
        )
        blocks.append(f"- first point {i}\n- second point with _emphasis_\n- third point {i}")
        if i % 3 == 0:
            blocks.append(f"```python\ndef bubble_{i}(n):\n    return ['bath'] * n\n```")
        if i % 7 == 0:
            blocks.append(f"| n | word |\n|---|------|\n| {i} | double |\n| {i + 1} | bubble |")
        blocks.append(f"> Quote {i}: the end of part {i} & <b>escaped</b> html.")
    return "\n\n".join(blocks) + "\n"


def chunks(text: str, size: int) -> list[str]:
    return [text[k : k + size] for k in range(0, len(text), size)]


def budget_report(updates: list[Received]) -> str:
    sizes = [u.payload_bytes() for u in updates]
    methods: dict[str, int] = {}
    for u in updates:
        m = u.content["data"]["method"]
        methods[m] = methods.get(m, 0) + 1
    return (
        f"{len(updates)} updates {methods}, {sum(sizes)} B total, "
        f"largest {sorted(sizes)[-5:]}, max/s {max_per_window(u.sent_at for u in updates)}"
    )


def rebuild_html(updates: list[Received]) -> str:
    """Apply the widget's patches as the page does (inflating deflated ones) and return the
    HTML the page shows for the answer (text parts of choice 0)."""
    parts: dict[int, dict[str, Any]] = {}
    for u in updates:
        content = u.content["data"]
        if content.get("method") != "custom" or content["content"].get("type") != "patch":
            continue
        patch = content["content"]
        ops = patch.get("parts")
        if patch.get("z"):
            ops = json.loads(zlib.decompress(bytes(memoryview(u.msg["buffers"][0]))))
        apply_ops(parts, ops or [])
    return "".join(
        shown_html(p) for p in parts.values() if p.get("kind") == "text" and p.get("choice", 0) == 0
    )


def check_traffic(kernel: KernelSession, cid: str, html: str, per_msg_allowance: int) -> None:
    """≤ 60 widget messages in any 1-s window; the page ends showing exactly the kernel's
    final HTML; and the bytes for the whole stream, the final display update for saved
    notebooks included, stay ≤ 2 x the HTML (+ small allowances)."""
    updates = kernel.widget_updates(cid)
    report = budget_report(updates)
    print(f"html {len(html)} B; {report}")
    assert updates, "the widget sent no updates at all"
    assert max_per_window(u.sent_at for u in updates) <= MAX_MSGS_PER_S, report
    assert max_per_window(u.t for u in updates) <= MAX_MSGS_PER_S, f"(as received) {report}"
    assert rebuild_html(updates) == html, "the patches do not rebuild the kernel's HTML"
    # A static rendering for saved notebooks: the output is updated once at the end (or
    # shown directly, had the stream ended before the cell displayed it). It always stands
    # alone: a widget view left in the saved output shows "model not found" once the kernel
    # is gone, and nbconvert would prefer it (a watching page keeps its live DOM: widget.js).
    def static(m: Received) -> bool:
        return m.msg_type in ("update_display_data", "display_data") and (
            "text/html" in m.content["data"]
        )

    kernel.wait_for(static, timeout=10)
    displays = [m for m in kernel.messages if static(m)]
    assert len(displays) == 1, "expected one static rendering of the final answer"
    assert WIDGET_VIEW not in displays[0].content["data"], sorted(displays[0].content["data"])
    copy = displays[0].content["data"]["text/html"]
    assert static_html(html) in copy and copy.endswith("</div>"), copy[-300:]
    display_bytes = len(json.dumps(displays[0].content, ensure_ascii=False).encode())
    total = sum(u.payload_bytes() for u in updates) + display_bytes
    budget = 2 * len(html) + SNAPSHOT_ALLOWANCE + per_msg_allowance * len(updates)
    assert total <= budget, f"{total} B > budget {budget} B (html {len(html)} B); {report}"
    # No repeated whole-document messages.
    big = [u.payload_bytes() for u in updates if u.payload_bytes() >= len(html) // 2]
    assert len(big) <= 1, f"{len(big)} messages carry >= half the document: {big}; {report}"


@pytest.fixture
def kernel(tmp_path: Path):
    with kernel_session(tmp_path) as ks:
        ks.run("import json, time\nimport nbstream")  # imports (openai...) off the clock
        yield ks


SLOW_TEXT = markdown_doc(7000)
SLOW_TOKENS = chunks(SLOW_TEXT, 24)  # ~300 tokens, 0.02 s apart: ~6 s of streaming

SLOW_CELL = f"""
TOKENS = {SLOW_TOKENS!r}
yielded = [0]

def gen():
    for tok in TOKENS:
        time.sleep(0.02)
        yielded[0] += 1
        yield tok

w = nbstream.stream(gen())
w
"""

STATE = '{"status": w.status, "text": w.text, "html": w.html, "yielded": yielded[0]}'


def test_slow_stream_returns_at_once_and_stop_message_stops_it(kernel: KernelSession) -> None:
    res = kernel.execute(SLOW_CELL)
    assert res.status == "ok", res.error
    assert res.reply_latency < 1.0, f"cell blocked {res.reply_latency:.2f}s"
    cid = kernel.widget_comm_id("StreamWidget")

    # A second execution while the source is still producing: the stream is live.
    first = kernel.run_json(STATE)
    assert first["status"] in ("pending", "streaming"), first["status"]
    assert first["yielded"] < len(SLOW_TOKENS)

    # Let a good part of the answer arrive (polling from the client keeps the kernel idle).
    deadline = time.monotonic() + 20
    state = first
    while len(state["text"]) < 2500:
        live = state["status"] == "streaming" or (
            state["status"] == "pending" and not state["text"]
        )
        assert live, state["status"]
        assert time.monotonic() < deadline, f"too slow: {state['status']} {len(state['text'])}"
        time.sleep(0.05)
        state = kernel.run_json(STATE)
    assert state["status"] == "streaming"

    # Stop, as the button does: a custom widget message on the shell channel.
    kernel.send_custom(cid, {"type": "stop"})
    kernel.run("w.wait(timeout=10)")
    stopped = kernel.run_json(STATE)
    assert stopped["status"] == "stopped", stopped["status"]
    text = stopped["text"]
    assert 0 < len(text) < len(SLOW_TEXT)
    assert SLOW_TEXT.startswith(text), "stopped text is not a prefix of the answer"
    assert stopped["html"]

    # The source is no longer consumed.
    n_then = stopped["yielded"]
    time.sleep(0.3)
    assert kernel.run_json("yielded[0]") == n_then < len(SLOW_TOKENS)

    # Traffic. At this pace (~50 tokens/s, ~30 frames/s) each patch carries little new text
    # next to its envelope, the changed end of the open tail and now and then the metrics, so
    # each message gets 400 B on top of the 2 x HTML budget (measured: ~19 KB for ~5 KB of
    # HTML in ~55 messages). Re-sending the document per frame (2-5 KB here) still blows it.
    check_traffic(kernel, cid, stopped["html"], per_msg_allowance=400)


FAST_TEXT = markdown_doc(40_000)
FAST_CHUNKS = chunks(FAST_TEXT, 4)  # ~10,000 chunks of 4 characters

FAST_CELL = f"""
TEXT = {FAST_TEXT!r}
yielded = [0]

def fast():
    for k in range(0, len(TEXT), 4):
        yielded[0] += 1
        yield TEXT[k : k + 4]

w = nbstream.stream(fast())
w
"""


def test_fast_stream_is_coalesced(kernel: KernelSession) -> None:
    assert 9_000 <= len(FAST_CHUNKS) <= 11_000
    res = kernel.execute(FAST_CELL)
    assert res.status == "ok", res.error
    assert res.reply_latency < 1.0, f"cell blocked {res.reply_latency:.2f}s"
    cid = kernel.widget_comm_id("StreamWidget")

    kernel.run("w.wait(timeout=60)", timeout=90)
    done = kernel.run_json(STATE)
    assert done["status"] == "done", done["status"]
    assert done["yielded"] == len(FAST_CHUNKS)
    assert done["text"] == FAST_TEXT
    assert len(done["html"]) > len(FAST_TEXT) // 2
    # The last update has gone out by the time wait() returned and a later cell ran:
    # the strict budget, no per-message allowance.
    check_traffic(kernel, cid, done["html"], per_msg_allowance=0)


SILENT_CELL = """
from nbstream._demo import demo_transport

client = nbstream.demo_client(seed=3)
w = nbstream.responses(client, model="demo-silent", input="Think hard about bubbles.")
w
"""

REQUEST_STATE = """{
    "status": w.status, "text": w.text,
    "requests": [
        {"first_byte_at": r.first_byte_at, "closed_at": r.closed_at,
         "finished": r.finished, "error": r.error}
        for r in demo_transport(client).requests
    ],
}"""


def test_stop_closes_a_silent_connection_promptly(kernel: KernelSession) -> None:
    """A model "thinking" (server silent) must not keep the connection after Stop: the
    demo transport records when its response body was closed."""
    res = kernel.execute(SILENT_CELL)
    assert res.status == "ok", res.error
    assert res.reply_latency < 1.0, f"cell blocked {res.reply_latency:.2f}s"
    cid = kernel.widget_comm_id("StreamWidget")

    deadline = time.monotonic() + 20
    state = kernel.run_json(REQUEST_STATE)
    while not (state["status"] == "streaming" and state["text"]):
        assert state["status"] in ("pending", "streaming"), state
        assert time.monotonic() < deadline, f"no tokens: {state}"
        time.sleep(0.05)
        state = kernel.run_json(REQUEST_STATE)
    [req] = state["requests"]
    assert req["closed_at"] is None and not req["finished"], req

    # The kernel and this process share CLOCK_MONOTONIC (time.monotonic) on Linux.
    t_stop = kernel.send_custom(cid, {"type": "stop"})
    kernel.run("w.wait(timeout=10)\ndemo_transport(client).requests[-1].closed.wait(timeout=10)")
    state = kernel.run_json(REQUEST_STATE)
    assert state["status"] == "stopped", state["status"]
    [req] = state["requests"]
    assert req["closed_at"] is not None, f"connection still open after Stop: {req}"
    assert not req["finished"]
    latency = req["closed_at"] - t_stop
    print(f"stop message sent -> connection closed: {latency * 1000:.1f} ms")
    # The budget is 100 ms (benchmarks measure it); here only the failure mode is caught:
    # a connection left to the 600 s read timeout.
    assert latency < 2.0, f"connection closed {latency:.2f}s after Stop"
