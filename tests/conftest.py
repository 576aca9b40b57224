"""Shared fixtures: the loopback SSE server (``sse_server``) and real ``openai`` clients
pointed at it (``client``, ``make_async_client``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:  # `from sse_server import ...` works in any import mode
    sys.path.insert(0, str(_TESTS))

from sse_server import API_KEY, SSEServer  # noqa: E402  (API_KEY: for the fixtures)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def sse_server(request):
    """A started :class:`sse_server.SSEServer`; closed (all threads joined) after the test.

    Fails the test on server-side errors or leaked server threads, and, when the test itself
    passed, on requests that found no script or scripts that were never consumed."""
    server = SSEServer().start()
    try:
        yield server
    finally:
        server.close()
    rep = getattr(request.node, "rep_call", None)
    problems = server.problems(strict=rep is not None and rep.passed)
    if problems:
        pytest.fail("loopback server: " + "\n".join(problems), pytrace=False)


@pytest.fixture
def client(sse_server):
    """A real sync ``openai.OpenAI`` talking to the loopback server (no retries)."""
    from openai import OpenAI

    c = OpenAI(base_url=sse_server.base_url, api_key=API_KEY, max_retries=0, timeout=30.0)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def make_async_client(sse_server):
    """Factory for real ``openai.AsyncOpenAI`` clients for the loopback server. Call it inside
    the running loop and ``await client.close()`` before the loop ends."""
    from openai import AsyncOpenAI

    def make(**kwargs):
        options = {"api_key": API_KEY, "max_retries": 0, "timeout": 30.0, **kwargs}
        return AsyncOpenAI(base_url=sse_server.base_url, **options)

    return make
