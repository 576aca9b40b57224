"""An answer with equations and prices in a real JupyterLab page (issue 12: math).

The kernel typesets the math as MathML; JupyterLab's own MathJax must leave the widget and its
static copy alone. It typesets every ``text/html`` output it renders, and the live view is
moved into the static copy's place at the end: without ``mathjax_ignore`` it read the prices
("$5 and $10") as TeX and rewrote committed nodes (in the live page, and in the saved notebook
reopened). What must hold, live, at the end and reopened from the file: the formulas are our
MathML, nothing is MathJax's, and the prices read as prices.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from test_frontend import STATE_CELL, kernel_state  # noqa: E402
from test_jupyterlab import ROOT, wait_status  # noqa: E402
from test_saved import JS_SAVE  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

MATH_CELL = r'''
import time
import nbstream

ANSWER = "".join(
    f"## Step {i}\n\nLet $x_{i} \\in \\mathbb{{R}}$ and \\(f(x) = x^{i}\\); it costs $5 and "
    f"$10 to check, and\n\n$$\n\\int_0^{i} e^{{-x^2}}\\,dx < {i}\n$$\n\n" for i in range(1, 13)
) + "Paid $5 and $10 in all."

def pieces(text, size=6):
    for i in range(0, len(text), size):
        time.sleep(0.002)
        yield text[i:i + size]

w = nbstream.stream(pieces(ANSWER))
w
'''

JS_MATH = """(root) => {
  const el = document.querySelector(root);
  if (!el) return null;
  return {
    math: el.querySelectorAll('math').length,
    mathjax: el.querySelectorAll('mjx-container, mjx-test, .MathJax').length,
    prices: (el.textContent.match(/costs \\$5 and \\$10 to check/g) || []).length,
    end: el.textContent.includes('Paid $5 and $10 in all.'),
  };
}"""


def typeset_after(page, name: str) -> None:
    """Add a markdown cell with TeX and wait for JupyterLab's MathJax to typeset it: its
    requests run in order, so every output rendered before has been typeset too (and MathJax
    is there and working)."""
    page.evaluate("""(name) => {
      const nb = window.jupyterapp.shell.currentWidget.content;
      nb.model.sharedModel.insertCell(0, {cell_type: 'markdown', source: `${name} $x^2$`});
    }""", name)
    page.wait_for_function(
        """(name) => [...document.querySelectorAll('.jp-MarkdownCell')].some(
             (cell) => cell.textContent.includes(name) && cell.querySelector('mjx-container'))""",
        arg=name, timeout=20_000)


def test_the_host_mathjax_leaves_the_answer_and_its_saved_copy_alone(lab) -> None:
    page = lab.page
    lab.open("math_page", [MATH_CELL, STATE_CELL])
    assert not lab.run_cell(0)["errors"]
    assert wait_status(page, ("done",), timeout=60_000) == "done"
    page.wait_for_function(f"() => ({JS_MATH})('{ROOT}')?.end")
    state = kernel_state(lab, 1)
    assert state["status"] == "done"
    expected_math = state["html"].count("<math")
    assert expected_math >= 36
    # The end has passed: the display is the static copy (the live view moved into it), which
    # JupyterLab typesets as it renders any text/html; MathJax has run once a later request has.
    page.wait_for_function("() => !!document.querySelector('.jp-OutputArea .nbstream')")
    typeset_after(page, "first")
    live = page.evaluate(JS_MATH, ROOT)
    assert live == {"math": expected_math, "mathjax": 0, "prices": 12, "end": True}, live

    assert page.evaluate(JS_SAVE) is False
    page.reload(wait_until="domcontentloaded")
    lab.wait_kernel_idle()
    static = ".jp-OutputArea .nbstream-static"
    page.wait_for_function(f"() => ({JS_MATH})({static!r})?.end", timeout=20_000)
    typeset_after(page, "second")
    reopened = page.evaluate(JS_MATH, static)
    assert reopened == {"math": expected_math, "mathjax": 0, "prices": 12, "end": True}, reopened
