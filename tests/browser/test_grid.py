"""``nbstream.compare()`` in a real JupyterLab 4 page (issue 11): a 3 by 2 grid streams every
pane progressively, its summary table matches each pane's metrics, a diff of two picked panes
shows, Stop all stops every pane and closes every connection, and the saved notebook shows
every pane's answer once the page is reloaded.
"""

from __future__ import annotations

import json
from typing import Any

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SETUP_CELL = """
import json
import nbstream
from nbstream._demo import demo_transport

client = nbstream.demo_client(seed=3, speed=SPEED)
"""

GRID_CELL = """
g = nbstream.compare(
    client,
    model=nbstream.vary(["demo-a", "demo-b", "demo-c"]),
    temperature=nbstream.vary([0.2, 0.9]),
    input=PROMPT,
    title="Three models, two temperatures",
)
g
"""

STATE_CELL = """
g.wait(60)
requests = demo_transport(client).requests
for r in requests:
    r.closed.wait(timeout=5)
print(json.dumps({"grid": g.status, "panes": [
    {"label": r["label"], "status": r["status"], "reason": r["stop_reason"],
     "tokens": r["metrics"]["output_tokens"], "text": r["text"]} for r in g.results],
    "requests": [(q.body.get("model"), q.body.get("temperature"), q.closed.is_set())
                 for q in requests]}))
"""

PANE = ".nbstream-grid .nbs-pane"
GRID = ".nbstream-grid"


def cells(speed: float, prompt: str) -> list[str]:
    return [SETUP_CELL.replace("SPEED", repr(speed)),
            GRID_CELL.replace("PROMPT", repr(prompt)), STATE_CELL]


def state(lab: Any) -> dict[str, Any]:
    out = lab.run_cell(2)
    assert not out["errors"], out
    result: dict[str, Any] = json.loads(out["text"].strip().splitlines()[-1])
    return result


def pane_texts(page: Any) -> list[int]:
    lengths: list[int] = page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map("
        "(p) => (p.querySelector('.nbstream-body')?.textContent || '').length)", PANE)
    return lengths


def pane_statuses(page: Any) -> list[str]:
    statuses: list[str] = page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map("
        "(p) => p.querySelector('.nbstream')?.dataset.status || '')", PANE)
    return statuses


def test_a_grid_streams_every_pane_matches_its_table_diffs_and_is_saved(lab) -> None:
    lab.open("grid", cells(1.5, "Give me a long explanation of streaming."))
    assert not lab.run_cell(0)["errors"]
    assert not lab.run_cell(1)["errors"]
    page = lab.page
    page.wait_for_function("(sel) => document.querySelectorAll(sel).length === 6", arg=PANE)
    labels = page.evaluate("(sel) => [...document.querySelectorAll(sel)].map("
                           "(p) => p.querySelector('.nbstream-title')?.textContent)", PANE)
    assert labels == [f"model=demo-{m} · temperature={t}" for m in "abc" for t in (0.2, 0.9)]

    # Progressive: every pane shows part of its answer while it still streams, then more.
    page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].every((p) =>"
        " p.querySelector('.nbstream')?.dataset.status === 'streaming'"
        " && (p.querySelector('.nbstream-body')?.textContent || '').length > 40)",
        arg=PANE, timeout=30_000)
    early = pane_texts(page)
    page.wait_for_function(
        "([sel, early]) => [...document.querySelectorAll(sel)].every((p, i) =>"
        " (p.querySelector('.nbstream-body')?.textContent || '').length > early[i] + 100)",
        arg=[PANE, early], timeout=30_000)
    lab.screenshot("grid-streaming")

    kernel = state(lab)  # waits for the end
    assert kernel["grid"] == "done"
    assert [p["status"] for p in kernel["panes"]] == ["done"] * 6
    assert sorted((m, t) for m, t, _ in kernel["requests"]) == sorted(
        (f"demo-{m}", t) for m in "abc" for t in (0.2, 0.9))
    page.wait_for_function("(sel) => document.querySelector(sel)?.dataset.status === 'done'",
                           arg=GRID, timeout=20_000)
    assert pane_statuses(page) == ["done"] * 6

    # The summary table: one row per pane, its label and its output tokens as the kernel has.
    rows = page.evaluate("""() => [...document.querySelectorAll('.nbs-summary tbody tr')].map(
        (tr) => [...tr.querySelectorAll('th, td')].map((c) =>
          (c.querySelector('.nbs-row-label') || c).textContent.trim()))""")
    heads = page.evaluate("""() => [...document.querySelectorAll('.nbs-summary thead th')]
        .map((c) => c.textContent.trim())""")
    column = next(i for i, name in enumerate(heads) if "tokens" in name.lower()
                  and "/s" not in name)
    by_label = {p["label"]: p for p in kernel["panes"]}
    assert len(rows) == 6
    for row in rows:
        label = next(cell for cell in row if cell in by_label)
        assert row[column].lstrip("≈~") == str(by_label[label]["tokens"]), (row, heads)

    # Sorting by a column reorders the rows (and says so).
    page.locator(".nbs-summary thead button", has_text="Duration").click()
    sorted_by = page.evaluate("""() => [...document.querySelectorAll(
        '.nbs-summary thead [aria-sort]')].filter((c) => c.getAttribute('aria-sort') !== 'none')
        .map((c) => [c.textContent.trim(), c.getAttribute('aria-sort')])""")
    assert sorted_by == [["Duration", "ascending"]], sorted_by
    durations = page.evaluate("""(i) => [...document.querySelectorAll('.nbs-summary tbody tr')]
        .map((tr) => parseFloat(tr.querySelectorAll('th, td')[i].textContent))""",
                              heads.index("Duration"))
    assert durations == sorted(durations), durations

    # Pick two and diff them: the same prompt, so the two answers are the same text.
    boxes = page.locator(".nbs-summary tbody input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(3).check()
    page.locator(".nbs-diff-button").click()
    page.wait_for_function(
        "() => { const t = document.querySelector('.nbs-diff-text');"
        " return t && t.textContent.length > 200 && !t.textContent.includes('Comparing'); }",
        timeout=15_000)
    assert page.locator(".nbs-diff-text del, .nbs-diff-text ins").count() == 0  # the same
    picked = page.evaluate("""() => [...document.querySelectorAll('.nbs-summary tbody tr')]
        .filter((tr) => tr.querySelector('input[type=checkbox]').checked)
        .map((tr) => tr.querySelector('.nbs-row-label').textContent.trim())""")
    said = page.locator(".nbs-diff-labels").text_content() or ""
    assert len(picked) == 2, picked  # (in pane order)
    assert said in (f"{picked[0]} → {picked[1]}", f"{picked[1]} → {picked[0]}"), said
    lab.screenshot("grid-diff")

    # Saved: the file holds the grid's static copy with every pane's answer; a reloaded page
    # shows each of them.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                           timeout=15_000)
    saved = nbformat.read(lab.server.root_dir / lab.path, as_version=4)
    html = next(o["data"]["text/html"] for o in saved.cells[1].outputs if "data" in o)
    assert "application/vnd.jupyter.widget-view+json" not in json.dumps(saved.cells[1].outputs)
    assert html.count('<div class="nbstream-grid-pane">') == 6
    page.reload(wait_until="domcontentloaded")
    lab.wait_kernel_idle()
    page.wait_for_function(
        "() => document.querySelectorAll('.nbstream-grid-pane .nbstream-static').length === 6",
        timeout=30_000)
    shown = page.evaluate("() => [...document.querySelectorAll('.nbstream-grid-pane')]"
                          ".map((p) => p.textContent.length)")
    assert all(n > 0.8 * len(p["text"]) for n, p in zip(shown, kernel["panes"], strict=True))


def test_stop_all_stops_every_pane_and_closes_every_connection(lab) -> None:
    lab.open("grid_stop", cells(0.5, "Write a long, detailed essay about the history of "
                                     "computing."))
    assert not lab.run_cell(0)["errors"]
    assert not lab.run_cell(1)["errors"]
    page = lab.page
    page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].every((p) =>"
        " p.querySelector('.nbstream')?.dataset.status === 'streaming')",
        arg=PANE, timeout=30_000)
    page.locator(".nbs-stop-all").click()
    page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].every((p) =>"
        " p.querySelector('.nbstream')?.dataset.status === 'stopped')",
        arg=PANE, timeout=15_000)
    kernel = state(lab)
    assert kernel["grid"] == "stopped"
    assert [(p["status"], p["reason"]) for p in kernel["panes"]] == [("stopped", "user")] * 6
    assert len(kernel["requests"]) == 6 and all(closed for *_, closed in kernel["requests"])
    lab.screenshot("grid-stopped")
