"""Truthful status for every fault (issue 8, section 4), with the real openai SDK over the
loopback server: a body that ends early, a server that does not stream, a page that cannot
be published to, a cancelled ``await``, a refused connection, and a stream's end that must
not wait out the flusher's back-off."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import openai
import pytest
from kernel_comm import kernel_comm  # noqa: F401  (fixture)
from sse_server import Script, wait_until
from test_loopback import (
    CALLS,
    KWARGS,
    MESSAGES,
    finished,
    full_script,
    partial_script,
    responses_events,
    safety_release,
    stream_to_the_end,
)

import nbstream
from nbstream import _channel

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

PIECES = ["Half ", "an ", "answer"]
ENDED_EARLY = "ended before the response completed"


# ---- a body that ends cleanly before the response completed ------------------------------


@pytest.mark.parametrize("api", ["responses", "chat", "completions"])
def test_body_ending_before_the_response_completed_is_an_error(api, sse_server, client):
    """No ``response.completed`` (Responses) / no ``finish_reason`` (Chat, Completions), yet
    the body ended cleanly: ``error``, saying so, the partial text kept."""
    sse_server.enqueue(partial_script(api, PIECES))
    w = CALLS[api](client, **KWARGS[api])
    assert w.wait(timeout=10)
    assert w.status == "error", (w.status, w.error)
    assert ENDED_EARLY in w.error
    assert w.text == "Half an answer"


def test_stream_of_an_sdk_stream_ending_early_is_an_error(sse_server, client):
    sse_server.enqueue(partial_script("responses", PIECES))
    w = nbstream.stream(client.responses.create(model="m", input="hi", stream=True))
    assert w.wait(timeout=10)
    assert (w.status, w.text) == ("error", "Half an answer")
    assert ENDED_EARLY in w.error


def test_empty_event_stream_is_an_error(sse_server, client):
    sse_server.enqueue(Script.raw([]))
    w = nbstream.responses(client, model="m", input="hi")
    assert w.wait(timeout=10)
    assert w.status == "error", (w.status, w.error)
    assert ENDED_EARLY in w.error


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_finish_reason_is_complete_without_done_marker(api, sse_server, client):
    """Chat/Completions: every choice finished, but no ``[DONE]``: complete."""
    sse_server.enqueue(full_script(api, PIECES, done=False))
    w = CALLS[api](client, **KWARGS[api])
    assert w.wait(timeout=10)
    assert (w.status, w.text, w.error) == ("done", "Half an answer", None)


def test_iterable_of_str_that_ends_is_complete():
    w = nbstream.stream(iter(["all ", "of it"]))
    assert w.wait(timeout=10)
    assert (w.status, w.text, w.error) == ("done", "all of it", None)


# ---- a 200 answer that is not an event stream ----------------------------------------------

WHOLE_ANSWERS = {
    "responses": {
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
        "model": "m",
        "output": [{"id": "msg_1", "type": "message", "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "Whole answer",
                                 "annotations": []}]}],
    },
    "chat": {
        "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Whole answer"}}],
    },
    "completions": {
        "id": "c1", "object": "text_completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "text": "Whole answer"}],
    },
}


def _json_script(body: dict) -> Script:
    return Script.raw([json.dumps(body).encode()], content_type="application/json")


@pytest.mark.parametrize("api", ["responses", "chat", "completions"])
def test_json_answer_instead_of_a_stream_is_an_error(api, sse_server, client):
    sse_server.enqueue(_json_script(WHOLE_ANSWERS[api]))
    w = CALLS[api](client, **KWARGS[api])
    assert w.wait(timeout=10)
    assert w.status == "error", (w.status, w.error)
    assert "application/json" in w.error and "not an event stream" in w.error, w.error
    assert w.text == "Whole answer", "the text of the whole answer is kept"


def test_json_answer_instead_of_a_stream_async(sse_server, make_async_client):
    sse_server.enqueue(_json_script(WHOLE_ANSWERS["chat"]))

    w = stream_to_the_end(make_async_client)
    assert (w.status, w.text) == ("error", "Whole answer")
    assert "not an event stream" in w.error


def test_json_error_body_with_status_200(sse_server, client):
    sse_server.enqueue(_json_script({"error": {"message": "upstream overloaded"}}))
    w = nbstream.responses(client, model="m", input="hi")
    assert w.wait(timeout=10)
    assert w.status == "error"
    assert "not an event stream" in w.error and "upstream overloaded" in w.error, w.error


# ---- publishing fails ----------------------------------------------------------------------


def test_publish_failure_mid_stream_ends_in_error(sse_server, client, kernel_comm):  # noqa: F811
    """ZeroMQ out of sockets while streaming: the stream still ends, in error."""
    gate = threading.Event()
    head, _tail = responses_events(["tok "] * 10)
    sse_server.enqueue(
        Script.events("responses", head[:-5]).then_wait(gate).then_events(head[-5:])
        .then_silent()
    )
    with safety_release(gate, after=10):
        w = nbstream.responses(client, model="m", input="hi")
        assert wait_until(lambda: w.text == "tok " * 5, 10), (w.status, w.text)
        kernel_comm.fail_from_now = True
        gate.set()
        assert w.wait(timeout=5), "the stream never ended after publishing failed"
    assert w.status == "error"
    assert "Publishing to the page failed" in w.error, w.error
    assert sse_server.requests[0].wait_closed(2), "the connection is closed"


def test_publish_failure_from_the_start_ends_in_error(sse_server, client, kernel_comm):  # noqa: F811
    sse_server.enqueue(full_script("chat", PIECES, delay=0.01))

    def opener():  # called once the widget exists: from then on, nothing can be published
        kernel_comm.fail_from_now = True
        return client.chat.completions.create(model="m", messages=MESSAGES, stream=True)

    w = nbstream.stream(opener)
    assert w.wait(timeout=5), "the stream never ended after publishing failed"
    assert w.status == "error"
    assert "Publishing to the page failed" in w.error, w.error

    async def awaited():
        return await asyncio.wait_for(_await(w), 2)

    assert asyncio.run(awaited()) is w


async def _await(w):
    return await w


# ---- a cancelled await ---------------------------------------------------------------------


def test_cancelled_await_does_not_cancel_later_awaits(sse_server, make_async_client):
    sse_server.enqueue(partial_script("responses", PIECES).then_silent())

    async def main():
        client = make_async_client()
        try:
            w = nbstream.responses(client, model="m", input="hi")
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(_await(w), 0.3)
            later = asyncio.ensure_future(_await(w))
            await asyncio.sleep(0.05)
            w.stop()
            assert await asyncio.wait_for(later, 5) is w
            await finished(w, 5)
            return w
        finally:
            await client.close()

    w = asyncio.run(main())
    assert (w.status, w.error) == ("stopped", None)
    assert w.text == "Half an answer"


# ---- a refused connection ------------------------------------------------------------------


def _refusing_base_url() -> str:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_refused_connection_says_it_could_not_connect():
    client = openai.OpenAI(base_url=_refusing_base_url(), api_key="k-1234", max_retries=0)
    try:
        w = nbstream.responses(client, model="m", input="hi")
        assert w.wait(timeout=10)
    finally:
        client.close()
    assert w.status == "error"
    assert "could not connect" in w.error, w.error
    assert "mid-stream" not in w.error


def test_refused_connection_async():
    w = stream_to_the_end(lambda: openai.AsyncOpenAI(base_url=_refusing_base_url(),
                                                    api_key="k-1234", max_retries=0))
    assert w.status == "error"
    assert "could not connect" in w.error and "mid-stream" not in w.error, w.error


# ---- the end of a stream wakes the flusher -------------------------------------------------


def test_stream_end_does_not_wait_out_the_flush_back_off(monkeypatch):
    """After a costly flush the flusher rests ``RENDER_SHARE`` times its cost; the end of the
    stream must cut that rest short (a 10 MB delta waited it out for 20-75 s)."""
    monkeypatch.setattr(_channel, "RENDER_SHARE", 10_000)  # any rest would be minutes
    flushed, release = threading.Event(), threading.Event()

    def source():
        yield "word " * 20_000
        flushed.wait(10)
        yield "more "  # the flusher now rests 10,000 times the first flush's cost
        release.wait(10)
        yield "end"

    w = nbstream.stream(source(), guards=nbstream.Guards(loops=False))  # "word word ..."
    assert wait_until(lambda: w.html != "", 5), "the first flush went out"
    flushed.set()
    assert wait_until(lambda: w.text.endswith("more "), 5)
    time.sleep(0.1)  # the flusher is resting now
    release.set()
    started = time.monotonic()
    assert w.wait(timeout=5), "the end waited out the flusher's back-off"
    assert time.monotonic() - started < 2
    assert w.status == "done" and w.text.endswith("more end")
