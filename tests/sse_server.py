"""A real loopback HTTP/1.1 server that speaks Server-Sent Events, for driving the real
``openai`` SDK (which talks through ``httpx2``; ``respx`` cannot intercept it) in tests.

Stdlib only: raw non-blocking sockets + ``select``, one thread per connection.

Usage (the ``sse_server`` fixture in ``conftest.py`` starts and stops one per test)::

    server = SSEServer().start()
    client = OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
    server.enqueue(Script.events("chat", [chunk1, chunk2], delay=0.01))
    ...
    rec = server.wait_for_request(0)          # RequestRecord
    rec.json["stream"] is True
    assert rec.wait_closed(1.0)               # the client closed the connection
    server.close()                            # joins every thread, closes every socket

Server
------
``SSEServer.base_url``
    ``"http://127.0.0.1:PORT/v1"`` (ephemeral port).
``SSEServer.enqueue(*scripts)``
    Scripts are consumed one per request, FIFO.  A request that finds no script is answered
    ``500`` with an OpenAI-shaped error and recorded in ``server.unscripted``.
``SSEServer.requests``
    ``list[RequestRecord]`` in arrival order.  ``wait_for_request(i, timeout)`` waits for one.
``SSEServer.errors``
    Formatted tracebacks of unexpected server-side exceptions.  A client disconnect is *not* an
    error (it is recorded as ``closed_by == "client"``).  ``problems()`` lists errors,
    unscripted requests, unconsumed scripts and leaked threads; the fixture fails on them.
``SSEServer.route(path, handler)``
    Answer every request to ``path`` (e.g. ``"/v1/moderations"``; any method, query ignored)
    with ``handler(record)``: a JSON-able value (``200``), ``(status, value)`` or a
    ``Script``.  Routed requests consume no script and are recorded in ``server.routed``
    (``list[RequestRecord]``, arrival order), not in ``server.requests``.
``SSEServer.close()``
    Wakes every connection handler (they all ``select`` on a shared wake-up socket), closes
    all sockets and joins all threads.  Idempotent.

Every response carries ``Connection: close``, so each request has its own TCP connection and
``closed_at`` always belongs to exactly one request.

Script
------
``Script.sse_file(path, *, delay=0.0, split="events", headers_delay=0.0)``
    Replay a recorded ``.sse`` body byte-for-byte.  ``split="events"`` sends each event
    (text up to and including its blank line) as its own HTTP chunk; an ``int`` splits into
    chunks of that many bytes instead (events cut mid-line).
``Script.events(api, events, *, delay=0.0, headers_delay=0.0, done=True)``
    ``api`` in ``{"responses", "chat", "completions"}``; ``events`` are dicts.  Responses:
    ``event: {type}\\ndata: {json}\\n\\n``; chat/completions: ``data: {json}\\n\\n`` and, when the
    script ends normally and ``done`` is true, ``data: [DONE]\\n\\n``.
``Script.http_error(status, message, *, type_="invalid_request_error", code=None,
headers_delay=0.0)``
    A non-streaming JSON error body ``{"error": {"message", "type", "param", "code"}}``.
``Script.json(value, *, status=200)``
    A non-streaming JSON body.
``Script.raw(pieces, *, status=200, headers=None, ...)``
    Arbitrary body pieces (bytes), each one HTTP chunk.

``delay`` is slept (interruptibly: a client close is still observed) between two body pieces,
``headers_delay`` before the status line.  Builders that return ``self``:

``.hold_headers(gate)``   wait for the ``threading.Event`` before sending the status line
``.then_wait(gate)``      after the pieces so far, wait for the event before continuing
``.then_events(events)``  append more events (same api)
``.then_silent()``        end: keep the connection open sending nothing until the client closes
``.then_reset()``         end: abort the TCP connection with RST (``SO_LINGER`` 0) mid-body
``.then_close()``         end: close (FIN) mid-body, without the terminating zero-size chunk

RequestRecord
-------------
``method``, ``path``, ``headers`` (dict, lower-case names), ``body`` (bytes), ``json`` (parsed
body or ``None``), ``opened_at`` (monotonic time the connection was accepted),
``received_at`` (request fully read), ``headers_sent_at`` (status line sent), ``pieces_sent``
(body pieces sent so far), ``closed_at`` (monotonic time the server *observed* the end of the
connection), ``closed_by`` (``"client"`` = the client closed or reset it, ``"server-reset"``,
``"server-close"``, ``"server-shutdown"``), ``wait_closed(timeout) -> bool``,
``wait_sent(n, timeout) -> bool``, ``wait_headers_sent(timeout) -> bool``.

While the server is waiting (delays, gates, silence, after a complete response) it
``select``-s on the client socket, so a client close is seen within a few milliseconds.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import select
import socket
import struct
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RequestRecord", "SSEServer", "Script", "wait_until"]

THREAD_PREFIX = "sse-server"
_APIS = ("responses", "chat", "completions")
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


API_KEY = "sk-test-nbstream-SECRET-0123456789"
"""The key of the clients the tests make (a secret nbstream must never show)."""


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.002) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` passes; return whether it held.

    For observing state that has no event to wait on (e.g. ``w.text`` growing)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# scripts


def _responses_wire(event: dict) -> bytes:
    return (
        f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
    ).encode()


def _data_wire(event: dict) -> bytes:
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


@dataclass
class Script:
    """What the server answers to one request.  Build with the class methods."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    steps: list[bytes | threading.Event] = field(default_factory=list)
    chunked: bool = True
    delay: float = 0.0
    headers_delay: float = 0.0
    gate: threading.Event | None = None
    ending: str = "complete"  # complete | silent | reset | close
    trailer: bytes = b""  # sent only when ending == "complete" (e.g. b"data: [DONE]\n\n")
    api: str | None = None
    name: str = ""

    # ---- constructors ----------------------------------------------------------------------

    @classmethod
    def raw(
        cls,
        pieces: Iterable[bytes],
        *,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
        delay: float = 0.0,
        headers_delay: float = 0.0,
        content_type: str = "text/event-stream; charset=utf-8",
    ) -> Script:
        hdrs = [("Content-Type", content_type), ("Cache-Control", "no-cache")]
        hdrs += list(headers or [])
        return cls(
            status=status,
            headers=hdrs,
            steps=list(pieces),
            delay=delay,
            headers_delay=headers_delay,
            name="raw",
        )

    @classmethod
    def sse_file(
        cls,
        path: str | Path,
        *,
        delay: float = 0.0,
        split: str | int = "events",
        headers_delay: float = 0.0,
    ) -> Script:
        data = Path(path).read_bytes()
        pieces = split_events(data) if split == "events" else split_bytes(data, int(split))
        assert b"".join(pieces) == data
        script = cls.raw(pieces, delay=delay, headers_delay=headers_delay)
        script.name = f"sse_file({Path(path).name})"
        return script

    @classmethod
    def events(
        cls,
        api: str,
        events: Iterable[dict],
        *,
        delay: float = 0.0,
        headers_delay: float = 0.0,
        done: bool = True,
    ) -> Script:
        if api not in _APIS:
            raise ValueError(f"api must be one of {_APIS}, not {api!r}")
        script = cls.raw([], delay=delay, headers_delay=headers_delay)
        script.api = api
        script.name = f"events({api})"
        script.then_events(events)
        if api != "responses" and done:
            script.trailer = b"data: [DONE]\n\n"
        return script

    @classmethod
    def json(cls, value: Any, *, status: int = 200) -> Script:
        return cls(
            status=status,
            headers=[("Content-Type", "application/json")],
            steps=[json.dumps(value).encode()],
            chunked=False,
            name=f"json({status})",
        )

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers_delay: float = 0.0,
    ) -> Script:
        body = json.dumps(
            {"error": {"message": message, "type": type_, "param": param, "code": code}}
        ).encode()
        return cls(
            status=status,
            headers=[("Content-Type", "application/json")],
            steps=[body],
            chunked=False,
            headers_delay=headers_delay,
            name=f"http_error({status})",
        )

    # ---- builders --------------------------------------------------------------------------

    def then_events(self, events: Iterable[dict]) -> Script:
        if self.api is None:
            raise ValueError("then_events() needs a script made by Script.events()")
        wire = _responses_wire if self.api == "responses" else _data_wire
        self.steps.extend(wire(e) for e in events)
        return self

    def hold_headers(self, gate: threading.Event) -> Script:
        self.gate = gate
        return self

    def then_wait(self, gate: threading.Event) -> Script:
        self.steps.append(gate)
        return self

    def then_silent(self) -> Script:
        self.ending = "silent"
        return self

    def then_reset(self) -> Script:
        self.ending = "reset"
        return self

    def then_close(self) -> Script:
        self.ending = "close"
        return self


def split_events(data: bytes) -> list[bytes]:
    """Split an SSE body after each blank line; ``b"".join`` of the result is ``data``."""
    pieces, start = [], 0
    for m in _EVENT_END.finditer(data):
        pieces.append(data[start : m.end()])
        start = m.end()
    if start < len(data):
        pieces.append(data[start:])
    return pieces


def split_bytes(data: bytes, size: int) -> list[bytes]:
    if size <= 0:
        raise ValueError("split size must be positive")
    return [data[i : i + size] for i in range(0, len(data), size)]


# --------------------------------------------------------------------------------------------
# records


class RequestRecord:
    """One HTTP request as the server saw it (see the module docstring)."""

    def __init__(self, index: int, opened_at: float, peer: tuple) -> None:
        self.index = index
        self.peer = peer
        self.opened_at = opened_at
        self.method = ""
        self.path = ""
        self.headers: dict[str, str] = {}
        self.body = b""
        self.json: Any = None
        self.received_at: float | None = None
        self.headers_sent_at: float | None = None
        self.closed_at: float | None = None
        self.closed_by: str | None = None
        self.script: Script | None = None
        self._cond = threading.Condition()
        self._pieces_sent = 0
        self._headers_sent = False

    def __repr__(self) -> str:
        return (
            f"<RequestRecord #{self.index} {self.method} {self.path} "
            f"script={self.script.name if self.script else None} sent={self._pieces_sent} "
            f"closed_by={self.closed_by}>"
        )

    @property
    def pieces_sent(self) -> int:
        return self._pieces_sent

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def _piece_sent(self) -> None:
        with self._cond:
            self._pieces_sent += 1
            self._cond.notify_all()

    def _mark_headers_sent(self) -> None:
        with self._cond:
            self.headers_sent_at = time.monotonic()
            self._headers_sent = True
            self._cond.notify_all()

    def _mark_closed(self, by: str, at: float | None = None) -> None:
        with self._cond:
            if self.closed_at is None:
                self.closed_at = time.monotonic() if at is None else at
                self.closed_by = by
            self._cond.notify_all()

    def wait_closed(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.closed_at is not None, timeout)

    def wait_sent(self, n: int, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pieces_sent >= n, timeout)

    def wait_headers_sent(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._headers_sent, timeout)


# --------------------------------------------------------------------------------------------
# connection


class _ClientGone(Exception):
    """The client closed or reset the connection (normal)."""

    def __init__(self, at: float) -> None:
        super().__init__("client closed the connection")
        self.at = at


class _Stopping(Exception):
    """The server is shutting down."""


class _Conn:
    def __init__(self, sock: socket.socket, wake: socket.socket) -> None:
        self.sock = sock
        self.wake = wake
        self.buf = b""
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _recv_into_buf(self) -> None:
        """The socket is readable: read, or raise _ClientGone on EOF / reset."""
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            raise _ClientGone(time.monotonic()) from None
        if not data:
            raise _ClientGone(time.monotonic())
        self.buf += data

    def wait(self, timeout: float | None, until: threading.Event | None = None) -> None:
        """Sleep ``timeout`` seconds (None: forever) or until ``until`` is set, watching the
        socket: raise _ClientGone as soon as the client closes, _Stopping on shutdown."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if until is not None and until.is_set():
                return
            if deadline is None:
                remaining = None
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
            if until is not None:  # gates are threading.Events: poll them every 5 ms
                remaining = 0.005 if remaining is None else min(remaining, 0.005)
            r, _, _ = select.select([self.sock, self.wake], [], [], remaining)
            if self.wake in r:
                raise _Stopping
            if self.sock in r:
                self._recv_into_buf()

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            r, w, _ = select.select([self.sock, self.wake], [self.sock], [])
            if self.wake in r:
                raise _Stopping
            if self.sock in r:
                self._recv_into_buf()
            if self.sock in w:
                try:
                    n = self.sock.send(view)
                except (BlockingIOError, InterruptedError):
                    continue
                except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
                    raise _ClientGone(time.monotonic()) from None
                except OSError as e:
                    if e.errno in (errno.EPIPE, errno.ECONNRESET):
                        raise _ClientGone(time.monotonic()) from None
                    raise
                view = view[n:]

    def read_request(self, timeout: float = 10.0) -> tuple[str, str, dict[str, str], bytes] | None:
        """Read one request; None if the client closed before sending a byte."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"incomplete request head after {timeout}s: {self.buf[:200]!r}")
            try:
                self._wait_readable(remaining)
            except _ClientGone:
                if not self.buf:
                    return None
                raise
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        if not version.startswith("HTTP/1."):
            raise ValueError(f"unexpected request line {lines[0]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise ValueError("chunked request bodies are not supported by the test server")
        length = int(headers.get("content-length", "0"))
        self.buf = rest
        while len(self.buf) < length:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"incomplete request body after {timeout}s")
            self._wait_readable(remaining)
        body, self.buf = self.buf[:length], self.buf[length:]
        return method, target, headers, body

    def _wait_readable(self, timeout: float) -> None:
        r, _, _ = select.select([self.sock, self.wake], [], [], timeout)
        if self.wake in r:
            raise _Stopping
        if self.sock in r:
            self._recv_into_buf()

    def reset(self) -> None:
        """Abort with RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


# --------------------------------------------------------------------------------------------
# server


class SSEServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[RequestRecord] = []
        self.unscripted: list[RequestRecord] = []
        self.routed: list[RequestRecord] = []
        self.errors: list[str] = []
        self._routes: dict[str, Callable[[RequestRecord], Any]] = {}
        self._scripts: deque[Script] = deque()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._closed = False
        self._accept_thread: threading.Thread | None = None
        self._conn_count = 0
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> SSEServer:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.host, 0))
        ls.listen(64)
        ls.setblocking(False)
        self._listener = ls
        self.port = ls.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name=f"{THREAD_PREFIX}-accept", daemon=True)
        self._accept_thread = t
        t.start()
        return self

    def __enter__(self) -> SSEServer:
        return self.start() if self._listener is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if self._listener is not None:
            self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def alive_threads(self) -> list[threading.Thread]:
        with self._lock:
            threads = list(self._threads)
        if self._accept_thread is not None:
            threads.append(self._accept_thread)
        return [t for t in threads if t.is_alive()]

    def problems(self, *, strict: bool = True) -> list[str]:
        """Everything that should fail the test: server errors, leaked server threads and
        (``strict``) requests with no script and scripts never consumed."""
        out = [f"server error:\n{e}" for e in self.errors]
        out += [f"server thread still alive: {t.name}" for t in self.alive_threads()]
        if strict:
            out += [
                f"request with no script (answered 500): {r.method} {r.path} {r.json!r:.200}"
                for r in self.unscripted
            ]
            out += [f"script never consumed: {s.name}" for s in self._scripts]
        return out

    # ---- scripting -------------------------------------------------------------------------

    def route(self, path: str, handler: Callable[[RequestRecord], Any]) -> None:
        """Answer requests to ``path`` with ``handler`` (see the module docstring)."""
        with self._lock:
            self._routes[path] = handler

    def enqueue(self, *scripts: Script) -> None:
        with self._lock:
            self._scripts.extend(scripts)

    @property
    def pending_scripts(self) -> int:
        with self._lock:
            return len(self._scripts)

    def wait_for_request(self, index: int = 0, timeout: float = 5.0) -> RequestRecord:
        """Wait until request number ``index`` has been fully received; return its record."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: len(self.requests) > index and self.requests[index].received_at, timeout
            )
            if not ok:
                raise AssertionError(
                    f"server received {len(self.requests)} request(s) within {timeout}s, "
                    f"waited for #{index}"
                )
            return self.requests[index]

    # ---- internals -------------------------------------------------------------------------

    def _error(self, where: str) -> None:
        with self._lock:
            self.errors.append(f"[{where}] {traceback.format_exc()}")

    def _accept_loop(self) -> None:
        assert self._listener is not None
        try:
            while True:
                r, _, _ = select.select([self._listener, self._wake_r], [], [])
                if self._wake_r in r:
                    return
                try:
                    sock, peer = self._listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                opened_at = time.monotonic()
                with self._lock:
                    if self._closed:
                        sock.close()
                        return
                    self._conn_count += 1
                    n = self._conn_count
                    t = threading.Thread(
                        target=self._serve_conn,
                        args=(sock, peer, opened_at),
                        name=f"{THREAD_PREFIX}-conn-{n}",
                        daemon=True,
                    )
                    self._threads.append(t)
                t.start()
        except Exception:
            self._error("accept")

    def _serve_conn(self, sock: socket.socket, peer: tuple, opened_at: float) -> None:
        conn = _Conn(sock, self._wake_r)
        rec: RequestRecord | None = None
        sock_closed = False
        try:
            req = conn.read_request()
            if req is None:  # connected and left without a request (not seen from httpx2)
                return
            method, target, headers, body = req
            with self._cond:
                handler = self._routes.get(target.partition("?")[0])
                records = self.routed if handler is not None else self.requests
                rec = RequestRecord(len(records), opened_at, peer)
                rec.method, rec.path, rec.headers, rec.body = method, target, headers, body
                if body and "json" in headers.get("content-type", ""):
                    rec.json = json.loads(body)
                rec.received_at = time.monotonic()
                records.append(rec)
                script = None
                if handler is None:
                    script = self._scripts.popleft() if self._scripts else None
                    rec.script = script
                    if script is None:
                        self.unscripted.append(rec)
                self._cond.notify_all()
            if handler is not None:
                answer = handler(rec)
                if not isinstance(answer, Script):
                    status, value = answer if isinstance(answer, tuple) else (200, answer)
                    answer = Script.json(value, status=status)
                rec.script = script = answer
            if script is None:
                script = Script.http_error(
                    500,
                    f"test server: no script queued for {method} {target}",
                    type_="server_error",
                )
            sock_closed = self._play(conn, rec, script)
        except _ClientGone as gone:
            if rec is not None:
                rec._mark_closed("client", gone.at)
        except _Stopping:
            if rec is not None:
                rec._mark_closed("server-shutdown")
        except Exception:
            self._error(f"connection {peer}: {rec!r}")
            if rec is not None:
                rec._mark_closed("server-error")
        finally:
            if not sock_closed:
                with contextlib.suppress(OSError):
                    sock.close()

    def _play(self, conn: _Conn, rec: RequestRecord, script: Script) -> bool:
        """Answer one request. Returns True if the socket was already closed here."""
        if script.gate is not None:
            conn.wait(None, until=script.gate)
        if script.headers_delay:
            conn.wait(script.headers_delay)

        reason = _REASONS.get(script.status, "Status")
        head = [f"HTTP/1.1 {script.status} {reason}"]
        head += [f"{k}: {v}" for k, v in script.headers]
        head.append(f"x-request-id: req_test_{rec.index}")
        head.append("Connection: close")
        if script.chunked:
            head.append("Transfer-Encoding: chunked")
        else:
            body = b"".join(s for s in script.steps if isinstance(s, bytes))
            head.append(f"Content-Length: {len(body)}")
        conn.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        rec._mark_headers_sent()

        if not script.chunked:
            conn.send(body)
            rec._piece_sent()
        else:
            first = True
            for step in script.steps:
                if isinstance(step, threading.Event):
                    conn.wait(None, until=step)
                    continue
                if not first and script.delay:
                    conn.wait(script.delay)
                first = False
                if step:
                    conn.send(b"%x\r\n%s\r\n" % (len(step), step))
                rec._piece_sent()
            if script.ending == "complete":
                if script.trailer:
                    if not first and script.delay:
                        conn.wait(script.delay)
                    conn.send(b"%x\r\n%s\r\n" % (len(script.trailer), script.trailer))
                conn.send(b"0\r\n\r\n")
            elif script.ending == "reset":
                rec._mark_closed("server-reset")  # before: the client may react at once
                conn.reset()
                return True
            elif script.ending == "close":
                rec._mark_closed("server-close")
                conn.sock.close()
                return True
            elif script.ending != "silent":
                raise ValueError(f"unknown script ending {script.ending!r}")
        # Complete response (Connection: close) or silence: wait for the client to hang up.
        conn.wait(None)
        return False
