"""The quickstart notebook shows things a person reads (issue 8, §6).

Its cells are run here as IPython would run them (the last expression is displayed with
IPython's pretty printer, as ``text/plain``), against a finished and a pending widget.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from IPython.lib.pretty import pretty

import nbstream
from nbstream._demo import demo_client

QUICKSTART = Path(__file__).parent.parent / "examples" / "quickstart.ipynb"


def code_cells() -> list[str]:
    notebook = json.loads(QUICKSTART.read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def run_cell(source: str, namespace: dict[str, Any]) -> str:
    """What the cell shows: its printed output, then its last expression's ``text/plain``."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
            if value is not None:
                print(pretty(value))
    return out.getvalue()


def metrics_cell() -> str:
    cells = [source for source in code_cells() if "metrics" in source]
    assert len(cells) >= 1, "the quickstart reads w.metrics"
    return cells[0]


def first_prompt() -> str:
    match = re.search(r'input="([^"]+)"', code_cells()[1])
    assert match, code_cells()[1]
    return match.group(1)


@pytest.mark.parametrize("finished", [True, False])
def test_the_metrics_cell_prints_a_short_readable_summary(finished: bool) -> None:
    client = demo_client(speed=float("inf") if finished else 0.001, seed=1)
    w = nbstream.responses(client, model="gpt-4.1-mini", input=first_prompt())
    try:
        if finished:
            assert w.wait(timeout=30) and w.status == "done", w.error
        shown = run_cell(metrics_cell(), {"w": w, "nbstream": nbstream})
    finally:
        w.stop()
    lines = shown.strip().splitlines()
    assert len(lines) <= 10, shown
    for key in ("ttft_s", "output_tokens", "tokens_per_s", "finish_reason"):
        assert key in shown, shown
    assert "counts" not in shown and "timeline" not in shown, shown
    if finished:
        assert f"{w.metrics['output_tokens']}" in shown and "'completed'" in shown, shown
