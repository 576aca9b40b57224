"""The offline demo client, driven through the real openai SDK (no mocks)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from nbstream._demo import (
    ANSWERS,
    DEMO_BASE_URL,
    AsyncDemoTransport,
    DemoRequest,
    DemoTransport,
    _answer_name,
    demo_client,
    demo_transport,
    pick_answer,
    tokenize,
)

FAST = float("inf")
PROMPT = "Plan a weekend trip to Kyoto"
ANSWER = pick_answer(PROMPT)
MESSAGES = [{"role": "user", "content": PROMPT}]


def fast_client() -> openai.OpenAI:
    return demo_client(speed=FAST, seed=1)


def fast_async_client() -> openai.AsyncOpenAI:
    return demo_client(speed=FAST, seed=1, async_client=True)


def sync_transport(client: openai.OpenAI) -> DemoTransport:
    transport = demo_transport(client)
    assert isinstance(transport, DemoTransport)
    return transport


def chat_text(chunks: list[Any], index: int = 0) -> str:
    return "".join(
        choice.delta.content or ""
        for chunk in chunks
        for choice in chunk.choices
        if choice.index == index
    )


def delta_text(events: list[Any]) -> str:
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


# --- the client and the content ------------------------------------------------------------


def test_the_demo_answer_is_never_taken_for_its_key() -> None:
    """The key is scrubbed from what is shown; the demo's own words must not be (its key was
    "demo", and an unknown prompt's answer read "the offline [redacted] model")."""
    import nbstream

    w = nbstream.responses(fast_client(), model="m", input="Now say it in one sentence.")
    assert w.wait(10) and w.status == "done", w.error
    assert "offline demo model" in w.text and "[redacted]" not in w.text


def test_demo_client_is_a_real_openai_client() -> None:
    client = fast_client()
    assert type(client) is openai.OpenAI
    assert str(client.base_url).rstrip("/") == DEMO_BASE_URL
    assert client.max_retries == 0
    assert client.api_key == "nbstream-offline-demo-key"
    transport = sync_transport(client)
    assert demo_transport(client.with_options(timeout=5)) is transport
    assert transport.requests == []

    async_client = fast_async_client()
    assert type(async_client) is openai.AsyncOpenAI
    assert isinstance(demo_transport(async_client), AsyncDemoTransport)

    with pytest.raises(TypeError):
        demo_transport(openai.OpenAI(api_key="sk-not-a-demo", base_url=DEMO_BASE_URL))
    with pytest.raises(ValueError):
        demo_client(speed=0)


SHORT_ANSWERS = {"asyncio", "table", "hello", "tongue_twister"}


def test_answers_are_varied_realistic_markdown() -> None:
    assert len(ANSWERS) >= 12
    assert len(set(ANSWERS.values())) == len(ANSWERS), "two topics share one document"
    for name, text in ANSWERS.items():
        size = len(text.encode())
        assert (size < 1000) if name in SHORT_ANSWERS else (1000 <= size <= 6000), name
        assert text == text.strip() and "<!--" not in text, name
    everything = "\n".join(ANSWERS.values())
    for feature in ["\n# ", "\n## ", "\n### ", "**", "*", "`", "\n> ", "](https://", "|---|"]:
        assert feature in everything, feature
    for language in ["python", "bash", "sql", "rust", "javascript", "markdown"]:
        assert f"```{language}\n" in everything, language
    assert re.search(r"\n  - ", everything), "nested bullet list"
    assert re.search(r"\n   ```", everything), "fence inside a list item"
    # what real models write besides ASCII: emoji, CJK and kana, mathematical notation
    assert re.search("[\U0001f300-\U0001faff]", everything), "emoji"
    assert re.search("[\u4e00-\u9fff]", everything) and re.search("[\u3040-\u30ff]", everything)
    assert all(symbol in everything for symbol in "∑≈λ²₀"), "math"
    assert re.search(r" \$[^$`\n]+\$\.", everything), "inline LaTeX math"


def test_tokenize_looks_like_bpe_tokens() -> None:
    for text in ANSWERS.values():
        tokens = tokenize(text)
        assert "".join(tokens) == text
        assert all(1 <= len(token) <= 6 for token in tokens)
        assert 2.5 <= len(text) / len(tokens) <= 5
        assert tokenize(text) == tokens  # deterministic
    assert tokenize("Hello, world!") == ["Hello", ",", " world", "!"]


def test_answer_is_picked_from_the_prompt() -> None:
    assert pick_answer(PROMPT) == pick_answer(PROMPT) == ANSWERS["travel"]
    assert "|---|" in pick_answer("Show me a table of options")
    assert "```python" in pick_answer("Write Python code to read a CSV")
    assert pick_answer("Give me a long, detailed explanation") == ANSWERS["streaming"]
    assert pick_answer("Give me a long explanation of streaming.") == ANSWERS["streaming"]
    assert pick_answer("Say 'double bubble bath' ten times fast.") == ANSWERS["tongue_twister"]
    assert pick_answer("Hello") == ANSWERS["hello"]


def test_a_question_the_demo_cannot_answer_gets_an_answer_that_says_so() -> None:
    answer = pick_answer("What is the capital of *France*? <b>")
    assert answer == pick_answer("What is the capital of *France*? <b>")  # nothing random
    assert answer.endswith(ANSWERS["unknown"])
    first = answer.split("\n", 1)[0]
    assert "offline demo model" in first
    assert r"“What is the capital of \*France\*? \<b\>”" in first  # quoted, markdown escaped
    assert pick_answer("question number 1") != pick_answer("question number 2")
    assert "offline demo model" in pick_answer("")
    pick_answer("a lone surrogate \ud800").encode()  # the wire is UTF-8


def test_the_unknown_answer_lists_prompts_that_the_demo_does_answer() -> None:
    """Its table of example prompts is true: each gets its own topic, and every topic is there."""
    examples = re.findall(r"^\| [^|]+ \| \*(.+)\* \|$", ANSWERS["unknown"], re.MULTILINE)
    assert len(examples) >= 12
    names = [_answer_name(prompt) for prompt in examples]
    assert "unknown" not in names
    assert len(set(names)) == len(names), names
    assert set(names) == set(ANSWERS) - {"unknown"}


QUICKSTART = Path(__file__).parent.parent / "examples" / "quickstart.ipynb"
README = Path(__file__).parent.parent / "README.md"
# Every prompt of the quickstart and the README, and what its demo answer must contain.
EXPECTED = {
    "Explain Python generators with a code example and a table.": (
        r"(?s)^# Python generators.*```python\n.*\byield\b.*\|---\|"
    ),
    "Give me a quick markdown cheat sheet.": r"(?s)^## Markdown cheat sheet.*\*\*bold\*\*",
    "Write a long, detailed essay about the history of computing.": (
        r"(?s)^# A short history of computing.*Babbage.*Turing.*ENIAC"
    ),
    "Summarise async IO in three bullet points.": r"^- \*\*[^\n]+\n- \*\*[^\n]+\n- \*\*[^\n]+$",
    "Show a small table.": r"^[^|\n]+\n\n(\|[^\n]+\|\n){6}\n[^|]+$",
    "Say 'double bubble bath' ten times fast.": r"^(?i:(double bubble\s+bath[,!]\s+){10})",
}


def _prompts(text: str) -> set[str]:
    found = re.findall(r"\b(?:input|prompt)=([\"'])(.+?)\1", text)
    found += re.findall(r"\"content\": ([\"'])(.+?)\1", text)
    return {prompt for _, prompt in found}


def test_quickstart_and_readme_prompts_get_an_answer_on_their_topic() -> None:
    notebook = json.loads(QUICKSTART.read_text(encoding="utf-8"))
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    prompts = _prompts("\n".join(code)) | _prompts(README.read_text(encoding="utf-8"))
    assert prompts == set(EXPECTED), "a new prompt in the quickstart or README needs an answer"
    answers = [pick_answer(prompt) for prompt in prompts]
    assert len(set(answers)) == len(answers), "two prompts share one document"
    for prompt, pattern in EXPECTED.items():
        answer = pick_answer(prompt)
        assert not answer.endswith(ANSWERS["unknown"]), prompt
        assert re.search(pattern, answer), (prompt, answer[:200])


def test_other_choices_get_other_answers_deterministically() -> None:
    client = fast_client()
    texts = []
    for _ in range(2):
        chat = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=3)
        texts.append([choice.message.content for choice in chat.choices])
    assert texts[0] == texts[1]
    assert texts[0][0] == ANSWER and len(set(texts[0])) == 3


def test_same_prompt_same_answer_across_clients_and_apis() -> None:
    prompt = "What should I know about this?"
    texts = set()
    for seed in (1, 2):
        client = demo_client(speed=FAST, seed=seed)
        texts.add(client.responses.create(model="gpt-4.1", input=prompt).output_text)
        chat = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": prompt}]
        )
        texts.add(chat.choices[0].message.content)
    assert texts == {pick_answer(prompt)}


# --- streaming through the SDK, sync --------------------------------------------------------


def test_responses_stream() -> None:
    client = fast_client()
    events = list(client.responses.create(model="gpt-4.1", input=PROMPT, stream=True))

    types = [e.type for e in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert set(types[4:-4]) == {"response.output_text.delta"}
    assert [e.sequence_number for e in events] == list(range(len(events)))

    deltas = [e for e in events if e.type == "response.output_text.delta"]
    item_id = events[2].item.id
    assert all(
        (d.item_id, d.output_index, d.content_index, d.logprobs) == (item_id, 0, 0, [])
        for d in deltas
    )
    assert delta_text(events) == ANSWER
    assert events[-4].text == ANSWER
    final = events[-1].response
    assert final.status == "completed"
    assert final.output_text == ANSWER
    assert final.usage is not None
    assert final.usage.output_tokens == len(deltas) == len(tokenize(ANSWER))

    record = sync_transport(client).last_request
    assert (record.path, record.model, record.stream) == ("/v1/responses", "gpt-4.1", True)
    assert record.body["input"] == PROMPT
    assert record.finished and record.closed.is_set() and record.error is None
    assert record.started_at <= record.first_byte_at <= record.closed_at  # type: ignore[operator]


def test_chat_stream_with_usage() -> None:
    client = fast_client()
    stream = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chat_text(chunks) == ANSWER
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(tokenize(ANSWER))
    assert sync_transport(client).last_request.finished


def test_completions_stream() -> None:
    client = fast_client()
    chunks = list(
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT, stream=True)
    )
    assert all(c.object == "text_completion" for c in chunks)
    assert "".join(c.choices[0].text for c in chunks) == ANSWER
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_responses_stream_manager() -> None:
    client = fast_client()
    with client.responses.stream(model="gpt-4.1", input=PROMPT) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == ANSWER
    assert final.output_text == ANSWER


def test_non_streaming_calls() -> None:
    client = fast_client()
    response = client.responses.create(model="gpt-4.1", input=PROMPT)
    assert (response.status, response.output_text) == ("completed", ANSWER)
    chat = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert chat.choices[0].message.content == ANSWER
    assert chat.choices[0].finish_reason == "stop"
    assert chat.usage is not None and chat.usage.completion_tokens == len(tokenize(ANSWER))
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT)
    assert completion.choices[0].text == ANSWER


def test_wire_format_matches_the_recordings() -> None:
    http = httpx2.Client(transport=DemoTransport(speed=FAST, seed=3))
    body = {"model": "gpt-4.1", "input": PROMPT, "stream": True}
    response = http.post(f"{DEMO_BASE_URL}/responses", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.endswith("\n\n") and "[DONE]" not in response.text
    blocks = response.text[:-2].split("\n\n")
    for block in blocks:
        event_line, data_line = block.split("\n")
        data = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {data['type']}"
    first_delta = json.loads(blocks[4].split("\n")[1][6:])
    assert "obfuscation" in first_delta  # the live API pads deltas with it

    chat = {"model": "gpt-4o", "messages": MESSAGES, "stream": True}
    text = http.post(f"{DEMO_BASE_URL}/chat/completions", json=chat).text
    lines = text[:-2].split("\n\n")
    assert all(line.startswith("data: {") for line in lines[:-1])
    assert lines[-1] == "data: [DONE]"


# --- streaming through the SDK, async -------------------------------------------------------


def test_async_client_streams_every_api() -> None:
    async def main() -> None:
        client = fast_async_client()
        events = [
            e async for e in await client.responses.create(model="m", input=PROMPT, stream=True)
        ]
        assert delta_text(events) == ANSWER
        assert events[-1].type == "response.completed"

        chat = await client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        chunks = [c async for c in chat]
        assert chat_text(chunks) == ANSWER
        assert chunks[-1].usage is not None

        legacy = await client.completions.create(model="m", prompt=PROMPT, stream=True)
        assert "".join([c.choices[0].text async for c in legacy]) == ANSWER

        async with client.responses.stream(model="m", input=PROMPT) as stream:
            async for _ in stream:
                pass
            final = await stream.get_final_response()
        assert final.output_text == ANSWER

        response = await client.responses.create(model="m", input=PROMPT)
        assert response.output_text == ANSWER
        records = demo_transport(client).requests
        assert len(records) == 5 and all(r.finished and r.closed.is_set() for r in records)

    asyncio.run(main())


# --- limits ------------------------------------------------------------------------------------


def test_max_output_tokens_ends_incomplete() -> None:
    client = fast_client()
    events = list(
        client.responses.create(model="gpt-4.1", input=PROMPT, stream=True, max_output_tokens=20)
    )
    expected = "".join(tokenize(ANSWER)[:20])
    assert delta_text(events) == expected
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.status == "incomplete"
    assert last.response.incomplete_details is not None
    assert last.response.incomplete_details.reason == "max_output_tokens"
    assert last.response.usage is not None and last.response.usage.output_tokens == 20
    assert last.response.output_text == expected
    with pytest.raises(openai.BadRequestError):  # like the real API: the minimum is 16
        client.responses.create(model="gpt-4.1", input=PROMPT, max_output_tokens=5)


def test_chat_max_tokens_and_n_choices() -> None:
    client = fast_client()
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,
        stream=True,
        n=2,
        max_tokens=10,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    indexes = [c.choices[0].index for c in chunks if c.choices]
    assert indexes[:6] == [0, 0, 1, 1, 0, 1]  # role + first token per choice, then interleaved
    assert chat_text(chunks, 0) == "".join(tokenize(ANSWER)[:10])
    assert chat_text(chunks, 1) and chat_text(chunks, 1) != chat_text(chunks, 0)
    finishes = {c.choices[0].index: c.choices[0].finish_reason for c in chunks if c.choices}
    assert finishes == {0: "length", 1: "length"}
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 20

    response = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, max_completion_tokens=7
    )
    assert response.choices[0].finish_reason == "length"
    assert response.choices[0].message.content == "".join(tokenize(ANSWER)[:7])


# --- errors and faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("demo-error-401", openai.AuthenticationError, 401),
        ("demo-error-429", openai.RateLimitError, 429),
        ("demo-error-500", openai.InternalServerError, 500),
    ],
)
def test_error_models(model: str, error: type[openai.APIStatusError], status: int) -> None:
    client = fast_client()
    with pytest.raises(error) as caught:
        client.responses.create(model=model, input=PROMPT, stream=True)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict) and {"message", "type", "code"} <= set(
        caught.value.body
    )
    with pytest.raises(error):
        client.chat.completions.create(model=model, messages=MESSAGES)
    assert len(sync_transport(client).requests) == 2  # max_retries=0: no retries


def test_unknown_path_is_a_404_in_openai_shape() -> None:
    client = fast_client()
    with pytest.raises(openai.NotFoundError) as caught:
        client.get("/models", cast_to=object)
    assert "Invalid URL (GET /v1/models)" in str(caught.value)


def test_reset_model_breaks_the_stream_midway() -> None:
    client = fast_client()
    events: list[Any] = []
    with pytest.raises(openai.APIConnectionError) as caught:
        events.extend(client.responses.create(model="demo-reset", input=PROMPT, stream=True))
    assert isinstance(caught.value.__cause__, httpx2.ReadError)
    assert len([e for e in events if e.type == "response.output_text.delta"]) > 0
    record = sync_transport(client).last_request
    assert (record.finished, record.error) == (False, "reset")


def test_silent_model_runs_into_the_read_timeout() -> None:
    client = demo_client(speed=FAST).with_options(timeout=0.2)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        list(client.chat.completions.create(model="demo-silent", messages=MESSAGES, stream=True))
    assert 0.15 <= time.monotonic() - start < 1.0
    assert sync_transport(client).last_request.error == "read timeout"


# --- pacing ----------------------------------------------------------------------------------


def test_pacing_like_a_real_model() -> None:
    client = demo_client(speed=1.0, seed=5)
    start = time.monotonic()
    stamps = []
    with client.responses.create(model="gpt-4.1", input=PROMPT, stream=True) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                stamps.append(time.monotonic() - start)
                if len(stamps) == 16:
                    break
    ttft = stamps[0]
    assert 0.2 <= ttft <= 1.5
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert 10 <= rate <= 400
    record = sync_transport(client).last_request
    assert record.first_byte_at is not None and record.first_byte_at - record.started_at < 0.15
    assert record.closed_at is not None and not record.finished

    client = demo_client(speed=20.0, seed=5)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    next(c for c in stream if c.choices and c.choices[0].delta.content)
    started = sync_transport(client).last_request.started_at
    assert time.monotonic() - started < 0.3  # 0.3-0.8 s of thinking, divided by 20
    stream.close()


# --- closing -----------------------------------------------------------------------------------


class Reader(threading.Thread):
    """Consumes a sync SDK stream on its own thread and records how it ended."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.items: list[Any] = []
        self.error: BaseException | None = None
        self.ended_at: float | None = None

    def run(self) -> None:
        try:
            for item in self.stream:
                self.items.append(item)
        except Exception as exc:
            self.error = exc
        finally:
            self.ended_at = time.monotonic()


@pytest.mark.parametrize(
    ("api", "model", "speed"),
    [
        ("responses", "demo-silent", 1000.0),  # silent after a few tokens
        ("chat", "demo-silent", 1000.0),
        ("responses", "gpt-4.1", 0.01),  # still "thinking" (30 s or more at this speed)
    ],
)
def test_close_from_another_thread_wakes_the_blocked_reader(
    api: str, model: str, speed: float
) -> None:
    client = demo_client(speed=speed, seed=2)
    if api == "responses":
        stream: Any = client.responses.create(model=model, input=PROMPT, stream=True)
    else:
        stream = client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
    reader = Reader(stream)
    reader.start()
    time.sleep(0.2)  # the reader is now blocked inside the body's wait
    assert reader.is_alive()
    received = len(reader.items)
    if model == "demo-silent":
        assert received > 0

    closed_at = time.monotonic()
    stream.close()
    reader.join(timeout=0.1)
    assert not reader.is_alive(), "the reader was not woken"
    assert reader.ended_at is not None and reader.ended_at - closed_at < 0.1
    assert reader.error is None or isinstance(reader.error, openai.APIConnectionError)
    assert len(reader.items) == received

    record: DemoRequest = sync_transport(client).last_request
    assert record.closed.wait(0.1)
    assert record.closed_at is not None and record.closed_at - closed_at < 0.1
    assert (record.finished, record.error) == (False, "closed")


def test_closing_the_client_closes_open_streams() -> None:
    client = demo_client(speed=FAST)
    reader = Reader(client.responses.create(model="demo-silent", input=PROMPT, stream=True))
    reader.start()
    time.sleep(0.1)
    client.close()
    reader.join(timeout=0.1)
    assert not reader.is_alive()
    assert sync_transport(client).last_request.closed.is_set()


def test_async_close_and_cancel_wake_the_reader() -> None:
    async def consume(stream: Any, ended: dict[str, float]) -> None:
        try:
            async for _ in stream:
                pass
        finally:
            ended["at"] = time.monotonic()

    async def main() -> None:
        client = demo_client(speed=1000.0, seed=4, async_client=True)
        transport = demo_transport(client)

        # aclose() from another task while the reader waits in the silence
        stream = await client.responses.create(model="demo-silent", input=PROMPT, stream=True)
        ended: dict[str, float] = {}
        task = asyncio.create_task(consume(stream, ended))
        await asyncio.sleep(0.15)
        closed_at = time.monotonic()
        await stream.close()
        with pytest.raises(openai.APIConnectionError):
            await asyncio.wait_for(task, 0.1)
        assert ended["at"] - closed_at < 0.1
        record = transport.last_request
        assert record.closed_at is not None and record.error == "closed"

        # task.cancel() scheduled from another thread, as a Stop button handler does
        stream = await client.chat.completions.create(
            model="demo-silent", messages=MESSAGES, stream=True
        )
        ended = {}
        task = asyncio.create_task(consume(stream, ended))
        await asyncio.sleep(0.15)
        loop = asyncio.get_running_loop()
        cancelled_at = time.monotonic()
        threading.Thread(target=loop.call_soon_threadsafe, args=(task.cancel,)).start()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 0.5)
        assert ended["at"] - cancelled_at < 0.1
        record = transport.last_request
        assert record.closed.is_set() and not record.finished

        # the transport closed from another thread (its own event loop), e.g. at shutdown
        stream = await client.completions.create(model="demo-silent", prompt=PROMPT, stream=True)
        ended = {}
        task = asyncio.create_task(consume(stream, ended))
        await asyncio.sleep(0.15)
        closed_at = time.monotonic()
        closer = threading.Thread(target=asyncio.run, args=(transport.aclose(),))
        closer.start()
        with pytest.raises(openai.APIConnectionError):
            await asyncio.wait_for(task, 0.1)
        closer.join()
        assert ended["at"] - closed_at < 0.1

    asyncio.run(main())


def test_no_secrets_are_recorded() -> None:
    client = fast_client()
    client.responses.create(model="gpt-4.1", input=PROMPT)
    record = sync_transport(client).last_request
    assert not hasattr(record, "headers")
    dump = repr(vars(record)).lower()
    assert "bearer" not in dump and "authorization" not in dump


def test_real_credentials_in_the_environment_stay_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-SECRET")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-SECRET")
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-SECRET")
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", "Authorization: Bearer sk-SECRET\nX-Key: SECRET")
    client = fast_client()
    assert "SECRET" not in repr((client.organization, client.project, client.admin_api_key))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.parse().choices[0].message.content == ANSWER
    sent = dict(raw.http_request.headers)
    assert sent["authorization"] == "Bearer nbstream-offline-demo-key"
    assert "SECRET" not in repr(sent)
