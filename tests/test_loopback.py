"""nbstream with the real openai SDK (sync ``OpenAI`` and ``AsyncOpenAI``) over a real
loopback HTTP server: background requests, errors, resets, Stop (the server must see the
connection close within 100 ms, also while it is silent), threads, tasks, wrong inputs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
import zlib
from typing import Any

import openai
import pytest
from sse_server import THREAD_PREFIX, Script, wait_until

import nbstream

pytestmark = [
    pytest.mark.timeout(30),
    # an exception escaping a background thread (nbstream's or the SDK's) fails the test
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

STOP_BUDGET_S = 0.1  # DESIGN.md: Stop -> the server sees the connection close, <= 100 ms
MESSAGES = [{"role": "user", "content": "hi"}]
USAGE_CHAT = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
USAGE_RESP = {
    "input_tokens": 7,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 12,
}


# ---- wire builders -------------------------------------------------------------------------


def _response(status: str, output: list, usage: dict | None) -> dict[str, Any]:
    return {
        "id": "resp_test",
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": "m",
        "output": output,
        "usage": usage,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
    }


def responses_events(pieces: list[str]) -> tuple[list[dict], list[dict]]:
    """A realistic Responses stream for ``pieces``: (head up to the last delta, tail)."""
    seq = itertools.count()
    text = "".join(pieces)
    key = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    done_part = {"type": "output_text", "text": text, "annotations": []}
    done_item = {
        "id": "msg_1",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [done_part],
    }
    head = [
        {"type": "response.created", "response": _response("in_progress", [], None)},
        {"type": "response.in_progress", "response": _response("in_progress", [], None)},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {
                "id": "msg_1",
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        },
        {
            "type": "response.content_part.added",
            **key,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
        *(
            {"type": "response.output_text.delta", **key, "delta": p, "logprobs": []}
            for p in pieces
        ),
    ]
    tail = [
        {"type": "response.output_text.done", **key, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **key, "part": done_part},
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {"type": "response.completed", "response": _response("completed", [done_item], USAGE_RESP)},
    ]
    for ev in head + tail:
        ev["sequence_number"] = next(seq)
    return head, tail


def chat_events(pieces: list[str]) -> tuple[list[dict], list[dict]]:
    def chunk(delta=None, finish=None, *, usage=None, empty=False):
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": []
            if empty
            else [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}],
            **({"usage": usage} if usage else {}),
        }

    head = [chunk({"role": "assistant", "content": ""})]
    head += [chunk({"content": p}) for p in pieces]
    tail = [chunk({}, "stop"), chunk(empty=True, usage=USAGE_CHAT)]
    return head, tail


def completions_events(pieces: list[str]) -> tuple[list[dict], list[dict]]:
    def chunk(text, finish=None):
        return {
            "id": "cmpl-test",
            "object": "text_completion",
            "created": 1,
            "model": "m",
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        }

    return [chunk(p) for p in pieces], [chunk("", "stop")]


BUILDERS = {"responses": responses_events, "chat": chat_events, "completions": completions_events}
PATHS = {
    "responses": "/v1/responses",
    "chat": "/v1/chat/completions",
    "completions": "/v1/completions",
}
KWARGS = {
    "responses": {"model": "m", "input": "hi"},
    "chat": {"model": "m", "messages": MESSAGES},
    "completions": {"model": "m", "prompt": "hi"},
}
CALLS = {
    "responses": nbstream.responses,
    "chat": nbstream.chat,
    "completions": nbstream.completions,
}


def full_script(api: str, pieces: list[str], **kw: Any) -> Script:
    head, tail = BUILDERS[api](pieces)
    return Script.events(api, head + tail, **kw)


def staged_script(api: str, pieces: list[str], split: int, headers_gate, mid_gate) -> Script:
    """Headers held until ``headers_gate``; then the deltas of ``pieces[:split]``; then a pause
    until ``mid_gate``; then the rest and a normal end."""
    head, tail = BUILDERS[api](pieces)
    cut = len(head) - len(pieces) + split
    return (
        Script.events(api, head[:cut])
        .hold_headers(headers_gate)
        .then_wait(mid_gate)
        .then_events(head[cut:] + tail)
    )


def partial_script(api: str, pieces: list[str], **kw: Any) -> Script:
    """Only the events up to the last delta (no terminal event, no [DONE])."""
    head, _tail = BUILDERS[api](pieces)
    return Script.events(api, head, done=False, **kw)


# ---- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def safety_release(gate: threading.Event, after: float = 3.0):
    """If the code under test blocks on a held request, release it after ``after`` s so the
    test fails on its assertions instead of hanging."""
    timer = threading.Timer(after, gate.set)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()


async def finished(w, timeout: float = 10.0):
    async def until():
        return await w

    return await asyncio.wait_for(until(), timeout)


def stream_to_the_end(make_client, start=None):
    """Start a stream with an async client (Chat unless ``start`` says otherwise) in a loop of
    its own, await its end, close the client; the ended widget."""

    async def main():
        client = make_client()
        try:
            if start is None:
                w = nbstream.chat(client, model="m", messages=MESSAGES)
            else:
                w = start(client)
            await finished(w)
            return w
        finally:
            await client.close()

    return asyncio.run(main())


async def async_wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return bool(predicate())
        await asyncio.sleep(0.002)
    return True


def other_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


def non_server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith(THREAD_PREFIX)}


def assert_threads_gone(before: set[threading.Thread], timeout: float = 2.0) -> None:
    new = non_server_threads() - before
    for t in new:
        t.join(timeout)
    alive = [t.name for t in new if t.is_alive()]
    assert not alive, f"threads left behind: {alive}"


def assert_stopped_promptly(rec, t_stop: float) -> None:
    assert rec.wait_closed(2.0), "the server never saw the connection close after stop()"
    assert rec.closed_by == "client", rec.closed_by
    latency = rec.closed_at - t_stop
    assert latency < STOP_BUDGET_S, f"connection closed {latency * 1000:.0f} ms after stop()"


# ---- background requests: pending, then streaming, then done ------------------------------


@pytest.mark.parametrize("api", ["responses", "chat", "completions"])
def test_request_in_background_sync(api, sse_server, client):
    """pending (returned before the server answered) -> streaming (partial text) -> done."""
    pieces = ["Hel", "lo, ", "wor", "ld!"]
    answer, mid = threading.Event(), threading.Event()
    sse_server.enqueue(staged_script(api, pieces, 2, answer, mid))
    with safety_release(answer), safety_release(mid):
        w = CALLS[api](client, **KWARGS[api])
        returned_before_answer = not answer.is_set()
        assert w.status == "pending"
        rec = sse_server.wait_for_request(0)
        assert w.status == "pending", "nothing was answered yet"
        answer.set()
        assert wait_until(lambda: w.text == "Hello, ", 5), (w.status, w.text)
        assert w.status == "streaming"
        mid.set()
        w.wait(timeout=10)
    assert returned_before_answer, "the call blocked until the server answered"
    assert w.status == "done", w.error
    assert w.text == "Hello, world!"
    if api != "responses":
        assert w.metrics["finish_reason"] == "stop"
    assert rec.path == PATHS[api]
    assert rec.json["stream"] is True
    for key, value in KWARGS[api].items():
        assert rec.json[key] == value
    if api == "chat":
        assert rec.json["stream_options"] == {"include_usage": True}
        assert w.usage == USAGE_CHAT
    else:
        assert "stream_options" not in rec.json
    if api == "responses":
        assert w.usage == USAGE_RESP
    assert rec.wait_closed(2), "the connection is released once the stream is done"


@pytest.mark.parametrize("api", ["responses", "chat", "completions"])
def test_request_in_background_async(api, sse_server, make_async_client):
    """Inside a running loop the request is made by a task on that loop (its HTTP request
    is sent from the loop's thread), and ``await w`` returns when the stream is done."""
    pieces = ["Hel", "lo, ", "wor", "ld!"]
    answer, mid = threading.Event(), threading.Event()
    sse_server.enqueue(staged_script(api, pieces, 2, answer, mid))
    sent_from: list[int] = []

    async def on_request(_request):
        sent_from.append(threading.get_ident())

    async def main():
        hooks = {"request": [on_request]}
        client = make_async_client(http_client=openai.DefaultAsyncHttpxClient(event_hooks=hooks))
        try:
            before = other_tasks()
            w = CALLS[api](client, **KWARGS[api])
            seen = {"at_return": w.status}
            rec = await asyncio.to_thread(sse_server.wait_for_request, 0)
            in_flight = other_tasks() - before
            seen["while_held"] = w.status
            answer.set()
            assert await async_wait_until(lambda: w.text == "Hello, ", 5), (w.status, w.text)
            seen["partial"] = w.status
            mid.set()
            await finished(w)
            await async_wait_until(lambda: not (other_tasks() - before), 2.0)
            return w, rec, seen, in_flight, other_tasks() - before
        finally:
            await client.close()

    with safety_release(answer), safety_release(mid):
        w, rec, seen, in_flight, left = asyncio.run(main())
    assert seen == {"at_return": "pending", "while_held": "pending", "partial": "streaming"}
    assert in_flight, "the stream should run as a task on the running loop"
    assert sent_from == [threading.get_ident()], "the request was not sent from the loop thread"
    assert not left, f"tasks left on the loop after the stream ended: {left}"
    assert w.status == "done", w.error
    assert w.text == "Hello, world!"
    assert rec.json["stream"] is True
    if api == "chat":
        assert rec.json["stream_options"] == {"include_usage": True}
        assert w.usage == USAGE_CHAT


def test_chat_keeps_the_users_stream_options(sse_server, client):
    sse_server.enqueue(full_script("chat", ["a"]))
    w = nbstream.chat(client, model="m", messages=MESSAGES, stream_options={"include_usage": False})
    w.wait(timeout=10)
    assert w.status == "done", w.error
    assert sse_server.requests[0].json["stream_options"] == {"include_usage": False}


def test_async_client_outside_a_running_loop(sse_server, make_async_client):
    """Outside a running loop the same calls work: the stream runs on a worker thread."""
    sse_server.enqueue(full_script("responses", ["as", "ync"]))
    client = make_async_client()
    try:
        before = non_server_threads()
        w = nbstream.responses(client, model="m", input="hi")
        assert w.wait(timeout=10) is not False
        assert w.status == "done", w.error
        assert w.text == "async"
        assert_threads_gone(before)
    finally:
        asyncio.run(client.close())


def test_stream_accepts_sdk_stream_managers(sse_server, client):
    sse_server.enqueue(full_script("responses", ["man", "ager"]), full_script("chat", ["chat"]))
    w1 = nbstream.stream(client.responses.stream(model="m", input="hi"))
    w1.wait(timeout=10)
    assert (w1.status, w1.text) == ("done", "manager"), w1.error
    w2 = nbstream.stream(client.chat.completions.stream(model="m", messages=MESSAGES))
    w2.wait(timeout=10)
    assert (w2.status, w2.text) == ("done", "chat"), w2.error


def test_stream_accepts_a_zero_argument_callable(sse_server, client):
    gate = threading.Event()
    sse_server.enqueue(full_script("chat", ["lazy"]).hold_headers(gate))
    with safety_release(gate):
        w = nbstream.stream(
            lambda: client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        )
        assert w.status == "pending"
        sse_server.wait_for_request(0)
        gate.set()
    w.wait(timeout=10)
    assert (w.status, w.text) == ("done", "lazy"), w.error


def test_api_key_never_reaches_widget_state(sse_server, client):
    sse_server.enqueue(full_script("responses", ["secret-free"]))
    w = nbstream.responses(client, model="m", input="hi")
    w.wait(timeout=10)
    assert w.status == "done", w.error
    assert sse_server.requests[0].headers["authorization"] == f"Bearer {client.api_key}"
    raw = w.get_state()
    snapshot = zlib.decompress(bytes(raw.pop("_snapshot"))).decode()
    state = json.dumps(raw, default=repr) + snapshot
    assert "secret-free" in snapshot, "the final snapshot should be in the synced state"
    assert client.api_key not in state
    assert "127.0.0.1" not in state, "request details (base URL) leaked into widget state"


# ---- errors ------------------------------------------------------------------------------

HTTP_ERRORS = [
    # status, message the server sends, what w.error must contain, type, code, SDK class.
    # (401: the real message quotes part of the key; nbstream may redact that part.)
    (
        401,
        "Incorrect API key provided: sk-test***789. You can find your API key at x.",
        "Incorrect API key provided",
        "invalid_request_error",
        "invalid_api_key",
        "AuthenticationError",
    ),
    (
        429,
        "Rate limit reached for m in organization org-x on tokens per min.",
        "Rate limit reached for m in organization org-x on tokens per min.",
        "tokens",
        "rate_limit_exceeded",
        "RateLimitError",
    ),
    (
        500,
        "The server had an error while processing your request.",
        "The server had an error while processing your request.",
        "server_error",
        None,
        "InternalServerError",
    ),
]
HTTP_ERROR_IDS = [str(e[0]) for e in HTTP_ERRORS]


def assert_http_error(w, status, must_contain, cls_name) -> None:
    assert w.status == "error"
    assert isinstance(w.error, str) and w.error.strip()
    assert must_contain in w.error, w.error
    assert str(status) in w.error or cls_name in w.error, w.error
    assert w.text == ""


@pytest.mark.parametrize("error", HTTP_ERRORS, ids=HTTP_ERROR_IDS)
def test_http_error_before_the_stream_sync(sse_server, client, error):
    status, message, must_contain, type_, code, cls_name = error
    sse_server.enqueue(Script.http_error(status, message, type_=type_, code=code))
    w = nbstream.responses(client, model="m", input="hi")
    w.wait(timeout=10)
    assert_http_error(w, status, must_contain, cls_name)
    assert sse_server.requests[0].wait_closed(2)


@pytest.mark.parametrize("error", HTTP_ERRORS, ids=HTTP_ERROR_IDS)
def test_http_error_before_the_stream_async(sse_server, make_async_client, error):
    status, message, must_contain, type_, code, cls_name = error
    sse_server.enqueue(Script.http_error(status, message, type_=type_, code=code))

    assert_http_error(stream_to_the_end(make_async_client), status, must_contain, cls_name)


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_connection_reset_mid_stream_sync(api, sse_server, client):
    pieces = ["Par", "tial ", "ans"]
    sse_server.enqueue(partial_script(api, pieces).then_reset())
    w = CALLS[api](client, **KWARGS[api])
    w.wait(timeout=10)
    assert w.status == "error"
    assert w.error
    assert w.text == "Partial ans"


def test_connection_reset_mid_stream_async(sse_server, make_async_client):
    sse_server.enqueue(partial_script("responses", ["Par", "tial ", "ans"]).then_reset())

    w = stream_to_the_end(
        make_async_client, lambda client: nbstream.responses(client, model="m", input="hi"))
    assert (w.status, w.text) == ("error", "Partial ans")
    assert w.error


# ---- Stop --------------------------------------------------------------------------------

MANY = [f"tok{i} " for i in range(400)]
FULL = "".join(MANY)


def test_stop_during_output_sync(sse_server, client):
    sse_server.enqueue(full_script("responses", MANY, delay=0.005))
    before = non_server_threads()
    w = nbstream.responses(client, model="m", input="hi")
    assert wait_until(lambda: len(w.text) >= 40, 10), (w.status, w.text)
    seen = w.text
    rec = sse_server.requests[0]
    t_stop = time.monotonic()
    w.stop()
    assert_stopped_promptly(rec, t_stop)
    assert w.wait(timeout=5) is not False
    assert w.status == "stopped"
    assert w.text.startswith(seen)
    assert FULL.startswith(w.text) and len(w.text) < len(FULL), "partial text kept"
    assert w.error is None
    assert_threads_gone(before)


def test_stop_during_output_async(sse_server, make_async_client):
    sse_server.enqueue(full_script("chat", MANY, delay=0.005))

    async def main():
        client = make_async_client()
        try:
            before = other_tasks()
            w = nbstream.chat(client, model="m", messages=MESSAGES)
            assert await async_wait_until(lambda: len(w.text) >= 40, 10), (w.status, w.text)
            seen = w.text
            t_stop = time.monotonic()
            w.stop()
            await finished(w, 5)
            await async_wait_until(lambda: not (other_tasks() - before), 2.0)
            return w, seen, t_stop, other_tasks() - before
        finally:
            await client.close()

    w, seen, t_stop, left = asyncio.run(main())
    assert_stopped_promptly(sse_server.requests[0], t_stop)
    assert w.status == "stopped"
    assert w.text.startswith(seen) and FULL.startswith(w.text) and len(w.text) < len(FULL)
    assert not left, f"tasks left on the loop: {left}"


def _silent_script(api: str) -> Script:
    return partial_script(api, ["thinking", " about", " it"]).then_silent()


SILENT_TEXT = "thinking about it"


@pytest.mark.parametrize("from_thread", [False, True], ids=["caller-thread", "other-thread"])
@pytest.mark.parametrize("api", ["responses", "chat"])
def test_stop_while_server_silent_sync(api, from_thread, sse_server, client):
    sse_server.enqueue(_silent_script(api))
    before = non_server_threads()
    w = CALLS[api](client, **KWARGS[api])
    assert wait_until(lambda: w.text == SILENT_TEXT, 10), (w.status, w.text)
    rec = sse_server.requests[0]
    assert not rec.closed
    assert w.status == "streaming"
    if from_thread:
        stamp = {}

        def stopper():
            stamp["t"] = time.monotonic()
            w.stop()

        t = threading.Thread(target=stopper)
        t.start()
        t.join(5)
        t_stop = stamp["t"]
    else:
        t_stop = time.monotonic()
        w.stop()
    assert_stopped_promptly(rec, t_stop)
    assert w.wait(timeout=5) is not False
    assert w.status == "stopped"
    assert w.text == SILENT_TEXT
    w.stop()  # twice: harmless
    assert (w.status, w.text, w.error) == ("stopped", SILENT_TEXT, None)
    assert_threads_gone(before)


@pytest.mark.parametrize("from_thread", [False, True], ids=["loop-thread", "other-thread"])
@pytest.mark.parametrize("api", ["responses", "chat"])
def test_stop_while_server_silent_async(api, from_thread, sse_server, make_async_client):
    sse_server.enqueue(_silent_script(api))

    async def main():
        client = make_async_client()
        try:
            before = other_tasks()
            w = CALLS[api](client, **KWARGS[api])
            assert await async_wait_until(lambda: w.text == SILENT_TEXT, 10), (w.status, w.text)
            assert w.status == "streaming"
            stamp = {}
            if from_thread:  # e.g. the Stop click handled on an ipykernel subshell thread

                def stopper():
                    stamp["t"] = time.monotonic()
                    w.stop()

                t = threading.Thread(target=stopper)
                t.start()
                await finished(w, 5)  # the loop stays free while the other thread stops
                await asyncio.to_thread(t.join, 5)
            else:
                stamp["t"] = time.monotonic()
                w.stop()
                await finished(w, 5)
            w.stop()  # twice: harmless
            await async_wait_until(lambda: not (other_tasks() - before), 2.0)
            return w, stamp["t"], other_tasks() - before
        finally:
            await client.close()

    w, t_stop, left = asyncio.run(main())
    assert_stopped_promptly(sse_server.requests[0], t_stop)
    assert (w.status, w.text, w.error) == ("stopped", SILENT_TEXT, None)
    assert not left, f"tasks left on the loop: {left}"


def test_stop_while_pending(sse_server, client):
    """Stop before the server answered: the held request's connection closes too."""
    gate = threading.Event()
    sse_server.enqueue(full_script("responses", ["never"]).hold_headers(gate))
    with safety_release(gate, after=5):
        w = nbstream.responses(client, model="m", input="hi")
        rec = sse_server.wait_for_request(0)
        assert w.status == "pending"
        t_stop = time.monotonic()
        w.stop()
        assert_stopped_promptly(rec, t_stop)
        assert w.wait(timeout=5) is not False
    assert (w.status, w.text) == ("stopped", "")


def test_no_thread_left_after_finish(sse_server, client):
    sse_server.enqueue(full_script("chat", ["done"]))
    before = non_server_threads()
    w = nbstream.chat(client, model="m", messages=MESSAGES)
    w.wait(timeout=10)
    assert w.status == "done", w.error
    assert_threads_gone(before)


def test_stop_after_done_is_harmless(sse_server, client):
    sse_server.enqueue(full_script("chat", ["done"]))
    w = nbstream.chat(client, model="m", messages=MESSAGES)
    w.wait(timeout=10)
    w.stop()
    w.stop()
    assert (w.status, w.text) == ("done", "done")


# ---- wrong inputs fail at the call --------------------------------------------------------


def test_stream_rejects_a_number(sse_server):
    with pytest.raises(TypeError) as info:
        nbstream.stream(42)
    msg = str(info.value)
    assert "iterable" in msg and "stream=True" in msg, msg


def test_stream_rejects_a_complete_chat_completion(sse_server):
    completion = openai.types.chat.ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "logprobs": None,
                    "message": {"role": "assistant", "content": "hello"},
                }
            ],
        }
    )
    with pytest.raises((TypeError, ValueError)) as info:
        nbstream.stream(completion)
    assert "stream=True" in str(info.value), info.value


def test_responses_rejects_a_non_client(sse_server):
    with pytest.raises(TypeError) as info:
        nbstream.responses("not a client", model="m", input="hi")
    assert "OpenAI" in str(info.value), info.value


def test_chat_requires_model_and_messages(sse_server, client):
    with pytest.raises((TypeError, ValueError)) as info:
        nbstream.chat(client)
    assert "model" in str(info.value) and "messages" in str(info.value), info.value
    with pytest.raises((TypeError, ValueError)) as info:
        nbstream.chat(client, model="m")
    assert "messages" in str(info.value), info.value
    assert sse_server.requests == [], "a rejected call must not reach the server"
