"""Drive a real ipykernel over ZMQ, the way a front-end does, and record everything on IOPub.

``KernelSession`` starts the ``python3`` kernel of the current interpreter (jupyter_client
swaps ``python`` for ``sys.executable``) in a temporary working directory, with this
checkout first on ``PYTHONPATH`` so the kernel imports the nbstream under test.

A collector thread reads IOPub for the whole life of the kernel and appends every message
with its arrival time, so background traffic (a stream still flowing after its cell
returned) is kept as well as the messages of each execution.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

REPO_ROOT = Path(__file__).resolve().parents[1]
WIDGET_TARGET = "jupyter.widget"
#: kernel -> front-end widget traffic: custom messages (patches) and trait syncs.
UPDATE_METHODS = frozenset({"custom", "update"})


@dataclass
class Received:
    """One IOPub message and when the collector got it (``time.monotonic()``)."""

    t: float
    msg: dict[str, Any]

    @property
    def msg_type(self) -> str:
        return str(self.msg["header"]["msg_type"])

    @property
    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = self.msg["content"]
        return content

    @property
    def parent_id(self) -> str | None:
        return self.msg.get("parent_header", {}).get("msg_id")

    @property
    def sent_at(self) -> float:
        """When the kernel made the message (header date, epoch seconds)."""
        date = self.msg["header"].get("date")
        if isinstance(date, datetime):
            return date.timestamp()
        if isinstance(date, str):
            return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()
        return self.t  # no date: fall back to arrival

    def payload_bytes(self) -> int:
        """Size on the wire of a comm message's ``data`` (JSON) plus its binary buffers."""
        data = self.content.get("data", {})
        size = len(json.dumps(data, ensure_ascii=False, default=str).encode())
        return size + sum(len(memoryview(b).cast("B")) for b in self.msg.get("buffers") or [])


@dataclass
class ExecResult:
    msg_id: str
    t_sent: float
    t_reply: float
    t_idle: float
    reply: dict[str, Any]
    messages: list[Received] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.reply["content"]["status"])

    @property
    def reply_latency(self) -> float:
        return self.t_reply - self.t_sent

    def _streams(self, name: str) -> str:
        return "".join(
            r.content["text"]
            for r in self.messages
            if r.msg_type == "stream" and r.content.get("name") == name
        )

    @property
    def stdout(self) -> str:
        return self._streams("stdout")

    @property
    def stderr(self) -> str:
        return self._streams("stderr")

    @property
    def error(self) -> str | None:
        c = self.reply["content"]
        if c["status"] == "ok":
            return None
        return f"{c.get('ename')}: {c.get('evalue')}\n" + "\n".join(c.get("traceback", []))


class KernelSession:
    """A started kernel, a blocking client and an IOPub collector thread."""

    def __init__(self, cwd: Path, *, startup_timeout: float = 60.0) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        env.pop("CI", None)  # nothing in the kernel should behave differently under CI
        env["PYTHONUNBUFFERED"] = "1"
        self.km = KernelManager(
            kernel_name="python3", connection_file=str(cwd / "kernel-connection.json")
        )
        self.km.start_kernel(cwd=str(cwd), env=env)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self._cond = threading.Condition()
        self._messages: list[Received] = []
        self._stopping = threading.Event()
        try:
            self.kc.wait_for_ready(timeout=startup_timeout)
        except BaseException:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
            raise
        self._collector = threading.Thread(target=self._collect, name="iopub", daemon=True)
        self._collector.start()

    # -- IOPub ---------------------------------------------------------------------------
    def _collect(self) -> None:
        while not self._stopping.is_set():
            try:
                msg = self.kc.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            except Exception:  # channel closed during shutdown
                if self._stopping.is_set():
                    return
                raise
            with self._cond:
                self._messages.append(Received(time.monotonic(), msg))
                self._cond.notify_all()

    @property
    def messages(self) -> list[Received]:
        """A snapshot of every IOPub message so far, in arrival order."""
        with self._cond:
            return list(self._messages)

    def wait_for(self, predicate: Any, timeout: float) -> Received:
        """Block until a collected message satisfies ``predicate``; return it."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for r in self._messages[seen:]:
                    if predicate(r):
                        return r
                seen = len(self._messages)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no matching IOPub message")
                self._cond.wait(left)

    # -- shell ---------------------------------------------------------------------------
    def send_execute(self, code: str, cell_id: str | None = None) -> str:
        """Send an execute request (with ``cellId`` metadata, as JupyterLab and Notebook 7
        send it, when given) and return its msg_id at once."""
        if cell_id is None:
            return str(self.kc.execute(code, store_history=False, allow_stdin=False))
        content = {"code": code, "silent": False, "store_history": False,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        msg = self.kc.session.msg("execute_request", content, metadata={"cellId": cell_id})
        self.kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def execute(self, code: str, timeout: float = 60.0, cell_id: str | None = None,
                msg_id: str | None = None) -> ExecResult:
        """Run ``code`` (or, with ``msg_id``, the request already sent); return once its
        execute_reply and its IOPub ``idle`` have arrived."""
        t_sent = time.monotonic()
        msg_id = msg_id or self.send_execute(code, cell_id)
        deadline = t_sent + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no execute_reply within {timeout}s for:\n{code[:500]}")
            try:
                reply = self.kc.get_shell_msg(timeout=left)
            except queue.Empty:
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        t_reply = time.monotonic()
        idle = self.wait_for(
            lambda r: (
                r.parent_id == msg_id
                and r.msg_type == "status"
                and r.content.get("execution_state") == "idle"
            ),
            timeout=max(deadline - time.monotonic(), 5.0),
        )
        mine = [r for r in self.messages if r.parent_id == msg_id]
        return ExecResult(msg_id, t_sent, t_reply, idle.t, reply, mine)

    def run(self, code: str, timeout: float = 60.0) -> str:
        """Execute, require success, return stdout."""
        res = self.execute(code, timeout=timeout)
        if res.status != "ok":
            raise AssertionError(f"cell failed:\n{code[:500]}\n{res.error}\n{res.stderr}")
        return res.stdout

    def run_json(self, expr: str, timeout: float = 60.0) -> Any:
        """Evaluate a Python expression in the kernel and return it through JSON."""
        out = self.run(f"import json as _j\nprint(_j.dumps({expr}))", timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])

    # -- widgets -------------------------------------------------------------------------
    def widget_comm_ids(self, class_suffix: str = "StreamWidget") -> list[str]:
        """comm_ids of widgets opened so far whose ``_anywidget_id`` ends with the suffix."""
        ids = []
        for r in self.messages:
            if r.msg_type != "comm_open" or r.content.get("target_name") != WIDGET_TARGET:
                continue
            state = r.content.get("data", {}).get("state", {})
            if str(state.get("_anywidget_id", "")).endswith(class_suffix):
                ids.append(str(r.content["comm_id"]))
        return ids

    def widget_comm_id(self, class_suffix: str = "StreamWidget") -> str:
        ids = self.widget_comm_ids(class_suffix)
        if not ids:
            opened = [
                r.content.get("data", {}).get("state", {}).get("_anywidget_id")
                for r in self.messages
                if r.msg_type == "comm_open"
            ]
            raise AssertionError(f"no comm_open for a *{class_suffix}; opened: {opened}")
        return ids[-1]

    def send_custom(self, comm_id: str, content: dict[str, Any]) -> float:
        """Send ``content`` to the widget as the front-end's ``model.send(content)`` does
        (ipywidgets protocol 2: ``{"method": "custom", "content": ...}``, which the kernel
        hands to ``widget.on_msg`` callbacks). Returns the send time (monotonic)."""
        msg = self.kc.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}}
        )
        t = time.monotonic()
        self.kc.shell_channel.send(msg)
        return t

    def widget_updates(self, comm_id: str) -> list[Received]:
        """Kernel -> front-end updates of one widget: comm_msg with method custom/update."""
        return [
            r
            for r in self.messages
            if r.msg_type == "comm_msg"
            and r.content.get("comm_id") == comm_id
            and r.content.get("data", {}).get("method") in UPDATE_METHODS
        ]

    # -- teardown ------------------------------------------------------------------------
    def shutdown(self) -> None:
        self._stopping.set()
        self._collector.join(timeout=5)
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@contextmanager
def kernel_session(cwd: Path) -> Iterator[KernelSession]:
    ks = KernelSession(cwd)
    try:
        yield ks
    finally:
        ks.shutdown()


def max_per_window(times: Iterable[float], window: float = 1.0) -> int:
    """The largest number of events falling in any half-open interval of ``window`` s."""
    ts = sorted(times)
    best = lo = 0
    for hi, t in enumerate(ts):
        while t - ts[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
