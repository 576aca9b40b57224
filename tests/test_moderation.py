"""Moderation of partial output (issue 10, item 3): ``moderate=`` checks the answer in the
background on overlapping windows, never blocking the stream; a flagged answer is stopped
(``stop_reason == "moderation"``, the connection closed) and hidden behind a "Hidden by
moderation — show" control in the page and the saved copy, its text kept in ``w.text``.

The real SDK against the loopback server, which also serves ``POST /v1/moderations`` (and
records every call) for ``moderate="openai"``. The page's side is in ``js/tests/widget.test.js``.
"""

from __future__ import annotations

import asyncio
import html.parser
import itertools
import logging
import threading
import time
from typing import Any

import pytest
from sse_server import API_KEY, Script, wait_until
from test_loopback import BUILDERS, KWARGS, responses_events

import nbstream
from nbstream import Guards
from nbstream._moderation import LONGEST, OPENAI_MODEL, OVERLAP, STEP, WINDOW, spans

WORDS = [f"w{i:04d} " for i in range(1500)]  # every window of them is found at one place
FLAG = "forbidden"


@pytest.fixture(autouse=True)
def session_defaults():
    nbstream.configure(guards=Guards())
    yield
    nbstream.configure(guards=Guards())


class Recorder:
    """A callable moderator that records each window it is given (and checks that no two
    checks of one stream overlap in time)."""

    def __init__(self, flag: str | None = FLAG, delay: float = 0.0,
                 reason: Any = "said a word on the list") -> None:
        self.flag, self.delay, self.reason = flag, delay, reason
        self.windows: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.done = 0
        self._lock = threading.Lock()

    def __call__(self, text: str) -> Any:
        with self._lock:
            self.windows.append(text)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.delay)
            return self.reason if self.flag is not None and self.flag in text else None
        finally:
            with self._lock:
                self.running -= 1
                self.done += 1


def covered(text: str, windows: list[str]) -> list[tuple[int, int]]:
    """Where each window is in ``text``, asserting that together, in order, they cover all of
    it, each overlapping the one before."""
    places = []
    for window in windows:
        start = text.find(window)
        assert start >= 0, f"a window that is not in the text: {window[:40]!r}…"
        places.append((start, start + len(window)))
    assert places, "never checked"
    assert places[0][0] == 0, "the start of the text was never checked"
    for (_, end), (start, _) in itertools.pairwise(places):
        assert start < end, f"a gap between windows: {end} .. {start}"
        assert end - start >= min(OVERLAP, end), "windows overlap too little"
    assert max(end for _, end in places) == len(text) == places[-1][1], "the end was not checked"
    assert all(end - start <= LONGEST for start, end in places)
    return places


def all_hidden(w: nbstream.StreamWidget) -> bool:
    return bool(w.parts) and all(p.get("hidden") == "moderation" for p in w.parts)


def stopped_by_moderation(w: nbstream.StreamWidget, detail: str) -> None:
    assert w.wait(timeout=15), "the stream never ended"
    assert (w.status, w.stop_reason) == ("stopped", "moderation"), (w.status, w.stop_reason)
    assert w.metrics["stop_reason"] == "moderation"
    assert w.metrics["stop_detail"] == detail
    assert FLAG in w.text, "the text is kept"
    assert all_hidden(w), w.parts
    assert "hidden by moderation" in repr(w) and FLAG not in repr(w)


def flagged_midway(gate: threading.Event, api: str = "responses") -> tuple[Script, str]:
    """600 words, the flagged one, 600 more, then the server waits for ``gate`` (the stream
    is still open when the check flags), then the rest."""
    pieces = [*WORDS[:600], f"{FLAG} ", *WORDS[600:1200]]
    head, tail = BUILDERS[api](pieces)
    return (Script.events(api, head, delay=0.0005).then_wait(gate).then_events(tail),
            "".join(pieces))


# ---- a callable ------------------------------------------------------------------------------


def test_a_flagged_answer_is_stopped_and_hidden_and_its_connection_closed(sse_server, client):
    gate = threading.Event()
    script, full = flagged_midway(gate)
    sse_server.enqueue(script)
    moderator = Recorder()
    try:
        w = nbstream.responses(client, model="m", input="hi", moderate=moderator)
        stopped_by_moderation(w, "said a word on the list")
    finally:
        gate.set()
    assert sse_server.requests[0].wait_closed(2), "the connection stays open"
    assert full.startswith(w.text) and len(w.text) < len(full)
    assert w.metrics["moderation"]["checks"] >= 1
    assert FLAG in moderator.windows[-1] and moderator.most_at_once == 1
    # The saved copy: the text is there, behind a closed <details>.
    page = w._static_bundle()[0]["text/html"]
    assert_hidden_in_html(page, FLAG)
    assert FLAG not in w._static_bundle()[0]["text/plain"]


def test_a_flagged_word_in_the_last_characters_never_ends_done():
    """Too short for a check while it streams: the end waits for the last check."""
    moderator = Recorder(reason=True)
    w = nbstream.stream(["A short answer ", f"with a {FLAG} word", " at its end."],
                        moderate=moderator)
    stopped_by_moderation(w, "flagged")
    assert w.text == f"A short answer with a {FLAG} word at its end."
    assert moderator.windows == [w.text]


def test_a_moderator_that_never_flags_sees_every_character_in_overlapping_windows(
        sse_server, client):
    head, tail = responses_events(WORDS)
    sse_server.enqueue(Script.events("responses", head + tail, delay=0.0003))
    moderator = Recorder()
    w = nbstream.responses(client, model="m", input="hi", moderate=moderator)
    assert w.wait(timeout=20)
    assert (w.status, w.stop_reason) == ("done", None), (w.status, w.error)
    assert w.text == "".join(WORDS) and not any(p.get("hidden") for p in w.parts)
    places = covered(w.text, moderator.windows)
    assert len(places) >= len(w.text) // (STEP + WINDOW), "checked too rarely"
    assert moderator.most_at_once == 1, "two checks of one stream at once"
    assert moderator.done == len(moderator.windows), "the end did not wait for the last check"
    moderation = w.metrics["moderation"]
    assert 1 <= moderation["checks"] <= len(places)
    assert moderation | {"checks": 0} == {"checks": 0, "checked_chars": len(w.text), "errors": 0,
                                          "error": None, "complete": True}


def test_a_slow_moderator_does_not_slow_the_stream(sse_server, client):
    pieces = WORDS[:900]
    head, tail = responses_events(pieces)
    delay = 0.002
    sse_server.enqueue(Script.events("responses", head + tail, delay=delay))
    moderator = Recorder(delay=0.4)
    w = nbstream.responses(client, model="m", input="hi", moderate=moderator)
    full = "".join(pieces)
    rec = sse_server.wait_for_request(0)
    last_text_sent: list[float] = []
    watcher = threading.Thread(
        target=lambda: rec.wait_sent(len(head), 20) and last_text_sent.append(time.monotonic()))
    watcher.start()
    assert wait_until(lambda: len(w.text) == len(full), 20)
    arrived = time.monotonic()
    checks_meanwhile = len(moderator.windows)
    watcher.join()
    # At the server's pace: a moderator that blocked would add 0.4 s per window (10 or more).
    assert last_text_sent and arrived - last_text_sent[0] < 0.5, arrived - last_text_sent[0]
    assert checks_meanwhile >= 2, "the moderator was not checking while the text streamed"
    assert w.wait(timeout=20) and w.status == "done"
    assert moderator.done == len(moderator.windows), "the end did not wait for the last check"
    assert len(moderator.windows) < len(full) // STEP, "checks were not coalesced"
    covered(w.text, moderator.windows)  # catching up, it still checked every character


def test_a_moderator_that_raises_is_logged_and_the_stream_goes_on(sse_server, client, caplog):
    head, tail = responses_events(WORDS[:400])
    sse_server.enqueue(Script.events("responses", head + tail, delay=0.0005))
    calls = []

    def broken(text: str) -> None:
        calls.append(text)
        raise RuntimeError("moderation service down")

    with caplog.at_level(logging.WARNING, logger="nbstream"):
        w = nbstream.responses(client, model="m", input="hi", moderate=broken)
        assert w.wait(timeout=15)
    assert (w.status, w.stop_reason) == ("done", None), (w.status, w.error)
    assert w.text == "".join(WORDS[:400])
    assert len(calls) >= 2
    moderation = w.metrics["moderation"]
    assert moderation["errors"] == len(calls) and moderation["checks"] == len(calls)
    assert moderation["error"] == "RuntimeError: moderation service down"
    logged = [r for r in caplog.records if "moderator" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None, "logged once, with traceback"


def test_the_end_waits_for_the_last_check_only_so_long(monkeypatch, caplog):
    """Fail-open: a last check that outlasts ``FINAL_TIMEOUT`` does not hold the answer."""
    monkeypatch.setattr("nbstream._moderation.FINAL_TIMEOUT", 0.3)
    gate = threading.Event()

    def stuck(text: str) -> str:
        gate.wait(10)
        return "too late"

    try:
        started = time.monotonic()
        w = nbstream.stream(["a short answer"], moderate=stuck)
        assert w.wait(timeout=5)
        assert 0.25 <= time.monotonic() - started < 3
        assert (w.status, w.stop_reason) == ("done", None)
        assert w.metrics["moderation"]["complete"] is False
        with caplog.at_level(logging.WARNING, logger="nbstream"):
            gate.set()
            assert wait_until(lambda: any("after its end" in r.getMessage()
                                          for r in caplog.records), 5)
    finally:
        gate.set()
    assert w.status == "done" and not any(p.get("hidden") for p in w.parts)


def test_a_stop_does_not_wait_for_a_check(sse_server, client):
    gate = threading.Event()
    script, _ = flagged_midway(gate)
    sse_server.enqueue(script)
    moderator = Recorder(flag=None, delay=3.0)
    try:
        w = nbstream.responses(client, model="m", input="hi", moderate=moderator)
        assert wait_until(lambda: moderator.running, 10)
        w.stop()
        assert w.wait(timeout=1), "the stop waited for the check in flight"
        assert w.stop_reason == "user" and not any(p.get("hidden") for p in w.parts)
    finally:
        gate.set()
    assert sse_server.requests[0].wait_closed(2)


def test_an_async_moderator_and_a_chat_stream(sse_server, client):
    gate = threading.Event()
    script, _ = flagged_midway(gate, "chat")
    sse_server.enqueue(script)

    async def moderate(text: str) -> str | None:
        await asyncio.sleep(0.01)
        return "async says no" if FLAG in text else None

    try:
        w = nbstream.chat(client, **KWARGS["chat"], moderate=moderate)
        stopped_by_moderation(w, "async says no")
    finally:
        gate.set()
    assert sse_server.requests[0].wait_closed(2)


# ---- "openai": the client's moderation endpoint ---------------------------------------------


def moderation_endpoint(sse_server, categories: tuple[str, ...] = ("violence",)):
    """Serve ``POST /v1/moderations``: flagged when the input holds the flagged word."""

    def answer(rec) -> dict[str, Any]:
        inputs = rec.json["input"]
        results = []
        for text in inputs if isinstance(inputs, list) else [inputs]:
            flagged = FLAG in text
            results.append({
                "flagged": flagged,
                "categories": {"violence": flagged and "violence" in categories,
                               "harassment/threatening": flagged and "harassment/threatening"
                               in categories, "hate": False},
                "category_scores": {"violence": 0.9 if flagged else 0.01,
                                    "harassment/threatening": 0.0, "hate": 0.0},
                "category_applied_input_types": {"violence": ["text"]},
            })
        return {"id": f"modr-{rec.index}", "model": OPENAI_MODEL, "results": results}

    sse_server.route("/v1/moderations", answer)


def sent_windows(sse_server) -> list[str]:
    windows: list[str] = []
    for rec in sse_server.routed:
        assert rec.method == "POST" and rec.json["model"] == OPENAI_MODEL
        assert rec.headers["authorization"] == f"Bearer {API_KEY}"
        text = rec.json["input"]
        windows += text if isinstance(text, list) else [text]
    return windows


def test_openai_moderation_that_does_not_flag(sse_server, client):
    moderation_endpoint(sse_server)
    head, tail = responses_events(WORDS[:700])
    sse_server.enqueue(Script.events("responses", head + tail, delay=0.0005))
    w = nbstream.responses(client, model="m", input="hi", moderate="openai")
    assert w.wait(timeout=20)
    assert (w.status, w.stop_reason) == ("done", None), (w.status, w.error)
    covered(w.text, sent_windows(sse_server))
    assert w.metrics["moderation"]["errors"] == 0
    assert w.metrics["moderation"]["complete"] is True


def test_openai_moderation_that_flags(sse_server, client):
    moderation_endpoint(sse_server, ("violence", "harassment/threatening"))
    gate = threading.Event()
    script, _ = flagged_midway(gate)
    sse_server.enqueue(script)
    try:
        w = nbstream.responses(client, model="m", input="hi", moderate="openai")
        stopped_by_moderation(w, "flagged: harassment/threatening, violence")
    finally:
        gate.set()
    assert sse_server.requests[0].wait_closed(2), "the connection stays open"
    windows = sent_windows(sse_server)
    assert FLAG in windows[-1] and all(FLAG not in window for window in windows[:-1])


@pytest.mark.parametrize("in_a_loop", [True, False], ids=["in-a-running-loop", "no-loop"])
def test_openai_moderation_with_an_async_client(sse_server, make_async_client, in_a_loop):
    moderation_endpoint(sse_server)
    gate = threading.Event()
    script, _ = flagged_midway(gate)
    sse_server.enqueue(script)

    async def main():
        client = make_async_client()
        try:
            w = nbstream.responses(client, model="m", input="hi", moderate="openai")
            await asyncio.wait_for(_until_ended(w), 15)
            return w
        finally:
            await client.close()

    try:
        if in_a_loop:
            w = asyncio.run(main())
        else:
            client = make_async_client()
            try:
                w = nbstream.responses(client, model="m", input="hi", moderate="openai")
                assert w.wait(timeout=15)
            finally:
                asyncio.run(client.close())
    finally:
        gate.set()
    stopped_by_moderation(w, "flagged: violence")
    assert sse_server.requests[0].wait_closed(2)
    assert sse_server.routed, "the endpoint was never called"


async def _until_ended(w):
    return await w


def test_openai_moderation_of_a_stream_made_elsewhere_takes_a_client(sse_server, client):
    with pytest.raises(TypeError, match=r'moderate="openai"\) needs a client'):
        nbstream.stream(iter(["a"]), moderate="openai")
    moderation_endpoint(sse_server)
    w = nbstream.stream(iter(["fine ", "words"]), moderate=("openai", client))
    assert w.wait(timeout=15) and w.status == "done"
    assert sent_windows(sse_server) == ["fine words"]
    flagged = nbstream.stream(iter(["a ", FLAG, " word"]), moderate=("openai", client))
    stopped_by_moderation(flagged, "flagged: violence")


# ---- what moderate= takes ---------------------------------------------------------------------


def two_arguments(text, other):
    return None


@pytest.mark.parametrize("value", [42, True, "OpenAI", "azure", ("openai",), ("azure", None),
                                   {"openai": 1}, lambda: None, two_arguments, str],
                         ids=repr)
def test_bad_moderate_values_fail_at_the_call(value, sse_server, client):
    with pytest.raises(TypeError, match=r"moderate=") as info:
        nbstream.responses(client, model="m", input="hi", moderate=value)
    message = str(info.value)
    assert "callable" in message
    with pytest.raises(TypeError, match=r"nbstream\.stream\(moderate="):
        nbstream.stream(iter(["a"]), moderate=value)
    with pytest.raises(TypeError, match=r"expects an OpenAI client"):
        nbstream.chat(client, **KWARGS["chat"], moderate=("openai", "sk-not-a-client"))
    assert not sse_server.requests and not sse_server.routed, "a request was made"


def test_windows_overlap_and_catch_up():
    assert spans(300, 0) == [(0, 300)]
    assert spans(2600, 2000) == [(600, 2600)]  # the last WINDOW characters, overlapping 1,400
    assert spans(2000, 2000) == []
    catch_up = spans(30_000, 1_000)
    assert catch_up[0][0] == 1_000 - OVERLAP and catch_up[-1][1] == 30_000
    for (_, end), (start, _) in itertools.pairwise(catch_up):
        assert end - start == OVERLAP
    assert all(end - start <= LONGEST for start, end in catch_up)


# ---- the saved copy ---------------------------------------------------------------------------


class _Outline(html.parser.HTMLParser):
    """Where the hidden word is: inside which elements, and with what attributes."""

    def __init__(self, word: str) -> None:
        super().__init__()
        self.word = word
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.found: list[list[tuple[str, dict[str, str | None]]]] = []
        self.summaries: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag not in ("br", "hr", "img", "input", "meta", "link"):
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] == "summary":
            self.summaries.append(data)
        if self.word in data:
            self.found.append(list(self.stack))


def assert_hidden_in_html(page: str, word: str) -> None:
    outline = _Outline(word)
    outline.feed(page)
    assert outline.found, "the text is not in the saved copy"
    for where in outline.found:
        details = [attrs for tag, attrs in where if tag == "details"]
        assert details, f"{word!r} is not inside a <details>: {[tag for tag, _ in where]}"
        assert all("open" not in attrs for attrs in details), "the <details> is open"
    assert "Hidden by moderation — show" in outline.summaries


def test_the_saved_copy_and_its_html_export_keep_the_answer_hidden():
    nbformat = pytest.importorskip("nbformat")
    exporter = pytest.importorskip("nbconvert").HTMLExporter
    w = nbstream.stream(["# Title\n\n", f"A {FLAG} answer.\n"], moderate=Recorder())
    stopped_by_moderation(w, "said a word on the list")
    data, metadata = w._static_bundle()
    assert_hidden_in_html(data["text/html"], FLAG)
    assert "<script" not in data["text/html"]
    assert 'data-status="stopped"' in data["text/html"]
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("w")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    nb.cells = [cell]
    body, _ = exporter().from_notebook_node(nb)
    assert_hidden_in_html(body, FLAG)


SHOWN_THEN_FLAGGED = f"""
import time

WORD = "{FLAG[:4]}" + "{FLAG[4:]}"  # (the exported source must not hold the word)

def slow():
    for i in range(40):
        time.sleep(0.01)
        yield f"word{{i}} "
    yield f"a {{WORD}} word."

w = nbstream.stream(slow(), moderate=lambda text: "on the list" if WORD in text else None)
w
"""


@pytest.mark.kernel
@pytest.mark.timeout(240)
def test_a_notebook_saves_the_flagged_answer_hidden(tmp_path, monkeypatch):
    """A real kernel (nbclient): the answer is shown while it streams, flagged at its end;
    the saved output is the static copy with the answer behind a closed <details>, and
    nbconvert's export of that notebook shows it hidden."""
    import json
    import os

    from nbconvert import HTMLExporter
    from test_saved_notebooks import REPO_ROOT, WIDGET_VIEW, _run

    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    state = ('w.wait(timeout=60)\nprint(json.dumps({"status": w.status, "reason": w.stop_reason,'
             ' "hidden": [p.get("hidden") for p in w.parts]}))')
    nb = _run([SHOWN_THEN_FLAGGED, state], tmp_path)
    said = json.loads(nb.cells[-1].outputs[-1]["text"].strip().splitlines()[-1])
    assert said == {"status": "stopped", "reason": "moderation", "hidden": ["moderation"]}, said
    [data] = [o["data"] for o in nb.cells[1].outputs if "data" in o]
    assert WIDGET_VIEW not in data and "hidden by moderation" in data["text/plain"]
    assert_hidden_in_html(data["text/html"], FLAG)
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert_hidden_in_html(body, FLAG)
