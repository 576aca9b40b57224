"""Turn document changes into small, sequence-numbered patches for the front-end.

Markdown parts (answer text, reasoning) are rendered incrementally: a patch carries the
blocks committed since the last one and the open tail as ``keep`` (how much of the previous
tail HTML stays) plus the new ``tail`` suffix. A newly committed block usually was the open
tail already: ``from_tail`` says how much of the previous tail HTML it starts with, and only
the rest is sent. At the end, ``settle`` replaces by index the committed blocks whose links a
late reference-style definition changed. Plain parts (tool-call arguments, tool code,
refusals) carry their text the same way. A full snapshot describes everything at once, for
views that join late and for the saved notebook.

Every offset (``keep``, ``from_tail``) counts UTF-16 code units, the unit of the page's
JavaScript strings (Python counts code points: an emoji is one of those but two units). An op
that keeps part of what the page holds also carries ``check``: the length in units and the
Adler-32 of the UTF-16LE bytes of the string it splices into. A page whose copy disagrees
asks for a snapshot instead of splicing, so a splice can never turn escaped text into markup.
"""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass, field
from typing import Any

from ._incremental import IncrementalRenderer
from ._inner import InnerLimits
from ._inner_wire import InnerSent, inner_step

MARKDOWN_KINDS = frozenset({"text", "reasoning"})


@dataclass(slots=True)
class PartView:
    """What changed in one part since the last flush, copied under the controller's lock."""

    id: int
    kind: str
    choice: int
    info: dict[str, Any]
    done: bool
    generation: int
    """The part's content generation: a new one means ``new_text`` is the whole text."""
    new_text: str
    """The text appended since the last flush (or all of it, for a new generation)."""


@dataclass(slots=True)
class _Sent:
    """What the front-end already has of one part."""

    info: dict[str, Any] | None = None
    done: bool = False
    generation: int = 0
    length: int = 0
    tail: str = ""
    text: str = ""
    renderer: IncrementalRenderer | None = None
    blocks: list[str] = field(default_factory=list)
    inner: InnerSent | None = None
    """The open block the page holds in its tail (``_inner_wire.py``): ``tail`` is then its
    open children."""

    def shown_tail(self) -> str:
        return self.tail if self.inner is None else self.inner.html(self.tail)


def utf16_units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (a JavaScript string's ``length``)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def integrity(text: str) -> list[int]:
    """``[length in UTF-16 units, Adler-32 of the UTF-16LE bytes]``: what a page checks its
    copy of ``text`` against before it splices into it (``js/src/widget.js``)."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [len(data) // 2, zlib.adler32(data)]


def _units(old: str, n: int, check: list[int] | None) -> int:
    """``old[:n]`` in UTF-16 units; all of ``old`` is the length its ``check`` already has."""
    return check[0] if check is not None and n == len(old) else utf16_units(old[:n])


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class PatchBuilder:
    """Keeps what each part's front-end copy holds and builds the patch that updates it."""

    def __init__(self, inner: InnerLimits | None = InnerLimits()) -> None:  # noqa: B008
        self.seq = 0
        self._sent: dict[int, _Sent] = {}
        self._inner = inner  # when the renderers commit inside blocks (None: never)

    def known(self, part_id: int) -> tuple[int, int]:
        """``(generation, length)`` of the text already taken from a part."""
        sent = self._sent.get(part_id)
        return (0, 0) if sent is None else (sent.generation, sent.length)

    def build(self, parts: list[PartView], *, final: bool = False) -> list[dict[str, Any]]:
        """Operations bringing the front-end up to ``parts`` (``final``: settle every tail)."""
        ops: list[dict[str, Any]] = []
        for part in parts:
            sent = self._sent.setdefault(part.id, _Sent())
            replaced = part.generation != sent.generation
            sent.length = len(part.new_text) if replaced else sent.length + len(part.new_text)
            sent.generation = part.generation
            op: dict[str, Any] = {"id": part.id}
            if sent.info != part.info or sent.done != part.done:
                op.update(kind=part.kind, choice=part.choice, info=part.info, done=part.done)
                sent.info, sent.done = part.info, part.done
            if part.kind in MARKDOWN_KINDS:
                self._markdown(part, replaced, sent, op, final)
            elif replaced or part.new_text:
                self._plain(part, replaced, sent, op)
            if len(op) > 1:
                ops.append(op)
        return ops

    @staticmethod
    def _plain(part: PartView, replaced: bool, sent: _Sent, op: dict[str, Any]) -> None:
        old = sent.text
        text = part.new_text if replaced else old + part.new_text
        keep = _common_prefix(old, text) if replaced else len(old)
        check = integrity(old) if keep else None
        op.update(keep=_units(old, keep, check), text=text[keep:])
        if check is not None:
            op["check"] = check
        sent.text = text

    def _markdown(self, part: PartView, replaced: bool, sent: _Sent, op: dict[str, Any],
                  final: bool) -> None:
        renderer = sent.renderer
        if renderer is None:
            renderer = sent.renderer = IncrementalRenderer(inner=self._inner)
        if replaced:
            renderer.replace(part.new_text)
        elif part.new_text:
            renderer.append(part.new_text)
        elif not final:
            return
        # The end renders the tail once as it is; a whole render only when a reference-style
        # definition may have changed a block already sent.
        update = renderer.settle() if final else renderer.render()
        tail = update.tail
        appended = update.appended
        if update.reset:
            sent.blocks = []
            sent.tail = ""
            op["reset"] = True
        if final and renderer.has_references:
            tail = self._settle(renderer, sent, op, tail)
            if op.get("reset"):
                appended, tail = [tail], ""
        sent.blocks.extend(appended)
        old, appended, tail = inner_step(sent, update.inner, appended, tail, op, final)
        # The first new block is usually the old tail, grown: the page rebuilds it from the
        # tail it has (``from_tail`` units of it) plus the rest.
        reuse = _common_prefix(old, appended[0]) if appended and not op.get("reset") else 0
        keep = _common_prefix(old, tail)
        tail_changed = keep != len(old) or len(tail) != keep or op.get("reset")
        check = integrity(old) if reuse or (tail_changed and keep) else None
        if appended:
            if reuse:
                op["from_tail"] = _units(old, reuse, check)
                appended = [appended[0][reuse:], *appended[1:]]
            op["append"] = appended
        if tail_changed:
            op.update(keep=_units(old, keep, check), tail=tail[keep:])
        if check is not None:
            op["check"] = check
        sent.tail = tail

    @staticmethod
    def _settle(renderer: IncrementalRenderer, sent: _Sent, op: dict[str, Any],
                tail: str) -> str:
        """The end of a stream whose text defines a reference-style link: ``settle`` replaces,
        by index, only the committed blocks whose HTML a later definition changed (the page
        keeps every other node, and the reader's selection in them); returns the tail. Should
        the blocks not line up with a whole render, the whole render replaces everything
        (``reset``; the returned string is then the whole HTML)."""
        whole = renderer.finish()
        if whole == "".join(sent.blocks) + tail:
            return tail
        blocks, settled_tail = renderer.settled()
        if len(blocks) != len(sent.blocks) or "".join(blocks) + settled_tail != whole:
            sent.blocks, sent.tail = [], ""
            op["reset"] = True
            return whole
        changed = [[i, html] for i, (html, old) in enumerate(zip(blocks, sent.blocks,
                                                                  strict=True)) if html != old]
        if changed:
            op["settle"] = changed
            sent.blocks = blocks
        return settled_tail

    def release(self) -> None:
        """The stream has ended: drop each part's renderer (its parser, caches and copy of
        the text). What the page was sent stays in the final snapshot."""
        for sent in self._sent.values():
            sent.renderer = None

    def html_of(self, part_id: int) -> str:
        """The HTML the front-end shows for a markdown part (blocks then tail)."""
        sent = self._sent.get(part_id)
        return "" if sent is None else "".join(sent.blocks) + sent.shown_tail()

    def snapshot_parts(self, parts: list[PartView]) -> list[dict[str, Any]]:
        """Every part as a whole, for a snapshot (what the front-end has been sent)."""
        out = []
        for part in parts:
            sent = self._sent.get(part.id) or _Sent()
            entry: dict[str, Any] = {
                "id": part.id, "kind": part.kind, "choice": part.choice,
                "info": sent.info or {}, "done": sent.done,
            }
            if part.kind in MARKDOWN_KINDS:
                entry.update(blocks=list(sent.blocks), tail=sent.shown_tail())
                if sent.inner is not None:
                    entry["inner"] = sent.inner.snapshot(sent.tail)
            else:
                entry["text"] = sent.text
            out.append(entry)
        return out


def plain_snapshot_part(part_id: int, kind: str, choice: int, info: dict[str, Any], done: bool,
                        text: str) -> dict[str, Any]:
    """A snapshot entry showing a part's text as escaped preformatted text: what the page and
    the saved notebook get when rendering failed, so the answer is never lost."""
    entry: dict[str, Any] = {"id": part_id, "kind": kind, "choice": choice, "info": info,
                             "done": done}
    if kind in MARKDOWN_KINDS:
        shown = f'<pre class="nbs-plain">{html.escape(text)}</pre>\n' if text else ""
        entry.update(blocks=[shown] if shown else [], tail="")
    else:
        entry["text"] = text
    return entry
