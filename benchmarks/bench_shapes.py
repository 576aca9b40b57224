"""Rendering answers that are one huge block: a 2,000-row table, a 3,000-item list, one 100 KB
paragraph (issue 12), a 100 KB fenced code block, a 100 KB block quote.

Usage: ``python benchmarks/bench_shapes.py [--quick] [--shapes NAME ...]``

Each answer streams at 1,000 tokens/s in 4-character chunks on the frame clock's model (a
frame when one is due, the next one at least ``max(1 / FRAME_RATE, RENDER_SHARE * cost)``
later, as ``_channel.py`` paces them). Reported per shape, with commits inside the open
block (``_inner.py``) and without them (``IncrementalRenderer(inner=None)``, the renderer
before them), in the same run:

- ``cost``: the renderer's total time (every frame, then the end's whole render) divided by
  one full render of the final text;
- ``gap``: the longest time between two page updates in the second half of the stream;
- ``IOPub``: the bytes of the patches a ``PatchBuilder`` makes at those frames (JSON), divided
  by the final HTML's length;
- ``exact``: the committed blocks and the tail equal a whole render at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from collections.abc import Callable

from _common import environment, markdown_table, write_json
from bench_render import arrival, clock_frames, full_render_seconds

from nbstream._incremental import IncrementalRenderer
from nbstream._inner import InnerLimits
from nbstream._markdown import render
from nbstream._patches import PartView, PatchBuilder


def table(rows: int = 2000) -> str:
    head = "| # | name | value | note |\n|---:|---|---:|---|\n"
    body = "".join(f"| {i} | item **{i}** | {i * 3.7:.2f} | some `code` and text {i % 7} |\n"
                   for i in range(rows))
    return "Here is the data:\n\n" + head + body + "\nThat's all.\n"


def items(n: int = 3000) -> str:
    return "A list:\n\n" + "".join(
        f"- item {i}: a short *note* about `thing{i}` and more\n"
        + (f"  - nested {i}\n" if i % 10 == 0 else "") for i in range(n)) + "\nDone.\n"


def paragraph(size: int = 100_000) -> str:
    words = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while",
             "**bold**", "words", "and", "`code`", "and", "[links](https://example.com)",
             "appear"]
    rng = random.Random(1)
    out: list[str] = []
    n = 0
    while n < size:
        word = rng.choice(words)
        out.append(word)
        n += len(word) + 1
    return "Intro.\n\n" + " ".join(out) + "\n"


_CODE_UNIT = '''

class {Name}Store:
    """Keeps {name} records in memory.

    Records are dicts; ``get`` returns a copy so callers cannot
    change the store behind its back.
    """

    def __init__(self, limit: int = {n}) -> None:
        self._items: dict[str, dict] = {{}}  # id -> record
        self.limit = limit

    def put(self, key: str, record: dict) -> None:
        # Evict the oldest record first (dicts keep insertion order).
        if len(self._items) >= self.limit:
            oldest = next(iter(self._items))
            del self._items[oldest]
        self._items[key] = dict(record, updated="{name}-%d" % {n})

    def get(self, key: str) -> dict | None:
        record = self._items.get(key)
        return None if record is None else dict(record)


def load_{name}(path: str, *, strict: bool = False) -> list[{Name}Store]:
    """Read ``path`` (one JSON object a line) into stores of {n} records."""
    stores, store = [], {Name}Store()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                if strict:
                    raise ValueError(f"{{path}}:{{number}}: {{error}}") from None
                continue
            store.put(str(record.get("id", number)), record)
            if len(store._items) == store.limit:
                stores.append(store)
                store = {Name}Store()
    query = """
        SELECT id, name FROM {name}
        WHERE value > {n} -- a comment in a string
    """
    return [*stores, store] if query else stores
'''


def code(size: int = 100_000) -> str:
    """A long fenced Python block: classes, functions, docstrings and multi-line strings."""
    rng = random.Random(2)
    out = ["Here is the module:\n\n```python\nimport json\n"]
    n = 0
    while n < size:
        name = rng.choice(["user", "order", "item", "event", "token", "frame"]) + str(n % 97)
        unit = _CODE_UNIT.format(Name=name.title(), name=name, n=rng.randint(10, 999))
        out.append(unit)
        n += len(unit)
    return "".join(out) + "```\n\nThat's all.\n"


def quote(size: int = 100_000) -> str:
    """A long block quote: paragraphs of wrapped lines, short lists and code, a heading."""
    rng = random.Random(3)
    words = ["the", "quick", "brown", "fox", "**jumps**", "over", "`lazy`", "dog", "while",
             "[links](https://example.com)", "appear", "and", "*words*"]
    out, n = ["Someone wrote:\n\n"], 0
    while n < size:
        kind = rng.random()
        if kind < 0.6:
            lines = [" ".join(rng.choice(words) for _ in range(12))
                     for _ in range(rng.randint(2, 6))]
            block = "".join(f"> {line}\n" for line in lines)
        elif kind < 0.85:
            block = "".join(f"> - item {rng.choice(words)} {i}\n" for i in range(rng.randint(2, 6)))
        elif kind < 0.95:
            block = "> ```python\n> def f(x):\n>     return x * 2  # double\n> ```\n"
        else:
            block = f"> ## Part {n}\n"
        out.append(block + ">\n")
        n += len(block) + 2
    return "".join(out) + "\nThat's all.\n"


SHAPES: dict[str, Callable[..., str]] = {"table": table, "list": items, "paragraph": paragraph,
                                         "code": code, "quote": quote}


def chunks_of(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def frame_clock(chunks: list[str], inner: InnerLimits | None) -> tuple[float, float, list[int]]:
    """``(renderer seconds, longest gap in the second half, chunk counts at each frame)``."""
    renderer = IncrementalRenderer(inner=inner)
    cpu, at = clock_frames(renderer, chunks)
    start = time.perf_counter()
    renderer.settle()
    renderer.finish()
    cpu += time.perf_counter() - start
    ends = list(itertools.accumulate(map(len, chunks)))
    frames = [arrival(ends[n - 1]) for n in at]
    half = [f for f in frames if f >= frames[-1] / 2]
    gap = max((b - a for a, b in itertools.pairwise(half)), default=0.0)
    return cpu, gap, at


def wire_bytes(chunks: list[str], at: list[int]) -> tuple[int, str]:
    """The bytes of the patches made at the frames ``at`` (and the end), and the HTML the
    page then shows."""
    builder = PatchBuilder()
    sent, done = 0, 0
    for end in [*at, len(chunks)]:
        final = end == len(chunks)
        view = PartView(0, "text", 0, {}, final, 0, "".join(chunks[done:end]))
        sent += len(json.dumps(builder.build([view], final=final), ensure_ascii=False))
        done = end
    return sent, builder.html_of(0)


def run(quick: bool = False, only: list[str] | None = None,
        ) -> tuple[str, dict[str, dict[str, float | bool]]]:
    """Measure every shape (``only`` those named; a tenth of the size when ``quick``): the
    report's table and the figures."""
    sizes = {"table": 200, "list": 300, "paragraph": 10_000, "code": 10_000,
             "quote": 10_000} if quick else {}
    rows = []
    results: dict[str, dict[str, float | bool]] = {}
    for name, make in SHAPES.items():
        if only and name not in only:
            continue
        text = make(sizes[name]) if quick else make()
        whole = render(text)
        full = full_render_seconds(text, 3)
        chunks = chunks_of(text)
        row = [name, f"{len(text) / 1000:.0f} KB", f"{full * 1000:.0f} ms"]
        for inner in (None, InnerLimits()):
            cpu, gap, at = frame_clock(chunks, inner)
            cell = f"{cpu / full:.1f}x · {gap:.2f} s"
            if inner is None:
                results[f"{name}_without"] = {"cost": cpu / full, "gap_s": gap}
            else:
                sent, shown = wire_bytes(chunks, at)
                cell += f" · {sent / len(whole):.2f}x · {shown == whole}"
                results[name] = {"cost": cpu / full, "gap_s": gap, "iopub": sent / len(whole),
                                 "exact": shown == whole}
            row.append(cell)
        rows.append(row)
    table = markdown_table(["shape", "size", "one full render",
                            "without commits inside: cost · gap",
                            "with them: cost · gap · IOPub/HTML · exact"], rows)
    return table, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shapes a tenth of the size")
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), help="only these shapes")
    args = parser.parse_args()
    table, results = run(args.quick, args.shapes)
    print(table)
    write_json("render-shapes", {"environment": environment(), "shapes": results})


if __name__ == "__main__":
    main()
