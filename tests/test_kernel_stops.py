"""What a user does to make an answer go away stops it, in a real ipykernel (issue 10, item 1):
the kernel's Interrupt (idle, and during ``w.wait()``), running the same cell again (its
``cellId``), and the front-end closing the widget's comm. Each closes the connection like the
Stop button: the loopback server, in this process, sees it close.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from kernel_helpers import KernelSession, kernel_session
from sse_server import API_KEY
from test_loopback import partial_script

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(180)]

FOREVER = """
import itertools, time
import nbstream

def forever():
    for i in itertools.count():
        time.sleep(0.02)
        yield f"{i} "
"""

# Run before ``g.wait()`` in the same cell: a thread that prints "waiting" once the main
# thread's stack holds ``StreamWidget.wait``.
IN_WAIT = """
import sys, threading, time
def _say_when_waiting(code=type(g).wait.__code__, main=threading.main_thread().ident):
    while True:
        frame = sys._current_frames().get(main)
        while frame is not None and frame.f_code is not code:
            frame = frame.f_back
        if frame is not None:
            print("waiting", flush=True)
            return
        time.sleep(0.005)
threading.Thread(target=_say_when_waiting, daemon=True).start()
"""


@pytest.fixture
def kernel(tmp_path: Path):
    with kernel_session(tmp_path) as ks:
        ks.run(FOREVER)
        yield ks


def until(ks: KernelSession, expr: str, timeout: float = 10.0) -> bool:
    """Poll ``expr`` in the (idle) kernel until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ks.run_json(f"bool({expr})"):
            return True
    return False


def test_interrupt_while_idle_stops_every_stream_and_closes_the_connection(
        kernel: KernelSession, sse_server) -> None:
    sse_server.enqueue(partial_script("responses", ["Thinking "]).then_silent())
    kernel.run(f"""
import openai
client = openai.OpenAI(base_url={sse_server.base_url!r}, api_key={API_KEY!r}, max_retries=0)
w = nbstream.responses(client, model="m", input="hi")
g = nbstream.stream(forever())
""")
    assert until(kernel, "w.text and g.text")
    request = sse_server.requests[0]
    kernel.km.interrupt_kernel()  # the kernel is idle: ipykernel itself ignores SIGINT then
    assert request.wait_closed(5), "the interrupt left the connection open"
    assert until(kernel, "w.status == 'stopped' and g.status == 'stopped'")
    assert kernel.run_json("[w.stop_reason, g.stop_reason, len(nbstream.live())]") == [
        "interrupt", "interrupt", 0]


def test_interrupt_during_wait_stops_the_stream_and_ends_the_cell_in_one_line(
        kernel: KernelSession) -> None:
    kernel.run("g = nbstream.stream(forever())")
    assert until(kernel, "g.text")
    # The marker is printed once the main thread is inside ``g.wait()`` (an interrupt that
    # lands while a ``print`` still flushes is the print's, not the wait's).
    msg_id = kernel.send_execute(IN_WAIT + "g.wait()")
    kernel.wait_for(lambda r: r.parent_id == msg_id and r.msg_type == "stream", 10)
    kernel.km.interrupt_kernel()
    result = kernel.execute("", msg_id=msg_id, timeout=10)
    content = result.reply["content"]
    assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt", content
    trace = "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", line) for line in content["traceback"])
    assert "_runner.py" not in trace and "threading.py" not in trace, trace
    assert kernel.run_json("[g.status, g.stop_reason]") == ["stopped", "interrupt"]


def test_running_the_same_cell_again_stops_what_it_made_and_another_cell_does_not(
        kernel: KernelSession) -> None:
    cell = "made = globals().setdefault('made', [])\nmade.append(nbstream.stream(forever()))"
    kernel.execute(cell, cell_id="cell-a")
    assert until(kernel, "made[0].text")
    kernel.execute("x = 1", cell_id="cell-b")  # another cell
    assert kernel.run_json("made[0].status") == "streaming"
    kernel.execute(cell, cell_id="cell-a")  # the same cell, again
    assert until(kernel, "made[0].status == 'stopped'")
    assert kernel.run_json("[w.stop_reason for w in made]") == ["rerun", None]
    kernel.execute(cell)  # no cellId (nbclient, plain clients): never a re-run
    assert until(kernel, "all(w.status == 'streaming' for w in made[1:])")
    kernel.run("nbstream.configure(stop_on_rerun=False)")
    kernel.execute(cell, cell_id="cell-a")
    assert until(kernel, "made[3].status == 'streaming'")
    assert kernel.run_json("[w.status for w in made]") == ["stopped"] + ["streaming"] * 3
    kernel.run("nbstream.stop_all()")


def test_the_front_end_closing_the_comm_stops_the_stream(kernel: KernelSession) -> None:
    kernel.run("g = nbstream.stream(forever())\ng")
    assert until(kernel, "g.text")
    comm_id = kernel.widget_comm_id()
    msg = kernel.kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}})
    kernel.kc.shell_channel.send(msg)
    assert until(kernel, "g.status == 'stopped'")
    assert kernel.run_json("g.stop_reason") == "closed"
