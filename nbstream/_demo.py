"""An offline demo OpenAI client: real SDK, canned answers, realistic streaming.

:func:`demo_client` returns a genuine :class:`openai.OpenAI` (or :class:`openai.AsyncOpenAI`)
whose ``httpx2`` transport answers in-process, without sockets or an API key. It serves
``POST /v1/responses``, ``/v1/chat/completions`` and ``/v1/completions`` byte for byte in the
wire format of the real API (``text/event-stream`` when ``stream=True``, a complete JSON object
otherwise), at the pace of a real model: a 0.3 to 0.8 s "thinking" pause, then 30 to 80 tokens/s
with jitter, bursts and the odd pause, all divided by ``speed``.

The answer is a canned markdown document picked by the topic of the prompt (Python generators,
Markdown, the history of computing, async IO, a small table, token streaming, CSV files,
databases, Git, Rust, a Kyoto trip, a tongue twister, a greeting: the prompts of the quickstart
and the README among them); a prompt no topic matches gets an answer that says so and lists the
topics. Nothing about the answer is random: the same prompt always gets the same text, whatever
the seed. Only the pacing and the ids come from ``random.Random(seed)``.

Special model names (any API):

* ``"demo-error-401"``, ``"demo-error-429"``, ``"demo-error-500"``: that HTTP status with
  OpenAI's error JSON (the SDK raises ``AuthenticationError``, ``RateLimitError``,
  ``InternalServerError``);
* ``"demo-silent"``: a few tokens, then silence until the connection is closed (like a reasoning
  model thinking) or the client's read timeout expires;
* ``"demo-reset"``: some tokens, then the connection breaks (``httpx2.ReadError``, which the SDK
  turns into ``openai.APIConnectionError``).

Closing is observable: ``demo_transport(client).requests`` lists a :class:`DemoRequest` per
request with ``started_at``, ``first_byte_at``, ``closed_at`` (``time.monotonic()``),
``finished`` and a ``closed`` :class:`threading.Event`. Response bodies wait on an event that
``close()`` sets, so closing a stream from another thread wakes a reader blocked in a pause at
once; the reader then gets ``httpx2.ReadError("connection closed")``, as with a real socket.
Request headers (and so the API key) are never recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import random
import re
import string
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal, overload

import anyio
import anyio.lowlevel
import httpx2
import openai

__all__ = [
    "ANSWERS",
    "DEMO_BASE_URL",
    "ERROR_MODELS",
    "RESET_MODEL",
    "SILENT_MODEL",
    "AsyncDemoTransport",
    "DemoRequest",
    "DemoTransport",
    "demo_client",
    "demo_transport",
    "pick_answer",
    "tokenize",
]

DEMO_BASE_URL = "https://demo.nbstream.invalid/v1"
DEMO_API_KEY = "nbstream-offline-demo-key"
"""The demo client's key: scrubbed from everything shown like any key, so never a word its
answers use (it was ``"demo"``, and "the offline demo model" showed as "[redacted]")."""
"""The base URL of demo clients; nothing is ever sent to it."""

SILENT_MODEL = "demo-silent"
"""Model name that streams a few tokens and then stays silent until the connection closes."""

RESET_MODEL = "demo-reset"
"""Model name whose connection breaks mid-stream."""

ERROR_MODELS: dict[str, tuple[int, str, str | None, str]] = {
    "demo-error-401": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    "demo-error-429": (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for demo-error-429 on requests per min (RPM): Limit 3, Used 3, "
        "Requested 1. Please try again in 20s.",
    ),
    "demo-error-500": (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
}
"""Model name → (HTTP status, error type, error code, message)."""

_MIN_RESPONSES_MAX_OUTPUT_TOKENS = 16  # the real API rejects smaller values with a 400

# --------------------------------------------------------------------------------------------
# Canned answers
# --------------------------------------------------------------------------------------------

_ANSWERS_FILE = "_demo_answers.md"
_ANSWER_MARK = re.compile(r"^<!-- answer: (\w+) -->$", re.MULTILINE)


def _load_answers() -> dict[str, str]:
    source = resources.files(__package__).joinpath(_ANSWERS_FILE).read_text(encoding="utf-8")
    pieces = _ANSWER_MARK.split(source)[1:]  # drop the file's preamble
    return {name: text.strip("\n") for name, text in zip(pieces[::2], pieces[1::2], strict=True)}


ANSWERS: dict[str, str] = _load_answers()
"""The canned markdown answers, by topic (their text lives in ``_demo_answers.md``).

``"unknown"`` is the end of the answer to a question no topic matches; the answer starts with a
sentence that quotes the question (see :func:`pick_answer`)."""

# First match wins. Subjects come first, then requests that only name a form ("a table",
# "some Python code", "a long explanation", "hi"), then the "unknown" answer.
_TOPICS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in [
        ("tongue_twister", r"\b(tongue[- ]twisters?|ten times|double bubble)\b"),
        ("generators", r"\b(generators?|yield|iterators?|lazy evaluation)\b"),
        ("asyncio", r"\b(async\w*|await|coroutines?|event loops?)\b"),
        ("markdown", r"\b(markdown|cheat ?sheets?|commonmark)\b"),
        (
            "computing_history",
            r"\b(history of (computing|computers?|the computer)|computing history|computer "
            r"history|eniac|alan turing|babbage|ada lovelace)\b",
        ),
        ("git", r"\b(git|github|commits?|revert|rebase)\b"),
        ("rust", r"\b(rust|ownership|borrow\w*)\b"),
        ("travel", r"\b(trip|travel\w*|itinerary|kyoto|japan|vacation|holiday|weekend)\b"),
        (
            "databases",
            r"\b(databases?|sql\w*|postgres\w*|duckdb|compare|comparison|versus|vs\.?)\b",
        ),
        ("csv", r"\b(csv|pandas|dataframes?|spreadsheets?)\b"),
        ("streaming", r"\b(stream\w*|sse|server[- ]sent events?)\b"),
        # only a form: any answer of that form fits
        ("table", r"\btables?\b"),
        ("csv", r"\b(python|code|coding|scripts?|functions?|programs?)\b"),
        ("streaming", r"\b(long|detailed|in[- ]depth|essay|thorough\w*|how does)\b"),
        ("hello", r"\b(hello|hi|hey|good (morning|afternoon|evening)|greetings)\b"),
    ]
]
_UNKNOWN = "unknown"
# Other choices (Chat ``n > 1``) take these in turn, skipping the first choice's answer.
_ALTERNATES = [
    "streaming", "csv", "databases", "git", "rust", "travel", "generators",
    "computing_history", "markdown",
]
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!&$])")


def pick_answer(prompt: str) -> str:
    """Return the canned markdown answer for ``prompt``: the same prompt, the same answer.

    Matched by topic (Python generators, Markdown, the history of computing, async IO, a
    table, token streaming, CSV files, databases, Git, Rust, a Kyoto trip, a tongue twister,
    a greeting; see ``ANSWERS``). A prompt no topic matches gets an answer that says so, quotes
    the question and lists what the demo can answer. Nothing is random.
    """
    name = _answer_name(prompt)
    if name != _UNKNOWN:
        return ANSWERS[name]
    question = " ".join(prompt.split()).encode("utf-8", "replace").decode("utf-8")
    if len(question) > 120:
        question = question[:119].rstrip() + "…"
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", question)
    quoted = f"“{escaped}”" if question else "that"
    return (
        f"I'm nbstream's **offline demo model**, so I have no real answer to {quoted}: I "
        "replay a few canned answers, each picked by the topic of the question.\n\n"
        + ANSWERS[_UNKNOWN]
    )


def _answer_name(prompt: str) -> str:
    for name, pattern in _TOPICS:
        if pattern.search(prompt):
            return name
    return _UNKNOWN


def _other_answer(prompt: str, choice: int) -> str:
    """The answer of choice ``choice`` (1, 2, ...) when a request asks for several."""
    first = _answer_name(prompt)
    names = [name for name in _ALTERNATES if name != first]
    return ANSWERS[names[(choice - 1) % len(names)]]


# --------------------------------------------------------------------------------------------
# Tokenisation
# --------------------------------------------------------------------------------------------

# An approximation of the cl100k / o200k pre-tokeniser, ending in a catch-all so that the
# pieces always join back to the text.
_PRETOKEN = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    r"|[^\r\n\w]?[^\W\d_]+"
    r"|\d{1,3}"
    r"| ?[^\s\w]+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
    r"|.",
    re.DOTALL,
)
_MAX_TOKEN_CHARS = 6
_SUFFIX = re.compile(r"(?:ing|ings|tion|tions|sion|ment|ness|able|ed|er|ers|ly|ies|es|s)$")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into token-sized pieces (1 to 6 characters) like a BPE tokenizer would.

    Deterministic for a given text; ``"".join(tokenize(text)) == text``.
    """
    rng = random.Random(hashlib.sha256(text.encode("utf-8")).digest())
    tokens: list[str] = []
    for piece in _PRETOKEN.findall(text):
        tokens.extend(_split_long(piece, rng))
    return tokens


def _split_long(piece: str, rng: random.Random) -> list[str]:
    """Split a pre-token longer than 6 characters at a common suffix, or into even parts."""
    parts: list[str] = []
    while len(piece) > _MAX_TOKEN_CHARS:
        suffix = _SUFFIX.search(piece)
        if suffix and 2 <= suffix.start() <= _MAX_TOKEN_CHARS:
            size = suffix.start()
        else:
            count = -(-len(piece) // _MAX_TOKEN_CHARS)
            size = min(_MAX_TOKEN_CHARS, -(-len(piece) // count) + rng.choice((-1, 0, 0, 1)))
        parts.append(piece[:size])
        piece = piece[size:]
    parts.append(piece)
    return parts


def _count_tokens(text: str) -> int:
    return len(tokenize(text)) if text else 0


# --------------------------------------------------------------------------------------------
# Request records
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class DemoRequest:
    """What a demo transport saw of one request, and what became of its response body.

    Times are ``time.monotonic()`` values. ``closed_at`` stays ``None`` until the body is
    closed (by the SDK at the end of a stream, by ``stream.close()``, or by closing the client);
    ``finished`` is true once every byte was sent. Wait on ``closed`` to observe the close.
    Request headers, and so the API key, are deliberately not recorded.
    """

    method: str
    path: str
    body: Any
    """The parsed JSON request body (``None`` if there was none or it was not JSON)."""
    model: str | None = None
    stream: bool = False
    status_code: int = 200
    texts: list[str] = field(default_factory=list)
    """The output text the demo model sends, one per choice (truncated by token limits)."""
    started_at: float = field(default_factory=time.monotonic)
    first_byte_at: float | None = None
    closed_at: float | None = None
    finished: bool = False
    error: str | None = None
    """``"reset"``, ``"read timeout"`` or ``"closed"`` when the body did not end normally."""
    closed: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def text(self) -> str:
        """The output text of the first choice ("" for error responses)."""
        return self.texts[0] if self.texts else ""


# --------------------------------------------------------------------------------------------
# Response plans: what to send, and when
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """Wait ``delay`` seconds (before speed scaling), then send ``data``.

    ``kind`` ``"silence"`` waits forever instead, ``"reset"`` breaks the connection.
    """

    delay: float
    data: bytes = b""
    kind: Literal["data", "silence", "reset"] = "data"
    tokens: int = 0


class _Plan:
    """Builds the list of steps of a response body; zero-delay sends share a network chunk."""

    def __init__(self) -> None:
        self.steps: list[_Step] = []

    def send(self, delay: float, data: bytes, *, tokens: int = 0) -> None:
        last = self.steps[-1] if self.steps else None
        if delay <= 0 and last is not None and last.kind == "data":
            self.steps[-1] = _Step(last.delay, last.data + data, "data", last.tokens + tokens)
        else:
            self.steps.append(_Step(delay, data, "data", tokens))

    @property
    def duration(self) -> float:
        return sum(step.delay for step in self.steps)


class _Pacer:
    """Token timing of a real model: a thinking pause, then a jittery 30 to 80 tokens/s."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._rate = rng.uniform(30.0, 80.0)
        self._burst = 0

    def first_token(self) -> float:
        return self._rng.uniform(0.3, 0.8)

    def next_token(self) -> float:
        if self._burst:
            self._burst -= 1
            return 0.0
        rng = self._rng
        gap = rng.uniform(0.5, 1.5) / self._rate
        roll = rng.random()
        if roll < 0.04:  # several tokens arrive in one network chunk
            self._burst = rng.randint(2, 5)
            gap *= self._burst + 1
        elif roll > 0.985:  # a short hiccup
            gap += rng.uniform(0.15, 0.45)
        return gap

    def tail(self) -> float:
        return self._rng.uniform(0.005, 0.03)


def _sse(data: Any, event: str | None = None) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


_ALNUM = string.ascii_letters + string.digits


@dataclass
class _Context:
    """Everything a plan builder needs about one request."""

    body: dict[str, Any]
    model: str
    rng: random.Random
    prompt: str
    created: int = field(default_factory=lambda: int(time.time()))

    def hex_id(self, prefix: str, length: int = 50) -> str:
        return prefix + "".join(self.rng.choice("0123456789abcdef") for _ in range(length))

    def alnum_id(self, prefix: str, length: int = 29) -> str:
        return prefix + "".join(self.rng.choice(_ALNUM) for _ in range(length))

    def obfuscation(self) -> dict[str, str]:
        options = self.body.get("stream_options") or {}
        if not options.get("include_obfuscation", True):
            return {}
        length = self.rng.randint(1, 16)
        return {"obfuscation": "".join(self.rng.choice(_ALNUM) for _ in range(length))}

    def answer(self, choice: int = 0) -> str:
        """The answer of choice ``choice``: choice 0 is :func:`pick_answer`, others differ."""
        return pick_answer(self.prompt) if choice == 0 else _other_answer(self.prompt, choice)

    @property
    def input_tokens(self) -> int:
        return _count_tokens(self.prompt) + 8


def _limit(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


# --- Responses API ---------------------------------------------------------------------------


class _ResponsesPlan:
    """The Responses API: semantic events with a growing ``sequence_number``."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.resp_id = ctx.hex_id("resp_")
        self.msg_id = ctx.hex_id("msg_")
        limit = _limit(ctx.body, "max_output_tokens")
        tokens = tokenize(ctx.answer())
        self.truncated = limit is not None and limit < len(tokens)
        self.tokens = tokens[:limit] if self.truncated else tokens
        self.text = "".join(self.tokens)
        self.seq = 0

    def event(self, type_: str, **fields: Any) -> bytes:
        fields["sequence_number"] = self.seq
        data = {"type": type_, **dict(sorted(fields.items()))}
        self.seq += 1
        return _sse(data, event=type_)

    def response(self, status: str, output: list[Any], *, final: bool = False) -> dict[str, Any]:
        body = self.ctx.body
        usage = None
        if final:
            usage = {
                "input_tokens": self.ctx.input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": len(self.tokens),
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": self.ctx.input_tokens + len(self.tokens),
            }
        incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
        return {
            "id": self.resp_id,
            "object": "response",
            "created_at": self.ctx.created,
            "status": status,
            "background": False,
            "completed_at": int(time.time()) if status == "completed" else None,
            "error": None,
            "frequency_penalty": 0.0,
            "incomplete_details": incomplete,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": self.ctx.model,
            "output": output,
            "parallel_tool_calls": True,
            "presence_penalty": 0.0,
            "previous_response_id": body.get("previous_response_id"),
            "prompt_cache_key": None,
            "prompt_cache_retention": None,
            "reasoning": {"effort": None, "summary": None},
            "safety_identifier": None,
            "service_tier": "default" if final else "auto",
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": body.get("tools", []),
            "top_logprobs": 0,
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": body.get("metadata") or {},
        }

    def part(self, text: str) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    def message(self, status: str, content: list[Any]) -> dict[str, Any]:
        return {
            "id": self.msg_id,
            "type": "message",
            "status": status,
            "content": content,
            "role": "assistant",
        }

    @property
    def final_status(self) -> str:
        return "incomplete" if self.truncated else "completed"

    def final_response(self) -> dict[str, Any]:
        item = self.message(self.final_status, [self.part(self.text)])
        return self.response(self.final_status, [item], final=True)

    def streaming(self, pacer: _Pacer) -> _Plan:
        plan = _Plan()
        where = {"item_id": self.msg_id, "output_index": 0, "content_index": 0}
        for type_ in ("response.created", "response.in_progress"):
            plan.send(0.0, self.event(type_, response=self.response("in_progress", [])))
        delay = pacer.first_token()
        plan.send(
            delay,
            self.event(
                "response.output_item.added", output_index=0, item=self.message("in_progress", [])
            ),
        )
        plan.send(0.0, self.event("response.content_part.added", part=self.part(""), **where))
        for i, token in enumerate(self.tokens):
            data = self.event(
                "response.output_text.delta",
                delta=token,
                logprobs=[],
                **where,
                **self.ctx.obfuscation(),
            )
            plan.send(0.0 if i == 0 else pacer.next_token(), data, tokens=1)
        plan.send(
            pacer.tail(),
            self.event("response.output_text.done", text=self.text, logprobs=[], **where),
        )
        plan.send(0.0, self.event("response.content_part.done", part=self.part(self.text), **where))
        item = self.message(self.final_status, [self.part(self.text)])
        plan.send(0.0, self.event("response.output_item.done", output_index=0, item=item))
        final = "response." + self.final_status
        plan.send(pacer.tail(), self.event(final, response=self.final_response()))
        return plan

    def complete(self) -> Any:
        return self.final_response()


# --- Chat Completions and legacy Completions -------------------------------------------------


class _ChoicesPlan:
    """Shared by Chat Completions and legacy Completions: ``n`` interleaved choices."""

    object_name = ""
    id_prefix = ""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.id = ctx.alnum_id(self.id_prefix)
        self.fingerprint = ctx.hex_id("fp_", 10)
        limit = _limit(ctx.body, "max_completion_tokens", "max_tokens")
        n = _limit(ctx.body, "n") or 1
        self.choices: list[list[str]] = []
        self.finish: list[str] = []
        for choice in range(max(1, n)):
            tokens = tokenize(ctx.answer(choice))
            truncated = limit is not None and limit < len(tokens)
            self.choices.append(tokens[:limit] if truncated else tokens)
            self.finish.append("length" if truncated else "stop")
        self.texts = ["".join(tokens) for tokens in self.choices]

    def usage(self) -> dict[str, Any]:
        completion = sum(len(tokens) for tokens in self.choices)
        return {
            "prompt_tokens": self.ctx.input_tokens,
            "completion_tokens": completion,
            "total_tokens": self.ctx.input_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        raise NotImplementedError

    def start_choice(self, index: int) -> list[dict[str, Any]]:
        """Chunks (as choice dicts) that open a choice, before its first token."""
        return []

    def token_choice(self, index: int, token: str) -> dict[str, Any]:
        raise NotImplementedError

    def finish_choice(self, index: int) -> dict[str, Any]:
        raise NotImplementedError

    def streaming(self, pacer: _Pacer) -> _Plan:
        plan = _Plan()
        delay = pacer.first_token()
        rounds = max(len(tokens) for tokens in self.choices) + 1
        for r in range(rounds):
            for index, tokens in enumerate(self.choices):
                for choice, count in self._round(r, index, tokens):
                    plan.send(delay, self.chunk([choice], **self.ctx.obfuscation()), tokens=count)
                    delay = 0.0
            delay = pacer.next_token()
        options = self.ctx.body.get("stream_options") or {}
        if options.get("include_usage"):
            plan.send(pacer.tail(), self.chunk([], usage=self.usage(), **self.ctx.obfuscation()))
        plan.send(0.0, b"data: [DONE]\n\n")
        return plan

    def _round(self, r: int, index: int, tokens: list[str]) -> list[tuple[dict[str, Any], int]]:
        """Round ``r`` of choice ``index``: (choice dict, tokens carried) pairs."""
        if r < len(tokens):
            start = [(choice, 0) for choice in self.start_choice(index)] if r == 0 else []
            return [*start, (self.token_choice(index, tokens[r]), 1)]
        if r == len(tokens):
            return [(self.finish_choice(index), 0)]
        return []


class _ChatPlan(_ChoicesPlan):
    """Chat Completions: ``chat.completion.chunk`` objects, then ``[DONE]``."""

    object_name = "chat.completion.chunk"
    id_prefix = "chatcmpl-"

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        data = {
            "id": self.id,
            "object": self.object_name,
            "created": self.ctx.created,
            "model": self.ctx.model,
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
            "choices": choices,
            **extra,
        }
        return _sse(data)

    def start_choice(self, index: int) -> list[dict[str, Any]]:
        delta = {"role": "assistant", "content": "", "refusal": None}
        return [{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}]

    def token_choice(self, index: int, token: str) -> dict[str, Any]:
        return {
            "index": index,
            "delta": {"content": token},
            "logprobs": None,
            "finish_reason": None,
        }

    def finish_choice(self, index: int) -> dict[str, Any]:
        return {"index": index, "delta": {}, "logprobs": None, "finish_reason": self.finish[index]}

    def complete(self) -> Any:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.ctx.created,
            "model": self.ctx.model,
            "choices": [
                {
                    "index": index,
                    "message": {
                        "role": "assistant",
                        "content": text,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": self.finish[index],
                }
                for index, text in enumerate(self.texts)
            ],
            "usage": self.usage(),
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
        }


class _CompletionsPlan(_ChoicesPlan):
    """Legacy Completions: ``text_completion`` chunks, then ``[DONE]``."""

    object_name = "text_completion"
    id_prefix = "cmpl-"

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        extra.pop("obfuscation", None)  # the legacy endpoint never sent it
        data = {
            "id": self.id,
            "object": self.object_name,
            "created": self.ctx.created,
            "choices": choices,
            "model": self.ctx.model,
            "system_fingerprint": None,
            **extra,
        }
        return _sse(data)

    def token_choice(self, index: int, token: str) -> dict[str, Any]:
        return {"text": token, "index": index, "logprobs": None, "finish_reason": None}

    def finish_choice(self, index: int) -> dict[str, Any]:
        return {"text": "", "index": index, "logprobs": None, "finish_reason": self.finish[index]}

    def usage(self) -> dict[str, Any]:
        usage = super().usage()
        del usage["prompt_tokens_details"], usage["completion_tokens_details"]
        return usage

    def complete(self) -> Any:
        return {
            "id": self.id,
            "object": self.object_name,
            "created": self.ctx.created,
            "model": self.ctx.model,
            "choices": [
                {
                    "text": text,
                    "index": index,
                    "logprobs": None,
                    "finish_reason": self.finish[index],
                }
                for index, text in enumerate(self.texts)
            ],
            "usage": self.usage(),
            "system_fingerprint": None,
        }


_PlanBuilder = _ResponsesPlan | _ChatPlan | _CompletionsPlan


# --- prompts ---------------------------------------------------------------------------------


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    if not isinstance(messages, list):
        return ""
    texts = [
        _content_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role", "user") == "user"
    ]
    return texts[-1] if texts else ""


def _prompt(api: str, body: dict[str, Any]) -> str:
    if api == "responses":
        return _last_user_text(body.get("input"))
    if api == "chat":
        return _last_user_text(body.get("messages"))
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt and isinstance(prompt[0], str) else ""
    return prompt if isinstance(prompt, str) else ""


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


def _cut_after(steps: list[_Step], tokens: int) -> list[_Step]:
    """The steps up to and including the one carrying the ``tokens``-th token."""
    out: list[_Step] = []
    seen = 0
    for step in steps:
        out.append(step)
        seen += step.tokens
        if step.tokens and seen >= tokens:
            break
    return out


def _inject_fault(model: str, steps: list[_Step], rng: random.Random) -> list[_Step]:
    if model == SILENT_MODEL:
        return [*_cut_after(steps, rng.randint(3, 6)), _Step(math.inf, kind="silence")]
    if model == RESET_MODEL:
        total = sum(step.tokens for step in steps)
        cut = _cut_after(steps, max(1, min(total - 1, rng.randint(15, 40))))
        return [*cut, _Step(rng.uniform(0.02, 0.1), kind="reset")]
    return steps


# --------------------------------------------------------------------------------------------
# Response bodies
# --------------------------------------------------------------------------------------------


class _Body:
    """State shared by the sync and async bodies: the steps, the record and the close flag."""

    def __init__(
        self,
        steps: list[_Step],
        record: DemoRequest,
        scale: float,
        read_timeout: float | None,
    ) -> None:
        self._steps = steps
        self._index = 0
        self._record = record
        self._scale = scale
        self._read_timeout = read_timeout
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def _mark_closed(self) -> bool:
        """Record the close once; return whether this call closed the body."""
        with self._lock:
            if self._closed.is_set():
                return False
            self._closed.set()
            record = self._record
            record.closed_at = time.monotonic()
            if not record.finished and record.error is None:
                record.error = "closed"
            record.closed.set()
            return True

    def _next_step(self) -> _Step | None:
        if self._index >= len(self._steps):
            return None
        step = self._steps[self._index]
        self._index += 1
        return step

    def _wait_plan(self, step: _Step) -> tuple[float | None, bool]:
        """How long to wait for ``step`` (None: forever) and whether that is a read timeout."""
        delay = math.inf if step.kind == "silence" else step.delay * self._scale
        if delay < 1e-4:
            return 0.0, False
        timeout = self._read_timeout
        if timeout is not None and delay > timeout:
            return timeout, True
        return (None if math.isinf(delay) else delay), False

    def _connection_closed(self) -> httpx2.ReadError:
        return httpx2.ReadError("connection closed")

    def _timed_out(self) -> httpx2.ReadTimeout:
        self._record.error = "read timeout"
        return httpx2.ReadTimeout("The read operation timed out")

    def _deliver(self, step: _Step) -> bytes:
        if self._closed.is_set():
            raise self._connection_closed()
        if step.kind == "reset":
            self._record.error = "reset"
            raise httpx2.ReadError("[Errno 104] Connection reset by peer")
        if self._record.first_byte_at is None:
            self._record.first_byte_at = time.monotonic()
        if self._index >= len(self._steps):
            self._record.finished = True
        return step.data


class DemoByteStream(_Body, httpx2.SyncByteStream):
    """A sync response body that sleeps on an event, so ``close()`` from any thread wakes it.

    It is its own iterator (no generator), so closing it from another thread while the reading
    thread is blocked inside ``__next__`` is safe; the reader then gets ``httpx2.ReadError``.
    """

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        step = self._next_step()
        if step is None:
            raise StopIteration
        wait, times_out = self._wait_plan(step)
        if wait != 0.0:
            woken = self._closed.wait(wait)  # None waits until closed
            if not woken and times_out:
                raise self._timed_out()
        return self._deliver(step)

    def close(self) -> None:
        """Close the connection; a reader blocked in a pause wakes at once."""
        self._mark_closed()


class AsyncDemoByteStream(_Body, httpx2.AsyncByteStream):
    """An async response body whose pauses are cancellable and end when it is closed.

    Pauses are ``anyio`` waits, so cancelling the reading task ends them at once too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake: anyio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader_thread: int | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._reader_thread = threading.get_ident()
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # another anyio backend (trio)
            self._loop = None
        self._wake = anyio.Event()
        while (step := self._next_step()) is not None:
            wait, times_out = self._wait_plan(step)
            if wait == 0.0 or self._closed.is_set():
                await anyio.lowlevel.checkpoint()
            else:
                with anyio.move_on_after(wait):
                    await self._wake.wait()
                if not self._closed.is_set() and times_out:
                    raise self._timed_out()
            yield self._deliver(step)

    async def aclose(self) -> None:
        """Close the connection; a reader waiting in a pause wakes at once."""
        self.close_nowait()

    def close_nowait(self) -> None:
        """Close without awaiting; safe from any thread when the reader runs on asyncio."""
        if not self._mark_closed() or self._wake is None:
            return
        if self._loop is not None and threading.get_ident() != self._reader_thread:
            self._loop.call_soon_threadsafe(self._wake.set)
        else:
            self._wake.set()


# --------------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------------

_ROUTES = {"/responses": "responses", "/chat/completions": "chat", "/completions": "completions"}


def _error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass
class _Prepared:
    status: int
    headers: dict[str, str]
    steps: list[_Step]
    record: DemoRequest


class _DemoServer:
    """The in-process "server" shared by the sync and async transports."""

    def __init__(self, *, speed: float = 1.0, seed: int | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = speed
        self.scale = 0.0 if math.isinf(speed) else 1.0 / speed
        self.requests: list[DemoRequest] = []
        """Every request seen, oldest first."""
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._bodies: weakref.WeakSet[_Body] = weakref.WeakSet()

    @property
    def last_request(self) -> DemoRequest:
        """The most recent request (raises ``IndexError`` if there was none)."""
        return self.requests[-1]

    def _prepare(self, request: httpx2.Request, raw: bytes) -> _Prepared:
        with self._lock:
            rng = random.Random(self._rng.getrandbits(64))
        path = request.url.path
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        record = DemoRequest(method=request.method, path=path, body=body)
        if isinstance(body, dict):
            record.model = body.get("model") if isinstance(body.get("model"), str) else None
            record.stream = body.get("stream") is True
        with self._lock:
            self.requests.append(record)
        status, payload, steps = self._answer(request.method, path, body, record, rng)
        record.status_code = status
        if steps is None:
            steps = [_Step(0.0, _json(payload))]
        return _Prepared(status, self._headers(status, record, rng), steps, record)

    def _answer(
        self, method: str, path: str, body: Any, record: DemoRequest, rng: random.Random
    ) -> tuple[int, Any, list[_Step] | None]:
        """Return (status, JSON payload, steps); steps None means "send the payload now"."""
        route = path[3:] if path.startswith("/v1/") else path
        api = _ROUTES.get(route.rstrip("/"))
        if api is None or method != "POST":
            return 404, _error_body(f"Invalid URL ({method} {path})", "invalid_request_error"), None
        error = self._reject(api, body)
        if error is not None:
            return *error, None
        return 200, None, self._serve(api, body, record, rng)

    @staticmethod
    def _reject(api: str, body: Any) -> tuple[int, dict[str, Any]] | None:
        """The error status and payload the API would answer ``body`` with, if any."""
        if not isinstance(body, dict):
            message = (
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly.)"
            )
            return 400, _error_body(message, "invalid_request_error")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            message = "you must provide a model parameter"
            return 400, _error_body(message, "invalid_request_error", param="model")
        if model in ERROR_MODELS:
            status, type_, code, message = ERROR_MODELS[model]
            return status, _error_body(message, type_, code)
        invalid = _DemoServer._validate(api, body)
        return None if invalid is None else (400, invalid)

    @staticmethod
    def _serve(
        api: str, body: dict[str, Any], record: DemoRequest, rng: random.Random
    ) -> list[_Step]:
        """The steps of a successful answer: an event stream, or one late JSON document."""
        model = body["model"]
        ctx = _Context(body=body, model=model, rng=rng, prompt=_prompt(api, body))
        builder: _PlanBuilder
        if api == "responses":
            builder = _ResponsesPlan(ctx)
            record.texts = [builder.text]
        else:
            builder = _ChatPlan(ctx) if api == "chat" else _CompletionsPlan(ctx)
            record.texts = list(builder.texts)
        plan = builder.streaming(_Pacer(rng))
        if record.stream:
            return _inject_fault(model, plan.steps, rng)
        if model == SILENT_MODEL:
            return [_Step(math.inf, kind="silence")]
        if model == RESET_MODEL:
            return [_Step(plan.duration / 3, kind="reset")]
        return [_Step(plan.duration, _json(builder.complete()))]

    @staticmethod
    def _validate(api: str, body: dict[str, Any]) -> dict[str, Any] | None:
        limit = body.get("max_output_tokens")
        minimum = _MIN_RESPONSES_MAX_OUTPUT_TOKENS
        if api == "responses" and isinstance(limit, int) and limit < minimum:
            message = (
                f"Invalid 'max_output_tokens': integer below minimum value. Expected a "
                f"value >= {_MIN_RESPONSES_MAX_OUTPUT_TOKENS}, but got {limit} instead."
            )
            return _error_body(
                message, "invalid_request_error", "integer_below_min_value", "max_output_tokens"
            )
        return None

    @staticmethod
    def _headers(status: int, record: DemoRequest, rng: random.Random) -> dict[str, str]:
        sse = status == 200 and record.stream
        return {
            "content-type": "text/event-stream; charset=utf-8" if sse else "application/json",
            "cache-control": "no-cache" if sse else "no-store",
            "openai-version": "2020-10-01",
            "openai-processing-ms": str(rng.randint(40, 400)),
            "x-request-id": "req_" + "".join(rng.choice("0123456789abcdef") for _ in range(32)),
        }

    @staticmethod
    def _read_timeout(request: httpx2.Request) -> float | None:
        timeout = request.extensions.get("timeout") or {}
        value = timeout.get("read") if isinstance(timeout, dict) else None
        return float(value) if isinstance(value, int | float) else None

    def _response(
        self,
        request: httpx2.Request,
        prepared: _Prepared,
        stream: httpx2.SyncByteStream | httpx2.AsyncByteStream,
    ) -> httpx2.Response:
        return httpx2.Response(
            prepared.status,
            headers=prepared.headers,
            stream=stream,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )


class DemoTransport(_DemoServer, httpx2.BaseTransport):
    """A sync ``httpx2`` transport that plays a demo OpenAI API in-process.

    ``requests`` lists a :class:`DemoRequest` per request. Bodies pause on a
    :class:`threading.Event`, so a ``close()`` from another thread wakes a blocked reader.
    """

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer ``request`` at once; the body then streams at the demo pace."""
        prepared = self._prepare(request, request.read())
        body = DemoByteStream(
            prepared.steps, prepared.record, self.scale, self._read_timeout(request)
        )
        self._bodies.add(body)
        return self._response(request, prepared, body)

    def close(self) -> None:
        """Close every body still open, as closing a real connection pool would."""
        for body in list(self._bodies):
            if isinstance(body, DemoByteStream):
                body.close()


class AsyncDemoTransport(_DemoServer, httpx2.AsyncBaseTransport):
    """The async twin of :class:`DemoTransport`; pauses are cancellable ``anyio`` waits."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer ``request`` at once; the body then streams at the demo pace."""
        prepared = self._prepare(request, await request.aread())
        body = AsyncDemoByteStream(
            prepared.steps, prepared.record, self.scale, self._read_timeout(request)
        )
        self._bodies.add(body)
        return self._response(request, prepared, body)

    async def aclose(self) -> None:
        """Close every body still open, as closing a real connection pool would."""
        for body in list(self._bodies):
            if isinstance(body, AsyncDemoByteStream):
                body.close_nowait()


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------

_TRANSPORTS: weakref.WeakKeyDictionary[Any, DemoTransport | AsyncDemoTransport] = (
    weakref.WeakKeyDictionary()
)


@overload
def demo_client(
    *, speed: float = ..., seed: int | None = ..., async_client: Literal[False] = ...
) -> openai.OpenAI: ...


@overload
def demo_client(
    *, speed: float = ..., seed: int | None = ..., async_client: Literal[True]
) -> openai.AsyncOpenAI: ...


def demo_client(
    *, speed: float = 1.0, seed: int | None = None, async_client: bool = False
) -> openai.OpenAI | openai.AsyncOpenAI:
    """Return a real OpenAI client that answers offline with realistic streams.

    Args:
        speed: pace multiplier; 2.0 streams twice as fast, ``float("inf")`` never sleeps
            (handy in tests). Must be positive.
        seed: seeds the pacing and the ids, for reproducible runs. The answer itself depends
            only on the prompt.
        async_client: return an :class:`openai.AsyncOpenAI` instead of an :class:`openai.OpenAI`.

    The client uses a dummy API key, ``max_retries=0`` and an ``httpx2`` client whose transport
    (:class:`DemoTransport` / :class:`AsyncDemoTransport`) serves the Responses, Chat
    Completions and legacy Completions endpoints. ``demo_transport(client).requests``
    records each request and when its body was closed.
    """
    common = {"base_url": DEMO_BASE_URL, "max_retries": 0, **_hermetic_credentials()}
    if async_client:
        async_transport = AsyncDemoTransport(speed=speed, seed=seed)
        async_http = httpx2.AsyncClient(transport=async_transport, trust_env=False)
        _TRANSPORTS[async_http] = async_transport
        return openai.AsyncOpenAI(http_client=async_http, **common)
    transport = DemoTransport(speed=speed, seed=seed)
    http = httpx2.Client(transport=transport, trust_env=False)
    _TRANSPORTS[http] = transport
    return openai.OpenAI(http_client=http, **common)


def _hermetic_credentials() -> dict[str, Any]:
    """Keyword arguments that keep real credentials out of a demo client.

    openai 3.x fills organization, project, admin key and webhook secret from the environment
    when they are not passed, and adds the headers of ``OPENAI_CUSTOM_HEADERS`` (an
    ``Authorization`` there even replaces ``api_key``).
    """
    headers: dict[str, Any] = {}
    for line in os.environ.get("OPENAI_CUSTOM_HEADERS", "").split("\n"):
        name, colon, _ = line.partition(":")
        if colon and name.strip() and name.strip().lower() != "authorization":
            headers[name.strip()] = openai.Omit()
    headers["Authorization"] = f"Bearer {DEMO_API_KEY}"
    return {
        "api_key": DEMO_API_KEY,
        "admin_api_key": "",
        "organization": "",
        "project": "",
        "webhook_secret": "",
        "default_headers": headers,
    }


def demo_transport(
    client: openai.OpenAI | openai.AsyncOpenAI,
) -> DemoTransport | AsyncDemoTransport:
    """Return the demo transport behind a client made by :func:`demo_client`.

    Also works for copies made with ``client.with_options(...)``, which share the transport.
    Raises ``TypeError`` for any other client.
    """
    http = getattr(client, "_client", None)
    transport = _TRANSPORTS.get(http) if http is not None else None
    if transport is None:
        raise TypeError("not a client made by nbstream.demo_client()")
    return transport
