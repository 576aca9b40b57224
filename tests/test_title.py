"""``title=`` on every entry point (issue 11, item 5): a label in the header, in the comm's
opening state (no message of its own), kept in the saved copy, and always text, never markup."""

from __future__ import annotations

import pytest
from kernel_comm import KernelComm, kernel_comm  # noqa: F401  (the fixture)

import nbstream

TITLE = 'gpt-4.1 · t=0.2 <img src=x onerror="alert(1)"> & co'


def test_the_title_is_in_the_opening_state_and_the_saved_copy_as_text(
        kernel_comm: KernelComm) -> None:  # noqa: F811
    w = nbstream.stream(iter(["Hello"]), title=TITLE)
    assert w.wait(10) and w.title == TITLE
    opened = [m for m in kernel_comm.messages if m["msg_type"] == "comm_open"
              and m["data"]["state"].get("_anywidget_id", "").endswith("StreamWidget")]
    assert opened[-1]["data"]["state"]["title"] == TITLE
    updates = [m for m in kernel_comm.messages if m["msg_type"] == "comm_msg"
               and "title" in m["data"].get("state", {})]
    assert updates == [], "the title cost a message of its own"
    copy = w._static_bundle()[0]["text/html"]
    assert "<img" not in copy and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co" in copy
    assert f"title={TITLE!r}" in repr(w)


@pytest.mark.parametrize("entry", ["responses", "chat", "completions"])
def test_every_entry_point_takes_a_title_and_refuses_a_wrong_one(entry: str) -> None:
    client = nbstream.demo_client(speed=float("inf"))
    kwargs = {"responses": {"input": "Hello"}, "chat": {"messages": [
        {"role": "user", "content": "Hello"}]}, "completions": {"prompt": "Hello"}}[entry]
    w = getattr(nbstream, entry)(client, model="demo", title="first try", **kwargs)
    assert w.wait(10) and w.title == "first try"
    with pytest.raises(TypeError, match=r"title=\.\.\.\) expects a str"):
        getattr(nbstream, entry)(client, model="demo", title=["a"], **kwargs)
