"""Real JupyterLab 4 / Notebook 7 servers driven by Playwright in headless Chromium.

Fixtures:
- ``lab_server`` / ``notebook_server`` (session): a running server in a temp root dir with
  isolated config, settings (news, update checks and toasts off) and workspaces.
- ``browser`` (module): Debian's Chromium through Playwright's sync API.
- ``page`` (function): a fresh browser context + page; on failure a screenshot, the console
  and the server log tail are saved under ``tests/browser/artifacts/`` (the failure is read
  from ``item.rep_call``, set by the ``pytest_runtest_makereport`` hook in tests/conftest.py).
- ``lab`` / ``nb7`` (function): a :class:`NotebookDriver` bound to ``page`` and a server.

The driver uses the application object (``--expose_app_in_browser``) to run cells through
the same commands as the menus, and reads outputs from the cell models: no keyboard focus
games, no fixed sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("NBSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 90.0
KERNEL_READY_TIMEOUT = 90.0

# User settings written into a private JUPYTERLAB_SETTINGS_DIR (used by Lab and Notebook 7).
USER_SETTINGS: dict[str, dict[str, Any]] = {
    # No "Would you like to receive official Jupyter news?" toast, no update check, no toasts.
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    # Every cell attached to the DOM, so locators see every output; and up to 1,000 outputs
    # of a cell rendered (by default the first 50, then a "Show more outputs" button; 0, which
    # the schema calls unlimited, hides them all in JupyterLab 4.6).
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "maxNumberOutputs": 1000},
    # The extension manager would try to reach PyPI.
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _artifact_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "shot"


@dataclass
class JupyterServer:
    app: str  # "lab" or "notebook"
    url: str
    token: str
    root_dir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    def write_notebook(self, name: str, cells: list[str]) -> str:
        """Write ``name``.ipynb with the given code cells into the root dir; return its path."""
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        rel = name if name.endswith(".ipynb") else f"{name}.ipynb"
        nbformat.write(nb, self.root_dir / rel)
        return rel

    def notebook_url(self, rel: str) -> str:
        if self.app == "lab":
            # ?reset: a fresh workspace, not the tabs a previous test left open.
            return f"{self.url}/lab/tree/{rel}?reset&token={self.token}"
        return f"{self.url}/notebooks/{rel}?token={self.token}"

    def shutdown_sessions(self) -> None:
        """Shut down every kernel session, so one test's kernels don't run into the next."""
        for session in self.api("sessions") or []:
            req = urllib.request.Request(
                f"{self.url}/api/sessions/{session['id']}",
                method="DELETE",
                headers={"Authorization": f"token {self.token}"},
            )
            with contextlib.suppress(OSError):
                urllib.request.urlopen(req, timeout=10).close()

    def api(self, path: str) -> Any:
        req = urllib.request.Request(
            f"{self.url}/api/{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read() or b"null")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _write_user_settings(settings_dir: Path) -> None:
    for plugin, values in USER_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


def _start_server(app: str, base: Path) -> JupyterServer:
    root = base / "root"
    settings = base / "settings"
    for d in (root, settings, base / "workspaces", base / "config", base / "runtime"):
        d.mkdir(parents=True, exist_ok=True)
    _write_user_settings(settings)
    port = _free_port()
    token = secrets.token_hex(16)
    app_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_CONFIG_DIR=str(base / "config"),  # no user-level config leaks in
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        PYTHONUNBUFFERED="1",
        # Kernels inherit this: they import the nbstream of this checkout.
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p),
    )
    cmd = [
        sys.executable, "-m", "jupyter", app,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--{app_class}.expose_app_in_browser=True",
    ]  # fmt: skip
    if app == "lab":
        cmd.append("--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    log_path = base / f"jupyter-{app}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = JupyterServer(app, f"http://127.0.0.1:{port}", token, root, proc, log_path)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter {app} exited ({proc.returncode}):\n{server.log_tail()}")
        try:
            server.api("status")
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        if time.monotonic() > deadline:
            _stop_server(server)
            raise RuntimeError(f"jupyter {app} did not answer /api/status:\n{server.log_tail()}")
        time.sleep(0.2)


def _stop_server(server: JupyterServer) -> None:
    proc = server.proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    # Whatever is left in the server's own process group (kernels included) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@contextlib.contextmanager
def _server(app: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = _start_server(app, tmp_path_factory.mktemp(f"jupyter-{app}"))
    try:
        yield server
    finally:
        _stop_server(server)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    with _server("lab", tmp_path_factory) as server:
        yield server


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    with _server("notebook", tmp_path_factory) as server:
        yield server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: the cheap suites fail first, and Playwright's sync API (which
    leaves an asyncio loop marked running while it is active) is gone before anything else."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium through Playwright's sync API, per module: while ``sync_playwright()`` is
    active, ``asyncio.run()`` elsewhere fails with "cannot be called from a running loop"."""
    if not shutil.which(CHROMIUM):
        msg = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    try:
        yield page
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            stem = _artifact_name(f"FAILED-{request.node.name}")
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
            (ARTIFACTS / f"{stem}.console.txt").write_text("\n".join(console))
        context.close()


# --------------------------------------------------------------------------------------
# Driving a notebook in the page
# --------------------------------------------------------------------------------------

_JS_NOTEBOOK = "window.jupyterapp && window.jupyterapp.shell.currentWidget"

_JS_KERNEL_STATE = f"""() => {{
  const w = {_JS_NOTEBOOK};
  const sc = w && w.sessionContext;
  const k = sc && sc.session && sc.session.kernel;
  return {{
    path: w && w.context ? w.context.path : null,
    ready: !!(sc && sc.isReady),
    status: k ? k.status : null,
    connection: k ? k.connectionStatus : null,
    dialog: !!document.querySelector('.jp-Dialog'),
  }};
}}"""

_JS_RUN_CELL = f"""async (index) => {{
  const w = {_JS_NOTEBOOK};
  w.content.activeCellIndex = index;
  w.content.deselectAll();
  return await window.jupyterapp.commands.execute('notebook:run-cell');
}}"""

_JS_CELL_OUTPUT = f"""(index) => {{
  const w = {_JS_NOTEBOOK};
  const cell = w.content.widgets[index];
  const outs = cell.model.outputs.toJSON();
  return {{
    execution_count: cell.model.executionCount,
    text: outs.map((o) => {{
      if (o.output_type === 'stream') return Array.isArray(o.text) ? o.text.join('') : o.text;
      if (o.output_type === 'error') return o.ename + ': ' + o.evalue + '\\n';
      const d = o.data || {{}};
      const t = d['text/plain'];
      return t === undefined ? '' : (Array.isArray(t) ? t.join('') : t) + '\\n';
    }}).join(''),
    errors: outs.filter((o) => o.output_type === 'error').map((o) => o.ename + ': ' + o.evalue),
  }};
}}"""


class NotebookDriver:
    """Open a notebook in a page of a Lab / Notebook 7 server and run its cells."""

    def __init__(self, page: Any, server: JupyterServer) -> None:
        self.page = page
        self.server = server
        self.path: str | None = None

    # -- setup --------------------------------------------------------------------------
    def open(self, name: str, cells: list[str]) -> None:
        """Write the notebook, open it, and wait until its kernel is idle."""
        self.path = self.server.write_notebook(name, cells)
        self.page.goto(self.server.notebook_url(self.path), wait_until="domcontentloaded")
        self.wait_kernel_idle()
        # Every cell editor is attached (windowingMode none) before we run anything.
        self.cell(len(cells) - 1).wait_for()

    def wait_kernel_idle(self, timeout: float = KERNEL_READY_TIMEOUT) -> None:
        """Poll the session until its kernel is connected and idle, accepting any dialog
        (kernel selection, "kernel restarted" ...) on the way."""
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):  # the app may not be loaded yet
                state = self.page.evaluate(_JS_KERNEL_STATE)
                if state["dialog"]:
                    self.dismiss_dialogs()
                elif (
                    state["path"] == self.path
                    and state["ready"]
                    and state["status"] == "idle"
                    and state["connection"] == "connected"
                ):
                    return
            self.page.wait_for_timeout(200)
        self.screenshot("kernel-not-idle")
        raise AssertionError(f"kernel not idle after {timeout}s: {state}\n{self.server.log_tail()}")

    def dismiss_dialogs(self) -> None:
        """Accept whatever dialog is up (Select Kernel: the default is the notebook's)."""
        for button in self.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").all():
            with contextlib.suppress(Exception):
                button.click(timeout=2_000)

    # -- running ------------------------------------------------------------------------
    def run_cell(self, index: int) -> dict[str, Any]:
        """Run one cell (the "Run Selected Cell" command) and wait for its execute reply;
        return its outputs as ``{"execution_count", "text", "errors"}``."""
        self.page.evaluate(_JS_RUN_CELL, index)
        self.page.wait_for_function(
            f"(i) => {{ const w = {_JS_NOTEBOOK};"
            " return w.content.widgets[i].model.executionCount !== null"
            " && w.sessionContext.session.kernel.status === 'idle'; }",
            arg=index,
        )
        return self.cell_output(index)

    def run_all(self) -> None:
        """The "Run All Cells" menu command; returns once it is dispatched."""
        self.page.evaluate(
            "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
        )

    def cell_output(self, index: int) -> dict[str, Any]:
        out: dict[str, Any] = self.page.evaluate(_JS_CELL_OUTPUT, index)
        return out

    def cell(self, index: int) -> Any:
        """The cell's DOM node (a Playwright locator)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    # -- evidence -----------------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{_artifact_name(f'{self.server.app}-{name}')}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _drive(
    page: Any, server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookDriver]:
    yield NotebookDriver(page, server)
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = ARTIFACTS / f"{_artifact_name(f'FAILED-{request.node.name}')}.server.log"
        log.write_text(server.log_tail(400))
    server.shutdown_sessions()


@pytest.fixture
def lab(
    page: Any, lab_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookDriver]:
    """A notebook driver in JupyterLab 4."""
    yield from _drive(page, lab_server, request)


@pytest.fixture
def nb7(
    page: Any, notebook_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookDriver]:
    """A notebook driver in Notebook 7."""
    yield from _drive(page, notebook_server, request)
