"""The renderer alone: nbstream's incremental renderer against a whole re-render per chunk.

Usage: ``python benchmarks/bench_render.py [--runs N] [--quick]``

For the reference workload (44 KB) chunked into 10,000, 2,000 and 200 pieces, for a
500 KB answer, and for a math-heavy answer (~30 KB: inline and display TeX typeset as MathML,
the conversion cache emptied before every measured render, so no row profits from another's
conversions), measures total render time divided by one full render of the final text:

- ``naive``: markdown-it renders the whole text after every chunk (what peers do);
- ``nbstream, every chunk``: the incremental renderer asked for an update after every chunk
  (its worst case: no frame clock at all);
- ``nbstream, frame clock``: the renderer driven the way nbstream drives it (its own frame
  rate and back-off, plus one final render) while the answer arrives at 1,000 tokens/s of
  ~4.4 characters, however it is chunked (a virtual clock: arrival times are computed, not
  slept; render CPU is measured for real).

The frame-clock rows also give the render CPU as a share of the stream's duration: under 100%
means the kernel keeps up with the stream.

Then answers that are one huge block (a 2,000-row table, a 3,000-item list, one 100 KB
paragraph: ``bench_shapes.py``) on the frame clock in 4-character chunks, with and without
commits inside the open block: cost, longest gap between updates, IOPub bytes.
"""

from __future__ import annotations

import argparse
import random
import time

from _common import environment, fmt, markdown_table, median, write_json
from workload import make_answer, make_chunks, reference_answer, split_chunks

from nbstream._channel import FRAME_RATE, RENDER_SHARE
from nbstream._incremental import IncrementalRenderer
from nbstream._markdown import render
from nbstream._math import to_mathml

TOKENS_PER_S = 1000.0
CHARS_PER_TOKEN = 4.4


def math_answer(size: int = 30_000, seed: int = 0) -> str:
    """An answer full of equations, as a model explaining a derivation writes it."""
    rng = random.Random(seed)
    out: list[str] = []
    n = 0
    while sum(map(len, out)) < size:
        n += 1
        i, j, k = rng.randint(1, 9), rng.randint(2, 20), rng.randint(1, 99)
        out.append(f"## Step {n}\n\nLet $x_{i} \\in \\mathbb{{R}}^{j}$ and \\(f(x) = "
                   f"\\frac{{x^{i}}}{{{k} + x}}\\). Then $\\sum_{{n=1}}^{{{j}}} a_n = {k}$, "
                   f"which costs $5 and $10 to check, and $\\alpha_{i} < \\beta^{{{j}}}$.\n\n")
        out.append(f"$$\n\\int_0^{{{j}}} e^{{-{i}x^2}}\\,dx = \\frac{{\\sqrt{{\\pi}}}}"
                   f"{{2\\sqrt{{{i}}}}} + \\mathcal{{O}}(\\epsilon^{{{k}}})\n$$\n\n")
        if n % 2:
            out.append(f"\\[\n\\begin{{aligned}}\nA_{i} &= \\begin{{pmatrix}} {i} & {j} "
                       f"\\\\ {k} & 1 \\end{{pmatrix}} \\\\\n&= \\lim_{{t \\to {j}}}"
                       f" \\frac{{t^{i}}}{{{k}}}\n\\end{{aligned}}\n\\]\n\n")
        else:
            out.append(f"- the case ${i} < x_{j}$ gives $\\hat{{y}} = {k}$\n"
                       f"- and \\(\\vec{{v}}_{j} \\cdot \\vec{{w}} = 0\\)\n\n")
    return "".join(out)


def full_render_seconds(text: str, runs: int) -> float:
    render(text)  # warm caches (lexers, regexes)
    times = []
    for _ in range(max(5, runs)):
        to_mathml.cache_clear()
        start = time.perf_counter()
        render(text)
        times.append(time.perf_counter() - start)
    return min(times)  # the least disturbed run: other load only ever adds time


def naive(chunks: list[str]) -> float:
    to_mathml.cache_clear()
    start = time.perf_counter()
    text = ""
    for chunk in chunks:
        text += chunk
        render(text)
    return time.perf_counter() - start


def every_chunk(chunks: list[str]) -> float:
    to_mathml.cache_clear()
    start = time.perf_counter()
    renderer = IncrementalRenderer()
    for chunk in chunks:
        renderer.append(chunk)
        renderer.render()
    renderer.finish()
    return time.perf_counter() - start


def clock_frames(renderer: IncrementalRenderer, chunks: list[str]) -> tuple[float, list[int]]:
    """Feed ``chunks`` to ``renderer`` as they arrive at 1,000 tokens/s whatever their
    chunking, rendering on nbstream's frame clock: ``(render CPU seconds, chunk count at each
    frame)`` (a frame's arrival time is :func:`arrival` of its chunks)."""
    cpu, next_frame, chars = 0.0, 0.0, 0
    at: list[int] = []
    for i, chunk in enumerate(chunks):
        chars += len(chunk)
        renderer.append(chunk)
        if arrival(chars) >= next_frame:
            start = time.perf_counter()
            renderer.render()
            cost = time.perf_counter() - start
            cpu += cost
            at.append(i + 1)
            next_frame = arrival(chars) + max(1 / FRAME_RATE, RENDER_SHARE * cost)
    return cpu, at


def arrival(chars: int) -> float:
    """When the stream's first ``chars`` characters have arrived, in seconds."""
    return chars / CHARS_PER_TOKEN / TOKENS_PER_S


def frame_clock(chunks: list[str]) -> tuple[float, float, int]:
    """Render CPU seconds, stream duration and render count, the answer arriving at
    1,000 tokens/s whatever its chunking, rendered on nbstream's frame clock."""
    to_mathml.cache_clear()
    renderer = IncrementalRenderer()
    cpu, at = clock_frames(renderer, chunks)
    start = time.perf_counter()
    renderer.render()
    renderer.finish()
    cpu += time.perf_counter() - start
    return cpu, arrival(sum(map(len, chunks))), len(at) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="skip the slowest naive baselines (10,000 chunks, 500 KB)")
    args = parser.parse_args()

    reference = reference_answer()
    big = make_answer(500_000)
    maths = math_answer()
    cases = [
        ("44 KB / 10,000", reference, split_chunks(reference, 10_000), not args.quick),
        ("44 KB / 2,000", reference, split_chunks(reference, 2_000), True),
        ("44 KB / 200", reference, split_chunks(reference, 200), True),
        ("500 KB / ~114,000", big, make_chunks(500_000), False),
        ("math 30 KB / ~7,000", maths, split_chunks(maths, len(maths) // 4), not args.quick),
    ]
    rows, results = [], []
    for name, text, chunks, run_naive in cases:
        full = full_render_seconds(text, args.runs)
        runs = 1 if len(chunks) > 20_000 else args.runs
        inc = median(every_chunk(chunks) for _ in range(runs)) or 0.0
        clocked = [frame_clock(chunks) for _ in range(runs)]
        cpu = median(c[0] for c in clocked) or 0.0
        duration, renders = clocked[0][1], clocked[0][2]
        base = naive(chunks) if run_naive else None
        result = {
            "case": name, "chars": len(text), "chunks": len(chunks), "full_render_s": full,
            "naive_s": base, "every_chunk_s": inc, "frame_clock_cpu_s": cpu,
            "stream_s": duration, "renders": renders,
        }
        results.append(result)
        rows.append([
            name, fmt(full * 1000, ".1f"),
            "skipped" if base is None else f"{base:.2f} s ({base / full:.0f}x)",
            f"{inc:.2f} s ({inc / full:.0f}x)",
            f"{cpu:.2f} s ({cpu / full:.1f}x)",
            f"{renders} / {duration:.0f} s ({cpu / duration:.1%})",
        ])
    print(markdown_table(
        ["workload", "full render ms", "naive per chunk", "nbstream every chunk",
         "nbstream frame clock", "renders / stream (CPU share)"],
        rows,
    ))
    # Answers that are one huge block (issue 12; bench_shapes.py, also run on its own)
    from bench_shapes import run as run_shapes

    shapes_table, shapes = run_shapes(args.quick)
    print()
    print(shapes_table)
    write_json("render", {"environment": environment(), "results": results, "shapes": shapes})


if __name__ == "__main__":
    main()
