"""A long table streaming into a real JupyterLab page (issue 12): laid out by rows.

Past ``ROWS_PER_GROUP`` rows the page lays the open table out by rows (``js/src/row_groups.js``:
its columns keep their widths, rows go into a new ``<tbody>`` every 100, full groups are
painted only on screen). What must hold: every row is there, in order, with the text of the
kernel's HTML; the columns line up with the header in every group; committed rows are never
re-created (a row marked early is the same node at the end, after the display has become the
static copy); and the saved notebook's copy is the plain table of the whole render.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from test_frontend import STATE_CELL, body_text, html_text, kernel_state  # noqa: E402
from test_jupyterlab import ROOT, wait_status  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

ROWS = 330
TABLE_CELL = f'''
import time
import nbstream

CITIES = ["東京 Tōkyō", "مرحبا Cairo", "שלום Haifa", "Zürich", "São Paulo 🇧🇷", "Kyōto 京都"]
lines = ["Cities, one row per trip:", "", "| # | city | note | score |", "|---:|---|---|:---:|"]
for i in range({ROWS}):
    lines.append(f"| {{i}} | {{CITIES[i % 6]}} | trip {{i}} 🎉 with **bold** and `x<{{i}}>` | "
                 f"$ {{i * 7 % 100}} |")
ANSWER = "\\n".join(lines) + "\\n\\nThat is every trip 🏁."

def pieces(text, size=7):
    for i in range(0, len(text), size):
        time.sleep(0.0015)
        yield text[i:i + size]

w = nbstream.stream(pieces(ANSWER))
w
'''

# Marks the first body row once the table is laid out by rows (the node is checked at the end).
JS_MARK_FIRST_ROW = f"""() => {{
  const t = document.querySelector('{ROOT} .nbs-blocks table.nbs-by-rows');
  if (!t || t.tBodies.length < 2) return false;
  t.tBodies[0].rows[0].__nbsMarked = true;
  return true;
}}"""

# The table's groups, rows and alignment: each row's cells start where the header's do.
JS_TABLE = f"""() => {{
  const t = document.querySelector('{ROOT} .nbs-blocks table');
  const head = [...t.tHead.rows[0].cells].map((c) => c.getBoundingClientRect().left);
  const misaligned = [];
  for (const group of t.tBodies) {{
    group.scrollIntoView();
    const rows = [...group.rows];
    for (const row of [rows[0], rows[rows.length - 1]]) {{
      const left = [...row.cells].map((c) => c.getBoundingClientRect().left);
      if (left.some((x, i) => Math.abs(x - head[i]) > 1)) misaligned.push(row.cells[0].textContent);
    }}
  }}
  return {{
    byRows: t.classList.contains('nbs-by-rows'),
    groups: [...t.tBodies].map((g) => g.rows.length),
    done: [...t.tBodies].map((g) => g.classList.contains('nbs-rows-done')),
    firstCells: [...t.tBodies].flatMap((g) => [...g.rows].map((r) => r.cells[0].textContent)),
    markedKept: t.tBodies[0].rows[0].__nbsMarked === true,
    misaligned,
  }};
}}"""


def test_a_long_table_streams_by_rows_and_stays_one_aligned_table(lab) -> None:
    page = lab.page
    lab.open("long_table", [TABLE_CELL, STATE_CELL])
    assert not lab.run_cell(0)["errors"]
    page.wait_for_function(JS_MARK_FIRST_ROW, timeout=60_000, polling=50)
    assert wait_status(page, ("done",), timeout=60_000) == "done"
    page.wait_for_function(
        f"() => (document.querySelector('{ROOT} .nbstream-body') || {{}}).textContent"
        "?.includes('That is every trip')")
    state = kernel_state(lab, 1)
    assert state["status"] == "done"
    table = page.evaluate(JS_TABLE)
    assert table["byRows"], table
    assert table["groups"][:3] == [100, 100, 100] and sum(table["groups"]) == ROWS, table["groups"]
    assert table["done"] == [True] * (len(table["groups"]) - 1) + [False], table["done"]
    assert table["firstCells"] == [str(i) for i in range(ROWS)]
    assert table["markedKept"], "a committed row was re-created"
    assert table["misaligned"] == [], table["misaligned"]
    assert body_text(page) == html_text(page, state["html"])
    # The kernel's HTML (the saved copy's) is the plain table: one <tbody>, no layout classes.
    assert state["html"].count("<tbody>") == 1 and "nbs-by-rows" not in state["html"]
