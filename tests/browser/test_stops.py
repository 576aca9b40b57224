"""Stop wherever a user expects it, in a real JupyterLab 4 page (issue 10, item 1): the
toolbar's Interrupt (■) stops a streaming answer ("Stopped: interrupted" in its header) and
running the cell again stops the answer it made before; each closes the connection (the demo
server, in the kernel, records when it closed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_jupyterlab import ROOT, wait_status

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SETUP_CELL = """
import json
import nbstream
from nbstream._demo import demo_transport

client = nbstream.demo_client(seed=7)
made = []
"""

ASK_CELL = """
essay = "Write a long essay about the history of computing."
made.append(nbstream.responses(client, model="demo", input=essay))
made[-1]
"""

STATE_CELL = """
for w in made:
    w.wait(timeout=10) if w.status != "streaming" else None
requests = demo_transport(client).requests
for r in requests:
    r.closed.wait(timeout=5) if made[requests.index(r)].status == "stopped" else None
print(json.dumps([{"status": w.status, "reason": w.stop_reason, "closed": r.closed.is_set()}
                  for w, r in zip(made, requests)]))
"""

LABEL = ".nbstream .nbstream-status"


def state(lab) -> list[dict]:
    out = lab.run_cell(2)
    assert not out["errors"], out
    return json.loads(out["text"].strip().splitlines()[-1])


def start_streaming(lab, name: str, *more_cells: str) -> Any:
    """Open a notebook of the setup, ask and state cells (and ``more_cells``), run the first
    two, and return the page once the answer streams."""
    lab.open(name, [SETUP_CELL, ASK_CELL, STATE_CELL, *more_cells])
    assert not lab.run_cell(0)["errors"]
    assert not lab.run_cell(1)["errors"]
    assert wait_status(lab.page, ("streaming",)) == "streaming"
    return lab.page


def test_the_toolbar_interrupt_stops_a_streaming_answer(lab) -> None:
    page = start_streaming(lab, "interrupt")

    page.locator('.jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]').click()
    assert wait_status(page, ("stopped",), timeout=10_000) == "stopped"
    page.wait_for_function(
        "(sel) => (document.querySelector(sel)?.textContent || '')"
        ".startsWith('Stopped: interrupted at ')",
        arg=LABEL, timeout=10_000,
    )
    assert state(lab) == [{"status": "stopped", "reason": "interrupt", "closed": True}]
    lab.screenshot("stopped-by-interrupt")


def test_running_the_cell_again_stops_the_answer_it_made(lab) -> None:
    page = start_streaming(lab, "rerun")
    assert not lab.run_cell(1)["errors"]  # the same cell again: a new answer replaces it
    page.wait_for_function(
        "(sel) => document.querySelector(sel)?.dataset.status === 'streaming'", arg=ROOT
    )
    first, second = state(lab)
    assert first == {"status": "stopped", "reason": "rerun", "closed": True}, first
    assert second["status"] == "streaming", second
    lab.page.evaluate("() => window.jupyterapp.commands.execute('notebook:interrupt-kernel')")


def test_clearing_the_output_of_a_streaming_answer_stops_it(lab) -> None:
    page = start_streaming(lab, "clear", "made[0].wait(timeout=10)")
    page.evaluate("""() => {
      const app = window.jupyterapp;
      const panel = app.shell.currentWidget;
      panel.content.activeCellIndex = 1;
      return app.commands.execute('notebook:clear-cell-output');
    }""")
    page.wait_for_function("(sel) => !document.querySelector(sel)", arg=ROOT, timeout=10_000)
    lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex = 3")
    assert not lab.run_cell(3)["errors"]  # waits (at most 10 s) for the answer to end
    assert state(lab) == [{"status": "stopped", "reason": "closed", "closed": True}]
