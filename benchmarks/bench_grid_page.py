"""The page's cost of a 100-pane sweep in a real JupyterLab page (headless Chromium).

Usage::

    python benchmarks/bench_grid_page.py [--quick] [--panes N] [--runs N]

One cell starts N demo answers (``nbstream.demo_client()``, each prompt of the demo's topics
in turn, the demo's realistic pace) and shows them, two ways, measured in the same run:

- **grid**: ``nbstream.compare(client, model="demo", input=nbstream.vary(prompts))``, one
  widget whose panes stream together (finished panes fold into the table above 12);
- **widgets** (the baseline): the same N requests as N ``nbstream.responses()`` widgets
  displayed from one cell.

Measured in the page (an init script installed before JupyterLab loads):

- **work per frame**: every ``requestAnimationFrame`` callback is timed; callbacks that share
  a frame (the same timestamp) are summed. Median, p95 and max over the frames that did any
  work, from the cell's run until every answer is final.
- **long tasks**: ``PerformanceObserver('longtask')`` entries (> 50 ms) in that window.
- **main thread busy**: Chrome's ``TaskDuration`` (CDP ``Performance.getMetrics``) over the
  window, as a share of the wall time.
- **all final**: seconds from the cell's run until the page shows every answer final.

``--quick``: 30 panes, one run. Results also go to ``benchmarks/results/grid_page.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _common import environment, fmt, markdown_table, median, write_json

JS_INSTRUMENT = """
(() => {
  const bench = { work: new Map(), long: [] };
  window.__bench = bench;
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((ts) => {
    const t0 = performance.now();
    try { cb(ts); } finally {
      bench.work.set(ts, (bench.work.get(ts) || 0) + performance.now() - t0);
    }
  });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) bench.long.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
  bench.reset = () => { bench.work = new Map(); bench.long = []; bench.t0 = performance.now(); };
  bench.collect = () => ({ frames: [...bench.work.entries()].filter(([ts]) => ts >= bench.t0)
      .map(([, ms]) => ms), long: bench.long.filter(([t]) => t >= bench.t0).map(([, d]) => d) });
})();
"""

SETUP_CELL = """
import nbstream
from IPython.display import display
from nbstream._demo import demo_transport

client = nbstream.demo_client(seed=1)
topics = ["Summarise async IO in three bullet points.", "Show a small table.", "Hello",
          "Give me a quick markdown cheat sheet.", "Say 'double bubble bath' ten times fast."]
prompts = [topics[i % len(topics)] for i in range({n})]
"""

GRID_CELL = """
g = nbstream.compare(client, model="demo", input=nbstream.vary(prompts))
g
"""

WIDGETS_CELL = """
ws = [nbstream.responses(client, model="demo", input=p) for p in prompts]
display(*ws)
"""

FINAL = {
    "grid": "() => document.querySelector('.nbstream-grid')?.dataset.status === 'done'",
    "widgets": "(n) => { const all = [...document.querySelectorAll('.nbstream, .nbstream-static')];"
               " return all.length >= n && all.every((r) => ['done', 'stopped', 'error']"
               ".includes(r.dataset.status)); }",
}


def _busy(cdp: Any) -> float:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return float(metrics["TaskDuration"])


def run_once(kind: str, panes: int) -> dict[str, Any]:
    from _browser import lab_page

    with lab_page() as (nb, _server):
        page = nb.page
        page.add_init_script(JS_INSTRUMENT)
        cell = GRID_CELL if kind == "grid" else WIDGETS_CELL
        nb.open(f"bench_{kind}", [SETUP_CELL.format(n=panes), cell])
        if nb.run_cell(0)["errors"]:
            raise RuntimeError("setup cell failed")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        page.evaluate("() => window.__bench.reset()")
        busy0, wall0 = _busy(cdp), time.monotonic()
        out = nb.run_cell(1)
        if out["errors"]:
            raise RuntimeError(f"{kind} cell failed: {out}")
        page.wait_for_function(FINAL[kind], arg=panes, timeout=180_000, polling=100)
        wall = time.monotonic() - wall0
        busy = _busy(cdp) - busy0
        data = page.evaluate("() => window.__bench.collect()")
        cdp.detach()
    frames = sorted(ms for ms in data["frames"] if ms > 0.05)
    return {
        "kind": kind, "panes": panes, "all_final_s": wall, "busy_pct": 100 * busy / wall,
        "frames": len(frames), "frame_median_ms": median(frames),
        "frame_p95_ms": frames[int(0.95 * (len(frames) - 1))] if frames else None,
        "frame_max_ms": frames[-1] if frames else None,
        "long_tasks": len(data["long"]), "long_task_max_ms": max(data["long"], default=0.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 panes, one run")
    parser.add_argument("--panes", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    panes = args.panes or (30 if args.quick else 100)
    runs = args.runs or (1 if args.quick else 3)
    results: dict[str, list[dict[str, Any]]] = {"grid": [], "widgets": []}
    for _ in range(runs):
        for kind in results:
            results[kind].append(run_once(kind, panes))
    keys = ["all_final_s", "busy_pct", "frames", "frame_median_ms", "frame_p95_ms",
            "frame_max_ms", "long_tasks", "long_task_max_ms"]
    rows = [[kind, *[fmt(median([r[k] for r in rs if r[k] is not None])) for k in keys]]
            for kind, rs in results.items()]
    print(f"{panes} panes, median of {runs} run(s); widget work per animation frame")
    print(markdown_table(["shown as", *keys], rows))
    write_json("grid_page.json", {"environment": environment(), "panes": panes,
                                  "runs": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
