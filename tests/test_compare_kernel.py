"""A grid in a real ipykernel, read from the wire (issue 11): one comm for all panes, at most
ten frame messages a second, every message published as the cell that made the grid (as a
StreamWidget's are: see ``StreamWidget._as_origin``), and a pane's re-run numbered on the wire.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from kernel_helpers import KernelSession, Received, kernel_session, max_per_window

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(180)]

PROMPTS = ["Explain Python generators.", "Explain Rust ownership."]


def frame_panes(r: Received) -> dict[str, list[dict[str, Any]]]:
    content = r.content["data"]["content"]
    if content.get("z"):
        return json.loads(zlib.decompress(bytes(memoryview(r.msg["buffers"][0]))))
    return content["panes"]


@pytest.fixture
def kernel(tmp_path: Path):
    with kernel_session(tmp_path) as ks:
        ks.run("import nbstream\nfrom IPython.display import display")
        yield ks


def test_a_grid_on_the_wire(kernel: KernelSession) -> None:
    made = kernel.execute(
        f"g = nbstream.compare(nbstream.demo_client(speed=8), model='gpt-5', "
        f"input=nbstream.vary({PROMPTS!r}))\ndisplay(g)")
    assert made.status == "ok", made.error
    assert made.reply_latency < 2
    assert kernel.run("print(g.wait(60), g.status)").split() == ["True", "done"]
    cid = kernel.widget_comm_id("Grid")
    assert kernel.widget_comm_ids("StreamWidget") == [], "a pane opened a comm of its own"
    updates = kernel.widget_updates(cid)
    frames = [u for u in updates if u.content["data"]["method"] == "custom"
              and u.content["data"]["content"].get("type") == "frame"]
    assert len(frames) >= 3
    assert max_per_window(u.t for u in updates) <= 20
    assert all(set(frame_panes(f)) <= {"0", "1"} for f in frames)
    assert {m.get("attempt") for f in frames for ms in frame_panes(f).values() for m in ms
            if m.get("type") in ("patch", "snapshot")} == {0}
    # Re-run one pane: its messages carry attempt 1, the other pane sends nothing new.
    rerun = kernel.execute("g.panes[1].rerun()\nprint(g.wait(60), g.status)")
    assert rerun.stdout.split() == ["True", "done"], rerun.error
    assert kernel.run_json("[len(p.attempts) for p in g.panes]") == [1, 2]
    later = [u for u in kernel.widget_updates(cid)[len(updates):]
             if u.content["data"]["method"] == "custom"
             and u.content["data"]["content"].get("type") == "frame"]
    assert later, "the re-run sent no frame"
    assert all(set(frame_panes(f)) == {"1"} for f in later)
    assert {m.get("attempt") for f in later for m in frame_panes(f)["1"]
            if m.get("type") in ("patch", "snapshot")} == {1}
    # Every message of the grid's comm is published as the cell that made it (the waiting
    # cells ran while it streamed), as a StreamWidget's are.
    parents = {u.parent_id for u in kernel.widget_updates(cid)}
    assert parents == {made.msg_id}, (
        f"grid messages published under {len(parents)} requests: made by {made.msg_id}, "
        f"waiting {rerun.msg_id} and others: {parents}")
