"""Many live streams in a real JupyterLab 4 page (issue 9): one cell starts 60 (or 100) demo
streams and displays them; every widget ends showing its whole answer, and the Jupyter server drops
nothing (it logs "IOPub message rate exceeded" when output comes faster than 1,000
messages/s over 3 s, and then withholds it from the page).

Reuses the harness of ``conftest.py`` (the ``lab`` driver; the server's stdout and stderr go
to ``server.log_path``) and the helpers of ``test_frontend.py``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # test_frontend in any import mode
    sys.path.insert(0, str(_HERE))

from test_frontend import _server_log, html_text, kernel_state  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

FINAL = ("done", "stopped", "error")
# Three short canned answers (tongue twister, greeting, table), so all the streams overlap.
PROMPTS = ["Say 'double bubble bath' ten times fast.", "Hello there!", "Show me a small table."]
RATE_EXCEEDED = ("IOPub message rate exceeded", "IOPub data rate exceeded")

START_CELL = """
import json
import nbstream
from IPython.display import display

PROMPTS = {prompts!r}
client = nbstream.demo_client()
ws = [nbstream.responses(client, model="demo", input=PROMPTS[i % 3]) for i in range({n})]
display(*ws)
"""

# The kernel's account once all have ended. The demo gives the same answer to the same
# request: asked without streaming at infinite speed, it gives each prompt's whole answer.
STATE_CELL = """
_c = nbstream.demo_client(speed=float("inf"))
answers = [_c.responses.create(model="demo", input=p).output_text for p in PROMPTS]
for w in ws:
    w.wait(timeout=60)
print(json.dumps({
    "statuses": [w.status for w in ws],
    "exact": [w.text == answers[i % 3] for i, w in enumerate(ws)],
    "htmls": [w.html for w in ws],
}))
"""

# [status, whitespace-normalised answer text] of every answer in cell `index`, in order: its
# live widget, or its static copy when the stream ended before the page rendered its view
# (the display is then the copy: by design, and the answer whole all the same; with 100
# views to render at once, how many the page renders before their streams end varies).
JS_WIDGETS = """(index) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
  const text = (el) => (el ? el.textContent.replace(/\\s+/g, ' ').trim() : null);
  return [...cell.querySelectorAll('.jp-OutputArea-output')].flatMap((output) => {
    const root = output.querySelector('.nbstream');
    if (root) return [[root.dataset.status, text(root.querySelector('.nbstream-body'))]];
    const copy = output.querySelector('.nbstream-static');
    return copy ? [[copy.dataset.status, text(copy)]] : [];
  });
}"""

JS_ALL_FINAL = f"""([index, n, final]) => {{
  const widgets = ({JS_WIDGETS})(index);
  return widgets.length === n && widgets.every(([status]) => final.includes(status));
}}"""


def check_default_rate_limit(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture's server keeps jupyter_server's default IOPub limits (1,000 messages/s
    over a 3-s window): no option on its command line and no config file it reads (its
    private JUPYTER_CONFIG_DIR, then the system's) sets a rate limit."""
    from jupyter_core.paths import jupyter_config_path

    args = " ".join(map(str, server.proc.args))
    assert "rate_limit" not in args and "limit_rate" not in args, args
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(server.root_dir.parent / "config"))
    setting = [
        str(path)
        for folder in map(Path, jupyter_config_path())
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.suffix in (".json", ".py")
        and any(k in path.read_text(errors="replace") for k in ("rate_limit", "limit_rate"))
    ]
    assert not setting, f"config files that may change the IOPub rate limit: {setting}"


# 60 is the number; 100 is where the code before the shared runtime lost output (at
# 60 it stayed under the server's limit on this machine: 2,342 messages in about 4 s).
@pytest.mark.parametrize("N", [60, 100])
def test_demo_streams_from_one_cell_all_reach_the_page(
    lab: Any, monkeypatch: pytest.MonkeyPatch, N: int
) -> None:
    """One cell starts N demo streams and displays them: all N answers end showing their
    complete final text (the kernel's HTML of the demo's exact answer), live or as the static
    copy, and the server neither logs nor shows an IOPub rate warning."""
    check_default_rate_limit(lab.server, monkeypatch)
    log_start = len(_server_log(lab.server))  # the server (and its log) outlive this test
    lab.open(f"many_streams_{N}", [START_CELL.format(prompts=PROMPTS, n=N), STATE_CELL])
    page = lab.page

    out = lab.run_cell(0)
    assert not out["errors"], out
    state = kernel_state(lab, 1)  # returns once every stream has ended in the kernel
    assert state["statuses"] == ["done"] * N, Counter(state["statuses"])
    assert all(state["exact"]), f"inexact in the kernel: {state['exact'].count(False)} of {N}"

    try:
        page.wait_for_function(JS_ALL_FINAL, arg=[0, N, list(FINAL)], timeout=30_000)
    except Exception as exc:
        shown = page.evaluate(JS_WIDGETS, 0)
        lab.screenshot("many-streams-not-final")
        raise AssertionError(
            f"the page shows {len(shown)} of {N} widgets, statuses "
            f"{dict(Counter(s for s, _ in shown))}; server log: "
            f"{_server_log(lab.server)[log_start:][-1500:]}"
        ) from exc
    shown = page.evaluate(JS_WIDGETS, 0)
    wrong = []
    for i, ((status, text), html) in enumerate(zip(shown, state["htmls"], strict=True)):
        want = html_text(page, html)
        if status != "done" or text != want:
            wrong.append(f"#{i} {status}: ...{(text or '')[-60:]!r} != ...{want[-60:]!r}")
    lab.screenshot("many-streams-done")
    assert not wrong, f"{len(wrong)} of {N} widgets are not done with their final text:\n" + (
        "\n".join(wrong[:5])
    )

    log = _server_log(lab.server)[log_start:]
    shown_warnings = lab.cell_output(0)["text"]  # the server tells the page too (stderr)
    for warning in RATE_EXCEEDED:
        assert warning not in log, log[log.index(warning) - 500 :][:1500]
        assert warning not in shown_warnings, shown_warnings[-1500:]
