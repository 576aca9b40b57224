"""Heal the open tail of a streaming markdown answer, for display only.

While a block is still arriving its source is often incomplete: ``**bold`` without its
closer, a half-typed list marker, a fence whose info string is still arriving, a table
whose delimiter row is half there. Rendered as is, those flash as raw markup and then flip
when they close. :func:`heal` returns a variant of the tail source that renders the way the
finished text most likely will. It is applied to the display only; the text is never changed.
"""

from __future__ import annotations

import re

from mdit_py_plugins.amsmath import ENVIRONMENTS

# A last line that is nothing but the start of a block marker: "-", "1.", "#", ">", "```py"
_MARKER_ONLY = re.compile(r"^ {0,3}(?:[-+*=_#>`~]+|\d{1,9}[.)]?|(?:`{3,}|~{3,})[^`\n]*)[ \t]*$")
_BLOCK_PREFIX = re.compile(r"^ {0,3}(?:> ?)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?:\[[ xX]\][ \t]+)?"
                           r"(?:#{1,6}[ \t]+)?")
_DELIMITER_ROW = re.compile(r"^ {0,3}\|?[ \t]*:?-*:?[ \t]*(?:\|[ \t]*:?-*:?[ \t]*)*\|?[ \t]*$")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INDENTED = re.compile(r"^(?: {4}| {0,3}\t)")
_TABLE_START = re.compile(r"^ {0,3}\|")
_TRAILING_RUN = re.compile(r"(^|\s)[*_~]+$")
MATH_OPENER = re.compile(r" {0,3}(\$\$|\\\[|\\begin\{(" + "|".join(ENVIRONMENTS) + r")\*?\})")
"""A line that opens a display math block: ``$$``, ``\\[`` or an amsmath environment (group 2:
its name; such an opener may interrupt a paragraph, the others start a block)."""
_INLINE_MATH = re.compile(r"\$(?=\S)(?:[^$\\]|\\.)*?(?<=\S)\$(?!\d)|\\\(.*?\\\)")


_HEALED_CLOSER = re.compile(r"\n?(?:\$\$|\\\]|\\end\{\w+\*?\})")
_AMSMATH_LINE = re.compile(r"^ {0,3}\\begin\{(?:" + "|".join(ENVIRONMENTS) + r")\*?\}.*$", re.M)


def closed_math(tail: str, healed: str) -> bool:
    """Whether ``healed`` (``heal(tail)``) is ``tail`` with a display formula closed: the tail's
    last block is a formula still arriving."""
    return (len(healed) > len(tail) and healed.startswith(tail)
            and _HEALED_CLOSER.fullmatch(healed, len(tail)) is not None)


def open_environment(text: str, start: int, end: int) -> bool:
    """Whether a line of ``text[start:end]`` opens an amsmath environment it does not close.
    Such an opener may interrupt a paragraph (and a quote or list item through a lazy line),
    and turns what follows into a formula once its closer arrives."""
    for match in _AMSMATH_LINE.finditer(text, start, end):
        opener = MATH_OPENER.match(match.group())
        if opener is not None and not math_closer(opener, match.group()):
            return True
    return False


def _closer_of(opener: str) -> str:
    if opener == "\\[":
        return "\\]"
    return opener.replace("\\begin", "\\end")  # "$$" closes with "$$"


def math_closer(match: re.Match[str], line: str) -> bool:
    """Whether the display math opened by ``match`` (of :data:`MATH_OPENER`) closes on its own
    ``line``."""
    closer = _closer_of(match.group(1))
    rest = line[match.end() - match.start() :]
    return rest.rstrip().endswith(closer) if match.group(2) else closer in rest


def _open_math(lines: list[str]) -> str | None:
    """The closer of a display math block still open at the end of ``lines`` (outside code
    fences), or ``None``."""
    fence: str | None = None
    closer: str | None = None
    block_start = True
    for line in lines:
        if closer is not None:
            ends = line.rstrip().endswith(closer) if closer.startswith("\\end") else closer in line
            closer = None if ends else closer
        elif fence is not None:
            fence = None if _closes(line.strip(), fence) else fence
        elif match := _FENCE_OPEN.match(line):
            fence = match.group(1)
        elif (match := MATH_OPENER.match(line)) and (block_start or match.group(2)):
            closer = None if math_closer(match, line) else _closer_of(match.group(1))
        block_start = not line.strip()
    return closer


def _cells(row: str) -> int:
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(re.split(r"(?<!\\)\|", inner))


def _closes(line: str, fence: str) -> bool:
    return line.startswith(fence) and not line.strip(fence[0])


def _in_open_fence(lines: list[str]) -> bool:
    fence: str | None = None
    for line in lines:
        match = _FENCE_OPEN.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and _closes(line.strip(), fence):
            fence = None
    return fence is not None


def heal(tail: str) -> str:
    """Return ``tail`` adjusted so that its incomplete end renders as it will once complete."""
    if not tail:
        return tail
    lines = tail.split("\n")
    closer = _open_math(lines)
    if closer is not None:  # a display formula still arriving: closed, shown as its source
        return tail + ("" if tail.endswith("\n") else "\n") + closer
    last = lines[-1]
    if last and _MARKER_ONLY.match(last):
        lines[-1] = ""
        return "\n".join(lines).rstrip("\n") + ("\n" if len(lines) > 1 else "")
    if _in_open_fence(lines):
        return tail
    table = _heal_table(lines)
    if table is not None:
        return table
    if not last.strip():
        return tail
    prefix = _BLOCK_PREFIX.match(last)
    start = prefix.end() if prefix else 0
    lines[-1] = last[:start] + heal_inline(last[start:])
    return "\n".join(lines)


def _heal_table(lines: list[str]) -> str | None:
    last = lines[-1]
    header_only = len(lines) == 2 or (len(lines) > 2 and "|" not in lines[-3])
    if (header_only and "|" in lines[-2] and not _INDENTED.match(lines[-2]) and "-" in last
            and _DELIMITER_ROW.match(last)):
        lines[-1] = "|" + "---|" * _cells(lines[-2])
        return "\n".join(lines)
    if len(lines) == 1 and _TABLE_START.match(last) and _cells(last) >= 2:
        return last + "\n|" + "---|" * _cells(last)
    return None


def heal_inline(line: str) -> str:
    """Close unclosed emphasis, strikethrough, code spans and links at the end of ``line``."""
    stack: list[str] = []
    code: str | None = None
    link_depth = 0
    in_destination = False
    dangling = False
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if code is not None:
            if ch == "`":
                run = _run(line, i, "`")
                if len(run) == len(code):
                    code = None
                i += len(run)
                continue
            i += 1
            continue
        if ch in "$\\" and not in_destination and (math := _INLINE_MATH.match(line, i)):
            i = math.end()  # a closed formula: its "_" and "*" are TeX, not emphasis
            continue
        if ch == "\\":
            i += 2
            continue
        if in_destination:
            if ch == ")":
                in_destination = False
            i += 1
            continue
        if ch == "`":
            code = _run(line, i, "`")
            i += len(code)
            continue
        if ch == "[":
            link_depth += 1
        elif ch == "]" and link_depth:
            link_depth -= 1
            if line.startswith("(", i + 1):
                in_destination = True
                i += 2
                continue
        elif ch in "*_~":
            run = _run(line, i, ch)
            depth = len(stack)
            _delimiter(line, i, run, stack)
            i += len(run)
            before = line[i - len(run) - 1 : i - len(run)]
            dangling = i == n and len(stack) >= depth and not before.isspace()
            continue
        i += 1
    if code is not None:
        return line + code if not line.endswith(code) else line[: -len(code)]
    if in_destination:
        return line + ("#)" if line.endswith("(") else ")")
    healed = _TRAILING_RUN.sub(r"\1", line)
    if dangling and stack:
        healed = healed.rstrip("*_~")  # a closer still arriving ("**bold*"): complete it
    if link_depth and "[" in healed:
        cut = healed.rfind("[")
        healed = healed[:cut] + healed[cut + 1 :]
    return healed.rstrip() + "".join(reversed(stack)) if stack else healed


def _run(line: str, i: int, ch: str) -> str:
    j = i
    while j < len(line) and line[j] == ch:
        j += 1
    return line[i:j]


def _delimiter(line: str, i: int, run: str, stack: list[str]) -> None:
    ch = run[0]
    if ch == "~" and len(run) != 2:
        return
    before = line[i - 1] if i > 0 else " "
    after = line[i + len(run)] if i + len(run) < len(line) else " "
    if ch == "_" and before.isalnum() and after.isalnum():
        return
    can_close = not before.isspace()
    can_open = not after.isspace()
    pieces = [run] if ch == "~" else (["**", "*"] if len(run) >= 3 else [run])
    for piece in pieces:
        if can_close and piece in stack:
            while stack and stack[-1] != piece:
                stack.pop()
            stack.pop()
        elif can_open:
            stack.append(piece)
