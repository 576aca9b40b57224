"""Every way to stop a stream, beside the Stop button: how long until the server sees the
connection close (DESIGN.md: "Stop by Interrupt, re-run, close, guard: the same <= 100 ms as
the button").

Usage::

    python benchmarks/bench_stop_paths.py [--runs N]

A loopback SSE server runs in this process; a real ipykernel makes the request with the real
openai SDK (sync client) and displays the widget; the server sends a few deltas, then nothing
(a model thinking: the hardest case for closing). Then, once text has reached the page:

``button``     the front-end's Stop message (``comm_msg`` ``{"type": "stop"}``);
``interrupt``  the kernel manager's ``interrupt_kernel()`` (SIGINT; the kernel is idle);
``rerun``      an execute request carrying the same ``cellId`` as the cell that made the widget
               (what JupyterLab sends when you run that cell again);
``close``      the front-end closing the widget's comm (``comm_close``);
``max_seconds`` the guard ``Guards(max_seconds=1)``: measured from the moment it expires
               (the call's time in the kernel + 1 s; ``CLOCK_MONOTONIC`` is system-wide).

Latency: the server's ``closed_at`` minus the moment the action was taken (all
``time.monotonic()``). Medians and maxima over ``--runs`` runs (default 5); results go to
``benchmarks/results/stop_paths.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import environment, markdown_table, median, write_json
from bench_stop import _custom_with_text, script, wait_state
from kernel_helpers import KernelSession, kernel_session
from sse_server import SSEServer

BUDGET_S = 0.100
PATHS = ("button", "interrupt", "rerun", "close", "max_seconds")
GUARD_S = 1.0
CELL_ID = "bench-cell"

SETUP = """
import time
import openai, nbstream
client = openai.OpenAI(base_url={url!r}, api_key="bench", max_retries=0)
"""
START = """
_t0 = time.monotonic()
w = nbstream.responses(client, model="m", input="x", guards=nbstream.Guards({guards}))
display(w)
"""


def act(ks: KernelSession, path: str, cid: str) -> float:
    """Take the action; returns when it was taken (for the guard: when it expires)."""
    if path == "button":
        return ks.send_custom(cid, {"type": "stop"})
    if path == "interrupt":
        t = time.monotonic()
        ks.km.interrupt_kernel()
        return t
    if path == "rerun":
        t = time.monotonic()
        ks.send_execute("pass", cell_id=CELL_ID)
        return t
    if path == "close":
        msg = ks.kc.session.msg("comm_close", {"comm_id": cid, "data": {}})
        t = time.monotonic()
        ks.kc.shell_channel.send(msg)
        return t
    return float(ks.run_json("_t0")) + GUARD_S  # max_seconds: when the guard expires


def one_run(ks: KernelSession, server: SSEServer, path: str, index: int) -> dict[str, Any]:
    server.enqueue(script("silent"))
    guards = f"max_seconds={GUARD_S}" if path == "max_seconds" else ""
    res = ks.execute(START.format(guards=guards), cell_id=CELL_ID, timeout=30)
    if res.status != "ok":
        raise RuntimeError(f"start cell failed: {res.error}")
    cid = ks.widget_comm_id()
    rec = server.wait_for_request(index, timeout=10)
    ks.wait_for(_custom_with_text(cid), timeout=10)
    rec.wait_sent(len(rec.script.steps) if rec.script else 0, timeout=5)
    t_action = act(ks, path, cid)
    closed = rec.wait_closed(GUARD_S + 3)
    state = wait_state(ks, ("stopped", "done", "error"), timeout=10)
    reason = ks.run_json("w.stop_reason")
    return {
        "path": path, "closed": closed, "status": state["status"], "reason": reason,
        "latency_s": (rec.closed_at - t_action) if closed and rec.closed_at else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    t_all = time.monotonic()
    results: list[dict[str, Any]] = []
    server = SSEServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="nbstream-stop-paths-") as tmp, \
                kernel_session(Path(tmp)) as ks:
            ks.run(SETUP.format(url=server.base_url), timeout=120)
            for path in PATHS:
                for i in range(args.runs):
                    r = one_run(ks, server, path, len(server.requests))
                    r["run"] = i + 1
                    results.append(r)
                    print(f"  {path} run {i + 1}: {r}", file=sys.stderr, flush=True)
    finally:
        server.close()
    rows, summary = [], {}
    for path in PATHS:
        rs = [r for r in results if r["path"] == path]
        lat = [r["latency_s"] for r in rs if r["latency_s"] is not None]
        reasons = sorted({str(r["reason"]) for r in rs})
        ok = len(lat) == len(rs) and bool(lat) and max(lat) <= BUDGET_S
        summary[path] = {"runs": len(rs), "closed": len(lat), "median_s": median(lat),
                         "max_s": max(lat) if lat else None, "reasons": reasons, "ok": ok}
        rows.append([path, f"{len(lat)}/{len(rs)}",
                     f"{median(lat) * 1e3:.1f} / {max(lat) * 1e3:.1f}" if lat else "n/a",
                     ", ".join(reasons), "ok" if ok else "OVER"])
    print(markdown_table(["stop path", "closed", "action -> closed ms (median / max)",
                          "stop_reason", f"vs budget ({BUDGET_S * 1e3:.0f} ms)"], rows))
    print(f"\nTotal benchmark time {time.monotonic() - t_all:.0f} s.")
    path = write_json("stop_paths.json", {"environment": environment(), "summary": summary,
                                          "runs": results})
    print(f"Results: {path}", file=sys.stderr)
    return 0 if all(s["ok"] for s in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
