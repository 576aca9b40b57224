"""A 100-pane sweep in one grid versus 100 separate widgets, in a real kernel.

Usage: ``python benchmarks/bench_grid.py [--runs 3] [--n 100] [--quick]``

For each run and each variant a fresh ``ipykernel`` is started (jupyter_client over ZMQ, as a
front-end talks to it) and one cell starts the same N demo prompts (``nbstream.demo_client()``,
``model="gpt-5"``, N distinct prompts over the demo's topics):

- **grid**: ``g = nbstream.compare(client, model="gpt-5", input=nbstream.vary(prompts))``,
  displayed: one widget, one comm;
- **widgets**: ``[nbstream.responses(client, model="gpt-5", input=p) for p in prompts]``, all
  displayed from the same cell (the baseline, measured in the same run).

A second cell waits for every answer. Measured (budgets: DESIGN.md, "N streams started by one
cell": a grid of N panes ≤ 20 messages/s; all widgets together ≤ 200 in any second):

- **busiest second**: the most IOPub messages arriving at the client in any 1-s window, counting
  what jupyter_server's rate limiter counts (every message but ``status``, ``comm_open`` and
  ``execute_input``), from the first cell's request on;
- **mean msgs/s**: those messages divided by the time from the cell's request to the last of
  them;
- **messages / MB**: all of them, and their content bytes plus binary buffers;
- **kernel CPU**: ``time.process_time()`` in the kernel from the start of the cell until every
  answer has ended;
- **cell returns**: execute request sent → its reply;
- **all done**: from the cell's start until every answer has ended (in the kernel);
- **threads**: the kernel's peak thread count above its own before the cell, and how many
  remain 3 s after the end;
- **complete**: every answer ``done`` and equal to the demo's answer for its prompt.

Medians over ``--runs`` runs (default 3). ``--quick``: one run of 20 prompts (a smoke test).
The page's frame time is measured elsewhere (``bench_browser.py``). Results go to
``benchmarks/results/grid.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from _common import environment, fmt, markdown_table, median, stderr_report, write_json
from kernel_helpers import KernelSession, max_per_window

NOT_COUNTED = frozenset({"status", "comm_open", "execute_input"})
OWN_OUTPUT = frozenset({"stream", "execute_result", "error"})
"""The waiting cell's own output (its print), not counted."""
SETTLE_S = 3.0
TOPICS = [
    "Python generators", "asyncio event loops", "a Markdown cheat sheet",
    "the history of computing", "git rebase", "Rust ownership", "a weekend trip to Kyoto",
    "SQL databases", "CSV files with pandas", "token streaming over SSE",
]
VARIANTS = ("grid", "widgets")


def prompts(n: int) -> list[str]:
    """N distinct prompts cycling over the demo's topics."""
    return [f"Question {i + 1}: explain {TOPICS[i % len(TOPICS)]}." for i in range(n)]


SETUP = """
import threading, time
import nbstream
from IPython.display import display

_nbs_stop = threading.Event()
_nbs_base = threading.active_count()
_nbs_peak = [_nbs_base]

def _nbs_sample():
    while not _nbs_stop.is_set():
        _nbs_peak[0] = max(_nbs_peak[0], threading.active_count() - 1)
        time.sleep(0.01)

threading.Thread(target=_nbs_sample, name="bench-sampler", daemon=True).start()
_nbs_prompts = {prompts!r}
"""

START = {
    "grid": """
_nbs_t0, _nbs_cpu0 = time.monotonic(), time.process_time()
_nbs_g = nbstream.compare(nbstream.demo_client(), model="gpt-5",
                          input=nbstream.vary(_nbs_prompts))
_nbs_ws = _nbs_g.panes
display(_nbs_g)
""",
    "widgets": """
_nbs_t0, _nbs_cpu0 = time.monotonic(), time.process_time()
_nbs_client = nbstream.demo_client()
_nbs_ws = [nbstream.responses(_nbs_client, model="gpt-5", input=p) for p in _nbs_prompts]
display(*_nbs_ws)
""",
}

WAIT = """
import json
{wait}
_nbs_all_done = time.monotonic() - _nbs_t0
_nbs_cpu = time.process_time() - _nbs_cpu0
time.sleep({settle})  # what is left a while after the end
_nbs_stop.set()
print(json.dumps({{
    "all_done_s": _nbs_all_done, "cpu_s": _nbs_cpu,
    "statuses": sorted({{w.status for w in _nbs_ws}}),
    "texts": [w.text for w in _nbs_ws],
    "threads_peak": _nbs_peak[0] - _nbs_base,
    "threads_after": threading.active_count() - 1 - _nbs_base,
}}))
"""
WAITS = {"grid": "_nbs_g.wait(600)", "widgets": "for _w in _nbs_ws:\n    _w.wait(600)"}

# The demo's answers, asked without streaming (before anything of nbstream's runs).
EXPECTED = """
import json
import nbstream
_c = nbstream.demo_client(speed=float("inf"))
print(json.dumps([_c.responses.create(model="gpt-5", input=p).output_text
                  for p in {prompts!r}]))
"""


def message_bytes(msg: dict[str, Any]) -> int:
    size = len(json.dumps(msg["content"], default=str).encode())
    return size + sum(len(memoryview(b).cast("B")) for b in msg.get("buffers") or [])


def run_once(variant: str, ps: list[str]) -> tuple[dict[str, Any], str]:
    with tempfile.TemporaryDirectory() as tmp:
        ks = KernelSession(Path(tmp))
        try:
            expected = json.loads(ks.run(EXPECTED.format(prompts=ps)).strip().splitlines()[-1])
            ks.run(SETUP.format(prompts=ps))
            start = ks.execute(START[variant], timeout=300)
            if start.status != "ok":
                raise AssertionError(start.error)
            out = ks.execute(WAIT.format(wait=WAITS[variant], settle=SETTLE_S), timeout=900)
            if out.status != "ok":
                raise AssertionError(out.error)
            state = json.loads(out.stdout.strip().splitlines()[-1])
            counted = [r for r in ks.messages
                       if r.t >= start.t_sent and r.msg_type not in NOT_COUNTED
                       and not (r.parent_id == out.msg_id and r.msg_type in OWN_OUTPUT)]
            parents = {start.msg_id: "start cell", out.msg_id: "waiting cell"}
            by_parent: dict[str, int] = {}
            for r in counted:
                key = parents.get(r.parent_id or "", "other")
                by_parent[key] = by_parent.get(key, 0) + 1
            stderr = start.stderr + out.stderr
        finally:
            ks.shutdown()
    span = max(r.t for r in counted) - start.t_sent if counted else None
    texts = state.pop("texts")
    return {
        "variant": variant, "n": len(ps), "cell_return_s": start.reply_latency,
        "busiest_second": max_per_window(r.t for r in counted),
        "mean_per_s": len(counted) / span if span else None,
        "messages": len(counted), "mb": sum(message_bytes(r.msg) for r in counted) / 1e6,
        "complete": state["statuses"] == ["done"] and texts == expected,
        "by_parent": by_parent,  # which request the messages were published under
        "wrong_texts": sum(1 for a, b in zip(texts, expected, strict=True) if a != b),
        **state,
    }, stderr


KEYS = [("busiest second (msgs)", "busiest_second", ".0f"), ("mean msgs/s", "mean_per_s", ".1f"),
        ("messages", "messages", ".0f"), ("IOPub MB", "mb", ".3f"),
        ("kernel CPU s", "cpu_s", ".2f"), ("cell returns s", "cell_return_s", ".3f"),
        ("all done s", "all_done_s", ".1f"), ("threads peak", "threads_peak", ".0f"),
        ("threads after 3 s", "threads_after", ".0f")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n", type=int, default=100, help="prompts (panes / widgets)")
    parser.add_argument("--quick", action="store_true", help="one run of 20 prompts")
    args = parser.parse_args()
    runs, n = (1, 20) if args.quick else (args.runs, args.n)
    ps = prompts(n)
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    errors: list[tuple[str, str]] = []
    for k in range(runs):
        for variant in VARIANTS:  # alternate, so both see the same machine state
            r, stderr = run_once(variant, ps)
            results[variant].append(r)
            errors.append((f"{variant} run {k + 1}", stderr))
            print(f"run {k + 1}/{runs} {variant}: {r['messages']} msgs, busiest "
                  f"{r['busiest_second']}/s, by parent {r['by_parent']}, all done in "
                  f"{r['all_done_s']:.1f} s, complete {r['complete']}", flush=True)
    rows = []
    for label, key, spec in KEYS:
        rows.append([label, *(fmt(median(r[key] for r in results[v]), spec) for v in VARIANTS)])
    rows.append(["every text complete", *(
        "yes" if all(r["complete"] for r in results[v])
        else f"NO ({max(r['wrong_texts'] for r in results[v])} wrong)" for v in VARIANTS)])
    print(f"\nN = {n} prompts, medians of {runs} run(s), demo client, model gpt-5\n")
    print(markdown_table(["", f"1 grid of {n} panes", f"{n} widgets"], rows))
    for line in stderr_report(errors):
        print(line)
    path = write_json("grid.json", {"environment": environment(), "n": n, "runs": runs,
                                    "results": results})
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
