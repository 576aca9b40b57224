"""``nbstream.compare()``, ``vary()``, ``fill()`` and ``Grid`` (issue 11, items 1 to 4): the real
``openai`` SDK against the loopback server, which records each request's body.

The server answers every request from its body (``SSEServer.route``), so each pane's text says
which request it came from whatever the order the requests arrive in."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import Counter
from typing import Any

import pytest
from openai import OpenAI
from sse_server import API_KEY, RequestRecord, Script, wait_until
from test_loopback import BUILDERS, KWARGS, MESSAGES, full_script, safety_release

import nbstream
from nbstream._pane import RATE_LIMIT_RETRIES

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

PATHS = {"responses": "/v1/responses", "chat": "/v1/chat/completions"}
MODELS = ["m1", "m2", "m3"]
TEMPERATURES = [0.2, 1.0]


def said(body: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    """The answer the server gives to a request: what identifies it."""
    who = f"{headers.get('x-which')}:" if headers and "x-which" in headers else ""
    return f"{who}{body['model']}@{body.get('temperature')}"


def pieces_of(text: str) -> list[str]:
    return [text[:3], text[3:]]


def answer_by_body(api: str = "responses"):
    """A route handler: a complete stream whose text is :func:`said` of the request."""

    def handler(rec: RequestRecord) -> Script:
        return full_script(api, pieces_of(said(rec.json, rec.headers)))

    return handler


def staged(api: str, text: str, gate: threading.Event) -> Script:
    """The first piece of ``text``, then a wait for ``gate``, then the rest and a normal end."""
    head, tail = BUILDERS[api](pieces_of(text))
    return Script.events(api, head[:-1]).then_wait(gate).then_events(head[-1:] + tail)


def grid_3x2(client, **kwargs) -> nbstream.Grid:
    return nbstream.compare(client, model=nbstream.vary(MODELS),
                            temperature=nbstream.vary(TEMPERATURES), input="hi", **kwargs)


def bodies(records: list[RequestRecord]) -> list[str]:
    return sorted(json.dumps(r.json, sort_keys=True) for r in records)


# ---- expansion, order, results -------------------------------------------------------------


def test_a_3x2_compare_sends_six_requests_in_product_order(sse_server, client):
    sse_server.route(PATHS["responses"], answer_by_body())
    g = grid_3x2(client)
    assert g.wait(10), g
    combos = list(itertools.product(MODELS, TEMPERATURES))  # the first varied arg outermost
    records = sse_server.routed
    assert len(records) == 6
    assert Counter((r.json["model"], r.json["temperature"]) for r in records) == Counter(combos)
    assert all(r.json["input"] == "hi" and r.json["stream"] is True for r in records)
    assert [p.params for p in g.panes] == [{"model": m, "temperature": t} for m, t in combos]
    assert [p.label for p in g.panes] == [f"model={m} · temperature={t}" for m, t in combos]
    assert all(isinstance(p, nbstream.StreamWidget) for p in g.panes)
    # each pane shows the answer to its own request
    assert [p.text for p in g.panes] == [f"{m}@{t}" for m, t in combos]
    assert g.status == "done"
    results = g.results
    assert [r["params"] for r in results] == [p.params for p in g.panes]
    assert [r["text"] for r in results] == [p.text for p in g.panes]
    assert {"params", "status", "text", "metrics", "stop_reason"} <= set(results[0])
    assert all(r["status"] == "done" and r["stop_reason"] is None for r in results)
    assert all(r["metrics"]["output_tokens"] == 5 for r in results)  # the server's usage
    for r in records:
        assert r.wait_closed(2), "a finished pane leaves its connection open"


def test_a_varied_client_comes_first_and_each_pane_uses_its_client(sse_server):
    one = OpenAI(base_url=sse_server.base_url, api_key=API_KEY, max_retries=0,
                 default_headers={"x-which": "one"})
    two = OpenAI(base_url=sse_server.base_url, api_key=API_KEY, max_retries=0,
                 default_headers={"x-which": "two"})
    sse_server.route(PATHS["responses"], answer_by_body())
    try:
        g = nbstream.compare(nbstream.vary([one, two], labels=["one", "two"]),
                             model=nbstream.vary(["a", "b"]), input="hi")
        assert g.wait(10), g
    finally:
        one.close()
        two.close()
    expected = [(c, m) for c in (one, two) for m in ("a", "b")]
    assert [(p.params["client"], p.params["model"]) for p in g.panes] == expected
    assert list(g.panes[0].params) == ["client", "model"]
    assert [p.label for p in g.panes] == ["client=one · model=a", "client=one · model=b",
                                          "client=two · model=a", "client=two · model=b"]
    seen = Counter((r.headers.get("x-which"), r.json["model"]) for r in sse_server.routed)
    assert seen == Counter([("one", "a"), ("one", "b"), ("two", "a"), ("two", "b")])
    assert [p.text for p in g.panes] == ["one:a@None", "one:b@None", "two:a@None",
                                         "two:b@None"]


def test_a_chat_compare(sse_server, client):
    sse_server.route(PATHS["chat"], answer_by_body("chat"))
    g = nbstream.compare(client, api="chat", model=nbstream.vary(["a", "b"]), messages=MESSAGES,
                         temperature=0.5)
    assert g.wait(10), g
    assert [p.text for p in g.panes] == ["a@0.5", "b@0.5"]
    assert sorted(r.json["model"] for r in sse_server.routed) == ["a", "b"]
    assert all(r.json["messages"] == MESSAGES for r in sse_server.routed)
    assert all(p.status == "done" for p in g.panes)


def test_fill_sweeps_a_template_over_rows(sse_server, client):
    def handler(rec: RequestRecord) -> Script:
        return full_script("responses", [f"re: {rec.json['input']}"])

    sse_server.route(PATHS["responses"], handler)
    rows = [{"text": "Good morning"}, {"text": "Thank you"}]
    g = nbstream.compare(client, model="m", input=nbstream.fill("Translate: {text}", rows))
    assert g.wait(10), g
    assert sorted(r.json["input"] for r in sse_server.routed) == [
        "Translate: Good morning", "Translate: Thank you"]
    assert [p.params["input"] for p in g.panes] == ["Translate: Good morning",
                                                    "Translate: Thank you"]
    assert [p.text for p in g.panes] == ["re: Translate: Good morning",
                                         "re: Translate: Thank you"]
    assert [p.label for p in g.panes] == ["input=text=Good morning", "input=text=Thank you"]


def test_a_plain_list_keeps_its_api_meaning(sse_server, client):
    sse_server.route(PATHS["responses"], answer_by_body())
    messages = [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
    g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input=messages)
    assert g.wait(10)
    assert len(sse_server.routed) == 2  # not a sweep over the two messages
    assert all(len(r.json["input"]) == 2 for r in sse_server.routed)


def test_await_a_grid_of_an_async_client(sse_server, make_async_client):
    sse_server.route(PATHS["responses"], answer_by_body())

    async def main():
        client = make_async_client()
        try:
            g = nbstream.compare(client, model=nbstream.vary(["a", "b", "c"]), input="hi")
            got = await asyncio.wait_for(_awaited(g), 10)
            return g, got
        finally:
            await client.close()

    g, got = asyncio.run(main())
    assert got is g
    assert [p.status for p in g.panes] == ["done"] * 3
    assert [p.text for p in g.panes] == ["a@None", "b@None", "c@None"]
    assert g.status == "done"


async def _awaited(g):
    return await g


# ---- max_concurrency -------------------------------------------------------------------


def test_max_concurrency_2_never_has_more_than_2_open(sse_server, client):
    gates: list[threading.Event] = []
    open_at_arrival: list[int] = []
    lock = threading.Lock()

    def handler(rec: RequestRecord) -> Script:
        with lock:
            open_at_arrival.append(sum(1 for r in sse_server.routed if not r.closed))
            gate = threading.Event()
            gates.append(gate)
        return staged("responses", said(rec.json), gate)

    sse_server.route(PATHS["responses"], handler)
    g = grid_3x2(client, max_concurrency=2)
    try:
        assert wait_until(lambda: len(sse_server.routed) == 2, 5)
        assert wait_until(lambda: sum(p.status == "streaming" for p in g.panes) == 2, 5)
        assert [p.status for p in g.panes].count("pending") == 4
        assert g.channel.queued() == 4
        for k in range(6):
            assert wait_until(lambda k=k: len(gates) > k, 5), f"request {k} never came"
            gates[k].set()  # pane ends: a queued one starts
            if k + 2 < 6:
                assert wait_until(lambda k=k: len(sse_server.routed) >= k + 3, 5), (
                    f"no queued pane started after request {k} ended: {g}")
        assert g.wait(10), g
    finally:
        for gate in gates:
            gate.set()
    records = sse_server.routed
    assert len(records) == 6
    assert max(open_at_arrival) <= 2, f"open connections as each request arrived: " \
                                      f"{open_at_arrival}"
    # queued panes start in pane order (the first two may arrive in either order)
    order = [(r.json["model"], r.json["temperature"]) for r in records]
    assert order[2:] == list(itertools.product(MODELS, TEMPERATURES))[2:]
    assert [p.status for p in g.panes] == ["done"] * 6
    assert [p.text for p in g.panes] == [f"{m}@{t}" for m, t in
                                         itertools.product(MODELS, TEMPERATURES)]


# ---- stop ----------------------------------------------------------------------------------


def test_stop_all_closes_every_connection_and_queued_panes_never_start(sse_server, client):
    held = threading.Event()  # never set while the test runs: a pane waiting for headers
    arrivals: list[int] = []

    def handler(rec: RequestRecord) -> Script:
        arrivals.append(rec.index)
        if rec.index < 2:  # streaming: some text, then silence
            head, _tail = BUILDERS["responses"](["Part", "ial"])
            return Script.events("responses", head, done=False).then_silent()
        return full_script("responses", ["never"]).hold_headers(held)

    sse_server.route(PATHS["responses"], handler)
    with safety_release(held, after=10):
        g = grid_3x2(client, max_concurrency=4)
        assert wait_until(lambda: len(sse_server.routed) == 4, 5)
        assert wait_until(lambda: sum(p.text == "Partial" for p in g.panes) == 2, 5), g
        statuses = Counter(p.status for p in g.panes)
        assert statuses == Counter({"streaming": 2, "pending": 4}), statuses
        stopped = g.stop()
        for rec in sse_server.routed:
            assert rec.wait_closed(1), f"Stop all left a connection open: {rec}"
        assert g.wait(5), g
    assert stopped == 6
    assert len(sse_server.routed) == 4, "a queued pane made a request after Stop all"
    assert [p.status for p in g.panes] == ["stopped"] * 6
    assert [p.stop_reason for p in g.panes] == ["user"] * 6
    assert sorted(p.text for p in g.panes) == [""] * 4 + ["Partial"] * 2
    assert g.status == "stopped"
    assert all(r["stop_reason"] == "user" for r in g.results)


def test_one_panes_stop_leaves_the_others_streaming(sse_server, client):
    gate = threading.Event()
    sse_server.route(PATHS["responses"],
                     lambda rec: staged("responses", said(rec.json), gate))
    with safety_release(gate, after=10):
        g = nbstream.compare(client, model=nbstream.vary(MODELS), input="hi")
        assert wait_until(lambda: [p.text for p in g.panes] == ["m1@", "m2@", "m3@"], 5), g
        g.panes[1].stop()
        mine = next(r for r in sse_server.routed if r.json["model"] == "m2")
        assert mine.wait_closed(1), "the stopped pane's connection stayed open"
        others = [r for r in sse_server.routed if r is not mine]
        assert not any(r.closed for r in others), "stopping one pane closed another"
        assert [p.status for p in g.panes] == ["streaming", "stopped", "streaming"]
        gate.set()
        assert g.wait(10), g
    assert [p.status for p in g.panes] == ["done", "stopped", "done"]
    assert [p.stop_reason for p in g.panes] == [None, "user", None]
    assert (g.panes[0].text, g.panes[1].text, g.panes[2].text) == ("m1@None", "m2@", "m3@None")
    assert g.status == "stopped"  # the worst of the panes'


# ---- 429 -----------------------------------------------------------------------------------


def rate_limited(header: tuple[str, str]) -> Script:
    script = Script.http_error(429, "Rate limit reached", type_="requests",
                               code="rate_limit_exceeded")
    script.headers.append(header)
    return script


@pytest.mark.parametrize("header", [("retry-after", "0.2"), ("retry-after-ms", "200")])
def test_a_429_is_retried_after_retry_after_and_the_others_go_on(sse_server, client, header):
    calls: Counter[str] = Counter()

    def handler(rec: RequestRecord) -> Script:
        calls[rec.json["model"]] += 1
        if rec.json["model"] == "m2" and calls["m2"] == 1:
            return rate_limited(header)
        return full_script("responses", pieces_of(said(rec.json)))

    sse_server.route(PATHS["responses"], handler)
    g = nbstream.compare(client, model=nbstream.vary(MODELS), input="hi")
    assert g.wait(10), g
    assert calls == Counter({"m1": 1, "m2": 2, "m3": 1})
    first, again = [r for r in sse_server.routed if r.json["model"] == "m2"]
    assert first.json == again.json and first.body == again.body
    waited = again.received_at - first.received_at
    assert 0.18 <= waited < 2, f"retried after {waited:.3f} s, not after retry-after (0.2 s)"
    assert [p.status for p in g.panes] == ["done"] * 3
    assert [p.text for p in g.panes] == ["m1@None", "m2@None", "m3@None"]
    assert len(g.panes[1].attempts) == 1  # a retry is not a new attempt
    # the others did not wait for the limited one
    others = [r for r in sse_server.routed if r.json["model"] != "m2"]
    assert all(r.received_at < again.received_at for r in others)


def test_a_pane_limited_more_than_the_retries_ends_in_error(sse_server, client):
    calls: Counter[str] = Counter()

    def handler(rec: RequestRecord) -> Script:
        calls[rec.json["model"]] += 1
        if rec.json["model"] == "m2":
            return rate_limited(("retry-after-ms", "10"))
        return full_script("responses", pieces_of(said(rec.json)))

    sse_server.route(PATHS["responses"], handler)
    g = nbstream.compare(client, model=nbstream.vary(MODELS), input="hi")
    assert g.wait(10), g
    assert calls["m2"] == RATE_LIMIT_RETRIES + 1, calls
    limited = [r.body for r in sse_server.routed if r.json["model"] == "m2"]
    assert len(set(limited)) == 1, "a retry changed the request"
    assert [p.status for p in g.panes] == ["done", "error", "done"]
    pane = g.panes[1]
    assert pane.error and ("429" in pane.error or "rate limit" in pane.error.lower()), pane.error
    assert g.results[1]["status"] == "error" and g.results[1]["error"] == pane.error
    assert isinstance(g.results[1]["metrics"], dict)
    assert g.status == "error"


# ---- rerun, diff, pandas -------------------------------------------------------------------


def test_grid_rerun_sends_the_same_bodies_again(sse_server, client):
    sse_server.route(PATHS["responses"], answer_by_body())
    g = nbstream.compare(client, model=nbstream.vary(["a", "b"]),
                         temperature=nbstream.vary([0, 1]), input="hi")
    assert g.wait(10), g
    first = bodies(sse_server.routed)
    g.rerun()
    assert g.wait(10), g
    records = sse_server.routed
    assert len(records) == 8
    assert bodies(records[4:]) == first
    assert [len(p.attempts) for p in g.panes] == [2] * 4
    for pane in g.panes:
        assert [a["status"] for a in pane.attempts] == ["done", "done"]
        assert pane.attempts[0]["text"] == pane.attempts[1]["text"] == pane.text
    assert g.status == "done"


def test_one_pane_rerun_leaves_the_others_alone(sse_server, client):
    sse_server.route(PATHS["responses"], answer_by_body())
    g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input="hi")
    assert g.wait(10), g
    g.panes[1].rerun()
    assert g.wait(10), g
    assert [r.json["model"] for r in sse_server.routed[2:]] == ["b"]
    assert [len(p.attempts) for p in g.panes] == [1, 2]
    assert g.status == "done"


def test_diff_of_two_panes(sse_server, client):
    texts = {"a": "The quick brown fox jumps.", "b": "The quick red fox leaps."}
    sse_server.route(PATHS["responses"],
                     lambda rec: full_script("responses", [texts[rec.json["model"]]]))
    g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input="hi")
    assert g.wait(10), g
    d = g.diff(0, 1)
    assert d.ops == [("=", "The quick "), ("-", "brown "), ("+", "red "), ("=", "fox "),
                     ("-", "jumps."), ("+", "leaps.")]
    assert str(d) == "The quick [-brown -]{+red +}fox [-jumps.-]{+leaps.+}"
    assert "".join(t for op, t in d.ops if op != "+") == texts["a"]
    assert "".join(t for op, t in d.ops if op != "-") == texts["b"]
    assert g.diff(1, 1).ops == [("=", texts["b"])]
    assert str(g.diff(-1, 0)).startswith("The quick [-red -]{+brown +}")
    with pytest.raises(IndexError, match="no pane 2"):
        g.diff(0, 2)
    with pytest.raises(TypeError, match="pane numbers"):
        g.diff(0, "1")


def test_to_pandas_has_a_row_per_pane_with_the_varied_columns(sse_server, client):
    pandas = pytest.importorskip("pandas")
    sse_server.route(PATHS["responses"], answer_by_body())
    g = grid_3x2(client)
    assert g.wait(10), g
    df = g.to_pandas()
    assert isinstance(df, pandas.DataFrame)
    assert len(df) == 6
    assert {"model", "temperature", "status", "text"} <= set(df.columns)
    assert list(zip(df["model"], df["temperature"], strict=True)) == list(
        itertools.product(MODELS, TEMPERATURES))
    assert list(df["text"]) == [p.text for p in g.panes]


# ---- wrong arguments fail at the call ------------------------------------------------------


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda c: nbstream.vary("abc"), TypeError, r"nbstream\.vary\(\) expects a list"),
    (lambda c: nbstream.vary([]), ValueError, "at least one value"),
    (lambda c: nbstream.vary([1, 2], labels=["one"]), ValueError, "2 values but 1 labels"),
    (lambda c: nbstream.compare(c, api="foo", model="m", input="hi"), ValueError,
     r"api=.*'responses'.*'foo'"),
    (lambda c: nbstream.compare(c, max_concurrency=0, model=nbstream.vary(["a", "b"]),
                                input="hi"), ValueError, r"max_concurrency=.*at least 1"),
    (lambda c: nbstream.compare(c, model=nbstream.vary(["a", "b"]), input="hi", temprature=1),
     TypeError, r"nbstream\.compare.*temprature.*temperature"),
    (lambda c: nbstream.compare(c, model=nbstream.vary(["a", "b"])), (TypeError, ValueError),
     r"nbstream\.compare.*input"),
    (lambda c: nbstream.fill("Hi {name}", [{"nom": "x"}]), ValueError, r"nbstream\.fill.*name"),
    (lambda c: nbstream.fill("Hi {name}", []), TypeError, "non-empty list of dicts"),
])
def test_wrong_arguments_fail_at_the_call_and_make_no_request(sse_server, client, call, error,
                                                              match):
    with pytest.raises(error, match=match):
        call(client)
    assert sse_server.requests == [] and sse_server.routed == []


def test_a_wrong_value_in_one_combination_fails_the_whole_call(sse_server, client):
    with pytest.raises(TypeError, match=r"nbstream\.compare"):
        nbstream.compare(client, model="m", input="hi",
                         temperature=nbstream.vary([0.2, 1.0]), top_q=nbstream.vary([1]))
    assert sse_server.requests == [] and sse_server.routed == []


def test_keyword_arguments_of_the_sdk_are_sent_unchanged(sse_server, client):
    sse_server.route(PATHS["responses"], answer_by_body())
    g = nbstream.compare(client, **{**KWARGS["responses"], "max_output_tokens": 50},
                         temperature=nbstream.vary([0.1, 0.9]))
    assert g.wait(10)
    assert sorted(r.json["temperature"] for r in sse_server.routed) == [0.1, 0.9]
    assert all(r.json["max_output_tokens"] == 50 and r.json["model"] == "m"
               for r in sse_server.routed)


# ---- probes: retries and re-runs meeting stops, queues and async clients -------------------


def test_stop_all_during_a_retry_wait_ends_at_once_without_another_request(sse_server, client):
    sse_server.route(PATHS["responses"], lambda rec: rate_limited(("retry-after", "20")))
    g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input="hi")
    assert wait_until(lambda: len(sse_server.routed) == 2, 5)
    assert all(r.wait_closed(2) for r in sse_server.routed)
    g.stop()
    assert g.wait(2), "Stop all waited out the retry-after"
    assert len(sse_server.routed) == 2
    assert [(p.status, p.stop_reason) for p in g.panes] == [("stopped", "user")] * 2


def test_a_429_with_an_async_client_is_retried(sse_server, make_async_client):
    calls: Counter[str] = Counter()

    def handler(rec: RequestRecord) -> Script:
        calls[rec.json["model"]] += 1
        if rec.json["model"] == "b" and calls["b"] == 1:
            return rate_limited(("retry-after-ms", "50"))
        return full_script("responses", pieces_of(said(rec.json)))

    sse_server.route(PATHS["responses"], handler)

    async def main():
        client = make_async_client()
        try:
            g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input="hi")
            await asyncio.wait_for(_awaited(g), 10)
            return g
        finally:
            await client.close()

    g = asyncio.run(main())
    assert calls == Counter({"a": 1, "b": 2})
    assert [p.text for p in g.panes] == ["a@None", "b@None"]
    assert g.status == "done"


def test_stop_all_during_an_async_retry_wait(sse_server, make_async_client):
    sse_server.route(PATHS["responses"], lambda rec: rate_limited(("retry-after", "20")))

    async def main():
        client = make_async_client()
        try:
            g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input="hi")
            assert await asyncio.to_thread(
                wait_until, lambda: len(sse_server.routed) == 2 and all(
                    r.closed for r in sse_server.routed), 5)
            g.stop()
            await asyncio.wait_for(_awaited(g), 2)
            return g
        finally:
            await client.close()

    g = asyncio.run(main())
    assert len(sse_server.routed) == 2
    assert [(p.status, p.stop_reason) for p in g.panes] == [("stopped", "user")] * 2


def test_grid_rerun_while_streaming_stops_every_pane_first(sse_server, client):
    gate = threading.Event()

    def handler(rec: RequestRecord) -> Script:
        if rec.index < 2:
            head, _tail = BUILDERS["responses"](["Old"])
            return Script.events("responses", head, done=False).then_silent()
        return staged("responses", said(rec.json), gate)

    sse_server.route(PATHS["responses"], handler)
    with safety_release(gate, after=10):
        g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input="hi")
        assert wait_until(lambda: all(p.text == "Old" for p in g.panes), 5), g
        g.rerun()
        for rec in sse_server.routed[:2]:
            assert rec.wait_closed(1), "a re-run left the old attempt's connection open"
        assert wait_until(lambda: len(sse_server.routed) == 4, 5)
        assert g.wait(0.2) is False, "the grid's wait() returned before the new attempts"
        gate.set()
        assert g.wait(10), g
    assert [p.text for p in g.panes] == ["a@None", "b@None"]
    for pane in g.panes:
        assert [(a["status"], a["stop_reason"]) for a in pane.attempts] == [
            ("stopped", "user"), ("done", None)]
    assert g.status == "done"


def test_grid_rerun_keeps_max_concurrency(sse_server, client):
    open_at_arrival: list[int] = []
    gates: list[threading.Event] = []
    lock = threading.Lock()

    def handler(rec: RequestRecord) -> Script:
        with lock:
            open_at_arrival.append(sum(1 for r in sse_server.routed if not r.closed))
            gate = threading.Event()
            gates.append(gate)
        if rec.index < 3:
            gate.set()
        return staged("responses", said(rec.json), gate)

    sse_server.route(PATHS["responses"], handler)
    g = nbstream.compare(client, model=nbstream.vary(MODELS), input="hi", max_concurrency=1)
    try:
        assert g.wait(10), g
        g.rerun()
        assert wait_until(lambda: len(sse_server.routed) == 4, 5)
        assert g.channel.queued() == 2, "the re-run ignored max_concurrency"
        for k in range(3, 6):
            assert wait_until(lambda k=k: len(gates) > k, 5), f"request {k} never came: {g}"
            gates[k].set()
        assert g.wait(10), g
    finally:
        for gate in gates:
            gate.set()
    assert max(open_at_arrival) <= 1, open_at_arrival
    assert [len(p.attempts) for p in g.panes] == [2, 2, 2]


def test_rerun_of_a_queued_pane_runs_it_once_its_turn_comes(sse_server, client):
    gate = threading.Event()
    sse_server.route(PATHS["responses"],
                     lambda rec: full_script("responses", [rec.json["model"]]).hold_headers(gate))
    with safety_release(gate, after=10):
        g = nbstream.compare(client, model=nbstream.vary(["a", "b"]), input="hi",
                             max_concurrency=1)
        assert wait_until(lambda: len(sse_server.routed) == 1, 5)
        g.panes[1].rerun()  # queued: its first attempt ends (stopped) without a request
        gate.set()
        assert g.wait(5), [(p.status, len(p.attempts)) for p in g.panes]
    assert [r.json["model"] for r in sse_server.routed] == ["a", "b"]
    assert [p.text for p in g.panes] == ["a", "b"]
    assert [(a["status"], a["stop_reason"]) for a in g.panes[1].attempts] == [
        ("stopped", "user"), ("done", None)]
