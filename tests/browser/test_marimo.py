"""marimo: ``marimo edit`` and ``marimo run`` in headless Chromium, and ``marimo export html``.

One ``marimo edit`` server serves a directory of small notebooks (one per test, each its own
kernel); every notebook runs at load (``auto_instantiate``) and follows the browser's colour
scheme (theme ``system``). What the kernel sees (a stream's end, its stop reason, whether the
demo transport's request was closed) is written by the notebook into an evidence directory,
since the kernel is another process. The widget lives in marimo's shadow roots: Playwright's
CSS locators pierce them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("marimo", reason="marimo is not installed (pip install marimo, or the "
                    "`test` extra): the marimo browser tests need it")

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

SETUP = '''
import json, os, threading, uuid
from pathlib import Path

import marimo as mo
import nbstream
from nbstream._demo import demo_transport

def watch(label, w, client):
    """When w ends: its status, stop reason and whether its requests were closed."""
    def run():
        w.wait()
        requests = demo_transport(client).requests
        closed = all(r.closed.wait(5) for r in requests)
        out = {"status": w.status, "stop_reason": w.stop_reason, "closed": closed,
               "requests": len(requests), "text": w.text}
        path = Path(os.environ["NBSTREAM_EVIDENCE"], f"{label}-{uuid.uuid4().hex}.json")
        path.write_text(json.dumps(out))
    threading.Thread(target=run, daemon=True).start()
'''


def _notebook(cells: list[str]) -> str:
    """A marimo notebook: the setup cell, then ``cells`` (each sees the setup's names)."""
    names = "mo, nbstream, watch"
    out = ["import marimo", "", "app = marimo.App()", ""]
    out += ["@app.cell", "def _():", textwrap.indent(SETUP.strip(), "    "),
            f"    return {names},", ""]
    for cell in cells:
        out += ["@app.cell", f"def _({names}):", textwrap.indent(textwrap.dedent(cell).strip(),
                                                                 "    "), "    return", ""]
    out += ['if __name__ == "__main__":', "    app.run()", ""]
    return "\n".join(out)


class Marimo:
    """A marimo server (``edit`` on a directory, or ``run`` on one notebook)."""

    def __init__(self, base: Path, command: str, target: Path) -> None:
        self.base = base
        self.evidence = base / "evidence"
        self.evidence.mkdir(exist_ok=True)
        home = base / "home"
        (home / ".config" / "marimo").mkdir(parents=True, exist_ok=True)
        (home / ".config" / "marimo" / "marimo.toml").write_text(
            '[runtime]\nauto_instantiate = true\n[display]\ntheme = "system"\n')
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                   NBSTREAM_EVIDENCE=str(self.evidence), PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join(
                       p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p))
        self.log = base / f"marimo-{command}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "marimo", command, str(target), "--headless",
                 "--no-token", "--port", str(self.port), "--host", "127.0.0.1",
                 *(["--skip-update-check"] if command == "edit" else [])],
                cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"marimo {command} exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.url, timeout=2).close()
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"marimo {command} did not answer:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def evidence_of(self, label: str, count: int = 1, timeout: float = 20) -> list[dict[str, Any]]:
        """What the notebook recorded of the streams labelled ``label`` once ``count`` ended."""
        deadline = time.monotonic() + timeout
        while True:
            found = [json.loads(p.read_text()) for p in self.evidence.glob(f"{label}-*.json")]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no evidence of {label!r} after {timeout}s:\n"
                                     f"{self.log_tail()}")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("marimo-notebooks")


@pytest.fixture(scope="module")
def editor(notebooks: Path) -> Iterator[Marimo]:
    server = Marimo(notebooks, "edit", notebooks)
    try:
        yield server
    finally:
        server.stop()


def _open(page: Any, server: Marimo, name: str | None = None) -> None:
    url = f"{server.url}/?file={name}" if name else f"{server.url}/"
    page.goto(url, wait_until="domcontentloaded")


def _widget(page: Any, index: int = 0) -> Any:
    return page.locator(".nbstream").nth(index)


def _status(widget: Any) -> str:
    return str(widget.get_attribute("data-status"))


def _text_length(widget: Any) -> int:
    return int(widget.locator(".nbstream-body").evaluate("(el) => el.textContent.length"))


def _assert_progressive(widget: Any) -> None:
    """The text grows while the status is streaming (several distinct lengths seen)."""
    widget.wait_for(timeout=60_000)
    lengths: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(set(lengths)) < 3:
        if _status(widget) == "streaming":
            lengths.append(_text_length(widget))
        time.sleep(0.15)
    seen = sorted(set(lengths))
    assert len(seen) >= 3 and seen[0] < seen[-1], f"no progressive text: {lengths}"


_STYLE = """(w) => {
  const size = (el) => parseFloat(getComputedStyle(el).fontSize);
  const body = w.querySelector('.nbstream-body');
  const p = body.querySelector('p');
  const h = body.querySelector('h1, h2, h3');
  const li = body.querySelector('ul > li');
  return {
    body: size(p || body), heading: h ? size(h) : null,
    weight: h ? getComputedStyle(h).fontWeight : null,
    bullet: li ? getComputedStyle(li).listStyleType : null,
    indent: li ? parseFloat(getComputedStyle(li.parentElement).paddingLeft) : null,
    bg: getComputedStyle(w).backgroundColor,
    fg: getComputedStyle(w).color,
  };
}"""


def _luminance(color: str) -> float:
    """0 (black) .. 1 (white) of a computed ``rgb(...)`` / ``color(srgb ...)`` colour."""
    numbers = [float(x) for x in re.findall(r"[\d.]+", color)[:3]]
    if color.startswith("color("):
        numbers = [x * 255 for x in numbers]
    r, g, b = numbers
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_edit_streams_styled_and_stops(editor: Marimo, page: Any) -> None:
    """marimo edit: the answer streams in progressively, its headings and lists are styled in
    marimo's shadow root; Stop (through mo.ui.anywidget) stops it and closes its request."""
    (editor.base / "live.py").write_text(_notebook([
        """
        client = nbstream.demo_client(speed=3)
        w = nbstream.responses(client, model="gpt-4.1-mini",
                               input="Give me a quick markdown cheat sheet.")
        watch("cheat", w, client)
        w
        """,
        """
        client2 = nbstream.demo_client()
        essay = nbstream.responses(client2, model="gpt-4.1-mini",
            input="Write a long, detailed essay about the history of computing.")
        watch("essay", essay, client2)
        mo.ui.anywidget(essay)
        """,
    ]))
    _open(page, editor, "live.py")
    cheat, essay = _widget(page, 0), _widget(page, 1)
    _assert_progressive(cheat)
    deadline = time.monotonic() + 30
    while _status(cheat) != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _status(cheat) == "done", _status(cheat)
    style = cheat.evaluate(_STYLE)
    assert style["heading"] and style["heading"] > style["body"] * 1.1, style
    assert int(style["weight"]) >= 600, style
    assert style["bullet"] == "disc" and style["indent"] > 10, style
    assert editor.evidence_of("cheat")[0]["status"] == "done"

    # Stop, on a stream shown with mo.ui.anywidget(w)
    essay.wait_for()
    assert _status(essay) in ("pending", "streaming")
    essay.locator(".nbstream-stop").click()
    page.wait_for_function("(w) => w.dataset.status === 'stopped'",
                           arg=essay.element_handle(), timeout=10_000)
    seen = editor.evidence_of("essay")[0]
    assert seen["status"] == "stopped" and seen["stop_reason"] == "user", seen
    assert seen["closed"] and seen["requests"] == 1, seen


def test_edit_rerun_stops_old_stream(editor: Marimo, page: Any) -> None:
    """Running a cell again stops the streams its earlier run made (plain and through
    mo.ui.anywidget), and closes their requests; the new run streams."""
    (editor.base / "rerun.py").write_text(_notebook([
        """
        client = nbstream.demo_client()
        a = nbstream.responses(client, model="demo-silent", input="Hello")
        b = nbstream.responses(client, model="demo-silent", input="Hello")
        watch("first", a, client)
        watch("second", b, client)
        mo.vstack([a, mo.ui.anywidget(b)])
        """,
    ]))
    _open(page, editor, "rerun.py")
    _widget(page, 1).wait_for(timeout=60_000)
    time.sleep(1.0)  # (the requests are open: demo-silent never ends by itself)
    assert not list(editor.evidence.glob("first-*")), "a silent stream ended by itself"
    cell = page.locator(".marimo-cell").filter(has=page.locator(".nbstream")).first
    cell.hover()
    cell.locator('[data-testid="run-button"]').first.click()
    for label in ("first", "second"):
        seen = editor.evidence_of(label)[0]
        assert seen["status"] == "stopped" and seen["stop_reason"] == "rerun", seen
        assert seen["closed"], seen
    # the cell's new run streams (the old ones are gone from the page)
    new = _widget(page, 0)
    new.wait_for()
    assert _status(new) in ("pending", "streaming"), _status(new)


def test_edit_dark_theme(editor: Marimo, browser: Any) -> None:
    """marimo's dark theme (here "system", with a dark colour scheme): the widget's background
    and text follow it; in the light theme it is light."""
    (editor.base / "theme.py").write_text(_notebook([
        """
        client = nbstream.demo_client()
        w = nbstream.responses(client, model="gpt-4.1-mini", input="Show a small table.")
        w
        """,
    ]))
    seen = {}
    for scheme in ("dark", "light"):
        context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            _open(page, editor, "theme.py")
            widget = _widget(page, 0)
            widget.wait_for(timeout=60_000)
            page.wait_for_function("(w) => w.dataset.status === 'done'",
                                   arg=widget.element_handle(), timeout=30_000)
            seen[scheme] = widget.evaluate(_STYLE)
        finally:
            context.close()
    assert _luminance(seen["dark"]["bg"]) < 0.25 < 0.6 < _luminance(seen["dark"]["fg"]), seen
    assert _luminance(seen["light"]["bg"]) > 0.9 > 0.4 > _luminance(seen["light"]["fg"]), seen


def test_run_mode_streams_and_stops(notebooks: Path, page: Any) -> None:
    """marimo run (an app, code hidden): progressive text, Stop closes the request."""
    app_dir = notebooks / "app"
    app_dir.mkdir()
    path = app_dir / "app.py"
    path.write_text(_notebook([
        """
        client = nbstream.demo_client()
        w = nbstream.responses(client, model="gpt-4.1-mini",
            input="Write a long, detailed essay about the history of computing.")
        watch("app", w, client)
        w
        """,
    ]))
    server = Marimo(app_dir, "run", path)
    try:
        _open(page, server)
        widget = _widget(page, 0)
        _assert_progressive(widget)
        widget.locator(".nbstream-stop").click()
        page.wait_for_function("(w) => w.dataset.status === 'stopped'",
                               arg=widget.element_handle(), timeout=10_000)
        seen = server.evidence_of("app")[0]
        assert seen["status"] == "stopped" and seen["stop_reason"] == "user", seen
        assert seen["closed"], seen
    finally:
        server.stop()


def _plain_words(answer: str, count: int = 5) -> str:
    """The last ``count`` consecutive plain words of ``answer`` (no markup, no quotes): as
    they read in any rendering of it."""
    plain = re.compile(r"^[A-Za-z]+[,.]?$")
    for line in reversed(answer.splitlines()):
        tokens = line.split()
        for end in range(len(tokens), count - 1, -1):
            window = tokens[end - count:end]
            if all(plain.match(t) for t in window):
                return " ".join(window)
    raise AssertionError("no plain words in the answer")


def test_export_html_records_finished_answers(tmp_path: Path) -> None:
    """`marimo export html` of examples/marimo_quickstart.py holds each finished answer (its
    static copy, status done), not an empty widget at "Streaming". (The demo runs faster here.)"""
    from nbstream._demo import pick_answer

    source = (REPO_ROOT / "examples" / "marimo_quickstart.py").read_text()
    assert "nbstream.demo_client()" in source
    notebook = tmp_path / "quickstart.py"
    notebook.write_text(source.replace("nbstream.demo_client()", "nbstream.demo_client(speed=40)"))
    out = tmp_path / "quickstart.html"
    env = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p))
    env.pop("OPENAI_API_KEY", None)
    done = subprocess.run([sys.executable, "-m", "marimo", "export", "html", str(notebook),
                           "-o", str(out)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    exported = out.read_text()
    for prompt in ("Explain Python generators with a code example and a table.",
                   "Write a long, detailed essay about the history of computing."):
        answer = pick_answer(prompt)
        words = _plain_words(answer)
        assert words in exported, (prompt, words)
    assert exported.count('data-status=\\"done\\"') >= 2, "no finished static copy"
    # The compare grid too: its static copy, both panes' answers.
    assert "nbstream-grid-static" in exported, "the grid was not waited for"
    assert exported.count("nbstream-grid-pane") >= 2
