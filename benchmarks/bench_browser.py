"""Front-end cost of a long streaming answer in a real JupyterLab page (headless Chromium).

Usage::

    python benchmarks/bench_browser.py [--quick] [--runs N] [--rate TOKENS_PER_S] [--size BYTES]
        [--shape table|list|paragraph|code|quote|math]

A JupyterLab 4 server is started exactly as the browser tests start it (the functions of
``tests/browser/conftest.py``, through ``benchmarks/_browser.py``), and one notebook streams
``make_answer(100_000)`` (``benchmarks/workload.py``: ~100 KB of markdown with headings,
lists, ~30 code fences and tables) split into tokens of 4 characters, from a generator paced
at 2,000 tokens/s, into ``nbstream.stream(...)``. ``--quick``: the same answer at 4,000
tokens/s.

Measured in the page (an init script installed before JupyterLab loads):

- **frame work**: the widget applies patches in ``requestAnimationFrame`` callbacks (its
  ``flush``). ``requestAnimationFrame`` is wrapped so each of the widget's callbacks is timed:
  its JS, the DOM insertion (``insertAdjacentHTML`` / ``innerHTML`` parse) and the style +
  layout it forces (it reads ``scrollHeight`` to follow the end). "frame incl. rendering"
  adds the time from the end of that callback until a task posted from it runs (the rest of
  the frame: style, layout, paint; an upper bound, as other queued tasks count too).
  Reported for all frames, and for the frames once the answer is past 75% of its size.
- **main thread per frame**: Chrome's own ``TaskDuration`` (CDP ``Performance.getMetrics``)
  over the stream, divided by the widget's frames: everything the page's main thread did
  (JupyterLab's message handling, the widget, rendering, timers), on average.
- **long tasks**: ``PerformanceObserver('longtask')`` entries (> 50 ms) during the stream.
- **committed nodes**: a ``MutationObserver`` on the live view's ``.nbs-blocks`` (subtree)
  counts the block nodes appended, any node removed from it, and any edit inside a committed
  block (one another block follows: the last may be the tail's open block, whose rows and
  items are appended where it stays); at the end, its children are compared with the
  appended count. Whether the live
  view itself was replaced at the end (JupyterLab re-rendering the output when nbstream
  updates its display with the static fallback) is reported separately.
- **latency, token -> visible**: the generator records ``time.time()`` when it yields the
  first token and every marker token (``ZQ<k>QZ``, one every 200 tokens, placed after a
  space so it does not break the markdown); a ``MutationObserver`` records ``Date.now()``
  when the marker's text first appears in the page's DOM (same machine, same clock). The
  first token's latency is the time until the body shows any text.

Budgets (DESIGN.md): <= 4 ms of front-end work per frame at 100 KB, committed nodes never
re-created, first token -> visible <= 50 ms. Results go to ``benchmarks/results/browser.json``
(``browser-trace.json`` with ``--trace``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from _common import BENCH_DIR, environment, fmt, markdown_table, median, write_json
from bench_shapes import SHAPES

BUDGET_FRAME_MS = 4.0
BUDGET_FIRST_TOKEN_MS = 50.0
MARKER_EVERY = 200
IDLE_MS = 2000
TOKEN_CHARS = 4

SETUP_CELL = """
import sys, time, json
sys.path.insert(0, {bench_dir!r})
from workload import make_answer, describe
from bench_shapes import SHAPES
import nbstream

ANSWER = {answer}
TOKENS = [ANSWER[k : k + {chars}] for k in range(0, len(ANSWER), {chars})]
# A marker every {every} tokens, after the next token that ends with a space and holds no
# newline: mid-line, outside any URL, so it does not change the markdown's structure.
MARKED, pending, n_markers = [], False, 0
for i, token in enumerate(TOKENS):
    MARKED.append(token)
    if i and i % {every} == 0:
        pending = True
    if pending and token.endswith(" ") and "\\n" not in token:
        MARKED.append(f"ZQ{{n_markers}}QZ ")
        n_markers, pending = n_markers + 1, False
STAMPS = {{}}
FIRST = LAST = None
print(json.dumps({{**describe(ANSWER), "tokens": len(MARKED), "markers": n_markers,
                  "chars": len("".join(MARKED))}}))
"""

STREAM_CELL = """
def paced(rate={rate}, ttft={ttft}):
    global FIRST, LAST
    time.sleep(ttft)  # like a model's time to first token: the view is up before it
    start = time.monotonic()
    for n, token in enumerate(MARKED):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if n == 0:
            FIRST = time.time()
        if token.startswith("ZQ"):
            STAMPS[token[2:-3]] = time.time()
        yield token
    LAST = time.time()  # the consumer asked for more: the stream ends now

w = nbstream.stream(paced())
w
"""

RESULT_CELL = """
w.wait(timeout=300)
print(json.dumps({"status": w.status, "chars": len(w.text), "html_chars": len(w.html),
                  "first": FIRST, "last": LAST, "stamps": STAMPS, "metrics": w.metrics},
                 default=str))
"""

# Installed before any page script runs.
JS_INSTRUMENT = r"""(() => {
  const B = window.__bench = {
    frames: [], longtasks: [], markers: {}, firstText: null, statusAt: {}, generations: [],
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = function (cb) {
    if (typeof cb !== 'function' || cb.name !== 'flush') return raf(cb);
    return raf((ts) => {
      const t0 = performance.now();
      try {
        cb(ts);
      } finally {
        const t1 = performance.now();
        const rec = { at: t0, js: t1 - t0, render: null };
        B.frames.push(rec);
        const ch = new MessageChannel();
        ch.port1.onmessage = () => { rec.render = performance.now() - t1; };
        ch.port2.postMessage(0);
      }
    });
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) B.longtasks.push({ at: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { B.longtaskError = String(e); }

  const MARK = /ZQ(\d+)QZ/g;
  const scan = (text) => {
    if (!text || text.indexOf('ZQ') < 0) return;
    const now = Date.now();
    for (const m of text.matchAll(MARK)) if (!(m[1] in B.markers)) B.markers[m[1]] = now;
  };
  // Every `.nbs-blocks` element the page shows, in order ("generations"): a new one means
  // the view (or its part) was rebuilt and its committed nodes re-created.
  // A long answer's blocks go on in more containers after the first (`.nbs-blocks-more`, a
  // hundred blocks each): they belong to the first's generation.
  const watchBlocks = (blocks) => {
    const first = blocks.classList.contains('nbs-blocks-more')
      && blocks.parentElement.querySelector(':scope > .nbs-blocks:not(.nbs-blocks-more)');
    let g = first && B.generations.find((x) => x.el === first);
    if (g) {
      g.more.push(blocks);
      g.initial += blocks.children.length;
    } else {
      g = {
        seenAt: Date.now(), initial: blocks.children.length, appended: 0, appendedText: 0,
        removed: 0, innerRemoved: 0, innerEdits: 0, goneAt: null, childrenWhenGone: null,
        editSamples: [],
        status: (blocks.closest('.nbstream') || { dataset: {} }).dataset.status || null,
      };
      g.el = blocks;
      g.more = [];
      B.generations.push(g);
    }
    // A block is committed once another follows it: the last one may be the tail's open
    // block, built where it stays (its rows and items are appended while it is open).
    const sealed = new WeakSet();
    const seal = () => {
      let el = blocks.lastElementChild && blocks.lastElementChild.previousElementSibling;
      for (; el && !sealed.has(el); el = el.previousElementSibling) sealed.add(el);
    };
    const blockOf = (node) => {
      while (node && node.parentNode !== blocks) node = node.parentNode;
      return node;
    };
    const open = (target) => { const b = blockOf(target); return b && !sealed.has(b); };
    new MutationObserver((records) => {
      for (const r of records) {
        if (open(r.target)) continue;
        if (r.type === 'characterData') { g.innerEdits += 1; continue; }
        if (r.target === blocks) {
          for (const n of r.addedNodes) {
            if (n.nodeType === 1) g.appended += 1; else g.appendedText += 1;
          }
          g.removed += [...r.removedNodes].filter((n) => sealed.has(n)).length;
        } else if (/^H[1-6]$/.test(r.target.nodeName) && !r.removedNodes.length
                   && [...r.addedNodes].every((n) => n.nodeName === 'SPAN')) {
          g.hostHeadingEdits = (g.hostHeadingEdits || 0) + r.addedNodes.length; // JupyterLab's ToC
        } else {
          g.innerRemoved += r.removedNodes.length;
          g.innerEdits += r.addedNodes.length;
          if (g.editSamples.length < 5) {
            const t = r.target;
            g.editSamples.push({
              target: `${t.nodeName}.${t.className || ''}`,
              added: [...r.addedNodes].slice(0, 3).map((n) => n.nodeName),
              removed: [...r.removedNodes].slice(0, 3).map((n) => n.nodeName),
            });
          }
        }
      }
      seal();
    }).observe(blocks, { childList: true, subtree: true, characterData: true });
  };
  const seen = new WeakSet();
  const findBlocks = (n) => {
    if (n.nodeType !== 1) return;
    const found = n.matches('.nbs-blocks') ? [n] : [...n.querySelectorAll('.nbs-blocks')];
    const up = n.closest && n.closest('.nbs-blocks');
    if (up) found.push(up);
    for (const b of found) if (!seen.has(b)) { seen.add(b); watchBlocks(b); }
  };
  const childrenOf = (g) => [g.el, ...g.more].reduce((n, el) => n + el.children.length, 0);
  window.__benchChildrenOf = childrenOf;
  // A view re-created in place takes over the old DOM: blocks that come back into the page
  // were moved, not replaced.
  const checkGone = () => {
    for (const g of B.generations) {
      if (g.goneAt === null && !g.el.isConnected) {
        g.goneAt = Date.now();
        g.childrenWhenGone = childrenOf(g);
      } else if (g.goneAt !== null && g.el.isConnected) {
        g.movedAt = Date.now();
        g.goneAt = null;
        g.childrenWhenGone = null;
      }
    }
  };
  const onMutations = (records) => {
    for (const r of records) {
      if (r.type === 'attributes') {
        const s = r.target.classList && r.target.classList.contains('nbstream')
          && r.target.dataset.status;
        if (s && !(s in B.statusAt)) B.statusAt[s] = Date.now();
        continue;
      }
      for (const n of r.addedNodes) {
        scan(n.nodeType === 1 ? n.textContent : n.data);
        if (B.firstText === null && n.parentElement && n.parentElement.closest('.nbstream-body')
            && (n.textContent || '').trim()) B.firstText = Date.now();
        findBlocks(n);
      }
      if (r.target.closest && r.target.closest('.nbs-blocks')) findBlocks(r.target);
      if (r.removedNodes.length || r.addedNodes.length) checkGone();
    }
    // A view may be created with its status already set (no attribute mutation to see).
    const root = document.querySelector('.nbstream');
    const now = root && root.dataset.status;
    if (now && !(now in B.statusAt)) B.statusAt[now] = Date.now();
  };
  const start = () => new MutationObserver(onMutations).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ['data-status'],
  });
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();"""

JS_COLLECT = """() => {
  const B = window.__bench;
  for (const g of B.generations) {
    if (g.goneAt !== null && g.el.isConnected) { g.movedAt = Date.now(); g.goneAt = null; }
    g.childrenNow = window.__benchChildrenOf(g);
    g.connected = g.el.isConnected;
  }
  return {
    frames: B.frames, longtasks: B.longtasks, markers: B.markers, firstText: B.firstText,
    statusAt: B.statusAt, timeOrigin: performance.timeOrigin,
    generations: B.generations.map(({ el, more, ...g }) => ({ ...g, containers: 1 + more.length })),
    bodyChars: (document.querySelector('.nbstream-body') || {textContent: ''}).textContent.length,
  };
}"""


def percentile(values: list[float], q: float) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    k = (len(vals) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def _cdp_metrics(cdp: Any) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "blink",
                    "toplevel"]
TRACE_GROUPS = {  # exclusive time of trace events, grouped
    "script": ("FunctionCall", "v8.callFunction", "V8.Execute", "EvaluateScript",
               "v8.compile", "v8.run", "TimerFire", "FireAnimationFrame", "EventDispatch"),
    "parse HTML": ("ParseHTML",),
    "style": ("Document::recalcStyle", "Document::updateStyle", "UpdateLayoutTree",
              "Document::rebuildLayoutTree"),
    "layout": ("LocalFrameView::performLayout", "Layout",
               "InlineNode::ShapeTextIncludingFirstLine"),
    "paint + compositing": ("Paint", "Blink.CompositingInputs.UpdateTime",
                            "PaintArtifactCompositor::Update", "Commit", "Layerize",
                            "Blink.PrePaint.UpdateTime", "CullRectUpdate", "Blink.Paint.UpdateTime",
                            "LocalFrameView::RunPaintLifecyclePhase", "PrePaint", "UpdateLayer"),
    "GC": ("V8.GC_MC_INCREMENTAL", "V8.GC_MC_INCREMENTAL_EMBEDDER_TRACING", "MinorGC",
           "MajorGC", "V8.GC_SCAVENGER", "BlinkGC.AtomicPhase"),
}


def trace_breakdown(data: bytes, window_ms: float, frames: int) -> dict[str, Any]:
    """Exclusive main-thread time of a Chromium trace, by group, per widget frame."""
    events = json.loads(data)
    events = events["traceEvents"] if isinstance(events, dict) else events
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    counts: dict[tuple[int, int], int] = {}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if names.get(key) == "CrRendererMain":
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return {"error": "no renderer main thread in the trace"}
    main_thread = max(counts, key=lambda k: counts[k])
    spans = sorted(
        (e for e in events
         if (e.get("pid"), e.get("tid")) == main_thread and e.get("ph") == "X" and "dur" in e),
        key=lambda e: (e["ts"], -e["dur"]),
    )
    exclusive: dict[str, float] = {}
    stack: list[tuple[str, float]] = []
    busy, busy_until = 0.0, -1.0
    for e in spans:
        start, end = e["ts"], e["ts"] + e["dur"]
        while stack and stack[-1][1] <= start:
            stack.pop()
        if stack:
            parent = stack[-1][0]
            exclusive[parent] = exclusive.get(parent, 0.0) - (min(end, stack[-1][1]) - start)
        else:  # a top-level slice: the thread is busy
            busy += max(0.0, end - max(start, busy_until))
            busy_until = max(busy_until, end)
        exclusive[e["name"]] = exclusive.get(e["name"], 0.0) + e["dur"]
        stack.append((e["name"], end))
    groups = {g: sum(exclusive.get(n, 0.0) for n in ns) / 1000 for g, ns in TRACE_GROUPS.items()}
    groups["other"] = busy / 1000 - sum(groups.values())
    per_frame = {g: v / frames for g, v in groups.items()} if frames else {}
    top = sorted(exclusive.items(), key=lambda kv: -kv[1])[:15]
    return {
        "window_ms": window_ms, "widget_frames": frames, "busy_ms": busy / 1000,
        "busy_pct": 100 * busy / 1000 / window_ms, "groups_ms": groups,
        "per_widget_frame_ms": per_frame, "top_ms": {k: v / 1000 for k, v in top},
    }


def answer_expression(shape: str, size: int) -> str:
    """The kernel's expression for the answer: the workload, a shape, or equations."""
    if shape == "workload":
        return f"make_answer({size})"
    if shape == "math":  # bench_render.py's answer full of equations, at --size
        return f"__import__('bench_render').math_answer({size})"
    return f"SHAPES[{shape!r}]()"


def run_once(size: int, rate: int, ttft: float, trace: bool = False,
             shape: str = "workload") -> dict[str, Any]:
    from _browser import lab_page

    with lab_page() as (nb, server):
        page = nb.page
        page.add_init_script(JS_INSTRUMENT)
        nb.open(
            "bench_browser",
            [SETUP_CELL.format(
                bench_dir=str(BENCH_DIR), chars=TOKEN_CHARS, every=MARKER_EVERY,
                answer=answer_expression(shape, size),
            ), STREAM_CELL.format(rate=rate, ttft=ttft), RESULT_CELL],
        )
        setup = nb.run_cell(0)
        if setup["errors"]:
            raise RuntimeError(f"setup cell failed: {setup}")
        workload = json.loads(setup["text"].strip().splitlines()[-1])
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        # The page's own idle load first (JupyterLab's timers, the kernel's status polling).
        idle0 = _cdp_metrics(cdp)
        page.wait_for_timeout(IDLE_MS)  # a fixed window is the measurement here
        before = _cdp_metrics(cdp)
        idle_busy_pct = 100 * (before["TaskDuration"] - idle0["TaskDuration"]) / (IDLE_MS / 1000)
        wall0 = time.time()
        out = nb.run_cell(1)
        if out["errors"]:
            raise RuntimeError(f"stream cell failed: {out}")
        expected = workload["tokens"] / rate + ttft
        traced = None
        if trace:  # 45-70% of the stream (not the last quarter, whose frames are reported)
            window_ms = 0.25 * workload["tokens"] / rate * 1000
            page.wait_for_timeout((ttft + 0.45 * workload["tokens"] / rate) * 1000)
            frames_before = page.evaluate("() => window.__bench.frames.length")
            browser = page.context.browser
            browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
            page.wait_for_timeout(window_ms)
            data = browser.stop_tracing()
            frames_in = page.evaluate("() => window.__bench.frames.length") - frames_before
            traced = trace_breakdown(data, window_ms, frames_in)
        page.wait_for_function(
            "() => { const r = document.querySelector('.nbstream');"
            " return r && ['done', 'stopped', 'error'].includes(r.dataset.status); }",
            timeout=(expected * 4 + 60) * 1000,
        )
        after = _cdp_metrics(cdp)
        # Let the last frames and the end-of-stream re-render settle.
        page.wait_for_function(
            "() => document.querySelector('.nbstream .nbstream-body')"
            " && document.querySelector('.nbstream').dataset.status === 'done'"
        )
        page.wait_for_timeout(300)  # the MessageChannel of the last frame (no event to wait on)
        page_data = page.evaluate(JS_COLLECT)
        result = nb.run_cell(2)
        if result["errors"]:
            raise RuntimeError(f"result cell failed: {result}")
        kernel = json.loads(result["text"].strip().splitlines()[-1])
        log = server.log_tail(2000)
        cdp.detach()
    return {
        "size": size, "rate": rate, "ttft": ttft, "workload": workload, "kernel": kernel,
        "page": page_data,
        "cdp_before": before, "cdp_after": after, "idle_busy_pct": idle_busy_pct,
        "trace": traced,
        "wall_s": time.time() - wall0,
        "rate_exceeded": "rate exceeded" in log,
        "server_warnings": [
            line for line in log.splitlines() if "WARNING" in line or "[E " in line
        ][-20:],
    }


END_WINDOW_MS = 300
"""A view replaced this close to the status turning ``done`` was replaced by the end of the
stream (the display update), not mid-stream."""


def _stats(values: list[float]) -> dict[str, float | None]:
    return {"n": len(values), "median": median(values), "p95": percentile(values, 0.95),
            "max": max(values, default=None)}


def analyse(run: dict[str, Any]) -> dict[str, Any]:
    page, kernel = run["page"], run["kernel"]
    origin = page["timeOrigin"]
    done_at = page["statusAt"].get("done")  # Date.now() in the page
    first_at = kernel["first"] * 1000 if kernel.get("first") else None  # time.time() * 1000
    # The stream window in performance.now() terms; it is paced evenly, so the answer is past
    # 75% of its size in the last quarter of the window.
    t_first = first_at - origin if first_at else None
    t_done = done_at - origin if done_at else None
    frames = page["frames"]
    if t_first is not None and t_done is not None:
        stream_frames = [f for f in frames if t_first <= f["at"] <= t_done]
        late = [f for f in stream_frames if f["at"] >= t_first + 0.75 * (t_done - t_first)]
        longtasks = [t for t in page["longtasks"] if t_first <= t["at"] <= t_done]
        end_longtasks = [t for t in page["longtasks"] if t_done < t["at"] <= t_done + 2000]
    else:  # pragma: no cover - a run that did not end is reported as such
        stream_frames, late = frames, frames[3 * len(frames) // 4 :]
        longtasks, end_longtasks = [], []
    js = [f["js"] for f in stream_frames]
    total = [f["js"] + (f["render"] or 0.0) for f in stream_frames]
    late_js = [f["js"] for f in late]
    late_total = [f["js"] + (f["render"] or 0.0) for f in late]

    stamps = kernel.get("stamps") or {}
    latencies = [page["markers"][k] - stamps[k] * 1000 for k in stamps if k in page["markers"]]
    missing = sorted(set(stamps) - set(page["markers"]), key=int)
    first_ms = page["firstText"] - first_at if first_at and page["firstText"] else None

    # Committed nodes: every `.nbs-blocks` generation. Those that appeared before the stream
    # ended (the kernel's last token: same machine clock) are the live views'.
    end_at = kernel["last"] * 1000 if kernel.get("last") else done_at
    gens = page["generations"]
    stream_gens = [g for g in gens if end_at is None or g["seenAt"] < end_at]
    end_gens = [g for g in gens if end_at is not None and g["seenAt"] >= end_at]
    rebuilt_mid = [
        g for g in stream_gens
        if g["goneAt"] is not None and end_at is not None and g["goneAt"] < end_at
        and (g["childrenWhenGone"] or 0) > 0
    ]
    replaced_end = [
        g for g in stream_gens
        if g["goneAt"] is not None and (end_at is None or g["goneAt"] >= end_at)
    ]
    live = stream_gens[-1] if stream_gens else None
    committed = {
        "appended": (live["initial"] + live["appended"]) if live else None,
        "children_at_end": (
            live["childrenWhenGone"] if live and live["goneAt"] is not None
            else (live["childrenNow"] if live else None)
        ),
        "removed": sum(g["removed"] + g["innerRemoved"] for g in stream_gens),
        "edited": sum(g["innerEdits"] for g in stream_gens),
        "host_heading_edits": sum(g.get("hostHeadingEdits", 0) for g in stream_gens),
        "moved_into_a_new_view": sum(1 for g in stream_gens if g.get("movedAt")),
        "edit_samples": [e for g in stream_gens for e in g["editSamples"]][:5],
        "rebuilt_mid_stream": [
            {"ms_after_first_token": g["goneAt"] - first_at if first_at else None,
             "nodes": g["childrenWhenGone"]} for g in rebuilt_mid
        ],
        "replaced_at_end": [
            {"ms_after_last_token": g["goneAt"] - end_at if end_at else None,
             "ms_after_done": g["goneAt"] - done_at if done_at else None,
             "nodes": g["childrenWhenGone"]} for g in replaced_end
        ],
        "views_built_after_the_end": [
            {"ms_after_last_token": g["seenAt"] - end_at if end_at else None,
             "nodes": g["initial"] + g["appended"], "edits": g["innerEdits"],
             "edit_samples": g["editSamples"], "still_shown": g["connected"]}
            for g in end_gens
        ],
    }
    cdp_task = run["cdp_after"].get("TaskDuration", 0) - run["cdp_before"].get("TaskDuration", 0)
    stream_s = (done_at - first_at) / 1000 if done_at and first_at else None
    return {
        "stream_s": stream_s,
        "frames": len(stream_frames),
        "frames_late": len(late),
        "final_body_chars": page["bodyChars"],
        "frame_js_ms": _stats(js),
        "frame_js_ms_late": _stats(late_js),
        "frame_total_ms": _stats(total),
        "frame_total_ms_late": _stats(late_total),
        "main_thread_s": cdp_task,
        "main_thread_ms_per_frame": cdp_task * 1000 / len(stream_frames) if stream_frames else None,
        "main_thread_busy_pct": 100 * cdp_task / stream_s if stream_s else None,
        "idle_busy_pct": run["idle_busy_pct"],
        "trace": run.get("trace"),
        "longtasks": len(longtasks),
        "longtask_max_ms": max((t["ms"] for t in longtasks), default=0.0),
        "end_longtasks": [round(t["ms"]) for t in end_longtasks],
        "longtask_error": page.get("longtaskError"),
        "committed": committed,
        "first_token_ms": first_ms,
        "marker_latency_ms": _stats(latencies),
        "markers_missing": missing,
        "status": kernel["status"],
        "chars": kernel["chars"],
        "rate_exceeded": run["rate_exceeded"],
    }


def report(runs: list[dict[str, Any]], stats: list[dict[str, Any]]) -> str:
    def med(key: str, sub: str | None = None) -> float | None:
        return median([s[key][sub] if sub else s[key] for s in stats])

    def verdict(ok: bool) -> str:
        return "ok" if ok else "**over**"

    frame_ok = (med("frame_js_ms_late", "median") or math.inf) <= BUDGET_FRAME_MS
    first_ok = (med("first_token_ms") or math.inf) <= BUDGET_FIRST_TOKEN_MS
    c0 = stats[0]["committed"]
    never_recreated = all(
        s["committed"]["removed"] == 0 and s["committed"]["edited"] == 0
        and not s["committed"]["rebuilt_mid_stream"]
        and s["committed"]["appended"] == s["committed"]["children_at_end"] for s in stats
    )
    replaced_end = any(s["committed"]["replaced_at_end"] for s in stats)
    rows = [
        ["widget frame work, whole stream (ms)", fmt(med("frame_js_ms", "median")),
         fmt(med("frame_js_ms", "p95")), "", ""],
        ["widget frame work, last quarter: 75-100 KB (ms)",
         fmt(med("frame_js_ms_late", "median")), fmt(med("frame_js_ms_late", "p95")),
         f"<= {BUDGET_FRAME_MS:g}", verdict(frame_ok)],
        ["frame incl. rendering, whole stream (ms)", fmt(med("frame_total_ms", "median")),
         fmt(med("frame_total_ms", "p95")), "", ""],
        ["frame incl. rendering, last quarter (ms)", fmt(med("frame_total_ms_late", "median")),
         fmt(med("frame_total_ms_late", "p95")), "", ""],
        ["page main thread per widget frame (ms, mean)", fmt(med("main_thread_ms_per_frame")),
         "", "", ""],
        ["page main thread busy during the stream (%)", fmt(med("main_thread_busy_pct"), ".1f"),
         "", f"(idle page: {fmt(med('idle_busy_pct'), '.1f')})", ""],
        ["long tasks > 50 ms during the stream (count)", fmt(med("longtasks"), ".0f"),
         f"max {fmt(max(s['longtask_max_ms'] for s in stats), '.0f')} ms", "", ""],
        ["first token -> visible (ms)", fmt(med("first_token_ms"), ".0f"), "",
         f"<= {BUDGET_FIRST_TOKEN_MS:g}", verdict(first_ok)],
        ["marker token -> visible (ms)", fmt(med("marker_latency_ms", "median"), ".0f"),
         fmt(med("marker_latency_ms", "p95"), ".0f"), "", ""],
        ["committed blocks appended / children at the end of the stream",
         f"{c0['appended']} / {c0['children_at_end']}", "", "equal", ""],
        ["committed nodes removed / edited / views rebuilt mid-stream",
         f"{c0['removed']} / {c0['edited']} / {len(c0['rebuilt_mid_stream'])}", "",
         "0 (never re-created)", verdict(never_recreated)],
        ["committed nodes re-created when the stream ends (host re-renders the output)",
         "yes" if replaced_end else "no", "", "no",
         "**yes: every committed node re-created once**" if replaced_end else "ok"],
        ["views re-created in place that took over the live DOM / host edits to headings",
         f"{c0.get('moved_into_a_new_view', 0)} / {c0.get('host_heading_edits', 0)}", "", "",
         "(JupyterLab's table of contents adds a span to each heading)"],
    ]
    cfg, s0 = runs[0], stats[0]
    w = cfg["workload"]
    lines = [
        f"### Browser: {w['bytes']:,} bytes of markdown ({w['headings']} headings, "
        f"{w['fences']} code fences, {w['tables']} tables) as {w['tokens']:,} tokens of "
        f"{TOKEN_CHARS} characters at {cfg['rate']:,} tokens/s into JupyterLab 4, headless "
        f"Chromium; {len(runs)} run(s), medians over runs",
        "",
        markdown_table(["metric", "median", "p95", "budget", ""], rows),
        "",
        f"- {s0['frames']} widget frames over {fmt(s0['stream_s'], '.1f')} s of stream "
        f"({s0['frames_late']} in the last quarter); page body at the end "
        f"{s0['final_body_chars']:,} characters; kernel status {s0['status']!r}.",
        "- \"widget frame work\": the widget's requestAnimationFrame callback (JS, HTML "
        "parsing, the style + layout its scrollHeight read forces). \"incl. rendering\": "
        "until a task posted from it runs (adds paint; an upper bound).",
        f"- first token: the generator waits {cfg['ttft']:g} s (like a model's time to first "
        "token), so the view is on the page before the first token.",
        f"- markers seen {s0['marker_latency_ms']['n']}, missing {len(s0['markers_missing'])};"
        f" marker latency max {fmt(s0['marker_latency_ms']['max'], '.0f')} ms.",
        f"- long tasks in the 2 s after the end: {s0['end_longtasks']} ms.",
        f"- IOPub 'rate exceeded' in the server log: {any(s['rate_exceeded'] for s in stats)}.",
    ]
    for s in stats:
        t = s.get("trace")
        if t and "groups_ms" in t:
            parts = ", ".join(f"{g} {fmt(v, '.1f')}" for g, v in t["per_widget_frame_ms"].items())
            lines.append(
                f"- trace ({fmt(t['window_ms'] / 1000, '.1f')} s at 45-70% of the stream, "
                f"{t['widget_frames']} widget frames): main thread busy "
                f"{fmt(t['busy_pct'], '.0f')}%; per widget frame (ms): {parts}."
            )
        for g in s["committed"]["rebuilt_mid_stream"]:
            lines.append(
                f"- PROBLEM: a view's committed blocks were rebuilt mid-stream "
                f"({g['nodes']} nodes, {fmt(g['ms_after_first_token'], '.0f')} ms after the "
                "first token)."
            )
        for g in s["committed"]["replaced_at_end"]:
            rebuilt = s["committed"]["views_built_after_the_end"]
            lines.append(
                f"- PROBLEM: the live view ({g['nodes']} committed nodes) was replaced "
                f"{fmt(g['ms_after_last_token'], '.0f')} ms after the last token "
                f"({fmt(g['ms_after_done'], '+.0f')} ms from the page's status turning 'done') "
                f"and its body built {len(rebuilt)} more time(s): JupyterLab re-renders the "
                "output when nbstream updates its display (static text/html fallback), so "
                "every committed node is re-created at the end and a user's selection is lost."
            )
    if s0["longtask_error"]:
        lines.append(f"- long tasks not observed: {s0['longtask_error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000 tokens/s instead of 2,000")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rate", type=int, default=None, help="tokens per second")
    parser.add_argument("--size", type=int, default=100_000, help="answer size in bytes")
    parser.add_argument("--trace", action="store_true",
                        help="also record a Chromium trace over a quarter of the stream and "
                        "break the page's main-thread time down (adds overhead to that window)")
    parser.add_argument("--shape", choices=["workload", *SHAPES, "math"],
                        default="workload", help="the answer: the workload (--size), one "
                        "huge block from bench_shapes.py (a 2,000-row table, a 3,000-item "
                        "list, a 100 KB paragraph, code fence or quote), or an answer full "
                        "of equations typeset as MathML (bench_render.py, --size)")
    parser.add_argument("--ttft", type=float, default=1.0,
                        help="seconds the generator waits before its first token")
    args = parser.parse_args(argv)
    rate = args.rate or (4000 if args.quick else 2000)

    runs, stats = [], []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}: {args.size:,} bytes at {rate:,} tokens/s ...",
              file=sys.stderr, flush=True)
        run = run_once(args.size, rate, args.ttft, args.trace, args.shape)
        runs.append(run)
        stats.append(analyse(run))
    text = report(runs, stats)
    print(text)
    slim_runs = []
    for run in runs:
        page = dict(run["page"])
        page["frames"] = [
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in f.items()}
            for f in page["frames"]
        ]
        slim_runs.append({**run, "page": page})
    # A traced run has overhead in its trace window: it does not replace the plain results.
    name = "browser" if args.shape == "workload" else f"browser-{args.shape}"
    path = write_json(f"{name}-trace.json" if args.trace else f"{name}.json", {
        "environment": environment(),
        "config": {"shape": args.shape, "size": args.size, "rate": rate, "ttft": args.ttft,
                   "runs": args.runs,
                   "quick": args.quick, "trace": args.trace, "marker_every": MARKER_EVERY,
                   "token_chars": TOKEN_CHARS},
        "budgets": {"frame_ms": BUDGET_FRAME_MS, "first_token_ms": BUDGET_FIRST_TOKEN_MS,
                    "committed_nodes_recreated": 0},
        "summary": stats,
        "report": text,
        "runs": slim_runs,
    })
    print(f"\nresults: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
