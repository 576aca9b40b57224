"""A widget comm that publishes the way a kernel does, for tests outside a kernel.

Outside a kernel ipywidgets gets a ``comm.DummyComm`` that drops every message. The
``kernel_comm`` fixture (see ``conftest``-free use below) swaps in a comm that serialises
each message with the real ``jupyter_client`` packer (what ipykernel's session does before
ZeroMQ sees it), records the packed messages, and can be told to fail as ZeroMQ does when the
process is out of sockets.

Use::

    from kernel_comm import kernel_comm  # noqa: F401  (the fixture)

    def test_x(kernel_comm):
        w = nbstream.stream(["a"])
        ...
        kernel_comm.fail_from_now = True     # every later publish raises zmq.ZMQError
        kernel_comm.messages                 # list of dicts, as packed then unpacked
"""

from __future__ import annotations

import errno
import json
import threading
from typing import Any

import comm
import pytest
import zmq
from jupyter_client.session import json_packer


class KernelComm:
    """What every comm of the test publishes (see the module docstring)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail_from_now = False
        self.failures = 0
        self._lock = threading.Lock()

    def publish(self, msg_type: str, data: Any, metadata: Any, buffers: Any) -> None:
        if self.fail_from_now:
            with self._lock:
                self.failures += 1
            raise zmq.ZMQError(errno.EMFILE)
        packed = json_packer({"msg_type": msg_type, "data": data, "metadata": metadata})
        with self._lock:
            self.messages.append(json.loads(packed))

    def everything(self) -> str:
        """Every message published so far, as one JSON string (non-ASCII kept as is)."""
        with self._lock:
            return json.dumps(self.messages, ensure_ascii=False)


@pytest.fixture
def kernel_comm(monkeypatch: pytest.MonkeyPatch) -> KernelComm:
    """Widgets created in the test publish through a :class:`KernelComm`."""
    recorder = KernelComm()

    class PackingComm(comm.DummyComm):
        def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                        buffers: Any = None, **keys: Any) -> None:
            recorder.publish(msg_type, data, metadata, buffers)

    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: PackingComm(**kwargs))
    return recorder
