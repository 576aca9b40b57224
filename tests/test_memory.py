"""A finished widget keeps its text, HTML and snapshot, and nothing else heavy: its renderer
(a markdown-it parser with its rules, the open-fence cache, a copy of the text) goes when the
stream ends, so a notebook with hundreds of finished answers stays light."""

from __future__ import annotations

import gc
import tracemalloc

import nbstream

ANSWER = ["# Title\n\nSome **text** and `code`.\n\n", "```py\nprint(1)\n```\n", "- a\n- b\n"]


def test_a_finished_widget_keeps_nothing_heavy() -> None:
    warm = nbstream.stream(list(ANSWER))  # lexers, caches and imports load once
    assert warm.wait(30)
    kept = []
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            w = nbstream.stream(list(ANSWER))
            assert w.wait(30)
            kept.append(w)
        gc.collect()
        per_widget = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert all(w.status == "done" and w.html for w in kept)
    # Measured: 249 KiB per finished widget while each kept its parser, 33 KiB without.
    assert per_widget < 100 * 1024, f"{per_widget / 1024:.0f} KiB per finished widget"
