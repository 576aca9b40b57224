"""A repetition-loop detector for streaming answers (the ``loops`` guard).

A model stuck in a loop repeats the same passage (a sentence, a paragraph, a list item, a JSON
object...) until it runs out of tokens. :class:`LoopDetector` is fed the answer as it arrives
and says when the recent text has become such a runaway repetition.

How it works (after gemini-cli's loop detection, which hashes chunks over a sliding window and
leaves code fences and tables out):

* The text is read line by line. Fenced code blocks (```` ``` ```` or ``~~~``, fence lines
  included) and table rows (lines starting with ``|``; after a delimiter row, every line with a
  ``|``) are left out: code and tables are legitimately repetitive. Every other line is
  normalised (trailing whitespace and blank lines dropped, a leading list number ``12.`` /
  ``12)`` made ``#.``, so that a numbered list repeating one item is still a repetition) and
  appended to a bounded window of recent text.
* Every ``_CHECK_EVERY`` characters of that window, its last characters (a probe) are looked
  for further back (``str.rfind``); an earlier occurrence gives a candidate period ``p``,
  confirmed when the window's tail is exactly ``p``-periodic over
  ``max(min_repeat_chars, min_copies * p)`` characters (one slice comparison). When the tail
  is periodic over a shorter stretch only (a phrase repeated inside a longer passage), that
  whole stretch becomes the probe, so that the longer period is found next.
* A run of nothing but whitespace longer than ``min_repeat_chars`` counts too (a model emitting
  blank lines forever).

The defaults, measured by ``benchmarks/bench_loops.py``: a repetition must span 1,500
characters and three copies of its passage. Repetitions people ask for stay far below (the
demo's "double bubble bath" ten times is 200 characters), while a loop whose passage is up to
600 characters long is caught within 2 KB of its start.

Everything is per instance (no global state besides compiled patterns); memory is bounded (a
window of about 3 KB and the unfinished line, itself bounded), whatever the answer's length;
``feed`` is amortised O(len(delta)).
"""

from __future__ import annotations

import re

__all__ = ["LoopDetector"]

_BATCH = 48  # raw characters gathered before the text is looked at
_CHECK_EVERY = 48  # window characters between two periodicity checks
_PROBE = 12  # characters at the end of the window looked for further back
_CANDIDATES = 8  # candidate periods tried per check
_PARTIAL = 64  # an unfinished line is looked at from this length on (else at its end)
_HOLD = 160  # a line that may turn out a table row waits for its end, or this length

_FENCE = re.compile(r"(`{3,}|~{3,})")
_FENCE_CHARS = ("```", "~~~")
_LIST_NUMBER = re.compile(r"\d{1,9}[.)](?=\s)")
_DELIMITER_ROW = re.compile(r"\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$")
_DELIMITER_START = re.compile(r"[-:| \t]*$")  # could still become a delimiter row

# what the current (unfinished) line is
_UNDECIDED = 0  # not known yet: the carry holds the line so far
_TEXT = 1  # text, partly appended to the window: the carry holds the rest
_SKIP = 2  # left out (a table row, a line inside a fence): the carry is dropped
_OPENING = 3  # a fence's opening line: the carry is dropped


class LoopDetector:
    """Detects a model repeating itself in a streamed answer.

    Call :meth:`feed` with every new piece of the answer, in order. It returns ``None``, or, the
    first time a loop is found, a short description (``"the same 180-character passage 8 times:
    “…”"``); after that it returns ``None`` and ignores the text until :meth:`reset`.

    ``min_repeat_chars``: how many characters a repetition must span; ``min_copies``: how many
    copies of the repeated passage it must hold (what counts for long passages);
    ``max_period``: the longest passage looked for.
    """

    def __init__(self, *, min_repeat_chars: int = 1500, min_copies: float = 3.0,
                 max_period: int = 1000) -> None:
        if min_repeat_chars < 2 * _PROBE or min_copies < 2 or max_period < 1:
            raise ValueError("needs min_repeat_chars >= 24, min_copies >= 2, max_period >= 1")
        self.min_repeat_chars = int(min_repeat_chars)
        self.min_copies = float(min_copies)
        self.max_period = int(max_period)
        # the window holds the longest stretch a check compares, and a little more
        longest = max(self.min_repeat_chars, int(self.min_copies * self.max_period))
        self._keep = longest + 2 * _CHECK_EVERY
        self.reset()

    @property
    def detected(self) -> str | None:
        """The description of the loop found, or ``None``."""
        return self._found

    def reset(self) -> None:
        """Forget everything (the text was replaced)."""
        self._found: str | None = None
        self._pending = ""  # fed, not looked at yet (fewer than _BATCH characters)
        self._carry = ""  # of the unfinished line (see _kind)
        self._kind = _UNDECIDED  # of the unfinished line
        self._opening = ""  # the fence the unfinished line opens (_OPENING)
        self._fence = ""  # the opening fence while inside a fenced code block
        self._table = False  # inside a table (after a row or a delimiter row)
        self._blank_run = 0  # whitespace-only characters at the end of the text
        self._out: list[str] = []  # normalised text for the window, from the current batch
        self._buf = ""  # the normalised recent text: the window
        self._next_check = self.min_repeat_chars  # where in the window the next check is due

    def feed(self, delta: str) -> str | None:
        """Take the next piece of the answer; a description the first time a loop is found."""
        pending = self._pending + delta
        if len(pending) < _BATCH:
            self._pending = pending
            return None
        self._pending = ""
        return None if self._found is not None else self._process(pending)

    # ---- lines -----------------------------------------------------------------------------

    def _process(self, new: str) -> str | None:
        if new.isspace():
            self._blank_run += len(new)
            if self._blank_run >= self.min_repeat_chars:
                self._found = f"{self._blank_run:,} characters of nothing but whitespace"
                return self._found
        else:
            self._blank_run = len(new) - len(new.rstrip())
        lines = (self._carry + new).split("\n")
        self._carry = lines.pop()
        for line in lines:
            self._end_line(line)
        if self._kind == _TEXT or len(self._carry) >= _PARTIAL:
            self._partial_line()
        if self._out:
            self._emit("".join(self._out))  # checks every _CHECK_EVERY characters of it
            self._out.clear()
        return self._found

    def _end_line(self, line: str) -> None:
        """The current line ended (``line`` is what the carry held of it, and its end)."""
        kind, self._kind = self._kind, _UNDECIDED
        if kind == _TEXT:
            self._out.append(line.rstrip() + "\n")
            return
        if kind == _OPENING:
            self._fence, self._table = self._opening, False
            return
        if kind == _SKIP:
            return
        head = line.lstrip(" \t>")
        if self._fence:
            if head.startswith(self._fence) and not head.strip(self._fence[0] + " \t\r"):
                self._fence = ""
            return
        if head.startswith(_FENCE_CHARS):
            fence = _fence_opening(head)
            if fence:
                self._fence, self._table = fence, False
                return
        if "|" in head and (head[0] == "|" or self._table or _DELIMITER_ROW.match(head)):
            self._table = True
            return
        self._table = False
        end = len(line.rstrip())
        if end:
            self._out.append((_normalised_start(line, end) if head[:1].isdigit() else line[:end])
                             + "\n")

    def _partial_line(self) -> None:
        """Decide what the unfinished line is as soon as its start tells; emit what can be."""
        line, kind = self._carry, self._kind
        if kind == _TEXT:
            end = len(line.rstrip())
            if end:
                self._out.append(line[:end])
                self._carry = line[end:]  # its trailing whitespace, for now
            return
        if kind != _UNDECIDED:
            self._carry = ""
            return
        head = line.lstrip(" \t>")
        if self._fence:  # inside a fence, only a line of fence characters matters
            if head.strip(self._fence[0] + " \t\r") or len(line) > _HOLD:
                self._kind, self._carry = _SKIP, ""
            return
        if len(head) < 4 and len(line) < _HOLD:
            return  # too early to tell a fence or a table row from text
        fence = _fence_opening(head)
        if fence:
            self._kind, self._opening, self._carry = _OPENING, fence, ""
            return
        if head.startswith("|"):
            self._kind, self._table, self._carry = _SKIP, True, ""
            return
        if "|" in head or self._table or _DELIMITER_START.match(head):
            if len(line) < _HOLD:
                return  # perhaps a table row without a leading pipe: wait for its end
            if "|" in head and (self._table or _DELIMITER_ROW.match(head)):
                self._kind, self._table, self._carry = _SKIP, True, ""
                return
        self._kind, self._table = _TEXT, False
        end = len(line.rstrip())
        self._out.append(_normalised_start(line, end))
        self._carry = line[end:]

    # ---- the window ------------------------------------------------------------------------

    def _emit(self, piece: str) -> None:
        """Append to the window, checking at every multiple of _CHECK_EVERY on the way."""
        buf = self._buf + piece
        pos = self._next_check
        while pos <= len(buf):
            found = self._check(buf, pos)
            if found is not None:
                self._found = found
                break
            pos += _CHECK_EVERY
        if len(buf) > 2 * self._keep:
            cut = len(buf) - self._keep
            buf = buf[cut:]
            pos -= cut
        self._buf = buf
        self._next_check = pos

    def _check(self, buf: str, n: int) -> str | None:
        """A description if ``buf[:n]`` ends in a long enough exact repetition."""
        size = _PROBE
        for _ in range(_CANDIDATES):
            probe_at = n - size
            # the nearest earlier occurrence of the last `size` characters: a candidate period
            i = buf.rfind(buf[probe_at:n], max(0, probe_at - self.max_period), n - 1)
            if i < 0:
                return None
            period = probe_at - i
            span = max(self.min_repeat_chars, int(self.min_copies * period))
            if span > n:
                return None  # longer periods need longer spans
            if _periodic(buf, n, span, period):
                return _describe(buf[n - period:n], period, span)
            # The tail is `period`-periodic over a stretch shorter than `span`. A longer period
            # must repeat that whole stretch, so a probe longer than the stretch is next (a
            # phrase repeated inside a longer repeated passage would otherwise only ever offer
            # the phrase's period). The stretch is known within a factor of two: enough.
            size += period
            while size < span and _periodic(buf, n, 2 * size, period):
                size *= 2
            size = min(2 * size, span)
        return None


def _periodic(buf: str, n: int, span: int, period: int) -> bool:
    """Whether ``buf[n - span:n]`` repeats with ``period``."""
    return buf.startswith(buf[n - span:n - period], n - span + period)


def _fence_opening(head: str) -> str:
    """The fence ``head`` (a line without its indentation) opens, or ``""``."""
    match = _FENCE.match(head)
    if match is None:
        return ""
    fence = match.group(1)
    if fence[0] == "`" and "`" in head[len(fence):]:
        return ""  # inline code (```a```), not a fence
    return fence


def _normalised_start(line: str, end: int) -> str:
    """``line[:end]`` with a leading list number made ``#.``."""
    start = len(line) - len(line.lstrip())
    number = _LIST_NUMBER.match(line, start)
    return line[:start] + "#." + line[number.end():end] if number is not None else line[:end]


def _describe(unit: str, period: int, span: int) -> str:
    # show the passage from a line or sentence start when it has one
    for mark in ("\n", ". ", ", ", " "):
        at = unit.find(mark)
        if at >= 0:
            at += len(mark)
            unit = unit[at:] + unit[:at]  # (when the mark ends the passage, it stays as is)
            break
    shown = " ".join(unit.split())
    if len(shown) > 40:
        shown = shown[:39].rstrip() + "…"
    return f"the same {period:,}-character passage {span // period:,} times: “{shown}”"
