"""The many-answers example runs from top to bottom in a real kernel (nbclient), offline
against the demo client, and saves what it shows as static copies of finished answers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = REPO_ROOT / "examples" / "many_answers.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def outputs_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def run_offline(notebook: Path, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> list[nbformat.NotebookNode]:
    """Run an example as nbclient does, with no API key (the demo client), and return its
    code cells with their outputs."""
    from nbclient import NotebookClient

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)  # the kernel imports this checkout's nbstream
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.timeout(240)
def test_the_many_answers_example_runs_and_saves_every_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = run_offline(EXAMPLE, tmp_path, monkeypatch)
    printed = [outputs_text(cell) for cell in code]

    assert "the offline demo" in printed[0]
    assert "9 answers started" in printed[1]
    rows = [line for line in printed[2].splitlines() if line.strip()]
    assert len(rows) == 9 and all(" done " in row for row in rows), printed[2]
    assert "100 answers started" in printed[4]
    assert printed[5].strip() == "{'done': 100}", printed[5]
    assert re.fullmatch(r"\[('stopped', ){9}'stopped'\]\n", printed[6]), printed[6]

    shown = [(i, o) for i, cell in enumerate(code) for o in cell.outputs if "data" in o]
    assert len(shown) == 3 + 1 + 8 + 1, len(shown)
    for i, output in shown:  # the saved notebook holds final answers, never a widget view
        assert WIDGET_VIEW not in output["data"], (i, output["data"])
        assert output["data"]["text/html"].startswith('<div class="nbstream-static ')


STOPPING = REPO_ROOT / "examples" / "stopping.ipynb"


@pytest.mark.timeout(240)
def test_the_stopping_example_stops_each_answer_for_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = [outputs_text(cell) for cell in run_offline(STOPPING, tmp_path, monkeypatch)]
    assert printed[2].startswith("stopped max_seconds after 2."), printed[2]
    assert printed[4].startswith("loop - the same "), printed[4]
    assert printed[5].startswith("predicate - reached 100 - "), printed[5]
    assert "5 live; 5 stopped" in printed[6]
    assert "['user', 'user', 'user', 'user', 'user']" in printed[6], printed[6]


COMPARE = REPO_ROOT / "examples" / "compare.ipynb"


@pytest.mark.timeout(240)
def test_the_compare_example_compares_reruns_follows_up_and_sweeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = run_offline(COMPARE, tmp_path, monkeypatch)
    printed = [outputs_text(cell) for cell in code]
    rows = [line for line in printed[2].splitlines() if line.strip()]
    assert len(rows) == 6 and all(" done " in row for row in rows), printed[2]
    assert rows[0].startswith("model=gpt-4.1-mini · temperature=cool"), rows[0]
    assert rows[1].startswith("model=gpt-4.1-mini · temperature=warm"), rows[1]
    assert printed[4].strip() == "2 attempts: ['done', 'done']", printed[4]
    assert printed[7].strip() == "done ['done', 'done', 'done', 'done', 'done']", printed[7]
    shown = [(i, o) for i, cell in enumerate(code) for o in cell.outputs if "data" in o]
    grids = [o for _, o in shown if o["data"]["text/plain"].startswith("<Grid")]
    assert len(grids) == 2
    for output in grids:  # saved as the static copy: the summary table and every pane
        html = output["data"]["text/html"]
        assert WIDGET_VIEW not in output["data"]
        assert html.startswith('<div class="nbstream-static nbstream-grid-static ')
        assert html.count('<div class="nbstream-grid-pane">') in (5, 6)
        assert "<table class=\"nbstream-summary\">" in html
    diff = next(o for _, o in shown if o["data"]["text/plain"].startswith("<Diff"))
    assert diff["data"]["text/html"].startswith('<pre class="nbstream-diff"')
