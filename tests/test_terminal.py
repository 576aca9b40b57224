"""Outside a notebook (issue 13): in a terminal an answer shows as it arrives (rich's Live on a
terminal, the plain text when output is not one), Ctrl-C stops the generation, ``print(w)``
in a script prints the answer (to a file too), nothing is printed from a background thread,
and a script that exits while an answer streams says it was cut."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pty_session import PtySession, plain

import nbstream

REPO_ROOT = Path(__file__).resolve().parent.parent

SESSION = """import nbstream, time
w = nbstream.stream(iter(["a ", "b"]))
w
w.wait(10); time.sleep(0.5)
print("later cell:", w.status)
"""


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)}


def test_ipython_in_a_terminal_prints_no_stray_output_when_a_stream_ends(tmp_path: Path) -> None:
    env = environment()
    run = subprocess.run(
        [sys.executable, "-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor",
         f"--ipython-dir={tmp_path}"],
        input=SESSION, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )
    out = run.stdout
    assert "later cell: done" in out, out + run.stderr
    assert "a b\n" in out, out  # shown once, as plain text (output is not a terminal)
    assert "<StreamWidget" not in out, out  # no repr, then or later


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


ASK = """import nbstream
from nbstream._demo import demo_transport
client = nbstream.demo_client(seed=2, speed={speed})
w = nbstream.responses(client, model="demo", input={prompt!r})
"""
SHORT = "Summarise async IO in three bullet points."
ESSAY = "Write a long, detailed essay about the history of computing."


def demo_answer(prompt: str) -> str:
    """The demo's answer to ``prompt`` (the same for the same request)."""
    w = nbstream.responses(nbstream.demo_client(speed=50), model="demo", input=prompt)
    assert w.wait(30) and w.status == "done", w.error
    return w.text


def test_print_in_a_script_piped_to_a_file_writes_the_whole_answer(tmp_path: Path) -> None:
    script = tmp_path / "ask.py"
    script.write_text(ASK.format(speed=20, prompt=SHORT) + "print(w)\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    with out.open("w", encoding="utf-8") as file:
        run = subprocess.run([sys.executable, str(script)], stdout=file, stderr=subprocess.PIPE,
                             text=True, timeout=60, env=environment())
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert out.read_text(encoding="utf-8") == demo_answer(SHORT) + "\n"


def test_print_on_a_terminal_shows_the_answer_as_it_arrives(tmp_path: Path) -> None:
    script = tmp_path / "ask.py"
    script.write_text(ASK.format(speed=4, prompt=SHORT) + "print(w)\nprint('STATUS', w.status)\n",
                      encoding="utf-8")
    session = PtySession([sys.executable, str(script)], environment())
    session.expect("streaming…")  # the live view, while it streams
    session.expect("STATUS done")
    assert session.finish() == 0
    shown = plain(session.output)
    assert shown.count("streaming…") >= 2  # updated as it grew
    first_line = demo_answer(SHORT).splitlines()[0]
    assert first_line in shown  # then the text itself (the live view was transient)


def test_ctrl_c_during_print_stops_the_generation_and_keeps_the_partial_answer(
    tmp_path: Path,
) -> None:
    script = tmp_path / "ask.py"
    after = ("print(w)\nr = demo_transport(client).requests[0]\nr.closed.wait(5)\n"
             "print('AFTER', w.status, w.stop_reason, r.closed.is_set(), len(w.text))\n")
    script.write_text(ASK.format(speed=0.5, prompt=ESSAY) + after, encoding="utf-8")
    session = PtySession([sys.executable, str(script)], environment())
    session.expect("computing", timeout=30)  # the essay has started to show
    session.interrupt()
    found = session.expect(r"AFTER (\w+) (\w+) (\w+) (\d+)")
    assert session.finish() == 0
    assert found.groups()[:3] == ("stopped", "interrupt", "True"), session.output
    assert int(found.group(4)) < len(demo_answer(ESSAY))
    assert "[Stopped: interrupted at " in plain(session.output)  # printed under the text


def test_ipython_in_a_terminal_shows_an_answer_live_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    session = PtySession([sys.executable, "-m", "IPython", "--simple-prompt", "--no-banner",
                          f"--ipython-dir={tmp_path}"], environment(), cwd=str(tmp_path))
    session.expect(r"In \[1\]:")
    for line in ASK.format(speed=4, prompt=SHORT).splitlines():
        session.send(line + "\n")
    session.send("w\n")
    session.expect("streaming…")
    session.expect(r"done · \d+ tokens · [\d.]+ s")  # the final render and its status line
    session.send(f"e = nbstream.responses(client, model='demo', input={ESSAY!r}); e\n")
    typed = session.expect("computing").end()  # (the typed line echoed)
    session.expect("computing", since=typed)  # the essay has started to show
    session.interrupt()
    session.expect(r"Stopped: interrupted at [\d.]+ s")
    session.send("print('REASON', e.stop_reason, w.status)\n")
    session.expect("REASON interrupt done")
    session.send("exit\n")
    assert session.finish() == 0
    assert "Traceback" not in plain(session.output)


def test_print_of_a_grid_in_a_script_writes_every_pane_under_its_label(tmp_path: Path) -> None:
    script = tmp_path / "grid.py"
    script.write_text(
        "import nbstream\n"
        "g = nbstream.compare(nbstream.demo_client(speed=20), model='demo',"
        " input=nbstream.vary(['Hello', 'Show a small table.']))\nprint(g)\n", encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, env=environment())
    assert run.returncode == 0 and run.stderr == "", run.stderr
    expected = [f"── input={p} ──\n{demo_answer(p)}\n[done · " for p in
                ("Hello", "Show a small table.")]
    assert run.stdout.index(expected[0]) < run.stdout.index(expected[1]), run.stdout
