"""A real JupyterLab page for the browser benchmark, reusing the browser test harness.

``tests/browser/conftest.py`` is pytest-fixture based; its plain functions (``_start_server``,
``_stop_server``) and classes (``NotebookDriver``) are loaded here from that file, so the
benchmark starts the server and drives the page exactly as the browser tests do.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from _common import REPO_ROOT

HARNESS_PATH = REPO_ROOT / "tests" / "browser" / "conftest.py"


def harness() -> ModuleType:
    """The browser test harness module (``tests/browser/conftest.py``), loaded once under a
    private name (``conftest`` is ambiguous: ``tests/`` has one too)."""
    name = "_nbstream_browser_harness"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, HARNESS_PATH)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {HARNESS_PATH}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def lab_page(viewport: tuple[int, int] = (1280, 900)) -> Iterator[tuple[Any, Any]]:
    """A running JupyterLab 4 server and a Chromium page: yields ``(driver, server)`` where
    ``driver`` is the harness's ``NotebookDriver`` bound to a fresh page."""
    from playwright.sync_api import sync_playwright

    h = harness()
    if not Path(h.CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {h.CHROMIUM} (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="nbstream-bench-browser-") as tmp:
        server = h._start_server("lab", Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=h.CHROMIUM, args=h.CHROMIUM_ARGS)
                try:
                    context = browser.new_context(
                        viewport={"width": viewport[0], "height": viewport[1]}
                    )
                    context.set_default_timeout(60_000)
                    page = context.new_page()
                    driver = h.NotebookDriver(page, server)
                    try:
                        yield driver, server
                    finally:
                        with contextlib.suppress(Exception):
                            server.shutdown_sessions()
                        context.close()
                finally:
                    browser.close()
        finally:
            h._stop_server(server)
