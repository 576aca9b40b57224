"""Saved notebooks always show the answer, and a watching page keeps its live widget.

At the end of a stream the kernel replaces every display of the widget by a static copy
(``text/html`` only): the saved notebook then shows the answer with the kernel restarted or
gone (JupyterLab 4, Notebook 7, nbconvert, GitHub-style renderers), never "Error displaying
widget: model not found". A page that watches the end keeps its live widget: the removed view
moves its DOM into the copy's place (committed nodes, the reader's selection, Raw / Copy).
No guess is made about whether a page is watching, so a kernel busy in a later cell (which
cannot hear the page) changes nothing.

The kernel side (nbclient, every shape of stream) is in ``tests/test_saved_notebooks.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from test_frontend import STATE_CELL, html_text, kernel_state, slow_cell  # noqa: E402
from test_jupyterlab import BODY, ROOT, wait_status  # noqa: E402

from nbstream._static import static_html  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
END = "Final words of the slow answer."  # the last words of test_frontend's paced stream


def stream_cell(n: int, delay: float) -> str:
    """A paced markdown stream ending with ``END`` (test_frontend's)."""
    return slow_cell(n=n, delay=delay)


# Tag the live widget's root and its first committed block, and select the block's text
# (or, with `false`, tag the root alone).
JS_TAG = f"""(select) => {{
  const root = document.querySelector('{ROOT}');
  if (root && !select) {{
    window.__nbsSaved = {{ root, node: null, text: '' }};
    return root.dataset.status;
  }}
  const node = root && root.querySelector('.nbs-blocks > *');
  if (!node) return null;
  const range = document.createRange();
  range.selectNodeContents(node);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  window.__nbsSaved = {{ root, node, text: node.textContent }};
  return node.textContent;
}}"""

# Is the tagged live widget still the one shown, with its node, and the reader's selection?
JS_LIVE = f"""() => {{
  const t = window.__nbsSaved;
  const sel = window.getSelection();
  const shown = [...document.querySelectorAll('{ROOT}')];
  const first = t.root.querySelector('.nbs-blocks > *');
  return {{
    rootConnected: t.root.isConnected,
    onlyRoot: shown.length === 1 && shown[0] === t.root,
    status: t.root.dataset.status,
    nodeConnected: t.node ? t.node.isConnected : true,
    nodeFirst: t.node ? first === t.node : !!first,
    selected: t.node ? sel.rangeCount === 1 && sel.getRangeAt(0).intersectsNode(t.node)
      && sel.toString() === t.text : true,
    copiesShown: document.querySelectorAll('.nbstream-static').length,
    roots: shown.length,
  }};
}}"""

# The outputs of a cell as the notebook model holds them (what the file gets on save).
JS_OUTPUT_DATA = """(index) => {
  const w = window.jupyterapp.shell.currentWidget;
  return w.content.widgets[index].model.outputs.toJSON()
    .filter((o) => o.data).map((o) => o.data);
}"""

# The whitespace-normalised text a cell's output area shows.
JS_OUTPUT_TEXT = """(index) => {
  const w = window.jupyterapp.shell.currentWidget;
  const cell = w && w.content.widgets[index];
  const area = cell && cell.node.querySelector('.jp-OutputArea');
  return area ? area.textContent.replace(/\\s+/g, ' ').trim() : null;
}"""

# Where the live widget sits (it must not move when its DOM moves into the static copy).
JS_BOX = f"""() => {{
  const b = document.querySelector('{ROOT}').getBoundingClientRect();
  return {{ left: b.left, width: b.width }};
}}"""

# Save; whether the model is still dirty. A save that throws (Notebook 7's shared model has
# been seen to fail once, "reading 'schema'") is tried again, up to three times.
JS_SAVE = """async () => {
  const w = window.jupyterapp.shell.currentWidget;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await w.context.save();
      if (!w.context.model.dirty) return false;
    } catch (error) {
      console.warn('save failed, trying again', error);
    }
  }
  return w.context.model.dirty;
}"""


def assert_static_only(outputs: list[dict[str, Any]], html: str, where: str) -> None:
    """One output: the static copy of the final answer, and no widget view."""
    assert len(outputs) == 1, f"{where}: {len(outputs)} outputs: {[sorted(d) for d in outputs]}"
    data = outputs[0]
    assert WIDGET_VIEW not in data, (
        f"{where}: the output keeps a widget view ({sorted(data)}): with the kernel restarted "
        "JupyterLab shows 'Error displaying widget: model not found' instead of the answer"
    )
    static = data.get("text/html")
    static = "".join(static) if isinstance(static, list) else static
    assert static and static.endswith(f"{static_html(html)}</div>"), (
        f"{where}: no static copy: {sorted(data)}"
    )


def wait_live_widget_kept(page: Any, when: str) -> dict[str, Any]:
    """The tagged live widget is still the one shown (not replaced by the static copy), its
    committed node untouched and still selected; no static copy is shown beside it."""
    try:
        page.wait_for_function(
            f"() => {{ const s = ({JS_LIVE})();"
            " return s.rootConnected && s.status === 'done' && s.copiesShown === 0"
            " && s.nodeConnected && s.selected; }",
            timeout=10_000,
        )
    except Exception as exc:
        state = page.evaluate(JS_LIVE)
        raise AssertionError(
            f"{when}: the live widget was not kept at the end of the stream (the page shows "
            f"the static copy instead, or lost the node / selection): {state}"
        ) from exc
    live: dict[str, Any] = page.evaluate(JS_LIVE)
    assert live["onlyRoot"] and live["nodeFirst"], live
    return live


def tag_live_widget(page: Any, select: bool = True) -> str:
    """Tag the live widget while it streams; with ``select``, once it shows committed blocks,
    select the first one (a reader's selection that must survive the end)."""
    blocks = 2 if select else 0
    page.wait_for_function(
        f"(n) => {{ const r = document.querySelector('{ROOT}');"
        " return r && r.dataset.status === 'streaming'"
        " && r.querySelectorAll('.nbs-blocks > *').length >= n; }",
        arg=blocks,
    )
    text = page.evaluate(JS_TAG, select)
    assert text and text.strip(), text
    return str(text)


def check_raw_is_live(page: Any) -> None:
    """Raw asks the kernel for the markdown source over the widget's comm: the moved widget
    is still wired to its model."""
    page.locator(f"{ROOT} button.nbstream-action", has_text="Raw").click()
    try:
        page.wait_for_function(
            f"() => {{ const r = document.querySelector('{ROOT} .nbstream-raw');"
            " return r && !r.hidden && r.textContent.includes('## Part 0'); }",
            timeout=10_000,
        )
    except Exception as exc:
        raw = page.evaluate(
            f"() => {{ const r = document.querySelector('{ROOT} .nbstream-raw');"
            " return r ? [r.hidden, r.textContent.slice(0, 200)] : null; }"
        )
        raise AssertionError(f"Raw shows no markdown source from the kernel: {raw}") from exc


@pytest.mark.parametrize("app", ["lab", "nb7"])
def test_saved_notebook_shows_the_answer_after_a_kernel_restart(
    app: str, request: pytest.FixtureRequest
) -> None:
    """Stream, watch it end (the live widget stays), save, restart the kernel (JupyterLab) or
    shut it down (Notebook 7), reload: the answer is shown, not "model not found"."""
    nb = request.getfixturevalue(app)
    nb.open(f"saved_{app}", [stream_cell(n=160, delay=0.01), STATE_CELL])
    page = nb.page
    assert not nb.run_cell(0)["errors"]
    tag_live_widget(page)
    box = page.evaluate(JS_BOX)
    assert wait_status(page, ("done",), timeout=60_000) == "done"
    wait_live_widget_kept(page, "at the end of the stream")
    assert page.evaluate(JS_BOX) == box, "the widget moved or changed width at the end"
    state = kernel_state(nb, 1)
    assert state["status"] == "done" and END in state["text"], state
    answer = html_text(page, state["html"])
    body = page.evaluate(
        f"() => document.querySelector('{BODY}').textContent.replace(/\\s+/g, ' ').trim()"
    )
    assert body == answer
    assert_static_only(page.evaluate(JS_OUTPUT_DATA, 0), state["html"], "the notebook model")
    check_raw_is_live(page)

    assert page.evaluate(JS_SAVE) is False, "the notebook is still dirty after saving"
    saved = nbformat.read(nb.server.root_dir / nb.path, as_version=4)
    assert_static_only(
        [o["data"] for o in saved.cells[0].outputs if "data" in o], state["html"], "the file"
    )

    if app == "lab":
        page.evaluate(
            "async () => { const w = window.jupyterapp.shell.currentWidget;"
            " await w.sessionContext.session.kernel.restart(); }"
        )
    else:
        nb.server.shutdown_sessions()
    page.reload(wait_until="domcontentloaded")
    nb.wait_kernel_idle()

    try:
        page.wait_for_function(
            f"([i, end]) => ({JS_OUTPUT_TEXT})(i)?.endsWith(end)", arg=[0, END], timeout=20_000
        )
    except Exception as exc:
        shown = page.evaluate(JS_OUTPUT_TEXT, 0)
        nb.screenshot(f"reopened-{app}")
        raise AssertionError(f"reopened after the restart, the output shows {shown!r}") from exc
    assert page.evaluate(JS_OUTPUT_TEXT, 0) == answer
    notebook_text = page.evaluate("() => document.querySelector('.jp-Notebook').textContent")
    assert "model not found" not in notebook_text
    assert "Error displaying widget" not in notebook_text
    nb.screenshot(f"reopened-{app}")


def test_busy_kernel_keeps_the_live_widget(lab) -> None:
    """Run All with a later cell that keeps the kernel busy for 6 s: the stream ends while the
    kernel cannot hear the page, and the page keeps its live widget (no swap for the copy)."""
    sleep_cell = "import time\nat_start = w.status\ntime.sleep(6)\nat_end = w.status"
    record = 'print(json.dumps({"at_start": at_start, "at_end": at_end}))'
    lab.open("busy", [stream_cell(n=120, delay=0.02), sleep_cell, STATE_CELL, record])
    page = lab.page
    lab.run_all()
    # (While the kernel sleeps, a view that joined after the first patches cannot get its
    # snapshot: the page's hello waits for the kernel. So the root is tagged, no block.)
    tag_live_widget(page, select=False)
    # The end: the tagged widget says done, or it left the page (swapped for the copy).
    page.wait_for_function(
        "() => { const r = window.__nbsSaved.root;"
        " return !r.isConnected || r.dataset.status === 'done'; }",
        timeout=30_000,
    )
    wait_live_widget_kept(page, "while the kernel is busy")

    # Run All finishes; the widget is still the live one, and still wired to the kernel.
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w.content.widgets[3].model.executionCount !== null"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=60_000,
    )
    state = json.loads(lab.cell_output(2)["text"].strip().splitlines()[-1])
    assert state["status"] == "done", state
    # The kernel's own record: the stream ended while the later cell kept it busy.
    busy = json.loads(lab.cell_output(3)["text"].strip().splitlines()[-1])
    assert busy["at_start"] in ("pending", "streaming") and busy["at_end"] == "done", busy
    live = wait_live_widget_kept(page, "after Run All")
    assert live["roots"] == 1, live
    assert_static_only(page.evaluate(JS_OUTPUT_DATA, 0), state["html"], "the notebook model")
    check_raw_is_live(page)
    lab.screenshot("busy-kept-live")
