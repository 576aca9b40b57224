"""Outside a notebook (issue 13, a first part): IPython in a terminal prints nothing from a
background thread once a stream shown there ends (it used to print the widget's repr again in
the middle of a later cell)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

SESSION = """import nbstream, time
w = nbstream.stream(iter(["a ", "b"]))
w
w.wait(10); time.sleep(0.5)
print("later cell:", w.status)
"""


def test_ipython_in_a_terminal_prints_no_stray_output_when_a_stream_ends(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)}
    run = subprocess.run(
        [sys.executable, "-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor",
         f"--ipython-dir={tmp_path}"],
        input=SESSION, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )
    out = run.stdout
    assert "later cell: done" in out, out + run.stderr
    assert out.count("<StreamWidget") == 1, out  # the cell's own Out[3], nothing after
    assert "Out[3]: <StreamWidget status='pending'" in out, out


SCRIPT = """import itertools, time, nbstream

def slow():
    for i in itertools.count():
        time.sleep(0.01)
        yield f"{i} "

w = nbstream.stream(slow())
time.sleep(0.3)
{end}
"""


def run_script(tmp_path: Path, end: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)}
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.replace("{end}", end), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env=env)


def test_a_script_that_ends_while_a_stream_runs_says_it_was_cut(tmp_path: Path) -> None:
    run = run_script(tmp_path, 'print("the end")')
    assert run.returncode == 0, run.stderr
    assert run.stdout == "the end\n"
    assert "nbstream: an answer was still streaming when Python exited" in run.stderr, run.stderr


def test_a_script_that_waits_says_nothing(tmp_path: Path) -> None:
    run = run_script(tmp_path, "w.stop(); w.wait(5); print(w.status)")
    assert (run.returncode, run.stdout, run.stderr) == (0, "stopped\n", "")
