"""The shared runtime (``nbstream/_runtime.py``): one clock, one budget, fair, light.

Real widgets stream real generators; their messages go through a comm that packs them as a
kernel does and records when each was published (``kernel_comm``). Where a test needs a
smaller budget, it installs a :class:`Runtime` of its own as the process's runtime (the same
class, other numbers), so its streams share that one.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

import pytest
from kernel_comm import KernelComm, kernel_comm  # noqa: F401  (the fixture)
from markdown_it import MarkdownIt
from sse_server import wait_until

import nbstream
from nbstream import _runtime
from nbstream._runtime import Budget, Runtime


@pytest.fixture
def own_runtime(monkeypatch: pytest.MonkeyPatch):
    """Install a runtime with the given numbers as the process's runtime for one test."""

    def install(**numbers: float) -> Runtime:
        shared = Runtime(**numbers)
        monkeypatch.setattr(_runtime, "_RUNTIME", shared)
        return shared

    return install


@pytest.fixture
def timed(kernel_comm: KernelComm, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    """``kernel_comm``, with the time each message was published."""
    times: list[float] = []
    publish = kernel_comm.publish

    def publish_timed(msg_type, *args, **kwargs):
        if msg_type != "comm_open":  # what jupyter_server's rate limit counts
            times.append(time.monotonic())
        return publish(msg_type, *args, **kwargs)

    monkeypatch.setattr(kernel_comm, "publish", publish_timed)
    kernel_comm.times = times  # type: ignore[attr-defined]
    return kernel_comm


def most_in_a_second(times: list[float]) -> int:
    """The most timestamps in any one-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def paced(words: list[str], pause: float) -> Iterator[str]:
    for word in words:
        time.sleep(pause)
        yield word


# ---- the budget ----------------------------------------------------------------------------


def test_the_budget_holds_any_second_to_rate_plus_burst_even_after_a_charge() -> None:
    """Sending whenever the bucket allows, over 10 simulated seconds, after 100 displays were
    charged at once: no one-second window holds more than ``rate + burst`` messages."""
    budget = Budget(rate=160, burst=20)  # (numbers of the test's own)
    start = time.monotonic()
    budget.spend(100, start)  # a cell displayed 100 widgets
    sent = [start] * 100
    now = start
    while now < start + 10:
        if budget.delay(1, now) == 0:
            budget.spend(1, now)
            sent.append(now)
        now += 0.0005
    assert most_in_a_second(sent) <= 180
    assert len(sent) - 100 > 160 * 9, "the budget lets its rate through"


def test_many_streams_stay_within_one_budget(timed) -> None:
    """Forty fast streams for about two seconds: every message of every widget counted, no
    one-second window over the runtime's budget (``RATE + BURST``), and every text exact."""
    texts = [f"stream {i}: " + "word " * 150 for i in range(40)]
    widgets = [nbstream.stream(paced(text.split(" "), 0.012)) for text in texts]
    for w in widgets:
        assert w.wait(60)
    assert [w.text for w in widgets] == [t.replace(" ", "") for t in texts]
    assert {w.status for w in widgets} == {"done"}
    assert most_in_a_second(timed.times) <= _runtime.RATE + _runtime.BURST, \
        most_in_a_second(timed.times)


# ---- fairness ------------------------------------------------------------------------------


def test_a_busy_crowd_does_not_starve_a_quiet_stream(timed, own_runtime) -> None:
    """A budget of 15 messages a second for 12 streams that always have something new, and a
    quiet one that says something new every 0.6 s: each of its words reaches the page within
    a second (the stream that published least recently goes first)."""
    own_runtime(rate=15, burst=2)
    release = threading.Event()

    def busy() -> Iterator[str]:
        while not release.is_set():
            time.sleep(0.005)
            yield "x"

    crowd = [nbstream.stream(busy()) for _ in range(12)]
    said: dict[str, float] = {}

    def quiet() -> Iterator[str]:
        for word in ("alpha ", "bravo ", "charlie ", "delta "):
            time.sleep(0.6)
            said[word] = time.monotonic()
            yield word

    w = nbstream.stream(quiet())
    try:
        assert w.wait(20)
    finally:
        release.set()
    for c in crowd:
        assert c.wait(20)
    seen: dict[str, float] = {}
    messages = [m for m in timed.messages if m["msg_type"] != "comm_open"]
    for t, message in zip(timed.times, messages, strict=True):
        body = str(message)
        for word in said:
            if word.strip() in body and word not in seen:
                seen[word] = t
    late = {word: round(seen[word] - said[word], 2) for word in said}
    assert all(delay <= 1.0 for delay in late.values()), late


# ---- threads and parsers -------------------------------------------------------------------


def test_sync_sources_get_a_thread_each_while_they_stream_and_none_after(
        kernel_comm, own_runtime) -> None:  # noqa: F811
    """Thirty blocking sources: one worker each (plus the clock and a spawner); a run of
    short streams one after another reuses one worker; every thread ends once idle."""
    shared = own_runtime(idle_seconds=1.0)
    gate = threading.Event()

    def blocked(i: int) -> Iterator[str]:
        yield f"{i} "
        gate.wait(10)
        yield "end"

    widgets = [nbstream.stream(blocked(i)) for i in range(30)]
    assert wait_until(lambda: all(w.text for w in widgets), 10)
    busy = shared.threads()
    gate.set()
    for w in widgets:
        assert w.wait(10) and w.text.endswith("end")
    assert busy["nbstream-source"] == 30, busy
    assert sum(busy.values()) <= 30 + 2, busy
    assert wait_until(lambda: shared.threads().get("nbstream-source", 0) <= 1, 10)
    most = 0
    for i in range(50):  # one after another: the worker that just finished takes the next
        w = nbstream.stream(iter([str(i)]))
        assert w.wait(10) and w.text == str(i)
        most = max(most, shared.threads().get("nbstream-source", 0))
    assert most <= 2, most
    assert wait_until(lambda: not shared.threads(), 10), shared.threads()


def test_live_streams_share_one_parser(kernel_comm) -> None:  # noqa: F811
    """Forty live streams render with one markdown parser (each used to build its own, about
    0.26 MB, and keep it while it streamed)."""
    gate = threading.Event()

    def held(i: int) -> Iterator[str]:
        yield f"# answer {i}\n\nsome **bold** text www.example.com "
        gate.wait(10)
        yield "end"

    gc.collect()
    before = sum(isinstance(o, MarkdownIt) for o in gc.get_objects())
    widgets = [nbstream.stream(held(i)) for i in range(40)]
    try:
        assert wait_until(lambda: all(w.html for w in widgets), 10)
        gc.collect()
        during = sum(isinstance(o, MarkdownIt) for o in gc.get_objects())
    finally:
        gate.set()
    for w in widgets:
        assert w.wait(10)
    assert during - before <= 1, f"{during - before} parsers for 40 live streams"


def test_a_stream_stopped_before_its_turn_makes_no_request(sse_server, client) -> None:
    """Stop right after the call (the source waits for the cell to be quiet before it starts):
    the stream ends ``stopped`` and no request ever reaches the server."""
    w = nbstream.responses(client, model="m", input="hi")
    w.stop()
    assert w.wait(5) and w.status == "stopped"
    # Its job is released once this thread has been quiet for 20 ms: a request would come now.
    made = wait_until(lambda: sse_server.requests, 1.0)
    assert not made, "a stopped stream made its request all the same"


def test_a_widgets_module_and_stylesheet_stay_under_pyzmqs_zero_copy_threshold() -> None:
    """Every widget's comm_open carries its module and stylesheet. A frame over 64 KB
    (``zmq.COPY_THRESHOLD``) is sent zero-copy, which starts pyzmq's garbage-collector thread
    with its own context: 7 fds the kernel keeps for good (tests/test_many.py counts them).
    A stream's bundle leaves the grid's modules out to stay well under it."""
    import json

    import zmq

    from nbstream._widget import StreamWidget

    carried = len(json.dumps(StreamWidget._esm)) + len(json.dumps(StreamWidget._css))
    assert carried < zmq.COPY_THRESHOLD - 8192, carried  # room for the rest of the state
