"""Many streams from one cell: what N live answers cost a real kernel and its front-end.

Usage: ``python benchmarks/bench_many.py [--sizes 1,10,30,100] [--kinds sync,async]``

For each N and kind a fresh ``ipykernel`` is started (jupyter_client over ZMQ, as a
front-end talks to it), and one cell starts N demo streams (``nbstream.demo_client()``,
``async_client=True`` for ``async``) and displays them all; a second cell waits for them.
Measured (the budgets are DESIGN.md's, for the shared runtime of issue "Many streams at once"):

- **cell returns**: execute request sent → its reply (budget ≤ 1 s at N = 100);
- **busiest second**: the most IOPub messages arriving at the client in any 1-s window,
  counting what jupyter_server's rate limiter counts (every message but ``status``,
  ``comm_open`` and ``execute_input``; budget ≤ 200 whatever N);
- **messages / MB**: all of those messages, and their content bytes plus binary buffers;
- **kernel CPU**: ``time.process_time()`` in the kernel from the start of the cell until all
  streams have ended;
- **threads**: the kernel's peak thread count above its own before the cell (sampled every
  10 ms; budget ≤ N + 10 for N sync sources), and how many remain 3 s after the end;
- **fds**: open file descriptors above the kernel's own before the cell, at the peak and 3 s
  after the end (ZeroMQ sockets are descriptors);
- **all done**: from the cell's start until every stream has ended; and whether every text
  is complete (``w.text`` equals the demo's answer for its prompt).

Results go to ``benchmarks/results/many.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import environment, fmt, markdown_table, write_json
from kernel_helpers import KernelSession, max_per_window

NOT_COUNTED = frozenset({"status", "comm_open", "execute_input"})
SETTLE_S = 3.0
PROMPT = "Say 'double bubble bath' ten times fast."

SETUP = """
import os, threading, time
import nbstream
from IPython.display import display

def _nbs_fds():
    return len(os.listdir('/proc/self/fd'))

_nbs_stop = threading.Event()
_nbs_base = {"threads": threading.active_count(), "fds": _nbs_fds()}
_nbs_peak = dict(_nbs_base)

def _nbs_sample():
    while not _nbs_stop.is_set():
        _nbs_peak["threads"] = max(_nbs_peak["threads"], threading.active_count() - 1)
        _nbs_peak["fds"] = max(_nbs_peak["fds"], _nbs_fds())
        time.sleep(0.01)

threading.Thread(target=_nbs_sample, name="bench-sampler", daemon=True).start()
"""

START = """
_nbs_t0, _nbs_cpu0 = time.monotonic(), time.process_time()
_nbs_client = nbstream.demo_client(async_client={is_async})
_nbs_ws = [nbstream.responses(_nbs_client, model="demo", input={prompt!r}) for _ in range({n})]
display(*_nbs_ws)
"""

WAIT = """
import json
for _w in _nbs_ws:
    {wait}
_nbs_all_done = time.monotonic() - _nbs_t0
_nbs_cpu = time.process_time() - _nbs_cpu0
{pause}  # what is left a while after the end
_nbs_stop.set()
print(json.dumps({{
    "all_done_s": _nbs_all_done, "cpu_s": _nbs_cpu,
    "statuses": sorted({{w.status for w in _nbs_ws}}),
    "texts": sorted({{w.text for w in _nbs_ws}}),
    "threads_peak": _nbs_peak["threads"] - _nbs_base["threads"],
    "threads_after": threading.active_count() - 1 - _nbs_base["threads"],
    "fds_peak": _nbs_peak["fds"] - _nbs_base["fds"],
    "fds_after": _nbs_fds() - _nbs_base["fds"],
}}))
"""

# The demo's answer, asked without streaming (no stream, so no thread of nbstream's is alive
# when the baseline below is taken).
EXPECTED = """
import json
import nbstream
_c = nbstream.demo_client(speed=float("inf"))
print(json.dumps(_c.responses.create(model="demo", input={prompt!r}).output_text))
"""


def message_bytes(msg: dict[str, Any]) -> int:
    size = len(json.dumps(msg["content"], default=str).encode())
    return size + sum(len(memoryview(b).cast("B")) for b in msg.get("buffers") or [])


def run_once(n: int, kind: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        ks = KernelSession(Path(tmp))
        try:
            expected = json.loads(ks.run(EXPECTED.format(prompt=PROMPT)).strip().splitlines()[-1])
            ks.run(SETUP)
            start = ks.execute(START.format(is_async=kind == "async", prompt=PROMPT, n=n),
                               timeout=300)
            if start.status != "ok":
                raise AssertionError(start.error)
            wait = "await _w" if kind == "async" else "_w.wait(300)"  # never block the loop
            pause = (f"await __import__('asyncio').sleep({SETTLE_S})" if kind == "async"
                     else f"time.sleep({SETTLE_S})")
            out = ks.run(WAIT.format(wait=wait, pause=pause), timeout=600)
            state = json.loads(out.strip().splitlines()[-1])
            counted = [r for r in ks.messages
                       if r.t >= start.t_sent and r.msg_type not in NOT_COUNTED]
        finally:
            ks.shutdown()
    return {
        "n": n, "kind": kind, "cell_return_s": start.reply_latency,
        "busiest_second": max_per_window(r.t for r in counted),
        "messages": len(counted), "mb": sum(message_bytes(r.msg) for r in counted) / 1e6,
        "complete": state["statuses"] == ["done"] and state["texts"] == [expected],
        **state,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,30,100")
    parser.add_argument("--kinds", default="sync,async")
    args = parser.parse_args()
    results, rows = [], []
    for kind in args.kinds.split(","):
        for n in (int(x) for x in args.sizes.split(",")):
            r = run_once(n, kind)
            results.append(r)
            rows.append([
                kind, str(n), fmt(r["cell_return_s"]), str(r["busiest_second"]),
                str(r["messages"]), fmt(r["mb"]), fmt(r["cpu_s"]),
                f'{r["threads_peak"]} / {r["threads_after"]}',
                f'{r["fds_peak"]} / {r["fds_after"]}', fmt(r["all_done_s"]),
                "yes" if r["complete"] else f'NO {r["statuses"]}',
            ])
            print(f"{kind} N={n}: done in {r['all_done_s']:.1f} s", flush=True)
    print(markdown_table(
        ["kind", "N", "cell returns s", "busiest second (msgs)", "messages", "MB",
         "kernel CPU s", "threads peak / after", "fds peak / after", "all done s",
         "every text complete"],
        rows,
    ))
    path = write_json("many.json", {"environment": environment(), "results": results,
                                    "when": time.strftime("%Y-%m-%d %H:%M")})
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
