"""Hostile or odd server data (issue 8, section 5), with the real openai SDK over the
loopback server: lone surrogates, odd choice indexes, and secrets echoed back."""

from __future__ import annotations

import json
import re
import time
import zlib
from typing import Any

import openai
import pytest
from kernel_comm import kernel_comm  # noqa: F401  (fixture)
from sse_server import Script
from test_loopback import (
    MESSAGES,
    USAGE_RESP,
    _response,
    chat_events,
    full_script,
    partial_script,
    responses_events,
)

import nbstream

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

SURROGATE = re.compile("[\ud800-\udfff]")


def snapshot_of(w) -> dict[str, Any]:
    return json.loads(zlib.decompress(bytes(w.get_state()["_snapshot"])))


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


# ---- lone surrogates -----------------------------------------------------------------------


def test_lone_surrogate_in_a_delta_keeps_streaming(sse_server, client, kernel_comm):  # noqa: F811
    """``"\\ud800"`` is valid JSON: the stream goes on, the page shows U+FFFD, and every
    message the kernel publishes can be packed (a lone surrogate cannot be encoded)."""
    pieces = ["before ", "\ud800", " after, ", "split \ud83d", "\ude00 pair"]
    sse_server.enqueue(full_script("responses", pieces))
    w = nbstream.responses(client, model="m", input="hi")
    assert w.wait(timeout=10)
    assert w.status == "done", w.error
    assert w.text == "before \ufffd after, split \U0001f600 pair"
    assert not SURROGATE.search(w.html)
    assert "\ufffd" in w.html and "\U0001f600" in w.html
    assert not [s for s in strings_in(snapshot_of(w)) if SURROGATE.search(s)]
    assert kernel_comm.messages, "the widget published through the kernel's packer"


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_lone_surrogate_in_chat_and_completions(api, sse_server, client, kernel_comm):  # noqa: F811
    sse_server.enqueue(full_script(api, ["a", "\udfff", "b"]))
    call = nbstream.chat if api == "chat" else nbstream.completions
    kwargs = {"messages": MESSAGES} if api == "chat" else {"prompt": "hi"}
    w = call(client, model="m", **kwargs)
    assert w.wait(timeout=10)
    assert (w.status, w.text) == ("done", "a\ufffdb"), w.error


def test_high_surrogate_ending_the_stream_is_replaced():
    w = nbstream.stream(["ok ", "\ud83d"])
    assert w.wait(timeout=10)
    assert (w.status, w.text) == ("done", "ok \ufffd")


# ---- choice indexes ------------------------------------------------------------------------


def _chat_with_indexes(pieces_by_index: dict[int, list[str]]) -> Script:
    events: list[dict] = []
    for index, pieces in pieces_by_index.items():
        head, tail = chat_events(pieces)
        for chunk in head + tail[:1]:
            for choice in chunk["choices"]:
                choice["index"] = index
        events += head + tail[:1]
    return Script.events("chat", [*events, chat_events([])[1][-1]])


def test_only_choice_has_index_3(sse_server, client):
    sse_server.enqueue(_chat_with_indexes({3: ["Three ", "it is"]}))
    w = nbstream.chat(client, model="m", messages=MESSAGES)
    assert w.wait(timeout=10)
    assert (w.status, w.text) == ("done", "Three it is"), w.error
    assert w.choices == ["Three it is"]
    assert "Three it is" in w.html, "the page shows the only choice"
    assert w.metrics["finish_reason"] == "stop"
    (part,) = snapshot_of(w)["parts"]
    assert part["choice"] == 0, "the page shows choice 0: the only choice must be there"
    assert w.parts[0]["choice"] == 3, "the part keeps the index the API gave it"


def test_huge_choice_index_allocates_nothing(sse_server, client):
    sse_server.enqueue(_chat_with_indexes({1_000_000_000: ["big ", "index"]}))
    w = nbstream.chat(client, model="m", messages=MESSAGES)
    assert w.wait(timeout=10)
    started = time.monotonic()
    choices = w.choices
    assert time.monotonic() - started < 0.5
    assert choices == ["big index"]
    assert (w.status, w.text) == ("done", "big index"), w.error


def test_choices_keyed_by_index(sse_server, client):
    sse_server.enqueue(_chat_with_indexes({9: ["nine"], 5: ["five"]}))
    w = nbstream.chat(client, model="m", messages=MESSAGES)
    assert w.wait(timeout=10)
    assert w.status == "done", w.error
    assert w.choices == ["five", "nine"], "in index order"
    assert w.text == "nine", "w.text is the choice the page shows first: the first to appear"


# ---- secrets echoed back -------------------------------------------------------------------

API_KEY = "AIzaNotAnSkKey-0123456789abcdef"  # a non-`sk-` key
USER, PASSWORD = "proxyuser42", "hunter2-proxy-pass"
ORG, PROJECT = "org-SECRETORG123456", "proj_SECRETPROJ654321"
HEADER_VALUE = "custom-header-token-XYZ987"
QUERY_VALUE = "query-token-QWE321"
SECRETS = [API_KEY, PASSWORD, ORG, PROJECT, HEADER_VALUE, QUERY_VALUE]
ECHO = (f"key={API_KEY} auth=Basic {USER}:{PASSWORD} org={ORG} project={PROJECT} "
        f"hdr={HEADER_VALUE} q={QUERY_VALUE}")


@pytest.fixture(params=["credentials-in-base-url", "plain-base-url"])
def secret_client(request, sse_server):
    base = sse_server.base_url
    if request.param == "credentials-in-base-url":
        base = base.replace("http://", f"http://{USER}:{PASSWORD}@")
    c = openai.OpenAI(base_url=base, api_key=API_KEY, organization=ORG, project=PROJECT,
                      default_headers={"X-Proxy-Token": HEADER_VALUE},
                      default_query={"token": QUERY_VALUE}, max_retries=0, timeout=30.0)
    try:
        yield c
    finally:
        c.close()


def _error_event() -> Script:
    head, _ = responses_events(["partial"])
    error = {"type": "error", "code": "server_error", "message": f"bad request: {ECHO}",
             "param": None, "sequence_number": 99}
    return Script.events("responses", [*head, error])


def _failed_response() -> Script:
    head, _ = responses_events(["partial"])
    failed = _response("failed", [], USAGE_RESP)
    failed["error"] = {"code": "server_error", "message": f"failed: {ECHO}"}
    event = {"type": "response.failed", "response": failed, "sequence_number": 99}
    return Script.events("responses", [*head, event])


def _echo_everywhere() -> Script:
    """The echo in places that are not errors: the model name, an event type, tool info."""
    head, tail = responses_events(["partial"])
    tail[-1]["response"]["model"] = ECHO  # the last model named is the one shown
    extra = {"type": f"response.x_{API_KEY}_{ORG}", "sequence_number": 98}
    return Script.events("responses", [*head, extra, *tail])


SCRIPTS = {
    "error-event": _error_event,
    "response-failed": _failed_response,
    "http-error-body": lambda: Script.http_error(401, f"Incorrect API key provided: {ECHO}"),
    "nested-error-event": lambda: partial_script("responses", ["partial"]).then_events(
        [{"type": "error", "error": {"message": ECHO, "code": "x"}, "sequence_number": 9}]),
    "model-and-event-type": _echo_everywhere,
}


def _open(secret_client, entry: str):
    if entry == "responses":
        return nbstream.responses(secret_client, model="m", input="hi")
    # a stream made by the user: nbstream never sees the client, only the request
    return nbstream.stream(
        lambda: secret_client.responses.create(model="m", input="hi", stream=True))


@pytest.mark.parametrize("entry", ["responses", "stream"])
@pytest.mark.parametrize("where", list(SCRIPTS))
def test_echoed_secrets_never_reach_widget_state(where, entry, sse_server, secret_client,
                                                 kernel_comm):  # noqa: F811
    sse_server.enqueue(SCRIPTS[where]())
    w = _open(secret_client, entry)
    assert w.wait(timeout=10)
    rec = sse_server.wait_for_request(0)
    assert rec.headers.get("openai-organization") == ORG, "the client did send its secrets"
    data, _metadata = w._repr_mimebundle_()
    saved = json.dumps(data, ensure_ascii=False)  # what a saved notebook holds
    state = json.dumps(snapshot_of(w), ensure_ascii=False)
    published = kernel_comm.everything()
    shown = " ".join([w.error or "", w.text, json.dumps(w.metrics), json.dumps(w.parts)])
    secrets = list(SECRETS)
    if not secret_client.base_url.password:
        secrets.remove(PASSWORD)  # not this client's: the echo is just text then
    elif entry == "stream":
        # credentials in base_url replace the API key by Basic auth: the key never left,
        # and a stream made by the user shows nbstream only what its request carried
        secrets.remove(API_KEY)
    for secret in secrets:
        for name, text in [("error/text/metrics", shown), ("snapshot", state),
                           ("published messages", published), ("saved output", saved)]:
            assert secret not in text, f"{secret!r} reached the {name}"
    if where != "model-and-event-type":
        assert w.status == "error" and "[redacted]" in w.error, w.error


# ---- values of the wrong type --------------------------------------------------------------


def test_non_string_content_is_shown_as_json(sse_server, client):
    """A number where a delta belongs, an object where tool-call arguments (a JSON string)
    belong: the stream goes on and shows them as JSON."""
    head, tail = responses_events(["n=", "x"])
    head[-1]["delta"] = 5
    tail[-1]["response"]["model"] = 7
    call = {"type": "response.function_call_arguments.done", "item_id": "fc_1",
            "output_index": 1, "arguments": {"city": "Paris"}, "sequence_number": 50}
    sse_server.enqueue(Script.events("responses", [*head, call, *tail]))
    w = nbstream.responses(client, model="m", input="hi")
    assert w.wait(timeout=10)
    assert w.status == "done", w.error
    assert w.metrics["model"] == 7
    assert w.tool_calls[0]["arguments"] == '{"city": "Paris"}'
