"""What a notebook run headless (nbclient, papermill) saves: every shape of stream leaves the
final answer as a static ``text/html`` copy in the output, and no widget view.

A widget view left in a saved output is worse than nothing once the kernel is gone: JupyterLab
and Notebook 7 show "Error displaying widget: model not found", and nbconvert prefers it to the
``text/html`` copy whenever the notebook holds widget state (nbclient saves it), so the export
shows no answer. The browser side (a live page keeps its widget; a reopened notebook shows the
answer) is in ``tests/browser/test_saved.py``.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbstream._static import static_html

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(240)]

REPO_ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATE = 'w.wait(timeout=60)\nprint(json.dumps({"status": w.status, "html": w.html}))'
SLOW = """
import time

def slow():
    for i in range(30):
        time.sleep(0.03)
        yield f"word{i} "
    yield "\\n\\nThe end of the slow answer."
"""

# name -> (cells after `import nbstream, json`, indices of the cells that display `w`)
SHAPES: dict[str, tuple[list[str], list[int]]] = {
    # A short answer that is over by the time its cell shows it.
    "short_answer_shown_when_over": (
        ['w = nbstream.stream("A short answer, *settled* at once.")\nw.wait(timeout=30)\nw'],
        [0],
    ),
    # A cached answer (a list of chunks), shown by a later cell.
    "cached_answer_shown_by_a_later_cell": (
        ['w = nbstream.stream(["A ", "cached ", "answer."])', "w.wait(timeout=30)", "w"],
        [2],
    ),
    # The offline demo at full speed, shown once it is over.
    "fast_demo_answer": (
        [
            "w = nbstream.responses(nbstream.demo_client(speed=float('inf')), model='demo',\n"
            "                       input='Say double bubble bath ten times fast.')",
            "w.wait(timeout=60)",
            "w",
        ],
        [2],
    ),
    # A slow answer shown while it streams, twice; a later cell waits for it.
    "slow_answer_shown_while_streaming": (
        [SLOW + "\nw = nbstream.stream(slow())\nw", "display(w)", "w.wait(timeout=60)"],
        [0, 1],
    ),
    # Shown while it streams and over before its own cell returns.
    "shown_and_over_in_one_cell": (
        ['w = nbstream.stream(["x ", "y ", "z"])\ndisplay(w)\n_ = w.wait(timeout=30)'],
        [0],
    ),
}


def _run(cells: list[str], cwd: Path) -> Any:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python"
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in ["import json\nimport nbstream", *cells]]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    return client.execute()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_saves_the_answer_as_static_html(
    shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbconvert import HTMLExporter

    # The kernel nbclient starts imports the nbstream of this checkout.
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    cells, shown_in = SHAPES[shape]
    nb = _run([*cells, STATE], tmp_path)

    state = json.loads(nb.cells[-1].outputs[-1]["text"].strip().splitlines()[-1])
    assert state["status"] == "done", state
    assert state["html"].strip(), state
    for index in shown_in:
        outputs = [o for o in nb.cells[index + 1].outputs if "data" in o]
        assert len(outputs) == 1, [o.get("output_type") for o in nb.cells[index + 1].outputs]
        data = outputs[0]["data"]
        assert WIDGET_VIEW not in data, (
            f"cell {index + 1} saved a widget view ({sorted(data)}): JupyterLab shows 'model not "
            "found' once the kernel is gone, and nbconvert prefers it to the static copy"
        )
        assert "text/html" in data, f"cell {index + 1} saved no static copy: {sorted(data)}"
        static = data["text/html"]
        assert static.startswith('<div class="nbstream-static '), static[:200]
        assert static.endswith(f'data-status="done">{static_html(state["html"])}</div>'), (
            static[-300:]
        )
        assert "status='done'" in data["text/plain"], data["text/plain"]

    # nbconvert's export shows the answer (the notebook holds nbclient's widget state).
    assert nb.metadata.get("widgets"), "nbclient saved no widget state: the check below is moot"
    body, _ = HTMLExporter().from_notebook_node(nb)
    copies = body.count(static_html(state["html"]))
    assert copies >= len(shown_in), "the answer is not in the exported HTML"
    views = re.findall(r'<script type="application/vnd\.jupyter\.widget-view\+json">', body)
    assert views == [], f"the export renders {len(views)} widget view(s) instead of the answer"


FAILING = """
def failing():
    yield "Half of <b>an</b> answer "
    raise ConnectionResetError("the server went away")

w = nbstream.stream(failing())
w.wait(timeout=30)
w
"""

ENDLESS = """
import threading, time
first_piece_taken = threading.Event()

def endless():
    yield "Half of an answer "
    first_piece_taken.set()
    while True:
        time.sleep(0.01)
        yield "more "

w = nbstream.stream(endless())
first_piece_taken.wait(timeout=30)
w.stop()
w.wait(timeout=30)
w
"""


@pytest.mark.parametrize(("cells", "status", "note"), [
    ([FAILING], "error", "Error: ConnectionResetError: the server went away"),
    ([ENDLESS], "stopped", "Stopped, before the answer was complete."),
])
def test_a_cut_answer_is_saved_with_what_ended_it(
    cells: list[str], status: str, note: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved notebook never passes a cut answer off as a whole one: the static copy keeps
    the partial text and says what ended it (the error message, escaped)."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    nb = _run([*cells, STATE], tmp_path)
    state = json.loads(nb.cells[-1].outputs[-1]["text"].strip().splitlines()[-1])
    assert state["status"] == status, state
    [static] = [o["data"]["text/html"] for o in nb.cells[1].outputs if "data" in o]
    assert f'data-status="{status}">{static_html(state["html"])}' in static, static[-400:]
    assert html_lib.escape(note) in static, static[-400:]
    assert "<b>" not in static
