"""Every event the API streams, for the event types the recordings in ``shared/fixtures``
lack: synthetic but complete streams (created → items → terminal event, with sequence
numbers), built from the openai SDK's own pydantic models (``tests/event_builders.py``),
served by the loopback SSE server and read by the REAL openai SDK, sync and async.

Expected values come from the SDK's own accumulation where it has one: the
``client.responses.stream(...)`` manager's ``get_final_response()`` over the same script,
``client.chat.completions.stream(...)``'s ``get_final_completion()``, the final ``Response``
of a ``response.incomplete`` / ``response.failed`` event, or the events the SDK parsed.

Mid-stream states are observed by holding the server on a gate at a named point of the
stream (``ResponsesBuilder.mark``) and waiting for the widget to show that point; the end is
awaited with ``w.wait(timeout)`` / ``await w``. Nothing sleeps to synchronise.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Sequence
from typing import Any

import openai
import pytest
from event_builders import (
    MODEL,
    RESPONSE_ID,
    ResponsesBuilder,
    chat_choice,
    chat_chunk,
    chat_stream,
    chat_tool_call,
    chat_usage,
    file_citation,
    tiny_png,
    url_citation,
    usage,
)
from sse_server import Script, wait_until

import nbstream
from nbstream import StreamWidget

pytestmark = [
    pytest.mark.timeout(60),
    # an exception escaping a background thread (nbstream's or the SDK's) fails the test
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

MESSAGES = [{"role": "user", "content": "hi"}]
KWARGS: dict[str, dict[str, Any]] = {
    "responses": {"model": MODEL, "input": "hi"},
    "chat": {"model": MODEL, "messages": MESSAGES},
}
CALLS: dict[str, Callable[..., StreamWidget]] = {
    "responses": nbstream.responses,
    "chat": nbstream.chat,
}
END_TIMEOUT = 10.0
SEEN_TIMEOUT = 5.0


# ---- running a script through nbstream, sync or async --------------------------------------


class Runner:
    """Runs one script through ``nbstream.responses``/``nbstream.chat`` with a sync
    ``OpenAI`` (``mode="sync"``) or an ``AsyncOpenAI`` inside a running loop (``"async"``).

    ``during(w)`` runs while the stream is open (in the loop's default executor in async
    mode) to look at it mid-stream; every gate is released afterwards, whatever happened.
    """

    def __init__(self, mode: str, server: Any, client: Any, make_async_client: Any) -> None:
        self.mode = mode
        self.server = server
        self.client = client
        self.make_async_client = make_async_client

    def __call__(
        self,
        script: Script,
        api: str = "responses",
        during: Callable[[StreamWidget], None] | None = None,
        gates: Sequence[threading.Event] = (),
        source: Callable[[Any], Any] | None = None,
    ) -> StreamWidget:
        self.server.enqueue(script)

        def watch(w: StreamWidget) -> None:
            try:
                if during is not None:
                    during(w)
            finally:
                for gate in gates:
                    gate.set()

        def start(client: Any) -> StreamWidget:
            if source is not None:
                return nbstream.stream(source(client))
            return CALLS[api](client, **KWARGS[api])

        if self.mode == "sync":
            w = start(self.client)
            watch(w)
            assert w.wait(timeout=END_TIMEOUT), f"the stream did not end: {w!r}"
            return w

        async def main() -> StreamWidget:
            client = self.make_async_client()
            try:
                w = start(client)
                await asyncio.to_thread(watch, w)
                return await asyncio.wait_for(_awaited(w), END_TIMEOUT)
            finally:
                await client.close()

        return asyncio.run(main())


async def _awaited(w: StreamWidget) -> StreamWidget:
    return await w


@pytest.fixture(params=["sync", "async"])
def run(request, sse_server, client, make_async_client) -> Runner:
    return Runner(request.param, sse_server, client, make_async_client)


def sdk_final(sse_server, client, b: ResponsesBuilder) -> Any:
    """What the SDK's own accumulation gives for the same script: the
    ``client.responses.stream(...)`` manager's final ``Response``."""
    sse_server.enqueue(b.script())
    with client.responses.stream(**KWARGS["responses"]) as stream:
        return stream.get_final_response()


def sdk_events(sse_server, client, b: ResponsesBuilder) -> list[Any]:
    """The events the SDK parses from the same script (raw ``create(stream=True)``)."""
    sse_server.enqueue(b.script())
    with client.responses.create(**KWARGS["responses"], stream=True) as stream:
        return list(stream)


def seen(predicate: Callable[[], Any], what: str) -> None:
    assert wait_until(predicate, SEEN_TIMEOUT), f"never saw {what}"


def parts_of(w: StreamWidget, kind: str) -> list[dict[str, Any]]:
    return [p for p in w.parts if p["kind"] == kind]


def assert_done(w: StreamWidget) -> None:
    assert w.status == "done", f"status={w.status!r} error={w.error!r}"
    assert w.error is None


def assert_final_metrics(w: StreamWidget, b: ResponsesBuilder) -> dict[str, Any]:
    m = w.metrics
    assert m["events"] == len(b.events)
    assert sum(m["event_counts"].values()) == len(b.events)
    assert m["model"] == MODEL
    assert m["response_id"] == RESPONSE_ID
    assert m == w.metrics, "metrics must be final once the stream has ended"
    return m


def project_calls(output: list[Any]) -> list[dict[str, Any]]:
    """``w.tool_calls`` as derived from a final ``Response``: calls for the caller to run."""
    return [
        {
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments if item.type == "function_call" else item.input,
        }
        for item in output
        if item.type in ("function_call", "custom_tool_call")
    ]


# ---- Responses: parts ------------------------------------------------------------------------


def test_refusal_is_its_own_part_never_text(run, sse_server, client):
    b = ResponsesBuilder().start()
    b.refusal(["I'm sorry, ", "but I can't ", "help with that."])
    b.completed()
    w = run(b.script())
    final = sdk_final(sse_server, client, b)
    want = "".join(
        c.refusal for item in final.output if item.type == "message"
        for c in item.content if c.type == "refusal"
    )

    assert_done(w)
    assert want == "I'm sorry, but I can't help with that."
    assert w.refusal == want
    assert w.text == final.output_text == ""
    assert "sorry" not in w.html
    assert w.tool_calls == []
    assert w.parts == [{"kind": "refusal", "choice": 0, "done": True, "text": want}]
    m = assert_final_metrics(w, b)
    assert m["event_counts"]["response.refusal.delta"] == 3
    assert m["finish_reason"] == "completed"
    assert (m["output_tokens"], m["output_tokens_estimated"]) == (7, False)


def test_custom_tool_input_streams_like_function_arguments(run, sse_server, client):
    b = ResponsesBuilder().start()
    b.function_call("get_weather", ['{"city":', ' "Paris"}'])
    b.custom_tool_call("run_sql", ["SELECT name", " FROM users", " LIMIT 1;"])
    b.completed()
    gate = threading.Event()

    def during(w):
        seen(lambda: [c["arguments"] for c in w.tool_calls] == ['{"city": "Paris"}', "SELECT name"],
             "the custom tool input streaming")
        assert w.status == "streaming"
        assert w.tool_calls[1]["name"] == "run_sql"

    w = run(b.script({"custom.first_delta": gate}), during=during, gates=[gate])
    final = sdk_final(sse_server, client, b)

    assert_done(w)
    assert w.tool_calls == project_calls(final.output)
    assert w.tool_calls == [
        {"call_id": "call_fn_0", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"call_id": "call_custom_1", "name": "run_sql",
         "arguments": "SELECT name FROM users LIMIT 1;"},
    ]
    assert [(p["kind"], p["type"], p["done"]) for p in w.parts] == [
        ("tool_call", "function_call", True),
        ("tool_call", "custom_tool_call", True),
    ]
    assert w.text == final.output_text == ""
    assert w.refusal is None
    m = assert_final_metrics(w, b)
    assert m["finish_reason"] == "tool_calls"
    assert m["event_counts"]["response.custom_tool_call_input.delta"] == 3


def test_mcp_calls_are_parts_not_tool_calls_for_the_caller(run, sse_server, client):
    """Server-run MCP calls (and listing MCP tools) show in ``parts``, never in
    ``tool_calls``; their progress events belong to their own part."""
    b = ResponsesBuilder().start()
    b.mcp_list_tools("deepwiki", ["ask_question", "read_wiki"])
    mcp = b.mcp_call("deepwiki", "ask_question", ['{"repo":', '"a/b"}'], output="It is a library.")
    b.function_call("lookup", ["{}"])
    b.message(["Done."])
    b.completed()
    w = run(b.script())
    final = sdk_final(sse_server, client, b)

    assert_done(w)
    assert w.tool_calls == project_calls(final.output)
    assert [c["name"] for c in w.tool_calls] == ["lookup"]
    assert w.text == final.output_text == "Done."
    assert [(p["kind"], p.get("type")) for p in w.parts] == [
        ("tool", "mcp_list_tools"),
        ("tool_call", "mcp_call"),
        ("tool_call", "function_call"),
        ("text", None),
    ], w.parts
    listed, call = w.parts[0], w.parts[1]
    assert (listed["status"], listed["done"]) == ("completed", True)
    assert call["name"] == mcp.name == "ask_question"
    assert call["server"] == mcp.server_label
    assert call["arguments"] == mcp.arguments == '{"repo":"a/b"}'
    assert call["done"] is True
    assert call["status"] == "completed"
    assert all(p["done"] for p in w.parts)


def test_server_run_mcp_call_alone_is_no_tool_calls_finish(run, sse_server, client):
    """``finish_reason == "tool_calls"`` means calls for the caller to run; a response that
    only ran an MCP call on the server did not end for that reason."""
    b = ResponsesBuilder().start()
    b.mcp_call("deepwiki", "ask_question", ["{}"], output="ok")
    b.completed()
    w = run(b.script())
    final = sdk_final(sse_server, client, b)

    assert_done(w)
    assert w.tool_calls == project_calls(final.output) == []
    assert [(p["kind"], p["type"], p["status"]) for p in w.parts] == [
        ("tool_call", "mcp_call", "completed")
    ]
    assert w.metrics["finish_reason"] == "completed"


def test_image_generation_shows_partial_images_then_the_result(run, sse_server, client):
    partials = [tiny_png((200, 0, 0)), tiny_png((0, 200, 0))]
    result = tiny_png((0, 0, 200))
    b = ResponsesBuilder().start()
    b.image_generation(partials, result)
    b.message(["Here is your image."])
    b.completed()
    gates = {"image.partial0": threading.Event(), "image.partial1": threading.Event()}

    def during(w):
        for number, image in enumerate(partials):
            seen(lambda image=image: parts_of(w, "tool") and parts_of(w, "tool")[0]["content"]
                 == image, f"partial image {number}")
            tool = parts_of(w, "tool")[0]
            assert (tool["type"], tool["status"], tool["done"]) == (
                "image_generation_call", "generating", False
            )
            assert w.status == "streaming"
            gates[f"image.partial{number}"].set()

    w = run(b.script(gates), during=during, gates=list(gates.values()))
    final = sdk_final(sse_server, client, b)
    (item,) = [o for o in final.output if o.type == "image_generation_call"]

    assert_done(w)
    (tool,) = parts_of(w, "tool")
    assert tool["content"] == item.result == result
    assert base64.b64decode(tool["content"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert (tool["type"], tool["status"], tool["done"]) == (
        "image_generation_call", "completed", True
    )
    assert w.text == final.output_text == "Here is your image."
    assert w.tool_calls == []
    m = assert_final_metrics(w, b)
    assert m["event_counts"]["response.image_generation_call.partial_image"] == 2


def test_shell_call_commands(run, sse_server, client):
    b = ResponsesBuilder().start()
    b.shell_call([["ls", " -la"], ["cat ", "README.md"]])
    b.completed()
    gate = threading.Event()

    def during(w):
        seen(lambda: w.parts and w.parts[0]["content"] == "ls -la\ncat README.md",
             "both commands streamed, one per line")
        tool = w.parts[0]
        assert (tool["type"], tool["status"], tool["done"]) == ("shell_call", "in_progress", False)

    w = run(b.script({"shell.commands_done": gate}), during=during, gates=[gate])
    final = sdk_final(sse_server, client, b)
    (item,) = [o for o in final.output if o.type == "shell_call"]

    assert_done(w)
    (tool,) = w.parts
    assert (tool["kind"], tool["type"], tool["status"], tool["done"]) == (
        "tool", "shell_call", "completed", True
    )
    # each command on its own line, never run together ("ls -lacat README.md")
    assert tool["content"] == "\n".join(item.action.commands) == "ls -la\ncat README.md"
    assert w.tool_calls == [] and w.text == ""
    m = assert_final_metrics(w, b)
    assert m["event_counts"]["response.shell_call_command.delta"] == 4
    assert m["event_counts"]["response.shell_call_command.added"] == 2


def test_audio_transcript_is_text(run, sse_server, client):
    b = ResponsesBuilder().start()
    b.audio(["Hello", " from", " audio."], ["UklG", "RiQA", "AABX"])
    b.completed()
    w = run(b.script())
    events = sdk_events(sse_server, client, b)
    transcript = "".join(
        e.delta for e in events if e.type == "response.audio.transcript.delta"
    )

    assert_done(w)
    assert w.text == transcript == "Hello from audio."
    assert w.parts == [{"kind": "text", "choice": 0, "done": True, "text": transcript}]
    assert "UklG" not in w.text, "the base64 audio is not text"
    m = assert_final_metrics(w, b)
    assert m["event_counts"]["response.audio.delta"] == 3
    assert m["event_counts"]["response.audio.transcript.done"] == 1
    assert m["ttft_s"] is not None


def test_code_interpreter_streams_its_code(run, sse_server, client):
    pieces = ["import math\n", "print(math", ".sqrt(2))"]
    b = ResponsesBuilder().start()
    b.code_interpreter(pieces, logs="1.4142135623730951\n")
    b.message(["The square root of 2 is ", "about 1.414."])
    b.completed()
    gates = {"code.first_delta": threading.Event(), "code.interpreting": threading.Event()}

    def during(w):
        seen(lambda: parts_of(w, "tool") and parts_of(w, "tool")[0]["content"] == pieces[0],
             "the first code delta")
        tool = parts_of(w, "tool")[0]
        assert (tool["type"], tool["status"], tool["done"]) == (
            "code_interpreter_call", "in_progress", False
        )
        gates["code.first_delta"].set()
        seen(lambda: parts_of(w, "tool")[0]["status"] == "interpreting", "interpreting")
        tool = parts_of(w, "tool")[0]
        assert tool["content"] == "".join(pieces)
        assert tool["done"] is False, "the code is written but the tool is still running"
        gates["code.interpreting"].set()

    w = run(b.script(gates), during=during, gates=list(gates.values()))
    final = sdk_final(sse_server, client, b)
    (item,) = [o for o in final.output if o.type == "code_interpreter_call"]

    assert_done(w)
    (tool,) = parts_of(w, "tool")
    assert tool["content"] == item.code == "".join(pieces)
    assert (tool["status"], tool["done"]) == ("completed", True)
    assert w.text == final.output_text == "The square root of 2 is about 1.414."
    assert [p["kind"] for p in w.parts] == ["tool", "text"]


def test_web_search_status_moves_and_citations_attach(run, sse_server, client):
    text = "Mount Columbia is 3,747 m high."
    citation = url_citation(0, 14, "https://example.org/columbia", "Mount Columbia")
    b = ResponsesBuilder().start()
    b.web_search("height of Mount Columbia")
    b.message([text[:10], text[10:]], annotations=[citation])
    b.completed()
    marks = ["web_search.in_progress", "web_search.searching", "web_search.done"]
    gates = {name: threading.Event() for name in marks}

    def during(w):
        for name, status in zip(marks, ["in_progress", "searching", "completed"], strict=True):
            seen(lambda status=status: parts_of(w, "tool")
                 and parts_of(w, "tool")[0]["status"] == status, f"web search {status}")
            assert parts_of(w, "tool")[0]["type"] == "web_search_call"
            assert w.text == "", "no text before the search ended"
            gates[name].set()

    w = run(b.script(gates), during=during, gates=list(gates.values()))
    final = sdk_final(sse_server, client, b)
    (message,) = [o for o in final.output if o.type == "message"]

    assert_done(w)
    tool, part = w.parts
    assert (tool["kind"], tool["status"], tool["done"]) == ("tool", "completed", True)
    assert part["kind"] == "text"
    assert w.text == final.output_text == text
    assert part["annotations"] == [
        a.model_dump(mode="json", exclude_none=True) for a in message.content[0].annotations
    ]
    assert part["annotations"][0]["url"] == "https://example.org/columbia"
    m = assert_final_metrics(w, b)
    for status in ("in_progress", "searching", "completed"):
        assert m["event_counts"][f"response.web_search_call.{status}"] == 1


def test_annotations_url_and_file_citations(run, sse_server, client):
    annotations = [
        url_citation(0, 5, "https://example.org/a", "A page"),
        file_citation(12, "file_abc123", "report.pdf"),
    ]
    b = ResponsesBuilder().start()
    b.message(["Cited ", "text and ", "a file."], annotations=annotations)
    b.completed()
    w = run(b.script())
    final = sdk_final(sse_server, client, b)
    (message,) = final.output

    assert_done(w)
    (part,) = w.parts
    assert part["text"] == final.output_text == "Cited text and a file."
    assert part["annotations"] == [
        a.model_dump(mode="json", exclude_none=True) for a in message.content[0].annotations
    ]
    assert [a["type"] for a in part["annotations"]] == ["url_citation", "file_citation"]
    assert assert_final_metrics(w, b)["event_counts"]["response.output_text.annotation.added"] == 2


def test_reasoning_summary_and_reasoning_text(run, sse_server, client):
    summaries = [["**Plan**\n\n", "Check the ", "sky."], ["Then answer ", "briefly."]]
    b = ResponsesBuilder().start()
    b.reasoning(summaries, ["The user asks", " about the sky", " colour."])
    b.message(["Blue."])
    b.completed(usage(output_tokens=40, reasoning=30))
    w = run(b.script())
    final = sdk_final(sse_server, client, b)
    (item,) = [o for o in final.output if o.type == "reasoning"]

    assert_done(w)
    reasoning = parts_of(w, "reasoning")
    assert [p["text"] for p in reasoning] == [s.text for s in item.summary] + [
        c.text for c in item.content
    ]
    assert [p.get("source") for p in reasoning[:2]] == ["summary", "summary"]
    assert all(p["done"] for p in reasoning)
    assert [p["kind"] for p in w.parts] == ["reasoning"] * 3 + ["text"]
    assert w.text == final.output_text == "Blue.", "reasoning never leaks into the text"
    assert w.usage["output_tokens_details"]["reasoning_tokens"] == 30
    assert w.metrics["output_tokens"] == 40


# ---- Responses: lifecycle and errors -------------------------------------------------------


def test_queued_start_then_live_then_final_metrics(run, sse_server, client):
    b = ResponsesBuilder().start(queued=True)
    b.message(["Back", "ground ", "done."])
    b.completed()
    gates = {"queued": threading.Event(), "message0.first_delta": threading.Event()}

    def during(w):
        seen(lambda: w.metrics["phase"] == "queued", "the queued phase")
        m = w.metrics
        assert w.status == "streaming"
        assert m["events"] == 2
        assert m["event_counts"] == {"response.created": 1, "response.queued": 1}
        assert m["ttft_s"] is None and w.text == ""
        assert m["response_id"] == RESPONSE_ID
        gates["queued"].set()
        seen(lambda: w.text == "Back", "the first delta")
        m = w.metrics
        assert m["phase"] == "in_progress"
        assert m["ttft_s"] is not None and m["ttft_s"] >= 0
        assert m["event_counts"]["response.output_text.delta"] == 1
        assert m["finish_reason"] is None
        gates["message0.first_delta"].set()

    w = run(b.script(gates), during=during, gates=list(gates.values()))
    final = sdk_final(sse_server, client, b)

    assert_done(w)
    assert w.text == final.output_text == "Background done."
    m = assert_final_metrics(w, b)
    assert m["phase"] == "completed"
    assert m["finish_reason"] == "completed"
    assert m["event_counts"]["response.queued"] == 1
    assert 0 <= m["ttft_s"] <= m["duration_s"]


def test_incomplete_ends_done_with_the_reason(run, sse_server, client):
    b = ResponsesBuilder().start()
    b.message(["Once upon ", "a time"], status="incomplete")
    response = b.incomplete("max_output_tokens", usage(output_tokens=16))
    w = run(b.script())

    assert_done(w)
    assert w.text == response.output_text == "Once upon a time"
    m = assert_final_metrics(w, b)
    assert m["finish_reason"] == response.incomplete_details.reason == "max_output_tokens"
    assert m["phase"] == "incomplete"
    assert w.usage["output_tokens"] == m["output_tokens"] == 16


def test_failed_ends_in_error_keeping_the_partial_output(run, sse_server, client):
    b = ResponsesBuilder().start()
    b.message(["Partial ", "answ"], finish=False)
    response = b.failed("server_error", "The model crashed mid-answer.")
    w = run(b.script())

    assert w.status == "error"
    assert response.error.message in w.error
    assert w.text == "Partial answ"
    m = assert_final_metrics(w, b)
    assert m["phase"] == "failed"
    assert m["event_counts"]["response.failed"] == 1


def test_flat_error_event_ends_in_error(run, sse_server, client):
    """``{"type": "error", "message": ...}``: the SDK yields it as an event."""
    b = ResponsesBuilder().start()
    b.message(["Half an ", "ans"], finish=False)
    b.error_flat("rate_limit_exceeded", "Rate limit reached while streaming.")
    w = run(b.script())
    events = sdk_events(sse_server, client, b)
    assert [e.type for e in events][-1] == "error"
    assert events[-1].message == "Rate limit reached while streaming."

    assert w.status == "error"
    assert "Rate limit reached while streaming." in w.error
    assert w.text == "Half an ans"
    assert assert_final_metrics(w, b)["event_counts"]["error"] == 1


def test_nested_error_event_raises_in_the_sdk_and_ends_in_error(run, sse_server, client):
    """``{"type": "error", "error": {...}}``: the SDK raises ``openai.APIError``."""
    b = ResponsesBuilder().start()
    b.message(["Kept ", "so far"], finish=False)
    b.error_nested("server_error", "Upstream overloaded, try again.")
    w = run(b.script())
    sse_server.enqueue(b.script())
    with pytest.raises(openai.APIError, match="Upstream overloaded"), client.responses.create(
        **KWARGS["responses"], stream=True
    ) as stream:
        list(stream)

    assert w.status == "error"
    assert "Upstream overloaded, try again." in w.error
    assert w.text == "Kept so far"
    assert w.metrics["events"] == len(b.events) - 1, "the raising event never reached nbstream"


def test_unknown_event_types_are_counted_never_fatal(run, sse_server, client):
    b = ResponsesBuilder().start()
    b.unknown("response.future_thing.happened", detail={"x": 1}, output_index=0)
    b.message(["Still ", "fine."])
    b.unknown("future.top_level_event", payload=[1, 2, 3])
    b.completed()
    w = run(b.script())
    final = sdk_final(sse_server, client, b)

    assert_done(w)
    assert w.text == final.output_text == "Still fine."
    assert [p["kind"] for p in w.parts] == ["text"]
    m = assert_final_metrics(w, b)
    assert m["event_counts"]["response.future_thing.happened"] == 1
    assert m["event_counts"]["future.top_level_event"] == 1
    log = w.event_log
    names = [name for _t, name in log["first"] + log["last"]]
    assert "response.future_thing.happened" in names
    assert "future.top_level_event" in names
    assert log["counts"] == m["event_counts"]


# ---- Chat ----------------------------------------------------------------------------------


def sdk_chat_final(sse_server, client, chunks: list[dict[str, Any]]) -> Any:
    sse_server.enqueue(Script.events("chat", chunks))
    with client.chat.completions.stream(**KWARGS["chat"]) as stream:
        return stream.get_final_completion()


def sdk_chat_choices(sse_server, client, chunks: list[dict[str, Any]]) -> dict[int, dict]:
    """Each choice's text and finish reason, accumulated from the chunks the SDK parsed (the
    ``stream()`` helper refuses ``length``/``content_filter`` endings)."""
    sse_server.enqueue(Script.events("chat", chunks))
    choices: dict[int, dict[str, Any]] = {}
    with client.chat.completions.create(**KWARGS["chat"], stream=True) as stream:
        for chunk in stream:
            for choice in chunk.choices:
                acc = choices.setdefault(choice.index, {"text": "", "finish_reason": None})
                acc["text"] += choice.delta.content or ""
                acc["finish_reason"] = choice.finish_reason or acc["finish_reason"]
    return choices


def test_chat_n_choices(run, sse_server, client):
    pieces = [["The sky ", "is blue."], ["Blue, ", "mostly", "."], ["Azure."]]
    chunks = chat_stream(pieces, ["stop", "length", "stop"], usage_=chat_usage(9, 8))
    w = run(Script.events("chat", chunks), api="chat")
    sdk = sdk_chat_choices(sse_server, client, chunks)
    want = [sdk[i]["text"] for i in sorted(sdk)]

    assert_done(w)
    assert w.choices == want == ["The sky is blue.", "Blue, mostly.", "Azure."]
    assert w.text == want[0]
    assert w.metrics["finish_reason"] == sdk[0]["finish_reason"] == "stop"
    assert w.usage == chat_usage(9, 8).model_dump(mode="json", exclude_none=True)
    assert sorted({p["choice"] for p in w.parts}) == [0, 1, 2]


def test_chat_error_chunk_ends_in_error_keeping_text(run, sse_server, client):
    """A last data chunk ``{"error": {...}}`` (the SDK raises ``openai.APIError``)."""
    chunks = chat_stream([["Partial ", "chat ", "text"]])[:-1]  # no finish chunk
    error = {"message": "The server had an error mid-stream.", "type": "server_error",
             "param": None, "code": None}
    w = run(Script.events("chat", [*chunks, {"error": error}], done=False), api="chat")

    assert w.status == "error"
    assert "The server had an error mid-stream." in w.error
    assert w.text == "Partial chat text"
    assert w.metrics["finish_reason"] is None


def test_chat_content_filter_finish_reason(run, sse_server, client):
    chunks = chat_stream([["Some ", "text"]], "content_filter", usage_=chat_usage())
    w = run(Script.events("chat", chunks), api="chat")
    sdk = sdk_chat_choices(sse_server, client, chunks)

    assert_done(w)
    assert w.text == sdk[0]["text"] == "Some text"
    assert w.metrics["finish_reason"] == sdk[0]["finish_reason"] == "content_filter"


# ---- the SDK's helper managers, sync and async --------------------------------------------


def responses_helper_builder() -> ResponsesBuilder:
    b = ResponsesBuilder().start()
    b.reasoning([["Thinking ", "briefly."]], [])
    b.function_call("get_time", ['{"tz":', ' "UTC"}'])
    b.message(["It is ", "noon."])
    b.completed()
    return b


def chat_helper_chunks() -> list[dict[str, Any]]:
    return [
        chat_chunk([chat_choice(0, "", role="assistant")]),
        chat_chunk([chat_choice(0, "Let me ")]),
        chat_chunk([chat_choice(0, "check.")]),
        chat_chunk([chat_choice(0, tool_calls=[
            chat_tool_call(0, "", call_id="call_chat_1", name="get_time")
        ])]),
        chat_chunk([chat_choice(0, tool_calls=[chat_tool_call(0, '{"tz":')])]),
        chat_chunk([chat_choice(0, tool_calls=[chat_tool_call(0, ' "UTC"}')])]),
        chat_chunk([chat_choice(0, finish="tool_calls")]),
        chat_chunk([], usage_=chat_usage(12, 9)),
    ]


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_sdk_helper_managers(api, run, sse_server, client):
    """``nbstream.stream(client.responses.stream(...))`` and
    ``nbstream.stream(client.chat.completions.stream(...))``, sync and async managers."""
    if api == "responses":
        b = responses_helper_builder()
        w = run(b.script(), source=lambda c: c.responses.stream(**KWARGS["responses"]))
        final = sdk_final(sse_server, client, b)
        want_text = final.output_text
        want_calls = project_calls(final.output)
        want_usage = final.usage.model_dump(mode="json", exclude_none=True)
        want_finish = "tool_calls" if not want_text else "completed"
    else:
        chunks = chat_helper_chunks()
        w = run(
            Script.events("chat", chunks),
            source=lambda c: c.chat.completions.stream(**KWARGS["chat"]),
        )
        final = sdk_chat_final(sse_server, client, chunks)
        message = final.choices[0].message
        want_text = message.content
        want_calls = [
            {"call_id": t.id, "name": t.function.name, "arguments": t.function.arguments}
            for t in message.tool_calls
        ]
        want_usage = final.usage.model_dump(mode="json", exclude_none=True)
        want_finish = final.choices[0].finish_reason

    assert_done(w)
    assert w.text == want_text and want_text
    assert w.tool_calls == want_calls and want_calls
    assert w.usage == want_usage
    assert w.metrics["finish_reason"] == want_finish
    if api == "responses":
        assert [p["kind"] for p in w.parts] == ["reasoning", "tool_call", "text"]


# ---- a million events: the log stays bounded ------------------------------------------------


def test_a_million_events_keep_the_log_bounded():
    """1,000,000 ``str`` chunks: the event log keeps the first and last events only (memory
    flat), ``omitted`` counts the rest, and the totals are exact. Most chunks are empty
    strings (still events: counted and logged) so the test measures the per-event
    bookkeeping, not rendering a megabyte of markdown."""
    total, every = 1_000_000, 1000

    def chunks():
        for i in range(total):
            yield "tok " if i % every == 0 else ""

    # "tok tok tok ..." is what a model in a loop writes: the loop guard is off here.
    w = nbstream.stream(chunks(), guards=nbstream.Guards(loops=False))
    assert w.wait(timeout=45), "a million events did not finish"
    assert_done(w)
    assert w.text == "tok " * (total // every)
    log = w.event_log
    kept = len(log["first"]) + len(log["last"])
    assert 0 < kept <= 100
    assert log["omitted"] == total - kept
    assert log["counts"] == {"text": total}
    m = w.metrics
    assert m["events"] == total
    assert m["event_counts"] == {"text": total}
    assert len(m["timeline"]["counts"]) <= 120, "the timeline must stay bounded too"
    assert m["output_tokens"] == total // every and m["output_tokens_estimated"] is True
    times = [t for t, _name in log["first"] + log["last"]]
    assert times == sorted(times), "first then last, in arrival order"
