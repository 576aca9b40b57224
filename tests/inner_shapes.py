"""Hypothesis strategies for answers made of one huge block (tables, lists, long paragraphs),
and a stream checker, shared by ``test_inner.py`` and ``test_inner_page.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from nbstream._incremental import IncrementalRenderer
from nbstream._inner import InnerLimits
from nbstream._markdown import render

CELLS = ["a", "item **7**", "3.70", "`code`", "`a | b`", "x \\| y", "👩‍👩‍👧‍👦 🇫🇷", "漢字かな", "",
         "[l](https://e.com)", "$5", "$x^2$", "_snake_case_", "*it*", "~~s~~", "<b>", "a & b"]
WORDS = ["the", "quick", "fox", "**bold**", "*it*", "`code`", "[link](https://e.com)",
         "_snake_case_", "snake_case_word", "$5", "$x$", "5 * 3", "a\\*b", "~~s~~", "~", "🎉",
         "漢字", "https://example.com/a", "**open", "close**", "[ref]", "`tick", "x_", "a<b>",
         "&amp;", "1.", "-", "#", ">"]
SMALL = InnerLimits(block=0, code=0)
"""Blocks open at any size (by default only from 2 KB on), so small generated ones do too;
code is committed by line as soon as it can be."""
ALIGN = ["---", ":--", "--:", ":-:"]


@st.composite
def tables(draw: st.DrawFn) -> str:
    """A GFM table of 1-40 rows, with text before and after it."""
    columns = draw(st.integers(1, 4))
    edge = draw(st.booleans())

    def row(cells: list[str]) -> str:
        inner = " | ".join(cells)
        return f"| {inner} |" if edge else inner

    lines = [row([draw(st.sampled_from(CELLS[:4])) or "h" for _ in range(columns)]),
             row([draw(st.sampled_from(ALIGN)) for _ in range(columns)])]
    for _ in range(draw(st.integers(1, 25))):
        width = draw(st.integers(max(1, columns - 1), columns + 1))
        lines.append(row([draw(st.sampled_from(CELLS)) for _ in range(width)]))
    before = draw(st.sampled_from(["", "Here is the data:\n\n", "Data:\n"]))
    after = draw(st.sampled_from(["", "\n", "\n\nThat's all.\n", "\n> quote\n", "\n# Next\n",
                                  "\n\n- a\n- b\n", "\nlazy row\n"]))
    return before + "\n".join(lines) + after


@st.composite
def items(draw: st.DrawFn, depth: int = 0) -> str:
    """A list of 2-25 items: bullets or numbers, tight or loose, nested, with lazy lines."""
    marker = draw(st.sampled_from(["-", "*", "1.", "3)"]))
    indent = " " * depth
    out = []
    for i in range(draw(st.integers(2, 12))):
        mark = marker if not marker[0].isdigit() else f"{int(marker[:-1]) + i}{marker[-1]}"
        task = draw(st.sampled_from(["", "", "[ ] ", "[x] "]))
        words = " ".join(draw(st.lists(st.sampled_from(WORDS[:12]), min_size=1, max_size=6)))
        out.append(f"{indent}{mark} {task}{words}\n")
        width = " " * (len(mark) + 1)
        extra = draw(st.integers(0, 12))
        if extra == 0:
            out.append(f"lazy {words}\n")  # a lazy continuation line
        elif extra == 1:
            out.append(f"{indent}{width}more text\n")
        elif extra == 2 and depth < 2:
            out.append(draw(items(depth + len(mark) + 1)))
        elif extra == 3:
            out.append("\n")  # a blank line: the list turns loose
        elif extra == 4:
            out.append(f"\n{indent}{width}second paragraph\n")
    return "".join(out)


@st.composite
def lists(draw: st.DrawFn) -> str:
    before = draw(st.sampled_from(["", "A list:\n\n", "Intro\n"]))
    after = draw(st.sampled_from(["", "\nDone.\n", "\n\nDone.\n", "\n# Next\n", "\n---\n"]))
    return before + draw(items()) + after


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    """A paragraph of 400-3,000 characters (lines of words with markup), with an ending that
    may turn it into a heading or split a table off it."""
    words = draw(st.lists(st.sampled_from(WORDS), min_size=80, max_size=500))
    seps = draw(st.lists(st.sampled_from([" "] * 30 + ["\n", "  \n", " \n"]),
                         min_size=len(words), max_size=len(words)))
    body = "".join(w + s for w, s in zip(words, seps, strict=True)).strip()
    body = body.replace("\n-\n", "\n").replace("\n#\n", "\n")
    ending = draw(st.sampled_from(["", "\n", "\n===\n", "\n---\n", "\n\nAfter.\n",
                                   " | b\n|---|---|\n| 1 | 2 |\n", "\n- item\n"]))
    return draw(st.sampled_from(["", "Intro.\n\n"])) + body + ending


CODE_LINES = [
    "def f(x):", "    return x + 1", "class A:", '    """Doc', "    more doc", '    """',
    'x = """', "SELECT 1 -- not a comment", '"""', "# comment", "    # indented comment", "",
    "    ", 's = "abc"', "'''", "y = '''a", 'print(f"{x}")', "if x:", "        pass", "\\",
    "@dec", '"abc"', "    ```", "~~~", "/* a", " * b", " */", "/** doc", "function f() {",
    "  return `t ${x}`;", "}", "// c", "x = 1;", "'str'", "cat <<EOF", "EOF", "<!-- x",
    "--> y", "\tindented = 1", "漢字 = '🎉'", "a < b && c > d", "<b>&amp;</b>",
]


@st.composite
def fences(draw: st.DrawFn) -> str:
    """A fenced code block of 1-60 lines of code (Python, JavaScript, C, an unknown language or
    none: strings, comments and docstrings across lines), closed or not, with text around."""
    lang = draw(st.sampled_from(["python", "", "foo", "js", "c", "py  title=x"]))
    mark = draw(st.sampled_from(["```", "~~~", "````"]))
    indent = draw(st.sampled_from(["", "", " ", "  "]))
    lines = draw(st.lists(st.sampled_from(CODE_LINES), min_size=1, max_size=60))
    body = "".join(f"{indent}{line}\n" if line.strip() else f"{line}\n" for line in lines)
    close = draw(st.sampled_from([f"{indent}{mark}\n", f"{mark}\n", "", f"{mark}\n\nAfter.\n"]))
    before = draw(st.sampled_from(["", "Code:\n\n", "Intro\n"]))
    return f"{before}{indent}{mark}{lang}\n{body}{close}"


QUOTE_CHILDREN = [
    "> A paragraph with *it* and `code`\n> that goes on.\n", "> Short.\nlazy line\n",
    "> - a\n> - b\n", "> 1. one\n>\n> 2. two\n", "> # Title | x\n", "> ```python\n> x = 1\n> ```\n",
    "> > nested\n> > more\n", "> > nested\nlazy\n", "> $$\n> x^2\n> $$\n", "> $$ x\n",
    "> a | b\n> |---|---|\n> | 1 | 2 |\n", ">     indented code\n", "> ***\n", "> Setext\n> ---\n",
    "> - [ ] task\n>   more\n", "> 漢字 🎉 **bold\n> close**\n", ">\n", ">\n",
    "> \\[\n> y\n> \\]\n",
]


@st.composite
def quotes(draw: st.DrawFn) -> str:
    """A block quote of 2-30 child blocks (paragraphs with lazy lines, lists, code, headings,
    nested quotes, formulas, tables, a reference definition used after it), with text
    around it."""
    children = draw(st.lists(st.sampled_from(QUOTE_CHILDREN), min_size=2, max_size=30))
    if draw(st.booleans()):  # a definition, and a link to it after it
        at = draw(st.integers(0, len(children)))
        children.insert(at, "> [def]: https://e.com\n")
        children.insert(draw(st.integers(at + 1, len(children))), "> a [def] link\n")
    gaps = draw(st.lists(st.booleans(), min_size=len(children), max_size=len(children)))
    body = "".join(child + (">\n" if gap else "") for child, gap in zip(children, gaps,
                                                                          strict=True))
    before = draw(st.sampled_from(["", "Quote:\n\n", "Intro\n"]))
    after = draw(st.sampled_from(["", "\n", "\nAfter.\n", "\n\n> another\n", "lazy\n",
                                  "# Next\n"]))
    return before + body + after


def pieces_of(text: str, sizes: list[int]) -> list[str]:
    out, i, k = [], 0, 0
    while i < len(text):
        size = sizes[k % len(sizes)]
        out.append(text[i : i + size])
        i, k = i + size, k + 1
    return out


@dataclass
class Outcome:
    """What streaming a text did with its open blocks."""

    started: int = 0
    """Open blocks started (a reset starts one again)."""
    children: int = 0
    ended_fit: int = 0
    """Open blocks committed whole from their parts (their children were final)."""
    dropped: list[str] = field(default_factory=list)
    """Open blocks dropped (changed), with the text at that point."""


def stream_checked(text: str, pieces: list[str]) -> Outcome:
    """Stream ``pieces``; every commit must prefix the whole render, every open block's
    children only grow, and the end must equal the whole render exactly."""
    whole = render(text)
    renderer = IncrementalRenderer(inner=SMALL)
    outcome = Outcome()
    held: list[str] | None = None  # open + children of the open block the page would hold
    close = ""
    so_far = ""
    for piece in pieces:
        so_far += piece
        renderer.append(piece)
        update = renderer.render()
        assert whole.startswith("".join(renderer.blocks)), (so_far, renderer.blocks[-1:])
        if held is not None and update.appended:
            block = update.appended[0]
            head = "".join(held)
            if block.startswith(head) and block.endswith(close):
                outcome.ended_fit += 1
            else:
                outcome.dropped.append(so_far)
            held = None
        elif held is not None and (update.inner is None or update.inner.started):
            outcome.dropped.append(so_far)
            held = None
        if update.inner is not None:
            if update.inner.started:
                outcome.started += 1
                held, close = [update.inner.open], update.inner.close
            assert held is not None
            held.extend(update.inner.children)
            outcome.children += len(update.inner.children)
            shown = "".join(held) + update.inner.tail + close + update.inner.after
            assert renderer.tail_html == shown
    settled = renderer.settle()
    if not renderer.has_references:
        assert "".join(renderer.blocks) + settled.tail == whole
    if held is not None and settled.inner is not None:
        assert "".join(held) + settled.inner.tail + close + settled.inner.after == settled.tail
    assert renderer.finish() == whole
    return outcome
