"""nbstream in a real JupyterLab 4 (and Notebook 7) page, in headless Chromium.

DOM contract of the widget: root ``div.nbstream`` with ``data-status`` in
{pending, streaming, done, stopped, error}; rendered markdown in ``.nbstream-body``;
Stop is ``button.nbstream-stop`` (aria-label "Stop generation"); errors in ``.nbstream-error``.
"""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

ROOT = ".nbstream"
BODY = ".nbstream .nbstream-body"

DEMO_CELL = """
import json
import nbstream
from nbstream._demo import demo_transport

client = nbstream.demo_client(seed=7)
w = nbstream.responses(client, model="demo", input="Give me a long explanation of streaming.")
w
"""

# After Stop: what the demo server saw of the request (its connection closed early?).
STATE_CELL = """
w.wait(timeout=10)
req = demo_transport(client).requests[-1]
req.closed.wait(timeout=5)
print(json.dumps({
    "status": w.status, "text": w.text, "html": w.html, "full_text": req.text,
    "closed": req.closed.is_set(), "finished": req.finished, "error": req.error,
}))
"""

# Resolves with the body's text once it differs from `prev` while the widget streams.
JS_NEXT_STATE = f"""(prev) => {{
  const root = document.querySelector('{ROOT}');
  const body = document.querySelector('{BODY}');
  if (!root || !body || root.dataset.status !== 'streaming') return false;
  const text = body.innerText;
  return text.trim() !== '' && text !== prev ? text : false;
}}"""


# Text (whitespace-normalised textContent) of the rendered body ends with `end`.
JS_BODY_ENDS_WITH = """([sel, end]) => {
  const body = document.querySelector(sel);
  return !!body && body.textContent.replace(/\\s+/g, ' ').trim().endsWith(end);
}"""

# The visible text of an HTML string (DOMParser: inert, nothing runs or loads).
JS_HTML_TEXT = """(html) => new DOMParser().parseFromString(html, 'text/html')
  .body.textContent.replace(/\\s+/g, ' ').trim()"""


def wait_body_ends_with(page, end: str, when: str, timeout: float = 10_000) -> None:
    """Wait until the rendered body's text ends with ``end``; fail with what it shows."""
    try:
        page.wait_for_function(JS_BODY_ENDS_WITH, arg=[BODY, end], timeout=timeout)
    except Exception as exc:
        shown = page.evaluate(
            "(sel) => { const b = document.querySelector(sel); return b ? b.textContent : null; }",
            BODY,
        )
        tail = None if shown is None else shown[-300:]
        raise AssertionError(f"{when}: body does not end with {end!r}; it ends {tail!r}") from exc


def wait_status(page, statuses: tuple[str, ...], timeout: float = 30_000) -> str:
    """Wait until the widget's data-status is one of ``statuses`` or a final one; return it."""
    wanted = list({*statuses, "done", "stopped", "error"})
    status: str = page.wait_for_function(
        "([sel, wanted]) => { const r = document.querySelector(sel);"
        " return r && wanted.includes(r.dataset.status) ? r.dataset.status : false; }",
        arg=[ROOT, wanted],
        timeout=timeout,
    ).json_value()
    return status


@pytest.mark.parametrize("app", ["lab", "nb7"])
def test_streams_live_and_stop_closes_the_connection(
    app: str, request: pytest.FixtureRequest
) -> None:
    nb = request.getfixturevalue(app)
    nb.open("stream_stop", [DEMO_CELL, STATE_CELL])
    page = nb.page

    out = nb.run_cell(0)  # the cell returns at once; the answer streams in
    assert not out["errors"], out
    assert wait_status(page, ("streaming",)) == "streaming"

    states: list[str] = []
    prev = ""
    for _ in range(3):
        prev = page.wait_for_function(JS_NEXT_STATE, arg=prev, polling="raf").json_value()
        states.append(prev)
    assert len(set(states)) == 3, states
    assert len(states[0]) < len(states[-1])

    stop = page.locator("button.nbstream-stop")
    assert stop.get_attribute("aria-label") == "Stop generation"
    stop.click()
    assert wait_status(page, ("stopped",), timeout=10_000) == "stopped"

    out = nb.run_cell(1)
    assert not out["errors"], out
    state = json.loads(out["text"].strip().splitlines()[-1])
    assert state["status"] == "stopped"
    assert state["closed"], "Stop did not close the connection"
    assert not state["finished"], "the whole answer was sent anyway"
    assert 0 < len(state["text"]) < len(state["full_text"])
    assert state["full_text"].startswith(state["text"])
    # The page shows what the kernel says it shows (w.html), up to its last words.
    html_text = page.evaluate(JS_HTML_TEXT, state["html"])
    assert html_text, state["html"]
    wait_body_ends_with(page, html_text[-30:], "after Stop")
    nb.screenshot("stream-stopped")


FAST_CELL = """
import nbstream

TEXT = "".join(
    f"## Part {i}\\n\\nParagraph {i} of the *fast* answer, with `code`.\\n\\n" for i in range(640)
) + "The very last words."

def fast():
    for k in range(0, len(TEXT), 4):
        yield TEXT[k : k + 4]

w = nbstream.stream(fast())
w
"""


def test_fast_stream_final_text_reaches_the_page(lab) -> None:
    """~10,000 chunks of 4 characters as fast as possible: nothing is lost to the IOPub rate
    limit, and a view that joins late (the page reloaded) shows the whole answer too."""
    lab.open("fast", [FAST_CELL])
    out = lab.run_cell(0)
    assert not out["errors"], out
    page = lab.page
    assert wait_status(page, ("done",)) == "done", lab.cell_output(0)["text"]
    wait_body_ends_with(page, "The very last words.", "live view")
    assert page.locator(f"{BODY} h2").count() == 640
    log = lab.server.log_tail(200)
    assert "rate exceeded" not in log, log
    lab.screenshot("fast-done")

    # Reload: the saved output holds the static copy of the final answer (no widget view, so
    # it shows with the kernel gone too: tests/browser/test_saved.py), complete.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.reload(wait_until="domcontentloaded")
    lab.wait_kernel_idle()
    static = ".jp-OutputArea .nbstream-static"
    try:
        page.wait_for_function(JS_BODY_ENDS_WITH, arg=[static, "The very last words."])
    except Exception as exc:
        shown = page.evaluate(
            "() => document.querySelector('.jp-OutputArea')?.textContent.slice(-300)"
        )
        raise AssertionError(f"after reload the output shows {shown!r}") from exc
    assert page.locator(f"{static} h2").count() == 640
