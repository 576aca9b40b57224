"""Self-test of the loopback SSE server with the raw openai SDK (no nbstream involved)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import openai
import pytest
from sse_server import THREAD_PREFIX, Script, SSEServer, split_events

pytestmark = [
    pytest.mark.timeout(60),
    # an exception escaping a background thread (nbstream's or the SDK's) fails the test
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

SHARED = Path(os.environ.get("NBSTREAM_SHARED") or Path(__file__).resolve().parents[2] / "shared")
FIXTURES = SHARED / "fixtures"
INDEX = json.loads((FIXTURES / "index.json").read_text()) if FIXTURES.is_dir() else []


def chat_chunk(content=None, *, finish_reason=None, index=0, usage=None, choices=True):
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": (
            [
                {
                    "index": index,
                    "delta": {} if content is None else {"content": content},
                    "finish_reason": finish_reason,
                }
            ]
            if choices
            else []
        ),
        **({"usage": usage} if usage else {}),
    }


def resp_delta(text, seq=0):
    return {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": text,
        "sequence_number": seq,
        "logprobs": [],
    }


def test_index_present():
    assert INDEX, f"no fixtures index at {FIXTURES} (set NBSTREAM_SHARED)"


def test_split_events_is_lossless():
    data = b"event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\ndata: 3"
    assert split_events(data) == [
        b"event: a\ndata: 1\n\n",
        b"event: b\r\ndata: 2\r\n\r\n",
        b"data: 3",
    ]


@pytest.mark.parametrize("split", ["events", 97])
@pytest.mark.parametrize("entry", INDEX, ids=[e["path"] for e in INDEX])
def test_fixture_replays_through_sdk(sse_server, client, entry, split):
    """Every recording reaches the SDK intact: same number and types of events."""
    sse_server.enqueue(Script.sse_file(FIXTURES / entry["path"], split=split))
    a = entry["analysis"]
    if entry["api"] == "responses":
        stream = client.responses.create(model="x", input="hi", stream=True)
        counts = Counter(ev.type for ev in stream)
        assert sum(counts.values()) == a["events"]
        assert dict(counts) == a["event_types"]
    else:
        stream = client.chat.completions.create(
            model="x", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        chunks = list(stream)
        assert len(chunks) == a["chunks"]
        text = "".join(
            c.choices[0].delta.content or ""
            for c in chunks
            if c.choices and c.choices[0].index == 0
        )
        assert text == a["choices"]["0"]["content"]
    rec = sse_server.wait_for_request(0)
    assert rec.wait_closed(2), "the SDK closes the connection after a complete stream"
    assert rec.closed_by == "client"


def test_events_builder_chat_and_request_record(sse_server, client):
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    sse_server.enqueue(
        Script.events(
            "chat",
            [
                chat_chunk("Hel"),
                chat_chunk("lo", finish_reason="stop"),
                chat_chunk(choices=False, usage=usage),
            ],
        )
    )
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "q"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert [c.choices[0].delta.content for c in chunks[:2]] == ["Hel", "lo"]
    assert chunks[2].choices == [] and chunks[2].usage.total_tokens == 5
    rec = sse_server.requests[0]
    assert rec.method == "POST" and rec.path == "/v1/chat/completions"
    assert rec.json["stream"] is True
    assert rec.json["stream_options"] == {"include_usage": True}
    assert rec.headers["authorization"].startswith("Bearer sk-test")
    assert rec.pieces_sent == 3
    assert rec.wait_closed(2) and rec.closed_by == "client"


def test_events_builder_completions(sse_server, client):
    def chunk(text, fr=None):
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1,
            "model": "m",
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": fr}],
        }

    sse_server.enqueue(Script.events("completions", [chunk("a"), chunk("b", "stop")]))
    out = list(client.completions.create(model="m", prompt="p", stream=True))
    assert "".join(c.choices[0].text for c in out) == "ab"
    assert sse_server.requests[0].path == "/v1/completions"


def test_events_builder_responses(sse_server, client):
    sse_server.enqueue(Script.events("responses", [resp_delta("a", 0), resp_delta("b", 1)]))
    out = list(client.responses.create(model="m", input="i", stream=True))
    assert [e.delta for e in out] == ["a", "b"]
    assert sse_server.requests[0].path == "/v1/responses"


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (401, openai.AuthenticationError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
    ],
)
def test_http_error(sse_server, client, status, exc):
    sse_server.enqueue(Script.http_error(status, f"boom {status}", code="c"))
    with pytest.raises(exc) as info:
        client.responses.create(model="m", input="i", stream=True)
    assert info.value.status_code == status
    assert info.value.message == f"boom {status}" or f"boom {status}" in str(info.value)
    assert sse_server.requests[0].wait_closed(2)


def test_unscripted_request_gets_500_and_is_recorded(sse_server, client):
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="m", input="i", stream=True)
    assert len(sse_server.unscripted) == 1
    assert sse_server.problems()  # the fixture would fail a passing test on this
    sse_server.unscripted.clear()


def test_silent_then_close_in_same_thread_is_observed(sse_server, client):
    sse_server.enqueue(
        Script.events("responses", [resp_delta("a"), resp_delta("b", 1)]).then_silent()
    )
    stream = client.responses.create(model="m", input="i", stream=True)
    it = iter(stream)
    assert next(it).delta == "a"
    assert next(it).delta == "b"
    rec = sse_server.requests[0]
    assert not rec.wait_closed(0.05), "silence keeps the connection open"
    t0 = time.monotonic()
    stream.close()
    assert rec.wait_closed(1)
    assert rec.closed_by == "client"
    assert rec.closed_at - t0 < 0.1, rec.closed_at - t0


def test_async_silent_then_close_is_observed(sse_server, make_async_client):
    sse_server.enqueue(Script.events("chat", [chat_chunk("x")]).then_silent())

    async def main():
        c = make_async_client()
        try:
            stream = await c.chat.completions.create(model="m", messages=[], stream=True)
            first = await stream.__anext__()
            assert first.choices[0].delta.content == "x"
            t0 = time.monotonic()
            await stream.close()
            return t0
        finally:
            await c.close()

    t0 = asyncio.run(main())
    rec = sse_server.requests[0]
    assert rec.wait_closed(1) and rec.closed_by == "client"
    assert rec.closed_at - t0 < 0.1, rec.closed_at - t0


def test_reset_mid_body_raises_after_delivered_events(sse_server, client):
    sse_server.enqueue(Script.events("chat", [chat_chunk("a"), chat_chunk("b")]).then_reset())
    got = []
    stream = client.chat.completions.create(model="m", messages=[], stream=True)
    with pytest.raises(openai.APIConnectionError):
        for c in stream:
            got.append(c.choices[0].delta.content)
    assert got == ["a", "b"]
    rec = sse_server.requests[0]
    assert rec.wait_closed(1) and rec.closed_by == "server-reset"


def test_close_without_terminator_raises(sse_server, client):
    sse_server.enqueue(Script.events("chat", [chat_chunk("a")]).then_close())
    stream = client.chat.completions.create(model="m", messages=[], stream=True)
    with pytest.raises(openai.APIConnectionError):
        list(stream)
    assert sse_server.requests[0].wait_closed(1)
    assert sse_server.requests[0].closed_by == "server-close"


def test_hold_headers_and_delay(sse_server, client):
    gate = threading.Event()
    sse_server.enqueue(
        Script.events("responses", [resp_delta("a"), resp_delta("b", 1)], delay=0.05).hold_headers(
            gate
        )
    )
    result = {}

    def run():
        result["events"] = [
            (time.monotonic(), e.delta)
            for e in client.responses.create(model="m", input="i", stream=True)
        ]

    t = threading.Thread(target=run)
    t.start()
    rec = sse_server.wait_for_request(0)
    assert not rec.wait_headers_sent(0.05), "headers are held until the gate opens"
    gate.set()
    assert rec.wait_headers_sent(1)
    t.join(5)
    assert not t.is_alive()
    (t_a, a), (t_b, b) = result["events"]
    assert (a, b) == ("a", "b")
    assert t_b - t_a >= 0.04


def test_then_wait_gate_pauses_mid_stream(sse_server, client):
    gate = threading.Event()
    sse_server.enqueue(
        Script.events("chat", [chat_chunk("a")]).then_wait(gate).then_events([chat_chunk("b")])
    )
    stream = iter(client.chat.completions.create(model="m", messages=[], stream=True))
    assert next(stream).choices[0].delta.content == "a"
    rec = sse_server.requests[0]
    assert not rec.wait_sent(2, 0.05)
    gate.set()
    assert next(stream).choices[0].delta.content == "b"
    assert list(stream) == []


def test_close_unblocks_a_silent_connection_and_joins_threads():
    server = SSEServer().start()
    server.enqueue(Script.events("chat", [chat_chunk("a")]).then_silent())
    c = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=30)
    try:
        stream = iter(c.chat.completions.create(model="m", messages=[], stream=True))
        assert next(stream).choices[0].delta.content == "a"
        t0 = time.monotonic()
        server.close()
        assert time.monotonic() - t0 < 1
        with pytest.raises(openai.APIConnectionError):
            next(stream)
    finally:
        c.close()
    assert server.requests[0].closed_by == "server-shutdown"
    assert server.problems() == []
    assert not [
        t
        for t in threading.enumerate()
        if t.name.startswith(THREAD_PREFIX) and t in server.alive_threads()
    ]
