"""The page's side of the patch protocol, in Python, with the page's string semantics: what
``js/src/widget.js`` does with the ops of a patch, so tests that only see the wire (the real
kernel test) can rebuild what a page shows. Offsets count UTF-16 code units, as JavaScript
strings do, and an op whose ``check`` disagrees with the copy is refused, as the page does.
``tests/test_page_js.py`` applies the same kind of patches with the real ``widget.js``."""

from __future__ import annotations

import zlib
from typing import Any


def _units(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def _prefix(text: str, units: int) -> str:
    """The first ``units`` UTF-16 code units of ``text`` (JavaScript's ``slice(0, units)``)."""
    return _units(text)[: 2 * units].decode("utf-16-le", "surrogatepass")


def _holds(text: str, op: dict[str, Any]) -> bool:
    kept = max(op.get("keep", 0), op.get("from_tail", 0))
    if op.get("reset") or not kept:
        return True
    data = _units(text)
    check = op.get("check")
    return check == [len(data) // 2, zlib.adler32(data) & 0xFFFFFFFF] and kept <= len(data) // 2


def apply_ops(parts: dict[int, dict[str, Any]], ops: list[dict[str, Any]]) -> None:
    """Apply one patch's part ops to ``parts`` (part id -> blocks, tail, text, kind, choice).

    Raises ``AssertionError`` where the page would refuse the patch and ask for a snapshot.
    """
    for op in ops:
        part = parts.get(op["id"], {"blocks": [], "tail": "", "text": ""})
        held = part["text"] if "text" in op else part["tail"]
        assert _holds(held, op), f"the page would refuse op {op!r}"
    for op in ops:
        part = parts.setdefault(op["id"], {"blocks": [], "tail": "", "text": ""})
        part.update({k: op[k] for k in ("kind", "choice") if k in op})
        if op.get("reset"):
            part["blocks"], part["tail"], part["inner"] = [], "", None
        previous_tail = part["tail"]
        for i, piece in enumerate(op.get("append", [])):
            inner = part.get("inner")
            if i == 0 and op.get("from_inner") and inner:  # the open block, ended
                part["blocks"].append(inner["open"] + "".join(inner["children"]) + piece
                                      + inner["close"])
                part["inner"], part["tail"] = None, ""
                continue
            if i == 0 and op.get("from_tail"):
                piece = _prefix(previous_tail, op["from_tail"]) + piece
            part["blocks"].append(piece)
        for index, html in op.get("settle", []):  # committed blocks a late definition changed
            assert 0 <= index < len(part["blocks"]), f"the page would refuse op {op!r}"
            part["blocks"][index] = html
        if "inner" in op:  # a new open block (or none): the tail starts empty
            spec = op["inner"]
            part["inner"] = None if not spec else {
                "open": spec["open"], "close": spec["close"],
                "children": list(spec.get("children", [])), "after": ""}
            part["tail"] = ""
        if op.get("inner_append") and part.get("inner"):
            part["inner"]["children"].extend(op["inner_append"])
        if "tail" in op:  # no tail: the open tail is unchanged
            part["tail"] = _prefix(part["tail"], op.get("keep", 0)) + op["tail"]
        elif "text" in op:
            part["text"] = _prefix(part["text"], op.get("keep", 0)) + op["text"]
        if "after" in op and part.get("inner"):
            part["inner"]["after"] = op["after"]


def shown_html(part: dict[str, Any]) -> str:
    """The HTML a markdown part shows: its committed blocks, then its open tail (inside the
    open block's container, when the kernel commits inside it: see ``nbstream/_inner_wire.py``)."""
    inner = part.get("inner")
    tail = part["tail"] if not inner else (inner["open"] + "".join(inner["children"])
                                           + part["tail"] + inner["close"] + inner["after"])
    return "".join(part["blocks"]) + tail
