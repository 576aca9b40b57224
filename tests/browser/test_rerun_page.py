"""Re-run from the page, in a real JupyterLab 4 (issue 11, item 4): ↻ on a finished answer
makes the same request again in the same widget, the earlier attempt stays browsable (the
navigator shows 1/2), and the saved output is the last attempt's static copy; ↻ on one pane
of a grid re-runs that pane alone.
"""

from __future__ import annotations

import json
from typing import Any

import nbformat
import pytest
from test_jupyterlab import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SETUP_CELL = """
import json
import nbstream
from nbstream._demo import demo_transport

client = nbstream.demo_client(seed=5, speed=2)
"""

ASK_CELL = """
w = nbstream.responses(client, model="demo", input="Summarise async IO in three bullet points.")
w
"""

STATE_CELL = """
w.wait(30)
bodies = [r.body for r in demo_transport(client).requests]
print(json.dumps({"attempts": [(a["status"], len(a["text"])) for a in w.attempts],
                  "same_body": all(b == bodies[0] for b in bodies), "requests": len(bodies)}))
"""

POSITION = f"{ROOT} .nbstream-attempt"


def run_json(lab: Any, index: int) -> dict[str, Any]:
    out = lab.run_cell(index)
    assert not out["errors"], out
    result: dict[str, Any] = json.loads(out["text"].strip().splitlines()[-1])
    return result


def wait_done(page: Any, selector: str = ROOT) -> None:
    page.wait_for_function(
        "(sel) => document.querySelector(sel)?.dataset.status === 'done'", arg=selector,
        timeout=30_000)


def test_rerun_from_the_page_keeps_the_earlier_attempt_browsable(lab) -> None:
    lab.open("rerun_widget", [SETUP_CELL, ASK_CELL, STATE_CELL])
    assert not lab.run_cell(0)["errors"]
    assert not lab.run_cell(1)["errors"]
    page = lab.page
    wait_done(page)
    first = page.locator(f"{ROOT} .nbstream-body").text_content() or ""
    assert len(first) > 100

    page.locator(f"{ROOT} .nbstream-rerun").click()
    page.wait_for_function(  # the second attempt streams in the same place, then ends
        "(sel) => document.querySelector(sel)?.textContent === '2/2'", arg=POSITION,
        timeout=30_000)
    wait_done(page)
    state = run_json(lab, 2)
    assert state["requests"] == 2 and state["same_body"], state
    assert [status for status, _ in state["attempts"]] == ["done", "done"], state
    assert page.locator(ROOT).count() == 1  # one widget, no second copy

    page.locator(f"{ROOT} .nbstream-nav").first.click()  # earlier
    page.wait_for_function("(sel) => document.querySelector(sel)?.textContent === '1/2'",
                           arg=POSITION)
    shown = page.evaluate("(sel) => [...document.querySelectorAll(sel + ' .nbstream-body')]"
                          ".filter((b) => b.offsetParent !== null)"
                          ".map((b) => b.textContent)", ROOT)
    assert shown == [first], shown  # the earlier attempt's answer, read-only
    lab.screenshot("rerun-earlier-attempt")
    page.locator(f"{ROOT} .nbstream-nav").last.click()  # later
    page.wait_for_function("(sel) => document.querySelector(sel)?.textContent === '2/2'",
                           arg=POSITION)

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                           timeout=15_000)
    saved = nbformat.read(lab.server.root_dir / lab.path, as_version=4)
    outputs = [o for o in saved.cells[1].outputs if "data" in o]
    assert len(outputs) == 1, outputs
    assert "application/vnd.jupyter.widget-view+json" not in outputs[0]["data"]
    assert outputs[0]["data"]["text/html"].startswith('<div class="nbstream-static ')


GRID_CELL = """
g = nbstream.compare(client, model=nbstream.vary(["demo-a", "demo-b"]),
                     input="Summarise async IO in three bullet points.")
g
"""

GRID_STATE = """
g.wait(30)
print(json.dumps({"grid": g.status, "attempts": [len(p.attempts) for p in g.panes],
                  "requests": [r.body["model"] for r in demo_transport(client).requests]}))
"""


def test_rerun_of_one_pane_reruns_that_pane_alone(lab) -> None:
    lab.open("rerun_pane", [SETUP_CELL, GRID_CELL, GRID_STATE])
    assert not lab.run_cell(0)["errors"]
    assert not lab.run_cell(1)["errors"]
    page = lab.page
    wait_done(page, ".nbstream-grid")
    page.locator(".nbs-pane").nth(1).locator(".nbstream-rerun").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.nbs-pane')[1]"
        "?.querySelector('.nbstream-attempt')?.textContent === '2/2'", timeout=30_000)
    wait_done(page, ".nbstream-grid")
    state = run_json(lab, 2)
    assert (state["grid"], state["attempts"]) == ("done", [1, 2]), state
    first_two, last = state["requests"][:2], state["requests"][2:]
    assert sorted(first_two) == ["demo-a", "demo-b"] and last == ["demo-b"], state
