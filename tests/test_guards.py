"""Guards stop a generation by themselves, and every stop says why (issue 10, items 2 and 4).

The real SDK against the loopback server: each guard must close the connection like the Stop
button (the server sees it close) and leave ``status == "stopped"`` with its ``stop_reason``
in Python, in ``metrics`` and in the saved copy's note. Also ``nbstream.live()``,
``nbstream.stop_all()`` and ``nbstream.configure()``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest
from sse_server import Script, _responses_wire, wait_until
from test_loopback import full_script, partial_script, responses_events

import nbstream
from nbstream import Guards


@pytest.fixture(autouse=True)
def session_defaults():
    """Each test starts from, and leaves, the default session settings."""
    nbstream.configure(guards=Guards(), stop_on_interrupt=True, stop_on_rerun=True,
                       stop_on_close=True)
    yield
    nbstream.configure(guards=Guards(), stop_on_interrupt=True, stop_on_rerun=True,
                       stop_on_close=True)


def ask(client, **guards) -> nbstream.StreamWidget:
    return nbstream.responses(client, model="m", input="hi", guards=Guards(**guards))


def stopped_by(w: nbstream.StreamWidget, reason: str) -> None:
    assert w.wait(timeout=10), "the stream never ended"
    assert (w.status, w.stop_reason) == ("stopped", reason), (w.status, w.stop_reason, w.error)
    assert w.metrics["stop_reason"] == reason
    assert w.metrics["stopped_after_s"] is not None


def test_max_seconds_stops_a_silent_server_and_closes_the_connection(sse_server, client):
    sse_server.enqueue(partial_script("responses", ["Thinking "]).then_silent())
    w = ask(client, max_seconds=0.5)
    stopped_by(w, "max_seconds")
    assert w.text == "Thinking "
    assert sse_server.requests[0].wait_closed(2), "the connection stays open"
    assert 0.5 <= w.metrics["stopped_after_s"] < 2, w.metrics["stopped_after_s"]


def test_idle_seconds_stops_a_server_that_only_sends_keep_alives(sse_server, client):
    head, _ = responses_events(["Hello "])
    keep_alive = [b": keep-alive\n\n"] * 200  # comments: no event reaches the document
    sse_server.enqueue(Script.raw([_responses_wire(e) for e in head] + keep_alive, delay=0.05)
                       .then_silent())
    w = ask(client, idle_seconds=0.6)
    stopped_by(w, "idle")
    assert sse_server.requests[0].wait_closed(2)
    assert sse_server.requests[0].pieces_sent < len(head) + len(keep_alive), "it waited it out"


def test_idle_seconds_counts_before_the_first_event(sse_server, client):
    gate = threading.Event()
    sse_server.enqueue(partial_script("responses", ["late"]).hold_headers(gate))
    try:
        w = ask(client, idle_seconds=0.4)
        stopped_by(w, "idle")
        assert w.text == ""
    finally:
        gate.set()


def test_max_output_tokens_counts_as_text_arrives(sse_server, client):
    gate = threading.Event()
    head, tail = responses_events(["word "] * 400)
    sse_server.enqueue(Script.events("responses", head, delay=0.001).then_wait(gate)
                       .then_events(tail))
    try:
        w = ask(client, max_output_tokens=50)
        stopped_by(w, "max_output_tokens")
    finally:
        gate.set()
    assert 50 <= w.metrics["output_tokens"] < 120, w.metrics["output_tokens"]
    assert "limit 50" in w.metrics["stop_detail"]
    assert sse_server.requests[0].wait_closed(2)


def test_stop_when_is_asked_with_the_widget(sse_server, client):
    head, tail = responses_events([f"line {i}\n" for i in range(300)])
    gate = threading.Event()
    sse_server.enqueue(Script.events("responses", head, delay=0.005).then_wait(gate)
                       .then_events(tail))
    try:
        w = ask(client, stop_when=lambda w: "found line 20" if "line 20\n" in w.text else None)
        stopped_by(w, "predicate")
    finally:
        gate.set()
    assert w.metrics["stop_detail"] == "found line 20"
    assert "line 20\n" in w.text and "line 299" not in w.text


def test_a_model_repeating_itself_is_stopped_by_default(sse_server, client):
    """No ``guards=`` at all: the loop detector is on by default."""
    loop = ["Here is the plan. "] + ["I will now check the configuration file again. "] * 400
    head, tail = responses_events(loop)
    sse_server.enqueue(Script.events("responses", head + tail, delay=0.002))
    w = nbstream.responses(client, model="m", input="hi")
    stopped_by(w, "loop")
    assert len(w.text) < 4000, len(w.text)
    assert sse_server.requests[0].wait_closed(2)


def test_a_tongue_twister_asked_for_is_not_a_loop():
    client = nbstream.demo_client(speed=float("inf"))
    w = nbstream.responses(client, model="demo", input="Say 'double bubble bath' ten times fast.")
    assert w.wait(timeout=30)
    assert (w.status, w.stop_reason) == ("done", None), (w.status, w.stop_reason)
    assert w.text.lower().count("double bubble bath") >= 10


def test_guards_off_lets_a_loop_run(sse_server, client):
    loop = ["I will now check the configuration file again. "] * 200
    sse_server.enqueue(partial_script("responses", loop).then_close())
    w = nbstream.responses(client, model="m", input="hi", guards=Guards(loops=False))
    assert w.wait(timeout=10)
    assert w.stop_reason is None and w.text == "".join(loop)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_seconds": 0}, "max_seconds=...) expects a positive number of seconds"),
    ({"max_output_tokens": "10"}, "max_output_tokens=...) expects a positive number of tokens"),
    ({"idle_seconds": float("inf")}, "idle_seconds=...) expects a positive number"),
    ({"loops": "yes"}, "loops=...) expects True or False"),
    ({"stop_when": "len > 10"}, "stop_when=...) expects a callable"),
])
def test_bad_guards_fail_at_the_call(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message.replace("(", r"\(")
                       .replace(")", r"\)").replace(".", r"\.")):
        Guards(**kwargs)


def test_guards_must_be_guards():
    with pytest.raises(TypeError, match=r"expects nbstream.Guards\(\.\.\.\)"):
        nbstream.stream(iter(["a"]), guards={"max_seconds": 1})


# ---- the session: live(), stop_all(), configure() ------------------------------------------


def held(gate: threading.Event) -> Iterator[str]:
    yield "first "
    gate.wait(10)
    yield "never"


def test_stop_all_stops_every_live_stream_and_live_lists_them():
    gate = threading.Event()
    try:
        widgets = [nbstream.stream(held(gate)) for _ in range(3)]
        assert wait_until(lambda: all(w.text for w in widgets), 5)
        assert set(map(id, nbstream.live())) >= set(map(id, widgets))
        assert nbstream.stop_all() >= 3
        for w in widgets:
            assert w.wait(5) and w.stop_reason == "user"
        assert not set(map(id, nbstream.live())) & set(map(id, widgets))
    finally:
        gate.set()


def test_configured_guards_are_the_default_and_a_call_overrides_them(sse_server, client):
    nbstream.configure(guards=Guards(max_seconds=0.3))
    sse_server.enqueue(partial_script("responses", ["a "]).then_silent(),
                       partial_script("responses", ["b "]).then_close())
    stopped_by(nbstream.responses(client, model="m", input="x"), "max_seconds")
    own = nbstream.responses(client, model="m", input="y", guards=Guards(loops=False))
    assert own.wait(5) and own.stop_reason is None


def test_configure_refuses_what_it_cannot_use():
    with pytest.raises(TypeError, match=r"stop_on_rerun=\.\.\.\) expects True or False"):
        nbstream.configure(stop_on_rerun="no")
    with pytest.raises(TypeError, match=r"expects nbstream\.Guards"):
        nbstream.configure(guards={"loops": False})


def test_closing_the_widget_stops_it_unless_configured_not_to():
    gate = threading.Event()
    try:
        w = nbstream.stream(held(gate))
        assert wait_until(lambda: w.text, 5)
        w.close()
        assert w.wait(5) and w.stop_reason == "closed"
        nbstream.configure(stop_on_close=False)
        kept = nbstream.stream(held(gate))
        assert wait_until(lambda: kept.text, 5)
        kept.close()
        assert kept.status == "streaming"
    finally:
        gate.set()
    assert kept.wait(5) and kept.status == "done"


# ---- background responses: Stop cancels them on the server ---------------------------------


def cancelled_json() -> Script:
    body = json.dumps({"id": "resp_test", "object": "response", "status": "cancelled",
                       "model": "gpt-4.1-mini", "output": []}).encode()
    return Script.raw([body], content_type="application/json")


def test_stopping_a_background_response_cancels_it_on_the_server(sse_server, client):
    """``background=True``: closing the connection does not stop the response on the server,
    so Stop also calls ``responses.cancel(id)``."""
    sse_server.enqueue(partial_script("responses", ["Working "]).then_silent(), cancelled_json())
    w = nbstream.responses(client, model="m", input="hi", background=True)
    assert wait_until(lambda: w.text == "Working ", 5)
    w.stop()
    assert w.wait(5) and w.stop_reason == "user"
    assert sse_server.requests[0].wait_closed(2)
    cancel = sse_server.wait_for_request(1, timeout=5)
    assert (cancel.method, cancel.path) == ("POST", "/v1/responses/resp_test/cancel"), cancel


def test_stopping_a_background_response_of_an_async_client_cancels_it(
        sse_server, make_async_client):
    sse_server.enqueue(partial_script("responses", ["Working "]).then_silent(), cancelled_json())

    async def scenario() -> nbstream.StreamWidget:
        client = make_async_client()
        w = nbstream.responses(client, model="m", input="hi", background=True)
        while w.text != "Working ":
            await asyncio.sleep(0.01)
        w.stop()
        await asyncio.wait_for(_until_cancelled(sse_server), 5)
        return await w

    w = asyncio.run(scenario())
    assert w.stop_reason == "user"
    cancel = sse_server.requests[1]
    assert (cancel.method, cancel.path) == ("POST", "/v1/responses/resp_test/cancel"), cancel


async def _until_cancelled(sse_server) -> None:
    while len(sse_server.requests) < 2 or sse_server.requests[1].closed_at is None:
        await asyncio.sleep(0.01)


def test_a_foreground_response_is_not_cancelled(sse_server, client):
    sse_server.enqueue(partial_script("responses", ["Working "]).then_silent())
    w = nbstream.responses(client, model="m", input="hi")
    assert wait_until(lambda: w.text == "Working ", 5)
    w.stop()
    assert w.wait(5) and sse_server.requests[0].wait_closed(2)
    assert len(sse_server.requests) == 1  # the fixture also fails on an unscripted request


# ---- cost: max_cost_usd, and what a stopped stream is estimated to have cost ---------------


def test_max_cost_stops_at_the_estimated_cost(sse_server, client):
    gate = threading.Event()
    head, tail = responses_events(["token "] * 2000)
    sse_server.enqueue(Script.events("responses", head, delay=0.0005).then_wait(gate)
                       .then_events(tail))
    prices = {"my-model": (1.0, 1000.0)}  # $0.001 an output token
    try:
        w = nbstream.responses(client, model="my-model", input="hi",
                               guards=Guards(max_cost_usd=0.05, prices=prices))
        stopped_by(w, "max_cost")
    finally:
        gate.set()
    m = w.metrics
    assert m["cost_estimated"] is True and 0.05 <= m["cost_usd"] < 0.08, m["cost_usd"]
    assert "limit $0.05" in m["stop_detail"]
    assert sse_server.requests[0].wait_closed(2)


def test_a_finished_stream_costs_its_usage_and_a_stopped_one_an_estimate(sse_server, client):
    sse_server.enqueue(full_script("responses", ["a ", "b"]),
                       partial_script("responses", ["a ", "b ", "c "]).then_silent())
    done = nbstream.responses(client, model="gpt-4.1-mini", input="hi")
    assert done.wait(5) and done.status == "done", done.error
    usage = done.usage
    exact = (usage["input_tokens"] * 0.40 + usage["output_tokens"] * 1.60) / 1e6
    assert done.metrics["cost_estimated"] is False
    assert done.metrics["cost_usd"] == pytest.approx(exact, abs=1e-6)
    cut = nbstream.responses(client, model="gpt-4.1-mini-2025-04-14", input="hi there")
    assert wait_until(lambda: cut.text == "a b c ", 5)
    cut.stop()
    assert cut.wait(5) and cut.usage is None
    m = cut.metrics
    assert m["output_tokens_estimated"] is True and m["output_tokens"] == 3
    assert m["cost_estimated"] is True and m["cost_usd"] > 0  # the family's price


def test_max_cost_without_a_known_price_fails_at_the_call(client):
    with pytest.raises(ValueError, match=r"needs the price of 'my-model'"):
        nbstream.responses(client, model="my-model", input="hi",
                           guards=Guards(max_cost_usd=1.0))
    with pytest.raises(TypeError, match=r"prices=\.\.\.\): 'm': expected"):
        Guards(max_cost_usd=1.0, prices={"m": 3})
