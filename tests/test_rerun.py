"""``w.rerun()`` and ``w.attempts`` (issue 11, item 4): the same request again in the same
widget, the real ``openai`` SDK against the loopback server, which records each request's body.
"""

from __future__ import annotations

import asyncio
import json
import threading
import zlib

import pytest
from kernel_comm import KernelComm, kernel_comm  # noqa: F401  (the fixture)
from sse_server import Script, wait_until
from test_loopback import BUILDERS, CALLS, KWARGS, full_script, safety_release

import nbstream

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]


def silent_script(api: str, pieces: list[str]) -> Script:
    """Some text, then silence until the client closes (a model thinking)."""
    head, _tail = BUILDERS[api](pieces)
    return Script.events(api, head, done=False).then_silent()


def attempts_trait(w: nbstream.StreamWidget) -> list[dict]:
    return json.loads(zlib.decompress(w._attempts))


@pytest.mark.parametrize("api", ["responses", "chat", "completions"])
def test_rerun_after_done_sends_the_same_body_and_keeps_both_attempts(api, sse_server, client):
    sse_server.enqueue(full_script(api, ["One", "."]), full_script(api, ["Two", " again."]))
    w = CALLS[api](client, **KWARGS[api], temperature=0.3)
    assert w.wait(10) and w.status == "done", w.error
    assert len(w.attempts) == 1
    w.rerun()
    assert w.wait(10) and w.status == "done", w.error
    first, second = sse_server.requests
    assert first.body == second.body and first.json["temperature"] == 0.3
    assert second.wait_closed(2)
    assert w.text == "Two again."
    attempts = w.attempts
    assert [a["text"] for a in attempts] == ["One.", "Two again."]
    assert [a["status"] for a in attempts] == ["done", "done"]
    assert [a["stop_reason"] for a in attempts] == [None, None]
    for a in attempts:
        assert a["metrics"]["duration_s"] is not None and a["metrics"]["output_tokens"]
        assert a["html"].startswith("<p>")
    assert attempts[0]["metrics"] is not attempts[1]["metrics"]
    assert "One." in attempts[0]["html"] and "Two again." in attempts[1]["html"]
    # the page's copy of the earlier attempts: deflated JSON of status, stop reason, snapshot
    page = attempts_trait(w)
    assert len(page) == 1
    assert (page[0]["status"], page[0]["stop_reason"]) == ("done", None)
    assert page[0]["snapshot"]["status"] == "done"
    assert "One." in json.dumps(page[0]["snapshot"]["parts"])


def test_rerun_of_a_live_stream_stops_it_first_and_wait_waits_for_the_new_one(
        sse_server, client):
    gate = threading.Event()
    sse_server.enqueue(silent_script("responses", ["Thinking "]),
                       full_script("responses", ["Fresh."]).hold_headers(gate))
    with safety_release(gate, after=10):
        w = nbstream.responses(client, **KWARGS["responses"])
        assert wait_until(lambda: w.text == "Thinking ", 5), w
        w.rerun()
        first = sse_server.requests[0]
        assert first.wait_closed(1), "rerun() left the live attempt's connection open"
        second = sse_server.wait_for_request(1)
        assert second.body == first.body
        # the new attempt is held by the server: wait() must not return for the old one
        assert w.wait(0.3) is False, (w.status, w.attempts)
        assert w.status in ("pending", "streaming")
        gate.set()
        assert w.wait(10), w
    assert (w.status, w.text) == ("done", "Fresh.")
    old, new = w.attempts
    assert (old["status"], old["stop_reason"], old["text"]) == ("stopped", "user", "Thinking ")
    assert (new["status"], new["stop_reason"], new["text"]) == ("done", None, "Fresh.")
    assert w.stop_reason is None
    page = attempts_trait(w)
    assert [(a["status"], a["stop_reason"]) for a in page] == [("stopped", "user")]


def test_rerun_twice_quickly_skips_the_attempt_stopped_before_it_started(sse_server, client):
    sse_server.enqueue(silent_script("responses", ["Slow "]),
                       full_script("responses", ["Last."]))
    w = nbstream.responses(client, **KWARGS["responses"])
    assert wait_until(lambda: w.text == "Slow ", 5), w
    w.rerun()
    w.rerun()  # stops the second attempt before it could start: it makes no request
    assert w.wait(10), w
    assert sse_server.requests[0].wait_closed(1)
    assert len(sse_server.requests) == 2, sse_server.requests
    assert sse_server.requests[1].body == sse_server.requests[0].body
    attempts = w.attempts
    assert len(attempts) == 3
    assert [(a["status"], a["stop_reason"]) for a in attempts] == [
        ("stopped", "user"), ("stopped", "user"), ("done", None)]
    assert [a["text"] for a in attempts] == ["Slow ", "", "Last."]
    assert len(attempts_trait(w)) == 2


def test_rerun_after_a_stop_and_after_an_error(sse_server, client):
    sse_server.enqueue(silent_script("chat", ["Half"]),
                       Script.http_error(500, "boom", type_="server_error"),
                       full_script("chat", ["Whole."]))
    w = nbstream.chat(client, **KWARGS["chat"])
    assert wait_until(lambda: w.text == "Half", 5)
    w.stop()
    assert w.wait(5) and w.stop_reason == "user"
    w.rerun()
    assert w.wait(10) and w.status == "error", w
    assert w.stop_reason is None
    w.rerun()
    assert w.wait(10) and w.status == "done", w.error
    assert w.error is None and w.text == "Whole."
    assert [a["status"] for a in w.attempts] == ["stopped", "error", "done"]
    assert len({r.body for r in sse_server.requests}) == 1


def test_stream_widgets_refuse_rerun(sse_server):
    w = nbstream.stream(iter(["a", "b"]))
    assert w.wait(5)
    with pytest.raises(TypeError, match=r"not of nbstream\.stream\(\)"):
        w.rerun()
    assert w.attempts == [{"text": "ab", "status": "done", "stop_reason": None,
                           "metrics": w.metrics, "html": w.html}]
    assert w._can_rerun is False


def test_rerun_with_an_async_client_and_await(sse_server, make_async_client):
    gate = threading.Event()
    sse_server.enqueue(full_script("responses", ["First."]),
                       full_script("responses", ["Second."]).hold_headers(gate))

    async def main():
        client = make_async_client()
        try:
            w = nbstream.responses(client, **KWARGS["responses"])
            assert await asyncio.wait_for(_awaited(w), 10) is w
            first = w.text
            w.rerun()
            waiting = asyncio.ensure_future(_awaited(w))
            await asyncio.to_thread(sse_server.wait_for_request, 1)
            held = waiting.done()
            gate.set()
            await asyncio.wait_for(waiting, 10)
            return w, first, held
        finally:
            await client.close()

    with safety_release(gate, after=10):
        w, first, held = asyncio.run(main())
    assert not held, "await w returned before the new attempt ended"
    assert (first, w.text, w.status) == ("First.", "Second.", "done")
    assert [a["text"] for a in w.attempts] == ["First.", "Second."]
    assert sse_server.requests[0].body == sse_server.requests[1].body


async def _awaited(w):
    return await w


def test_every_message_of_attempt_k_carries_attempt_k(sse_server, client,
                                                      kernel_comm: KernelComm):  # noqa: F811
    sse_server.enqueue(full_script("responses", ["Alpha ", "beta."]),
                       full_script("responses", ["Gamma ", "delta."]))
    w = nbstream.responses(client, **KWARGS["responses"])
    assert w.wait(10)
    before = len(kernel_comm.messages)
    w.rerun()
    assert w.wait(10) and w.text == "Gamma delta."
    assert wait_until(lambda: w.status == "done" and w._snapshot, 5)

    def customs(messages):
        return [m["data"]["content"] for m in messages if m["msg_type"] == "comm_msg"
                and m["data"].get("method") == "custom"]

    first = customs(kernel_comm.messages[:before])
    second = customs(kernel_comm.messages[before:])
    assert first and second
    assert [m.get("attempt") for m in first] == [0] * len(first), first
    assert [m.get("attempt") for m in second] == [1] * len(second), second
    for m in first + second:
        if m.get("type") == "snapshot":
            assert m["snapshot"]["attempt"] == m["attempt"]
    # the re-run's start reaches the page as one state update carrying the attempts
    # (bytes traits travel as buffers: named in buffer_paths, not in the state)
    updates = [m["data"] for m in kernel_comm.messages[before:]
               if m["msg_type"] == "comm_msg" and m["data"].get("method") == "update"]
    assert any(["_attempts"] in u.get("buffer_paths", []) for u in updates), updates
