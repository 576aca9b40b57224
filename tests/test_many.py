"""Many live streams in one real ipykernel, driven over ZMQ like a front-end (issue 9,
DESIGN.md "Budgets for many streams").

What a user who starts many answers at once relies on, measured at the client and inside
the kernel:

- the cell that starts N streams returns at once (≤ 1 s);
- all streams together send ≤ 200 IOPub messages in any one-second window, counted as
  jupyter_server's rate limiter counts them (every message but ``status``, ``comm_open`` and
  ``execute_input``), by arrival at the client, displays and end-of-stream messages included;
- every stream ends ``done`` with exactly its source's text;
- kernel threads peak ≤ N + 10 above the idle kernel's own for N sync sources (≤ 10 for async
  sources); 15 s after the last stream ended at most 3 more remain, and open file descriptors
  (ZeroMQ sockets are descriptors) are back to ≤ 3 above the idle kernel's within 20 s;
- 1,000 short streams in a row all end ``done``; descriptors and memory stay flat.

Each test has a kernel of its own. A test checks every budget before it fails, and its failure
lists each budget missed with the figure measured (the figures of a run are printed too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kernel_helpers import ExecResult, KernelSession, kernel_session, max_per_window

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(600)]

CELL_RETURN_S = 1.0
MAX_MSGS_PER_S = 200
NOT_COUNTED = frozenset({"status", "comm_open", "execute_input"})  # as jupyter_server's limiter
THREADS_OVER_N = 10  # peak threads above the idle kernel's: ≤ N + 10 (sync), ≤ 10 (async)
LEFT_AFTER = 3  # threads / fds above the idle kernel's once the streams have ended
THREADS_SETTLE_S = 15.0  # ... for threads, this long after the last stream ended
FDS_SETTLE_S = 20.0  # ... for fds (ipykernel collects a dead thread's socket every ~10 s)

# Helpers defined in the kernel. `_nbs_baseline()` takes the idle kernel's thread and fd
# counts and starts a sampler thread that records the peaks every 10 ms (as
# benchmarks/bench_many.py does); `_nbs_settle()` stops it and polls until the streams'
# threads and fds are gone (or a deadline passes) and returns the figures.
HELPERS = """
import asyncio, gc, json, os, threading, time
import nbstream
from IPython.display import display

def _nbs_fds():
    return len(os.listdir("/proc/self/fd"))

def _nbs_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")

def _nbs_baseline():
    global _nbs_base, _nbs_peak, _nbs_stop, _nbs_sampler
    _nbs_base = {"threads": threading.active_count(), "fds": _nbs_fds()}
    _nbs_peak = dict(_nbs_base)
    _nbs_stop = threading.Event()

    def sample():  # the sampler itself is not counted
        while not _nbs_stop.is_set():
            _nbs_peak["threads"] = max(_nbs_peak["threads"], threading.active_count() - 1)
            _nbs_peak["fds"] = max(_nbs_peak["fds"], _nbs_fds())
            time.sleep(0.01)

    _nbs_sampler = threading.Thread(target=sample, name="test-sampler", daemon=True)
    _nbs_sampler.start()

async def _nbs_settle(t_end, left, deadline):
    # Poll every 0.2 s until at most `left` threads and fds above the base remain, for up to
    # `deadline` s after `t_end`; when each got there (s after t_end), and what remains.
    _nbs_stop.set()
    _nbs_sampler.join()
    settled = {"threads": None, "fds": None}
    while True:
        since = time.monotonic() - t_end
        extra = {
            "threads": threading.active_count() - _nbs_base["threads"],
            "fds": _nbs_fds() - _nbs_base["fds"],
        }
        for key, value in extra.items():
            if settled[key] is None and value <= left:
                settled[key] = since
        if None not in settled.values() or since > deadline:
            break
        await asyncio.sleep(0.2)
    return {
        "threads_peak": _nbs_peak["threads"] - _nbs_base["threads"],
        "fds_peak": _nbs_peak["fds"] - _nbs_base["fds"],
        "threads_left": extra["threads"],
        "fds_left": extra["fds"],
        "threads_settled_s": settled["threads"],
        "fds_settled_s": settled["fds"],
    }
"""

SETTLE = f"print(json.dumps(await _nbs_settle(_nbs_t_end, {LEFT_AFTER}, {FDS_SETTLE_S})))"


@pytest.fixture
def kernel(tmp_path: Path):
    """A kernel of the test's own, with nbstream imported and the helpers defined."""
    with kernel_session(tmp_path) as ks:
        ks.run(HELPERS)
        yield ks


@dataclass
class Checks:
    """Budgets checked one by one; ``verify()`` fails with every one that was missed."""

    figures: dict[str, Any] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.missed.append(what)

    def verify(self) -> None:
        print(json.dumps(self.figures, default=str))
        missed = "\n- ".join(self.missed)
        assert not self.missed, f"missed:\n- {missed}\nfigures: {json.dumps(self.figures)}"


def last_json(out: str) -> Any:
    return json.loads(out.strip().splitlines()[-1])


def busiest_second(kernel: KernelSession, since: float) -> int:
    """Messages the server's rate limiter would count, arriving in the busiest 1-s window."""
    return max_per_window(
        r.t for r in kernel.messages if r.t >= since and r.msg_type not in NOT_COUNTED
    )


WAIT = """
for _w in _nbs_ws:
    {wait_line}
_nbs_t_end = time.monotonic()
print(json.dumps({{
    "all_done_s": _nbs_t_end - _nbs_t0,
    "statuses": [w.status for w in _nbs_ws],
    "texts": [w.text for w in _nbs_ws],
}}))
"""


def run_many(kernel: KernelSession, start_code: str, wait_line: str) -> dict[str, Any]:
    """Take the baseline, run the cell that starts the streams (``_nbs_ws``), then a cell that
    waits for each with ``wait_line`` and one that lets them settle. Returns the figures."""
    kernel.run("_nbs_baseline()")
    start: ExecResult = kernel.execute("_nbs_t0 = time.monotonic()\n" + start_code, timeout=300)
    assert start.status == "ok", start.error
    ended = last_json(kernel.run(WAIT.format(wait_line=wait_line), timeout=300))
    settled = last_json(kernel.run(SETTLE, timeout=120))
    return {
        "cell_return_s": round(start.reply_latency, 3),
        "busiest_second": busiest_second(kernel, start.t_sent),
        **ended,
        **settled,
    }


def check_many(figures: dict[str, Any], expected: list[str], max_threads: int) -> Checks:
    """The budgets of many streams from one cell (see the module's docstring)."""
    statuses, texts = figures.pop("statuses"), figures.pop("texts")
    checks = Checks(figures)
    wrong = [
        f"#{i} {s}: {t[-40:]!r} != {e[-40:]!r}"
        for i, (s, t, e) in enumerate(zip(statuses, texts, expected, strict=True))
        if s != "done" or t != e
    ]
    figures["not_done_or_inexact"] = len(wrong)
    n = len(expected)
    checks.check(not wrong, f"{len(wrong)} of {n} streams not done with their text: {wrong[:3]}")
    checks.check(
        figures["cell_return_s"] <= CELL_RETURN_S,
        f"the cell returned after {figures['cell_return_s']:.2f} s (budget {CELL_RETURN_S} s)",
    )
    checks.check(
        figures["busiest_second"] <= MAX_MSGS_PER_S,
        f"{figures['busiest_second']} messages in the busiest second (budget {MAX_MSGS_PER_S})",
    )
    checks.check(
        figures["threads_peak"] <= max_threads,
        f"threads peaked at base + {figures['threads_peak']} (budget base + {max_threads})",
    )
    check_settled(checks, figures)
    return checks


def check_settled(checks: Checks, figures: dict[str, Any]) -> None:
    """Threads back to ≤ base + 3 within 15 s of the last end; fds within 20 s."""
    t = figures["threads_settled_s"]
    when = f"{t:.1f} s" if t is not None else f"more than {FDS_SETTLE_S:.0f} s"
    checks.check(
        t is not None and t <= THREADS_SETTLE_S,
        f"threads back to base + {LEFT_AFTER} {when} after the end (budget "
        f"{THREADS_SETTLE_S:.0f} s); base + {figures['threads_left']} when polling stopped",
    )
    checks.check(
        figures["fds_settled_s"] is not None,
        f"fds at base + {figures['fds_left']} {FDS_SETTLE_S:.0f} s after the end "
        f"(budget base + {LEFT_AFTER})",
    )


# --------------------------------------------------------------------------------------
# a. 100 sync generators
# --------------------------------------------------------------------------------------

N_GENERATORS = 100


def generator_chunks(i: int) -> list[str]:
    """Stream ``i``'s 60 chunks: a heading, words that name the stream, paragraph breaks."""
    words = [f"s{i}w{k}" + ("\n\n" if k % 15 == 14 else " ") for k in range(58)]
    return [f"## Stream {i}\n\n", *words, f"end of stream {i}."]


GENERATORS = """
_NBS_CHUNKS = {chunks!r}

def _nbs_gen(i):
    pause = 0.01 + 0.005 * (i % 3)  # 60 chunks 10-20 ms apart: 0.6-1.2 s, all overlapping
    for chunk in _NBS_CHUNKS[i]:
        time.sleep(pause)
        yield chunk
"""


def test_100_sync_generators_from_one_cell(kernel: KernelSession) -> None:
    """One cell starts 100 streams from sync generators and displays them: it returns at
    once, the streams together stay under the message budget, each ends with exactly its
    generator's text, and the threads and sockets they used go away."""
    chunks = [generator_chunks(i) for i in range(N_GENERATORS)]
    expected = ["".join(c) for c in chunks]
    assert len(set(expected)) == N_GENERATORS and all(len(c) == 60 for c in chunks)
    kernel.run(GENERATORS.format(chunks=chunks))
    figures = run_many(
        kernel,
        f"_nbs_ws = [nbstream.stream(_nbs_gen(i)) for i in range({N_GENERATORS})]\n"
        "display(*_nbs_ws)",
        "_w.wait(120)",
    )
    check_many(figures, expected, N_GENERATORS + THREADS_OVER_N).verify()


# --------------------------------------------------------------------------------------
# b. 30 demo streams, sync and async client
# --------------------------------------------------------------------------------------

N_DEMO = 30
# Three short canned answers (tongue twister, greeting, table: 42-145 tokens at 30-80/s).
PROMPTS = ["Say 'double bubble bath' ten times fast.", "Hello there!", "Show me a small table."]

# The demo gives the same answer to the same request. Asked without streaming, at infinite
# speed, it answers with no thread and no widget (so nothing is left to skew the baseline);
# the streamed text at infinite speed (benchmarks/bench_many.py's EXPECTED) is the same.
EXPECTED = """
_c = nbstream.demo_client(speed=float("inf"))
print(json.dumps([_c.responses.create(model="demo", input=p).output_text for p in {prompts!r}]))
del _c
"""

DEMO_START = """
_nbs_client = nbstream.demo_client(async_client={is_async})
_NBS_PROMPTS = {prompts!r}
_nbs_ws = [
    nbstream.responses(_nbs_client, model="demo", input=_NBS_PROMPTS[i % 3]) for i in range({n})
]
display(*_nbs_ws)
"""


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_30_demo_streams_from_one_cell(kernel: KernelSession, kind: str) -> None:
    """One cell starts 30 demo streams (``nbstream.responses`` on the demo client, sync or
    async) and displays them: the same budgets as the generators; an async source needs no
    thread of its own (threads ≤ base + 10). Note: the async SDK runs ``get_platform``
    through ``asyncio.to_thread`` on each request a new client makes before its first answer,
    which grows the loop's default executor (min(32, cores + 4) threads, kept for good); 30
    requests at once on a fresh client leave 6 threads here unless nbstream prevents it."""
    answers = last_json(kernel.run(EXPECTED.format(prompts=PROMPTS)))
    assert len(set(answers)) == len(PROMPTS), "the prompts should get different answers"
    expected = [answers[i % len(PROMPTS)] for i in range(N_DEMO)]
    wait = "_w.wait(120)"
    if kind == "async":
        # never block the kernel's loop on an async source: `await` it, with a deadline
        wait = "await asyncio.wait_for(_nbs_await(_w), 120)"
        kernel.run("async def _nbs_await(w):\n    return await w")
    figures = run_many(
        kernel, DEMO_START.format(is_async=kind == "async", prompts=PROMPTS, n=N_DEMO), wait
    )
    max_threads = N_DEMO + THREADS_OVER_N if kind == "sync" else THREADS_OVER_N
    check_many(figures, expected, max_threads).verify()


# --------------------------------------------------------------------------------------
# c. 1,000 short streams in a row
# --------------------------------------------------------------------------------------

N_SHORT = 1000
BATCH = 100
FDS_DRIFT = 5
# ipywidgets keeps every widget until it is closed, so a notebook's finished answers stay in
# memory by design: ~30 KB per finished 3-character answer, mostly traitlets (measured: RSS
# +30 MB for 900 before the shared runtime, +25 MB with it). 60 MB for 900 streams (~68 KB
# each) leaves room for that, while a markdown parser kept per finished stream (~0.26 MB
# each: 234 MB for 900) is far over it.
RSS_GROWTH_MB = 60.0

SHORT = """
def _nbs_short(start, n):
    # n streams one after the other, each displayed and waited for; stops at the first that
    # does not end `done` with its text; then the kernel's fds and RSS
    for i in range(start, start + n):
        w = nbstream.stream(iter(["a", "b", str(i)]))
        display(w)
        ended = w.wait(10)
        if not ended or w.status != "done" or w.text != f"ab{i}":
            failed = {"i": i, "ended": ended, "status": w.status, "text": w.text[:80]}
            return {"failed": {**failed, "error": w.error}}
    gc.collect()
    return {"failed": None, "fds": _nbs_fds() - _nbs_base["fds"], "rss_mb": _nbs_rss_mb()}
"""


def test_1000_short_streams_in_a_row(kernel: KernelSession) -> None:
    """1,000 short streams one after the other (10 cells of 100) in one kernel: every one
    ends ``done`` with its text (no socket or thread piles up until one never ends), and
    descriptors and memory stay flat between the 100th and the 1,000th; afterwards the
    threads and fds are back to the idle kernel's."""
    kernel.run(SHORT)
    kernel.run("_nbs_baseline()")
    batches: list[dict[str, Any]] = []
    for start in range(0, N_SHORT, BATCH):
        out = kernel.run(f"print(json.dumps(_nbs_short({start}, {BATCH})))", timeout=300)
        batches.append(last_json(out))
        if batches[-1]["failed"]:
            break
    kernel.run("_nbs_t_end = time.monotonic()")
    settled = last_json(kernel.run(SETTLE, timeout=120))
    first, last = batches[0], batches[-1]
    checks = Checks({"batches": len(batches), "failed": last["failed"], **settled})
    checks.check(
        last["failed"] is None,
        f"stream {last['failed']} of {N_SHORT} did not end done with its text",
    )
    if last["failed"] is None and len(batches) > 1:
        checks.figures.update(
            fds_after_100=first["fds"], fds_after_1000=last["fds"],
            rss_mb_after_100=round(first["rss_mb"], 1), rss_mb_after_1000=round(last["rss_mb"], 1),
        )  # fmt: skip
        checks.check(
            last["fds"] - first["fds"] <= FDS_DRIFT,
            f"fds base + {first['fds']} after 100 streams, base + {last['fds']} after "
            f"{N_SHORT} (budget +{FDS_DRIFT})",
        )
        growth = last["rss_mb"] - first["rss_mb"]
        checks.check(
            growth < RSS_GROWTH_MB,
            f"RSS grew {growth:.1f} MB from the 100th to the {N_SHORT}th stream "
            f"(budget {RSS_GROWTH_MB:.0f} MB)",
        )
    check_settled(checks, settled)
    checks.verify()
