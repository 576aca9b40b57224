"""Every recorded stream in ``shared/fixtures`` through the loopback server, the real openai
SDK and ``nbstream.stream``: the widget must end with what the SDK itself derives
(``index.json`` ``analysis``).

The shared folder is ``$NBSTREAM_SHARED`` or ``<repo>/../shared``; if it is missing, the
tests fail (they never skip).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sse_server import Script

import nbstream

pytestmark = [
    pytest.mark.timeout(60),
    # an exception escaping a background thread (nbstream's or the SDK's) fails the test
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

SHARED = Path(os.environ.get("NBSTREAM_SHARED") or Path(__file__).resolve().parents[2] / "shared")
FIXTURES = SHARED / "fixtures"
INDEX_PATH = FIXTURES / "index.json"
MISSING = {"path": f"<missing {INDEX_PATH}>", "api": None, "analysis": {}}
INDEX: list[dict[str, Any]] = (
    json.loads(INDEX_PATH.read_text()) if INDEX_PATH.is_file() else [MISSING]
)
IDS = [e["path"] for e in INDEX]
MESSAGES = [{"role": "user", "content": "hi"}]


def _require(entry: dict[str, Any]) -> Path:
    if entry is MISSING:
        pytest.fail(f"fixtures index not found at {INDEX_PATH}; set NBSTREAM_SHARED")
    path = FIXTURES / entry["path"]
    if not path.is_file():
        pytest.fail(f"fixture listed in index.json is missing: {path}")
    return path


# ---- expected values -----------------------------------------------------------------------


def _completed_response(path: Path) -> dict[str, Any]:
    """The ``response`` object of the recording's ``response.completed`` event."""
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = block.strip().splitlines()
        if lines and lines[0] == "event: response.completed":
            data = "".join(ln[len("data: ") :] for ln in lines if ln.startswith("data: "))
            return json.loads(data)["response"]
    raise AssertionError(f"{path} has no response.completed event")


def expected(entry: dict[str, Any]) -> dict[str, Any]:
    a = entry["analysis"]
    path = FIXTURES / entry["path"]
    if entry["api"] == "responses":
        function_calls = [
            {"call_id": item["call_id"], "name": item["name"], "arguments": item["arguments"]}
            for item in _completed_response(path)["output"]
            if item["type"] == "function_call"
        ]
        # cross-check with what the SDK derived from the *.done events
        assert [c["arguments"] for c in function_calls] == [
            args for _item_id, args in a["function_call_arguments_done"]
        ]
        return {
            "text": a["final_output_text"],
            "usage": a.get("final_usage"),
            "events": a["events"],
            "event_counts": a["event_types"],
            "output_tokens": (a.get("final_usage") or {}).get("output_tokens"),
            "refusal": None,
            "tool_calls": function_calls,
            "finish_reason": None,
        }
    choice = a["choices"]["0"]
    return {
        "text": choice["content"],
        "usage": a.get("usage"),
        "events": a["chunks"],
        "event_counts": None,
        "output_tokens": (a.get("usage") or {}).get("completion_tokens"),
        "refusal": choice["refusal"],
        "tool_calls": [
            {"call_id": tc["id"], "name": tc["name"], "arguments": tc["arguments"]}
            for tc in choice["tool_calls"]
        ],
        "finish_reason": choice["finish_reason"],
    }


def assert_usage_matches(actual: Any, want: dict[str, Any], where: str = "usage") -> None:
    """``actual`` has every key/value of ``want`` (recursively); extra keys must be None."""
    assert isinstance(actual, dict), f"{where} should be a dict, got {actual!r}"
    for key, value in want.items():
        assert key in actual, f"{where}[{key!r}] missing: {actual!r}"
        if isinstance(value, dict):
            assert_usage_matches(actual[key], value, f"{where}[{key!r}]")
        else:
            assert actual[key] == value, f"{where}[{key!r}]: {actual[key]!r} != {value!r}"
    extra = {k: v for k, v in actual.items() if k not in want and v is not None}
    assert not extra, f"{where} has values the API did not report: {extra!r}"


def project_tool_calls(calls: Any) -> list[dict[str, Any]]:
    assert isinstance(calls, list), calls
    return [{k: c.get(k) for k in ("call_id", "name", "arguments")} for c in calls]


# ---- running -------------------------------------------------------------------------------


def open_sync_stream(entry, client):
    if entry["api"] == "responses":
        return client.responses.create(model="x", input="hi", stream=True)
    return client.chat.completions.create(model="x", messages=MESSAGES, stream=True)


async def open_async_stream(entry, client):
    if entry["api"] == "responses":
        return await client.responses.create(model="x", input="hi", stream=True)
    return await client.chat.completions.create(model="x", messages=MESSAGES, stream=True)


def replay_sync(entry, sse_server, client):
    path = _require(entry)
    sse_server.enqueue(Script.sse_file(path))
    w = nbstream.stream(open_sync_stream(entry, client))
    w.wait(timeout=10)
    return w


def assert_core(w, entry) -> None:
    want = expected(entry)
    assert w.status == "done", f"status={w.status!r} error={w.error!r}"
    assert w.error is None
    assert w.text == want["text"]
    if want["usage"] is not None:
        assert_usage_matches(w.usage, want["usage"])
    assert w.metrics["events"] == want["events"]
    if entry["api"] != "responses":
        assert w.metrics["finish_reason"] == want["finish_reason"]


# ---- tests ---------------------------------------------------------------------------------


def test_index_and_files_present_and_intact():
    entries = [e for e in INDEX if e is not MISSING]
    assert entries, f"fixtures index not found at {INDEX_PATH}; set NBSTREAM_SHARED"
    assert {e["api"] for e in entries} == {"responses", "chat.completions"}
    for e in entries:
        data = (FIXTURES / e["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"], e["path"]


@pytest.mark.parametrize("entry", INDEX, ids=IDS)
def test_replay(entry, sse_server, client):
    """status, text (the authoritative ``.done`` text), usage, event count, finish reason."""
    w = replay_sync(entry, sse_server, client)
    assert_core(w, entry)
    rec = sse_server.wait_for_request(0)
    assert rec.wait_closed(2), "the HTTP connection is released once the stream is done"


@pytest.mark.parametrize("entry", INDEX, ids=IDS)
def test_replay_metrics(entry, sse_server, client):
    """The other metrics the contract lists, checked against the recording."""
    want = expected(entry)
    w = replay_sync(entry, sse_server, client)
    assert w.status == "done", w.error
    m = w.metrics
    for key in (
        "ttft_s",
        "duration_s",
        "events",
        "event_counts",
        "output_tokens",
        "tokens_per_s",
        "finish_reason",
    ):
        assert key in m, f"metrics lacks {key!r}: {sorted(m)}"
    assert isinstance(m["duration_s"], float | int) and m["duration_s"] >= 0
    if want["text"]:
        assert isinstance(m["ttft_s"], float | int) and 0 <= m["ttft_s"] <= m["duration_s"]
    assert sum(m["event_counts"].values()) == want["events"]
    if want["event_counts"] is not None:
        assert m["event_counts"] == want["event_counts"]
    if want["output_tokens"] is not None:
        assert m["output_tokens"] == want["output_tokens"]


@pytest.mark.parametrize("entry", INDEX, ids=IDS)
def test_replay_refusal_and_tool_calls(entry, sse_server, client):
    want = expected(entry)
    w = replay_sync(entry, sse_server, client)
    assert w.status == "done", w.error
    assert w.refusal == want["refusal"]
    assert project_tool_calls(w.tool_calls) == want["tool_calls"]


ASYNC_PICKS = [
    "openapi-spec/responses_streaming_example.sse",  # deltas differ from the final text
    "pydantic-ai/responses/openai_responses_thinking_part_iter__0.sse",  # 676 events
    "openai-python/chat/parse_pydantic_model_multiple_choices.sse",  # n=3
    "openai-python/chat/parse_nothing.sse",
]
ASYNC_ENTRIES = [e for e in INDEX if e["path"] in ASYNC_PICKS] or [MISSING]


@pytest.mark.parametrize("entry", ASYNC_ENTRIES, ids=[e["path"] for e in ASYNC_ENTRIES])
def test_replay_async(entry, sse_server, make_async_client):
    path = _require(entry)
    sse_server.enqueue(Script.sse_file(path))

    async def main():
        client = make_async_client()
        try:
            w = nbstream.stream(await open_async_stream(entry, client))

            async def done():
                return await w

            await asyncio.wait_for(done(), 10)
            w.wait(timeout=1)  # already finished: returns at once, even inside the loop
            return w
        finally:
            await client.close()

    w = asyncio.run(main())
    assert_core(w, entry)
    assert sse_server.wait_for_request(0).wait_closed(2)
