"""The page's side of the patch protocol, in Python: what ``js/src/widget.js`` does with the
ops of a patch (kept in step with it), so tests can rebuild what a page shows from the wire."""

from __future__ import annotations

from typing import Any


def apply_ops(parts: dict[int, dict[str, Any]], ops: list[dict[str, Any]]) -> None:
    """Apply one patch's part ops to ``parts`` (part id -> blocks, tail, text, kind, choice)."""
    for op in ops:
        part = parts.setdefault(op["id"], {"blocks": [], "tail": "", "text": ""})
        part.update({k: op[k] for k in ("kind", "choice") if k in op})
        if op.get("reset"):
            part["blocks"], part["tail"] = [], ""
        appended = list(op.get("append", []))
        if appended and op.get("from_tail"):
            appended[0] = part["tail"][: op["from_tail"]] + appended[0]
        part["blocks"].extend(appended)
        if "tail" in op:  # no tail: the open tail is unchanged
            part["tail"] = part["tail"][: op.get("keep", 0)] + op["tail"]
        elif "text" in op:
            part["text"] = part["text"][: op.get("keep", 0)] + op["text"]


def shown_html(part: dict[str, Any]) -> str:
    """The HTML a markdown part shows: its committed blocks, then its open tail."""
    return "".join(part["blocks"]) + part["tail"]
