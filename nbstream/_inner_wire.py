"""The open block on the wire: what a markdown part's patch says about it (see ``_inner.py``).

While the renderer commits inside the tail's open block, the page holds that block's container
(built once from ``open + close``), the committed children appended into it, and the open
children (``tail``, spliced with ``keep`` as ever, now inside the container) followed by
``after`` (the start of the next block, replaced whole). The op's fields:

- ``inner``: ``{"open", "close", "children"}`` starts a new open block in the tail (the page
  drops any previous one and its ``tail``: ``keep`` then counts from an empty tail);
  ``null`` drops the open block (the tail is sent whole again);
- ``inner_append``: children committed since the last patch, appended in order;
- ``from_inner``: the first block of ``append`` *is* the open block, ended: the page puts that
  piece (the rest of its children) in place of the open children and moves the container,
  nodes and all, into the committed blocks;
- ``after``: the HTML after the block in the tail, when it changed.

A snapshot's markdown entry keeps ``tail`` as the whole tail HTML (what a saved notebook
shows) and adds ``inner``: ``{"open", "close", "children", "tail", "after"}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._inner import InnerUpdate


@dataclass(slots=True)
class InnerSent:
    """What the page holds of the open block."""

    open: str
    close: str
    children: list[str] = field(default_factory=list)
    after: str = ""

    def html(self, tail: str) -> str:
        """The whole tail HTML the page shows, given the open children ``tail``."""
        return self.open + "".join(self.children) + tail + self.close + self.after

    def rest(self, block: str) -> str | None:
        """What ``block`` holds after the committed children, when it is this open block
        (its container and committed children unchanged)."""
        head = self.open + "".join(self.children)
        if block.startswith(head) and block.endswith(self.close) and (
                len(block) >= len(head) + len(self.close)):
            return block[len(head) : len(block) - len(self.close)]
        return None

    def snapshot(self, tail: str) -> dict[str, Any]:
        return {"open": self.open, "close": self.close, "children": list(self.children),
                "tail": tail, "after": self.after}


def inner_step(sent: Any, inner: InnerUpdate | None, appended: list[str], tail: str,
               op: dict[str, Any], final: bool) -> tuple[str, list[str], str]:
    """Fill ``op``'s open-block fields for one update of a markdown part whose page holds
    ``sent`` (a ``_patches._Sent``: its ``inner`` and ``tail`` are updated here). Returns the
    tail HTML the page will splice into (``""`` once the open block changed), the blocks to
    append (the first one cut to its rest for ``from_inner``), and the new tail: at the end
    (``final``: ``tail`` is then the whole tail) the open children, should the whole tail still
    fit the open block."""
    held: InnerSent | None = None if op.get("reset") else sent.inner
    old = "" if op.get("reset") else sent.tail
    if held is not None and appended:
        rest = held.rest(appended[0])
        if rest is not None:
            op["from_inner"] = True
            appended = [rest, *appended[1:]]
        elif not (inner is not None and inner.started):
            op["inner"] = None
        held, old = None, ""
    elif held is not None and final:  # the whole tail, settled: does it still fit?
        if inner is not None and held.open + "".join(held.children) + inner.tail + held.close \
                + inner.after == tail:
            tail = inner.tail
        else:
            op["inner"], held, old, inner = None, None, "", None
    elif held is not None and (inner is None or inner.started):
        if not (inner is not None and inner.started):
            op["inner"] = None
        held, old = None, ""
    if inner is not None and inner.started:
        op["inner"] = {"open": inner.open, "close": inner.close, "children": inner.children}
        held, old = InnerSent(inner.open, inner.close, list(inner.children)), ""
    elif inner is not None and held is not None and inner.children:
        op["inner_append"] = inner.children
        held.children.extend(inner.children)
    if held is not None and inner is not None and inner.after != held.after:
        op["after"] = held.after = inner.after
    sent.inner = held
    return old, appended, tail
