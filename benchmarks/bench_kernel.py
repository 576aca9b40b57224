"""Kernel-side cost of streaming the reference workload: nbstream vs the naive patterns.

Usage::

    python benchmarks/bench_kernel.py [--runs N] [--quick] [--methods print,nbstream,...]

For every method and run a fresh ``ipykernel`` is started (jupyter_client, ZMQ, exactly
as a front-end talks to it) and one cell streams the DESIGN.md reference workload, 10,000
chunks of ~4.4 characters (44 KB of markdown), as fast as the kernel takes them:

``print``       ``print(chunk, end="", flush=True)`` per chunk
``markdown``    ``h = display(Markdown(""), display_id=True)``; ``h.update(Markdown(acc))``
``markdown-it`` ``h.update(HTML(render(acc)))`` per chunk, ``render`` being nbstream's own
                markdown-it configuration (``nbstream._markdown.render``: GFM + Pygments), so
                it produces the same HTML as nbstream. Several minutes on a slow machine: it
                runs once, and ``--quick`` re-renders only after every 100th chunk (100 renders
                spread over the whole answer) and extrapolates CPU and bytes x 100.
``nbstream``    ``w = nbstream.stream(CHUNKS); display(w)``, then ``w.wait()`` in a second cell

Optional (``--methods``): ``markdown-it-plain``, the same with a plain ``MarkdownIt()``
(CommonMark, no highlighting): about 3x cheaper than nbstream's configuration.

Measured:

- **kernel CPU s**: ``time.process_time()`` in the kernel (all threads of the process: the
  cell, nbstream's worker and flusher threads, ipykernel's IOPub thread) from the start of
  the cell until the stream has ended. For nbstream the end is the moment its ``status``
  trait turns ``done`` (an observer; the final patch, snapshot and status have been sent).
  Imports and a first full ``render`` (Pygments lexers load lazily) happen off the clock.
- **IOPub msgs / MB**: every IOPub message the stream caused (``stream``, ``display_data``,
  ``update_display_data``, ``execute_result`` and the widget's ``comm_msg``), counted as
  received by the client; bytes are the UTF-8 JSON of each message's ``content`` plus its
  binary buffers (what the server forwards to the page; header/parent/metadata envelopes
  are reported separately as ``wire_mb`` in the JSON). The widget's one-off ``comm_open``
  (its ESM + CSS) is reported apart.
- **peak msgs/s**: the largest number of those messages in any 1-s window, taking the
  larger of the count by kernel send time (header date) and by client arrival time.

Budgets (DESIGN.md): CPU <= 0.5 s, bytes <= 2 x final HTML (``len(w.html)``), <= 60 msgs/s.
Results go to ``benchmarks/results/kernel.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from _common import (
    BENCH_DIR,
    environment,
    fmt,
    markdown_table,
    median,
    stderr_report,
    write_json,
)
from kernel_helpers import Received, kernel_session, max_per_window

try:  # how the page applies the widget's patches, as the kernel tests rebuild it
    from test_kernel import rebuild_html
except ImportError:  # pragma: no cover - the check is skipped (and said so) without it
    rebuild_html = None
from workload import (
    REFERENCE_BYTES,
    REFERENCE_CHUNKS,
    describe,
    reference_answer,
)

BUDGET_CPU_S = 0.5
BUDGET_BYTES_X_HTML = 2.0
BUDGET_MSGS_PER_S = 60
QUICK_MARKDOWN_IT_EVERY = 100
ATTEMPTS = 2  # a run that fails (timeout, lost IOPub message) is retried once, and reported

STREAM_TYPES = frozenset(
    {"stream", "display_data", "update_display_data", "execute_result", "comm_msg"}
)

METHODS = ("print", "markdown", "markdown-it", "nbstream", "nbstream-paced")
OPTIONAL_METHODS = ("markdown-it-plain",)
RERENDER_METHODS = ("markdown-it", "markdown-it-plain")
LABELS = {
    "print": "`print` per chunk",
    "markdown": "`display(Markdown)` update",
    "markdown-it": "markdown-it per chunk (nbstream's config)",
    "markdown-it-plain": "markdown-it per chunk (plain `MarkdownIt()`)",
    "nbstream": "**nbstream**",
    "nbstream-paced": "**nbstream**, paced at 2,000 chunks/s",
}
NBSTREAM_METHODS = ("nbstream", "nbstream-paced")

SETUP = """
import sys, time, json
sys.path.insert(0, {bench_dir!r})
from workload import make_answer, split_chunks
ANSWER = make_answer({size})
CHUNKS = split_chunks(ANSWER, {n_chunks})
EVERY = {every}  # the re-render baselines update after every EVERY-th chunk (1: each chunk)
from IPython.display import display, Markdown, HTML
from markdown_it import MarkdownIt
import nbstream
from nbstream._markdown import render
plain_render = MarkdownIt().render
render(ANSWER), plain_render(ANSWER)  # warm-up: Pygments lexers etc. load on first use
"""

_CLOCK_START = "_t0, _w0 = time.process_time(), time.perf_counter()\n"
_CLOCK_STOP = (
    "_BENCH = {'cpu': time.process_time() - _t0, 'wall': time.perf_counter() - _w0, "
    "'chunks': len(CHUNKS)}\n"
)

CELLS: dict[str, list[str]] = {
    "print": [
        _CLOCK_START
        + "for _c in CHUNKS:\n"
        "    print(_c, end='', flush=True)\n" + _CLOCK_STOP
    ],
    "markdown": [
        _CLOCK_START
        + "_h = display(Markdown(''), display_id=True)\n"
        "_acc = ''\n"
        "for _c in CHUNKS:\n"
        "    _acc += _c\n"
        "    _h.update(Markdown(_acc))\n" + _CLOCK_STOP
    ],
    "markdown-it": [
        _CLOCK_START
        + "_h = display(HTML(''), display_id=True)\n"
        "_acc = ''\n"
        "for _i, _c in enumerate(CHUNKS, 1):\n"
        "    _acc += _c\n"
        "    if _i % EVERY == 0 or _i == len(CHUNKS):\n"
        "        _h.update(HTML(RENDER(_acc)))\n" + _CLOCK_STOP
        + "_BENCH['html_len'] = len(RENDER(_acc))\n"
    ],
    "nbstream": [
        _CLOCK_START
        + "_END = []\n"
        "def _on_status(change):\n"
        "    if change['new'] in ('done', 'stopped', 'error') and not _END:\n"
        "        _END.append((time.process_time(), time.perf_counter()))\n"
        "w = nbstream.stream(CHUNKS)\n"
        "w.observe(_on_status, names='status')\n"
        "display(w)\n",
        # second cell: wait for the end (the background threads are inside process_time)
        "_ended = w.wait(timeout={timeout})\n"
        "_t1, _w1 = time.process_time(), time.perf_counter()\n"
        "_c1, _wall1 = _END[0] if _END else (_t1, _w1)\n"
        "_BENCH = {'cpu': _c1 - _t0, 'wall': _wall1 - _w0, 'cpu_at_wait_return': _t1 - _t0,\n"
        "          'observer_fired': bool(_END), 'ended': _ended, 'status': w.status,\n"
        "          'chunks': len(CHUNKS)}\n",
        # off the clock: correctness of what was streamed
        "_BENCH.update(text_ok=w.text == ''.join(CHUNKS), html_len=len(w.html),\n"
        "              html_is_full_render=w.html == render(w.text), metrics=w.metrics)\n",
    ],
}
CELLS["nbstream-paced"] = [
    CELLS["nbstream"][0].replace(
        "w = nbstream.stream(CHUNKS)\n",
        "def _paced(chunks, per_tick=20, tick=0.01):\n"
        "    for _i, _c in enumerate(chunks):\n"
        "        if _i % per_tick == 0:\n"
        "            time.sleep(tick)\n"
        "        yield _c\n"
        "w = nbstream.stream(_paced(CHUNKS))\n",
    ),
    *CELLS["nbstream"][1:],
]
CELLS["markdown-it-plain"] = [c.replace("RENDER", "plain_render") for c in CELLS["markdown-it"]]
CELLS["markdown-it"] = [c.replace("RENDER", "render") for c in CELLS["markdown-it"]]
TIMEOUTS = {"print": 180.0, "markdown": 300.0, "markdown-it": 1800.0,
            "markdown-it-plain": 900.0, "nbstream": 120.0, "nbstream-paced": 120.0}


# ---- measuring ---------------------------------------------------------------------------------


def content_bytes(r: Received) -> int:
    size = len(json.dumps(r.content, ensure_ascii=False, default=str).encode())
    return size + sum(len(memoryview(b).cast("B")) for b in r.msg.get("buffers") or [])


def envelope_bytes(r: Received) -> int:
    return sum(
        len(json.dumps(r.msg.get(k, {}), ensure_ascii=False, default=str).encode())
        for k in ("header", "parent_header", "metadata")
    )


def analyse(messages: list[Received], comm_id: str | None) -> dict[str, Any]:
    """Traffic numbers for the messages one measured stream caused."""
    mine = [
        r for r in messages
        if r.msg_type in STREAM_TYPES
        and (r.msg_type != "comm_msg" or comm_id is None or r.content.get("comm_id") == comm_id)
    ]
    by_type: dict[str, int] = {}
    for r in mine:
        key = r.msg_type
        if key == "comm_msg":
            key += ":" + str(r.content.get("data", {}).get("method"))
        by_type[key] = by_type.get(key, 0) + 1
    sizes = [content_bytes(r) for r in mine]
    opens = [r for r in messages if r.msg_type == "comm_open"]
    peak_sent = max_per_window(r.sent_at for r in mine) if mine else 0
    peak_recv = max_per_window(r.t for r in mine) if mine else 0
    return {
        "msgs": len(mine),
        "by_type": by_type,
        "bytes": sum(sizes),
        "largest_msg_bytes": max(sizes) if sizes else 0,
        "wire_bytes": sum(sizes) + sum(envelope_bytes(r) for r in mine),
        "peak_per_s": max(peak_sent, peak_recv),
        "peak_per_s_sent": peak_sent,
        "peak_per_s_received": peak_recv,
        "comm_open_msgs": len(opens),
        "comm_open_bytes": sum(content_bytes(r) for r in opens),
        "iopub_span_s": (mine[-1].t - mine[0].t) if mine else 0.0,
        "widget_bytes": sum(
            size for r, size in zip(mine, sizes, strict=True) if r.msg_type == "comm_msg"
        ),
        "display_bytes": sum(
            size for r, size in zip(mine, sizes, strict=True)
            if r.msg_type in ("display_data", "update_display_data")
        ),
        "stderr": "".join(
            r.content.get("text", "") for r in messages
            if r.msg_type == "stream" and r.content.get("name") == "stderr"
        )[:4000],
    }


def run_once(method: str, every: int, kernel_timeout: float) -> dict[str, Any]:
    """One fresh kernel, one measured stream."""
    with tempfile.TemporaryDirectory(prefix="nbstream-bench-") as tmp:
        t_start = time.monotonic()
        with kernel_session(Path(tmp)) as ks:
            t_ready = time.monotonic()
            ks.run(
                SETUP.format(bench_dir=str(BENCH_DIR), size=REFERENCE_BYTES,
                             n_chunks=REFERENCE_CHUNKS, every=every),
                timeout=120,
            )
            cells = CELLS[method]
            first = len(ks.messages)
            deadline = time.monotonic() + kernel_timeout
            for i, cell in enumerate(cells):
                if method in NBSTREAM_METHODS and i == len(cells) - 1:
                    last = len(ks.messages)  # the correctness cell is off the record
                left = max(deadline - time.monotonic(), 10.0)
                res = ks.execute(cell.replace("{timeout}", f"{left:.0f}"), timeout=left + 30)
                if res.status != "ok":
                    raise RuntimeError(f"{method} cell {i} failed: {res.error}\n{res.stderr}")
            if method not in NBSTREAM_METHODS:
                last = len(ks.messages)
            msgs = ks.messages[first:last]
            comm_id = ks.widget_comm_id() if method in NBSTREAM_METHODS else None
            bench = ks.run_json("_BENCH")
            out = {**bench, **analyse(msgs, comm_id)}
            out["kernel_start_s"] = t_ready - t_start
            if method in NBSTREAM_METHODS:
                html = ks.run_json("w.html")
                updates = [r for r in msgs if r.msg_type == "comm_msg"
                           and r.content.get("comm_id") == comm_id]
                out["page_html_ok"] = (
                    rebuild_html(updates) == html if rebuild_html is not None else None
                )
                out["static_displays"] = sum(
                    1 for r in msgs if r.msg_type in ("display_data", "update_display_data")
                    and "text/html" in r.content.get("data", {})
                )
            if method == "markdown" or (method in RERENDER_METHODS and every == 1):
                out["expected_msgs"] = bench["chunks"] + 1  # display + one update per chunk
            return out


def run_method(method: str, runs: int, every: int, verbose: bool) -> list[dict[str, Any]]:
    results = []
    for i in range(runs):
        t = time.monotonic()
        earlier: list[str] = []
        for _attempt in range(ATTEMPTS):
            try:
                r = run_once(method, every, TIMEOUTS[method])
                break
            except Exception as exc:
                # e.g. a flood of output overran IOPub (ZMQ drops above its high-water mark)
                # and the cell's "idle" status was among the dropped messages
                traceback.print_exc()
                earlier.append(f"{type(exc).__name__}: {exc}")
                r = {"error": earlier[-1]}
        if len(earlier) and "error" not in r:
            r["failed_attempts"] = earlier
        r["bench_wall_s"] = time.monotonic() - t
        results.append(r)
        if verbose:
            short = {k: r.get(k) for k in ("cpu", "wall", "msgs", "bytes", "peak_per_s", "error")}
            print(f"  {method} run {i + 1}/{runs}: {short}", file=sys.stderr, flush=True)
    return results


# ---- reporting ---------------------------------------------------------------------------------


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in results if "error" not in r]
    keys = ("cpu", "wall", "msgs", "bytes", "wire_bytes", "peak_per_s", "peak_per_s_sent",
            "peak_per_s_received", "largest_msg_bytes", "comm_open_bytes", "html_len",
            "widget_bytes", "display_bytes")
    return {k: median(r.get(k) for r in ok) for k in keys} | {"ok_runs": len(ok)}


def problems_of(method: str, r: dict[str, Any]) -> list[str]:
    """What makes a run's numbers untrustworthy (or shows an nbstream bug)."""
    out = []
    if r.get("expected_msgs") and r["msgs"] < r["expected_msgs"]:
        out.append(f"received {r['msgs']:,} of {r['expected_msgs']:,} messages (IOPub dropped "
                   "some: ZMQ high-water mark)")
    if method in NBSTREAM_METHODS:
        if r.get("status") != "done" or not r.get("ended"):
            out.append(f"status {r.get('status')!r} (ended: {r.get('ended')}), expected 'done'")
        if not r.get("text_ok"):
            out.append("w.text differs from the streamed text")
        if not r.get("html_is_full_render"):
            out.append("w.html differs from render(w.text)")
        if r.get("page_html_ok") is False:
            out.append("the HTML rebuilt from the widget's patches (as the page applies them) "
                       "differs from w.html: the page does not show the final answer")
        if not r.get("observer_fired"):
            out.append("status observer never fired (CPU measured when wait() returned)")
    return out


def verdict(m: dict[str, Any], html_len: int | None) -> str:
    parts = []
    for name, value, budget in (
        ("CPU", m.get("cpu"), BUDGET_CPU_S),
        ("bytes", m.get("bytes"), BUDGET_BYTES_X_HTML * html_len if html_len else None),
        ("rate", m.get("peak_per_s"), BUDGET_MSGS_PER_S),
    ):
        if value is None or not budget:
            parts.append(f"{name} n/a")
            continue
        x = value / budget
        shown = f"{x:.2f}" if x < 10 else f"{x:,.0f}"
        parts.append(f"{name} {shown}x {'ok' if x <= 1 else 'OVER'}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per method (default 3; the "
                    "markdown-it baselines run once: several minutes each)")
    ap.add_argument("--quick", action="store_true", help="1 run each; markdown-it re-renders "
                    f"after every {QUICK_MARKDOWN_IT_EVERY}th chunk only and is extrapolated")
    ap.add_argument("--markdown-it-every", type=int, default=None, metavar="K",
                    help="markdown-it baselines: re-render after every K-th chunk (default 1, "
                    f"or {QUICK_MARKDOWN_IT_EVERY} with --quick); CPU and bytes are then "
                    "extrapolated x K")
    ap.add_argument("--methods", default=",".join(METHODS),
                    help=f"comma-separated subset of {','.join(METHODS + OPTIONAL_METHODS)}")
    ap.add_argument("--quiet", action="store_true", help="no per-run progress on stderr")
    args = ap.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS + OPTIONAL_METHODS)
    if unknown:
        ap.error(f"unknown methods: {sorted(unknown)}")
    runs = 1 if args.quick else max(1, args.runs)
    every_k = args.markdown_it_every or (QUICK_MARKDOWN_IT_EVERY if args.quick else 1)

    answer = reference_answer()
    t_all = time.monotonic()
    raw: dict[str, list[dict[str, Any]]] = {}
    every: dict[str, int] = {}
    for method in methods:
        every[method] = every_k if method in RERENDER_METHODS else 1
        n = 1 if method in RERENDER_METHODS else runs
        if not args.quiet:
            sampled = f", re-rendering every {every[method]}th" if every[method] > 1 else ""
            print(f"{method}: {n} run(s){sampled} ...", file=sys.stderr, flush=True)
        raw[method] = run_method(method, n, every[method], verbose=not args.quiet)
    summary = {m: summarise(rs) for m, rs in raw.items()}

    # The HTML the budget is relative to: len(w.html) from the nbstream runs, else a local
    # render of the same text with the same configuration.
    html_len = next((summary[m]["html_len"] for m in NBSTREAM_METHODS
                     if summary.get(m, {}).get("html_len")), None)
    html_source = "len(w.html) in the kernel"
    if not html_len:
        from nbstream._markdown import render

        html_len = len(render(answer))
        html_source = "nbstream._markdown.render(answer) in the benchmark process"

    # A sampled re-render baseline (every K-th chunk): each render costs ~ its text length
    # and the samples are spread evenly over the answer, so the full run costs ~K x.
    extrapolated: dict[str, dict[str, Any]] = {}
    for method in methods:
        m = summary[method]
        if every[method] > 1 and m.get("cpu") is not None:
            k = every[method]
            extrapolated[method] = {"factor": k, "cpu": m["cpu"] * k, "bytes": m["bytes"] * k,
                                    "msgs": REFERENCE_CHUNKS + 1, "peak_per_s": None}

    headers = ["method", "runs", "kernel CPU s", "IOPub msgs", "IOPub MB", "peak msgs/s",
               "vs budget"]
    rows = []
    for method in methods:
        m = summary[method]
        label = LABELS[method]
        if every[method] > 1:
            label += f" (sampled: every {every[method]}th chunk)"
        rows.append([
            label, f"{m['ok_runs']}/{len(raw[method])}", fmt(m["cpu"], ".3f"),
            fmt(m["msgs"], ",.0f"),
            fmt(m["bytes"] / 1e6 if m["bytes"] is not None else None, ".3f"),
            fmt(m["peak_per_s"], ",.0f"), verdict(m, html_len),
        ])
        if method in extrapolated:
            x = extrapolated[method]
            rows.append([
                LABELS[method] + f" (extrapolated x{x['factor']} to every chunk)", "-",
                f"~{x['cpu']:.0f}", f"{x['msgs']:,}", f"~{x['bytes'] / 1e6:.0f}", "n/a",
                verdict(x, html_len),
            ])

    lines = [
        f"Reference workload: {describe(answer)['bytes']:,} B of markdown "
        f"({describe(answer)['fences']} fences), {REFERENCE_CHUNKS:,} chunks; "
        f"final HTML {html_len:,} chars ({html_source}). "
        f"Medians over the runs. Budgets: CPU <= {BUDGET_CPU_S} s, "
        f"bytes <= {BUDGET_BYTES_X_HTML:g} x HTML = {BUDGET_BYTES_X_HTML * html_len / 1e6:.3f} MB, "
        f"<= {BUDGET_MSGS_PER_S} msgs/s.",
        "",
        markdown_table(headers, rows),
        "",
    ]
    nb = summary.get("nbstream")
    if nb and nb.get("cpu") is not None and set(methods) - set(NBSTREAM_METHODS):
        lines.append("nbstream relative to each baseline (nbstream / baseline):")
        for method in methods:
            if method in NBSTREAM_METHODS or summary[method].get("cpu") is None:
                continue
            base = {**summary[method], **extrapolated.get(method, {})}
            tag = " (vs the extrapolated full run)" if method in extrapolated else ""
            parts = []
            for key, name in (("cpu", "CPU"), ("msgs", "messages"), ("bytes", "bytes")):
                if base.get(key):
                    parts.append(f"{name} {nb[key] / base[key]:.3g}x")
            lines.append(f"- vs {method}{tag}: " + ", ".join(parts))
    for method in NBSTREAM_METHODS:
        m = summary.get(method)
        if not m or m.get("bytes") is None:
            continue
        lines.append(
            f"- {method}: bytes = {m['bytes'] / html_len:.2f} x final HTML "
            f"(budget <= {BUDGET_BYTES_X_HTML:g}x): widget messages "
            f"{m['widget_bytes']:,.0f} B + display_data / update_display_data (the static "
            f"copy for saved notebooks) {m['display_bytes']:,.0f} B; largest single message "
            f"{m['largest_msg_bytes']:,.0f} B; the widget's comm_open (ESM + CSS, once per "
            f"widget, not counted above) {m['comm_open_bytes']:,.0f} B"
        )
        for i, r in enumerate(raw[method]):
            if "error" in r:
                continue
            lines.append(
                f"- {method} run {i + 1}: status {r.get('status')!r}, text intact: "
                f"{r.get('text_ok')}, w.html == render(w.text): "
                f"{r.get('html_is_full_render')}, page HTML rebuilt from the patches == "
                f"w.html: {r.get('page_html_ok')}, messages {r.get('by_type')}, "
                f"stream wall {r.get('wall', 0):.2f} s, CPU {r.get('cpu', 0):.3f} s"
            )
    n_problems = 0
    for method in methods:
        for i, r in enumerate(raw[method]):
            if "error" in r:
                lines.append(f"- {method} run {i + 1} FAILED: {r['error']}")
                continue
            r["problems"] = problems_of(method, r)
            n_problems += method in NBSTREAM_METHODS and bool(r["problems"])
            lines += [f"- {method} run {i + 1}: PROBLEM: {p}" for p in r["problems"]]
            lines += [f"- {method} run {i + 1}: retried after: {e}"
                      for e in r.get("failed_attempts", [])]
    stderr = [(f"{m} run {i + 1}", r["stderr"]) for m in methods
              for i, r in enumerate(raw[m]) if r.get("stderr")]
    lines += stderr_report(stderr)
    n_problems += any(label.startswith("nbstream") for label, _ in stderr)
    for method, x in extrapolated.items():
        lines.append(
            f"- {method}: re-rendered after every {x['factor']}th chunk only "
            f"({summary[method]['msgs']:,.0f} renders spread over the whole answer); a render "
            f"costs ~ its text length, so rendering every chunk costs ~{x['factor']}x the CPU "
            "and bytes (extrapolated row; its peak rate is not measured)."
        )
    lines.append(f"\nTotal benchmark time {time.monotonic() - t_all:.0f} s.")
    report = "\n".join(lines)
    print(report)

    path = write_json("kernel.json", {
        "environment": environment(),
        "workload": {**describe(answer), "chunks": REFERENCE_CHUNKS},
        "quick": args.quick,
        "rerender_every": every,
        "budgets": {"cpu_s": BUDGET_CPU_S, "bytes_x_html": BUDGET_BYTES_X_HTML,
                    "msgs_per_s": BUDGET_MSGS_PER_S},
        "html_len": html_len,
        "html_len_source": html_source,
        "median": summary,
        "extrapolated": extrapolated or None,
        "runs": raw,
        "report": report,
    })
    print(f"Results: {path}", file=sys.stderr)
    failed = any("error" in r for rs in raw.values() for r in rs)
    return 1 if failed or n_problems else 0


if __name__ == "__main__":
    sys.exit(main())
