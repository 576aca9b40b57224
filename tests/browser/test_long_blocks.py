"""Long tables, lists, code and paragraphs streaming into a real JupyterLab page (issue 12).

Past ``GROUP_SIZE`` committed rows or items (``TEXT_GROUP_CHARS`` of code or text) the page
commits them in groups (``js/src/child_groups.js``: a table's rows go into a new ``<tbody>``
every 100 and the table is laid out by rows, its columns keeping their widths; a list goes on
in another list after it; code lines and paragraph text go into blocks inside the ``<code>``
or ``<p>``, a paragraph's starting where a line started; full groups are painted only on
screen). What must hold: every row, item, line and word is there, in order, with the text of
the kernel's HTML; the columns line up with the header in every group, an ordered list counts
on, and code and paragraph lines stay where the whole render puts them; committed nodes are
never re-created (one marked early is the same node at the end, after the display has become
the static copy); and the kernel's HTML, the saved notebook's copy, is the plain block of the
whole render.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from test_frontend import STATE_CELL, body_text, html_text, kernel_state  # noqa: E402
from test_jupyterlab import ROOT, wait_status  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def stream_cell(answer: str, size: int, delay: float) -> str:
    """A cell that makes ``ANSWER`` (``answer``: its code) and streams it in pieces of
    ``size`` characters, ``delay`` seconds apart, into a widget it shows."""
    return f"""
import time
import nbstream
{answer}
def pieces(text, size={size}):
    for i in range(0, len(text), size):
        time.sleep({delay})
        yield text[i:i + size]

w = nbstream.stream(pieces(ANSWER))
w
"""


def stream_to_the_end(lab: Any, name: str, cell: str, mark: str, end: str) -> dict[str, Any]:
    """Run ``cell`` in a new notebook; ``mark`` (a page function) marks a committed node once
    the block is in groups; wait for the end and its text ``end`` on the page; the kernel's
    state (``STATE_CELL``)."""
    page = lab.page
    lab.open(name, [cell, STATE_CELL])
    assert not lab.run_cell(0)["errors"]
    page.wait_for_function(mark, timeout=60_000, polling=50)
    assert wait_status(page, ("done",), timeout=60_000) == "done"
    page.wait_for_function(
        f"(end) => (document.querySelector('{ROOT} .nbstream-body') || {{}}).textContent"
        "?.includes(end)", arg=end)
    state: dict[str, Any] = kernel_state(lab, 1)
    return state

ROWS = 330
TABLE_CELL = stream_cell(f'''
CITIES = ["東京 Tōkyō", "مرحبا Cairo", "שלום Haifa", "Zürich", "São Paulo 🇧🇷", "Kyōto 京都"]
lines = ["Cities, one row per trip:", "", "| # | city | note | score |", "|---:|---|---|:---:|"]
for i in range({ROWS}):
    lines.append(f"| {{i}} | {{CITIES[i % 6]}} | trip {{i}} 🎉 with **bold** and `x<{{i}}>` | "
                 f"$ {{i * 7 % 100}} |")
ANSWER = "\\n".join(lines) + "\\n\\nThat is every trip 🏁."
''', size=7, delay=0.0015)

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
    done: [...t.tBodies].map((g) => g.classList.contains('nbs-group-done')),
    firstCells: [...t.tBodies].flatMap((g) => [...g.rows].map((r) => r.cells[0].textContent)),
    markedKept: t.tBodies[0].rows[0].__nbsMarked === true,
    misaligned,
  }};
}}"""


def test_a_long_table_streams_by_rows_and_stays_one_aligned_table(lab) -> None:
    page = lab.page
    state = stream_to_the_end(
        lab, "long_table", TABLE_CELL, JS_MARK_FIRST_ROW, "That is every trip")
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


ITEMS = 260
LIST_CELL = stream_cell(f'''
lines = ["Steps:", ""]
for i in range({ITEMS}):
    marker = f"{{i + 3}}. "
    lines.append(f"{{marker}}Step {{i}}: add *ingredient* 🧂 number {{i}} (שלום, 東京)")
    if i % 50 == 7:
        lines.append(" " * len(marker) + "- a nested note 📝 for step " + str(i))
ANSWER = "\\n".join(lines) + "\\n\\nServe warm 🍲."
''', size=7, delay=0.0015)

JS_MARK_FIRST_ITEM = f"""() => {{
  const lists = document.querySelectorAll('{ROOT} .nbs-blocks > ol');
  if (lists.length < 2) return false;
  lists[0].firstElementChild.__nbsMarked = true;
  return true;
}}"""

JS_LISTS = f"""() => {{
  const lists = [...document.querySelectorAll('{ROOT} .nbs-blocks > ol')];
  const items = lists.flatMap((l) => [...l.children]);
  return {{
    starts: lists.map((l) => l.start),
    sizes: lists.map((l) => l.children.length),
    done: lists.map((l) => l.classList.contains('nbs-group-done')),
    steps: items.map((li) => (li.firstChild.textContent.match(/^Step (\\d+)/) || [])[1]),
    markers: items.every((li) => getComputedStyle(li).display === 'list-item'),
    markedKept: lists[0].firstElementChild.__nbsMarked === true,
    // the room for markers, in ems (a group cuts what is painted outside its box)
    room: lists.map((l) => parseFloat(getComputedStyle(l).paddingInlineStart)
      / parseFloat(getComputedStyle(l).fontSize)),
  }};
}}"""


def test_a_long_list_streams_in_lists_that_count_on(lab) -> None:
    page = lab.page
    state = stream_to_the_end(lab, "long_list", LIST_CELL, JS_MARK_FIRST_ITEM, "Serve warm")
    lists = page.evaluate(JS_LISTS)
    assert lists["sizes"][:2] == [100, 100] and sum(lists["sizes"]) == ITEMS, lists["sizes"]
    assert lists["starts"] == [3 + sum(lists["sizes"][:k]) for k in range(len(lists["sizes"]))]
    assert lists["done"] == [True] * (len(lists["sizes"]) - 1) + [False], lists["done"]
    assert lists["steps"] == [str(i) for i in range(ITEMS)]
    assert lists["markers"] and lists["markedKept"], lists
    assert all(room > 2.5 for room in lists["room"]), lists["room"]  # "102." is not cut
    assert body_text(page) == html_text(page, state["html"])
    assert state["html"].count("<ol") == 1


CODE_LINES = 700
CODE_CELL = stream_cell(f'''
body = []
for i in range({CODE_LINES}):
    body.append(f"    total_{{i}} = price({{i}}) * 1.2  # 税込み 🧾 line {{i}}")
    if i % 90 == 4:
        body.append(\'    note = """a string\\nover lines 📝\\n"""\')
ANSWER = ("Here is the code:\\n\\n```python\\ndef totals():\\n" + "\\n".join(body)
          + "\\n```\\n\\nDone 🏁.")
''', size=9, delay=0.001)

JS_MARK_FIRST_LINE = f"""() => {{
  const code = document.querySelector('{ROOT} .nbs-blocks pre code');
  if (!code || !code.querySelector('.nbs-code-lines.nbs-group-done')) return false;
  code.firstElementChild.__nbsMarked = true;
  return true;
}}"""

JS_CODE = f"""() => {{
  const code = document.querySelector('{ROOT} .nbs-blocks pre code');
  const selection = getSelection();
  selection.removeAllRanges();
  const range = document.createRange();
  range.selectNodeContents(code);
  selection.addRange(range);
  return {{
    groups: code.querySelectorAll(':scope > .nbs-code-lines').length,
    text: code.textContent,
    copied: selection.toString(),
    height: code.closest('pre').getBoundingClientRect().height,
    lineHeight: parseFloat(getComputedStyle(code.closest('pre')).lineHeight),
    markedKept: code.firstElementChild.__nbsMarked === true,
  }};
}}"""


def test_a_long_code_block_streams_in_blocks_of_lines_that_read_as_one(lab) -> None:
    page = lab.page
    state = stream_to_the_end(lab, "long_code", CODE_CELL, JS_MARK_FIRST_LINE, "Done 🏁")
    code = page.evaluate(JS_CODE)
    source = state["text"].split("```python\n", 1)[1].split("```", 1)[0]
    assert code["groups"] >= 5, code["groups"]
    assert code["text"] == source  # every line, once, in order
    # A selection copies no extra line break between blocks (Chrome leaves the last one out,
    # grouped or not).
    assert code["copied"] == source.removesuffix("\n")
    lines = source.count("\n")
    padding = code["height"] - lines * code["lineHeight"]
    assert 0 <= padding < code["lineHeight"], (code["height"], lines)  # no empty line added
    assert code["markedKept"], "a committed line was re-created"
    assert body_text(page) == html_text(page, state["html"])


SENTENCES = 260
PARAGRAPH_CELL = stream_cell(f'''
parts = []
for i in range({SENTENCES}):
    parts.append(f"Sentence w{{i}}x: the *quick* fox 東京 and שלום 🎉 ran with `code {{i}}` to a "
                 f"[link](https://example.com/{{i}}) and **on**." + ("\\n" if i % 9 == 4 else " "))
ANSWER = "".join(parts).strip() + "\\n\\nThe end 🏁."
''', size=8, delay=0.001)

JS_MARK_FIRST_WORD = f"""() => {{
  const p = document.querySelector('{ROOT} .nbs-blocks > p');
  if (!p || !p.querySelector(':scope > .nbs-para-lines.nbs-group-done')) return false;
  p.firstElementChild.__nbsMarked = true;
  return true;
}}"""

# The live paragraph beside the whole render of the kernel's HTML, at the same width: where
# each marker word ("w17x") is, from the paragraph's top left. Groups painted only on screen
# are all laid out for the measure (a style added to the page, not to the DOM measured).
JS_PARAGRAPH = f"""(html) => {{
  const style = document.createElement('style');
  style.textContent = '.nbs-group-done {{ content-visibility: visible !important; }}';
  document.head.append(style);
  const body = document.querySelector('{ROOT} .nbstream-body');
  const ref = body.cloneNode(false);
  ref.style.maxHeight = 'none';
  ref.innerHTML = '<div class="nbs-blocks">' + html + '</div>';
  body.after(ref);
  const where = (p) => {{
    const origin = p.getBoundingClientRect();
    const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {{
      for (const m of node.data.matchAll(/w\\d+x/g)) {{
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const box = range.getBoundingClientRect();
        out.push([m[0], Math.round(box.left - origin.left), Math.round(box.top - origin.top)]);
      }}
    }}
    return out;
  }};
  const live = body.querySelector('.nbs-blocks > p');
  const whole = ref.querySelector('.nbs-blocks > p');
  const result = {{
    groups: live.querySelectorAll(':scope > .nbs-para-lines').length,
    live: where(live), whole: where(whole),
    heights: [live.getBoundingClientRect().height, whole.getBoundingClientRect().height],
    markedKept: live.firstElementChild.__nbsMarked === true,
  }};
  ref.remove();
  style.remove();
  return result;
}}"""


def test_a_long_paragraph_streams_in_blocks_and_every_line_stays_put(lab) -> None:
    page = lab.page
    state = stream_to_the_end(
        lab, "long_paragraph", PARAGRAPH_CELL, JS_MARK_FIRST_WORD, "The end 🏁")
    para = page.evaluate(JS_PARAGRAPH, state["html"])
    assert para["groups"] >= 4, para["groups"]
    assert len(para["whole"]) == SENTENCES
    assert para["live"] == para["whole"]  # each word where the whole render puts it
    assert abs(para["heights"][0] - para["heights"][1]) < 1, para["heights"]
    assert para["markedKept"], "a committed node was re-created"
    assert body_text(page) == html_text(page, state["html"])


BLOCKS = 260
BLOCKS_CELL = stream_cell(f'''
ANSWER = "".join(f"### Point b{{i}}x\\n\\nShort note {{i}} 📝 on $x_{{i}}$ (東京).\\n\\n"
                 for i in range({BLOCKS} // 2)) + "All points done 🏁."
''', size=8, delay=0.001)

JS_MARK_FIRST_BLOCK = f"""() => {{
  const more = document.querySelector('{ROOT} .nbs-blocks-more');
  if (!more) return false;
  document.querySelector('{ROOT} .nbs-blocks').firstElementChild.__nbsMarked = true;
  return true;
}}"""

JS_BLOCKS = f"""() => {{
  const shelves = [...document.querySelectorAll('{ROOT} .nbs-blocks')];
  return {{
    sizes: shelves.map((s) => s.children.length),
    done: shelves.map((s) => s.classList.contains('nbs-group-done')),
    points: [...document.querySelectorAll('{ROOT} :is(.nbs-blocks, .nbs-tail) > h3')]
      .map((h) => h.textContent.match(/b(\\d+)x/)[1]),
    markedKept: shelves[0].firstElementChild.__nbsMarked === true,
  }};
}}"""


def test_a_long_answer_commits_its_blocks_in_containers_of_a_hundred(lab) -> None:
    page = lab.page
    state = stream_to_the_end(
        lab, "long_answer", BLOCKS_CELL, JS_MARK_FIRST_BLOCK, "All points done")
    blocks = page.evaluate(JS_BLOCKS)
    sizes = blocks["sizes"]  # (a frame's blocks go together: a full one may hold more)
    assert len(sizes) >= 2 and min(sizes[:-1]) >= 100, sizes
    assert blocks["done"] == [True] * (len(blocks["sizes"]) - 1) + [False], blocks["done"]
    assert blocks["points"] == [str(i) for i in range(BLOCKS // 2)]
    assert blocks["markedKept"], "a committed block was re-created"
    assert body_text(page) == html_text(page, state["html"])
