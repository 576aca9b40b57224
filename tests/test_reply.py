"""``w.reply(input, **overrides)`` continues the conversation (issue 11, item 5): the real SDK
against the loopback server, which records each request's body."""

from __future__ import annotations

import pytest
from sse_server import wait_until
from test_loopback import KWARGS, full_script, partial_script

import nbstream
from nbstream import Guards


def answered(sse_server, client, api: str, pieces: list[str], **kwargs) -> nbstream.StreamWidget:
    sse_server.enqueue(full_script(api, pieces))
    w = getattr(nbstream, api)(client, **{**KWARGS[api], "temperature": 0.2, **kwargs})
    assert w.wait(10) and w.status == "done", w.error
    return w


def test_a_responses_reply_sends_the_previous_response_id(sse_server, client):
    first = answered(sse_server, client, "responses", ["Paris."])
    sse_server.enqueue(full_script("responses", ["About 2 million."]))
    second = first.reply("And its population?")
    assert second.wait(10) and second.text == "About 2 million."
    body = sse_server.requests[1].json
    assert body["previous_response_id"] == first.metrics["response_id"] == "resp_test"
    assert body["input"] == "And its population?"
    assert (body["model"], body["temperature"]) == ("m", 0.2)  # the rest is kept


def test_a_chat_reply_sends_the_messages_then_this_answer_then_the_input(sse_server, client):
    first = answered(sse_server, client, "chat", ["Paris."])
    sse_server.enqueue(full_script("chat", ["Yes."]))
    second = first.reply("Sure?", temperature=0.9)
    assert second.wait(10)
    body = sse_server.requests[1].json
    assert body["messages"] == [*KWARGS["chat"]["messages"],
                                {"role": "assistant", "content": "Paris."},
                                {"role": "user", "content": "Sure?"}]
    assert body["temperature"] == 0.9  # overrides win


def test_a_completions_reply_extends_the_prompt(sse_server, client):
    first = answered(sse_server, client, "completions", [" world"])
    sse_server.enqueue(full_script("completions", ["!"]))
    assert first.reply(", again").wait(10)
    assert sse_server.requests[1].json["prompt"] == "hi world, again"


def test_a_reply_keeps_the_guards_and_takes_its_own_title(sse_server, client):
    guards = Guards(max_seconds=60)
    first = answered(sse_server, client, "responses", ["One."], guards=guards, title="q1")
    sse_server.enqueue(full_script("responses", ["Two."]))
    second = first.reply("next", title="q2")
    assert second.wait(10)
    assert (second.title, first.title) == ("q2", "q1")
    assert second._controller._guard._guards is guards


def test_reply_refuses_what_it_cannot_continue(sse_server, client):
    with pytest.raises(TypeError, match=r"not of nbstream\.stream\(\)"):
        nbstream.stream(iter(["a"])).reply("more")
    sse_server.enqueue(partial_script("responses", ["Thinking "]).then_silent())
    w = nbstream.responses(client, **KWARGS["responses"])
    assert wait_until(lambda: w.text, 5)
    with pytest.raises(RuntimeError, match="still streaming"):
        w.reply("more")
    w.stop()
    assert w.wait(5)
    done = answered(sse_server, client, "completions", ["x"])
    with pytest.raises(TypeError, match="expects the new text as a str"):
        done.reply(["not", "text"])
    chat = answered(sse_server, client, "chat", ["x"])
    with pytest.raises(TypeError, match=r"got an unexpected keyword: `temprature=`"):
        chat.reply("y", temprature=1)
