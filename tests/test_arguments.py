"""Keywords are checked at the call against the SDK's own ``create()`` signature (issue 8, §6).

An unknown keyword must fail where it was typed, with the closest valid name, not as a red
error in the widget after a round trip to the server. Checked for every entry point, with sync,
async, ``with_options()`` and plain ``openai`` clients.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import openai
import pytest

import nbstream
from nbstream import _api
from nbstream._demo import demo_client, demo_transport

FAST = float("inf")
MESSAGES = [{"role": "user", "content": "Hi"}]
ENTRY: dict[str, Callable[..., nbstream.StreamWidget]] = {
    "responses": nbstream.responses,
    "chat": nbstream.chat,
    "completions": nbstream.completions,
}
VALID: dict[str, dict[str, Any]] = {
    "responses": {"model": "gpt-5", "input": "Hello"},
    "chat": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]},
    "completions": {"model": "gpt-3.5-turbo-instruct", "prompt": "Hello"},
}


def _clients() -> dict[str, Callable[[], Any]]:
    return {
        "demo": lambda: demo_client(speed=FAST),
        "demo-async": lambda: demo_client(speed=FAST, async_client=True),
        "with_options": lambda: demo_client(speed=FAST).with_options(timeout=5),
        "openai": lambda: openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1"),
        "openai-async": lambda: openai.AsyncOpenAI(
            api_key="sk-test", base_url="http://127.0.0.1:9/v1"
        ),
    }


CLIENTS = _clients()


def refused(api: str, client: Any, **kwargs: Any) -> str:
    """The message of the TypeError the call raises; checks nothing was sent."""
    with pytest.raises(TypeError) as info:
        ENTRY[api](client, **kwargs)
    if client.base_url.host.endswith(".invalid"):  # a demo client records every request
        assert demo_transport(client).requests == [], "a refused call must not reach the server"
    return str(info.value)


@pytest.mark.parametrize("kind", list(CLIENTS))
@pytest.mark.parametrize(
    ("api", "typo", "meant"),
    [
        ("responses", "temprature", "temperature"),
        ("responses", "max_token", "max_output_tokens"),
        ("responses", "modle", "model"),
        ("chat", "temprature", "temperature"),
        ("chat", "max_token", "max_tokens"),
        ("chat", "modle", "model"),
        ("chat", "stream_option", "stream_options"),
        ("completions", "temprature", "temperature"),
        ("completions", "max_token", "max_tokens"),
        ("completions", "top-p", "top_p"),
    ],
)
def test_unknown_keyword_is_refused_at_the_call_with_the_closest_name(
    kind: str, api: str, typo: str, meant: str
) -> None:
    client = CLIENTS[kind]()
    kwargs = {**VALID[api], typo: 0.5}
    if typo == "modle":
        kwargs["modle"] = kwargs.pop("model")
    message = refused(api, client, **kwargs)
    assert f"`{typo}=`" in message, message
    assert f"did you mean `{meant}=`?" in message, message
    assert f"nbstream.{api}()" in message, message


@pytest.mark.parametrize(
    ("api", "wrong", "value", "hints"),
    [
        ("responses", "messages", MESSAGES, ["`input=`", "nbstream.chat()"]),
        ("responses", "max_tokens", 100, ["`max_output_tokens=`"]),
        ("responses", "reasoning_effort", "low", ['`reasoning={"effort": ...}`']),
        ("chat", "input", "Hi", ["`messages=", "nbstream.responses()"]),
        ("chat", "prompt", "Hi", ["`messages=", "nbstream.completions()"]),
        ("chat", "max_output_tokens", 100, ["`max_completion_tokens=`"]),
        ("completions", "messages", MESSAGES, ["`prompt=`", "nbstream.chat()"]),
        ("completions", "input", "Hi", ["`prompt=`", "nbstream.responses()"]),
    ],
)
def test_keyword_of_another_api_points_to_the_right_one(
    api: str, wrong: str, value: Any, hints: list[str]
) -> None:
    for kind in ("demo", "demo-async"):
        kwargs = {"model": "m", wrong: value}
        message = refused(api, CLIENTS[kind](), **kwargs)
        assert f"`{wrong}=`" in message, message
        for hint in hints:
            assert hint in message, message
        # the unknown keyword is the problem, not the "missing input" it leads to
        assert "is missing" not in message, message


def test_text_prompt_to_responses_points_to_input() -> None:
    message = refused("responses", demo_client(speed=FAST), model="m", prompt="Hello")
    assert "`input=`" in message and "template" in message, message


def test_every_unknown_keyword_is_named_and_a_hopeless_one_points_to_extra_body() -> None:
    message = refused(
        "responses", demo_client(speed=FAST), model="m", input="Hi", frobnicate=1, temprature=1
    )
    assert "`frobnicate=`" in message and 'extra_body={"frobnicate": ...}' in message, message
    assert "did you mean `temperature=`?" in message, message


def test_existing_checks_are_kept() -> None:
    client = demo_client(speed=FAST)
    with pytest.raises(TypeError, match=r"missing `model=`"):
        nbstream.responses(client, input="Hi")
    with pytest.raises(TypeError, match=r"missing `model=`, `messages=`"):
        nbstream.chat(client)
    with pytest.raises(ValueError, match=r"always streams"):
        nbstream.chat(client, **VALID["chat"], stream=False)
    with pytest.raises(TypeError, match=r"expects an OpenAI client"):
        nbstream.completions("not a client", **VALID["completions"])
    assert demo_transport(client).requests == []


@pytest.mark.parametrize("api", list(ENTRY))
def test_every_sdk_keyword_still_goes_through(api: str) -> None:
    client = demo_client(speed=FAST, seed=1)
    extra = {"extra_headers": {"x-test": "1"}, "extra_query": {}, "extra_body": {}, "timeout": 30}
    w = ENTRY[api](client, **VALID[api], temperature=0.2, stream=True, **extra)
    assert w.wait(timeout=30)
    assert w.status == "done", w.error
    body = demo_transport(client).last_request.body
    assert body["temperature"] == 0.2 and body["stream"] is True


def test_a_duck_typed_client_taking_any_keyword_is_not_checked() -> None:
    """A wrapper whose ``create`` takes ``**kwargs`` has no signature to check against."""
    seen: dict[str, Any] = {}

    class Responses:
        def create(self, **kwargs: Any) -> Any:
            seen.update(kwargs)
            return iter(["ok"])

    class Client:
        responses = Responses()

    w = nbstream.responses(Client(), model="m", input="Hi", vendor_option=1)
    assert w.wait(timeout=30)
    assert (w.status, w.text, seen["vendor_option"]) == ("done", "ok", 1)


def test_nbstream_own_options_are_suggested_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyword-only options of an entry point (``title=``, ``guards=``, ...) never reach the
    check, but a misspelt one gets them as suggestions."""

    def responses(client: Any, /, *, title: str | None = None, **create_kwargs: Any) -> Any:
        raise AssertionError("not called")

    monkeypatch.setattr(_api, "responses", responses)
    message = refused("responses", demo_client(speed=FAST), model="m", input="Hi", titel="x")
    assert "did you mean `title=`?" in message, message


def test_the_signature_is_read_once_per_create_method() -> None:
    a, b = demo_client(speed=FAST), demo_client(speed=FAST).with_options(timeout=1)
    names = _api._accepted_keywords(a.responses.create)
    assert names is not None and {"model", "input", "extra_body", "timeout"} <= names
    assert _api._accepted_keywords(b.responses.create) is names
    assert re.search(r"\bmessages\b", " ".join(sorted(names))) is None
