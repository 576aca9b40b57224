"""The repetition-loop detector (the ``loops`` guard): recall, false stops and CPU.

Usage::

    python benchmarks/bench_loops.py [--cases N]

- **Recall**: for each family of synthetic loops (``tests/test_loops.py``: a sentence, a
  paragraph, a list item, a numbered list item whose number goes up, a JSON object compact
  or indented, a section; each repeated after a real demo answer as prefix, its passage drawn
  with a seeded random in the family's size range), ``--cases`` cases (default 100), fed
  alternately in 4-character pieces and in random token-sized pieces (1 to 32 characters).
  Reported: how many were caught, how many within 2 KB (2,048 characters fed after the loop's
  first character), the median and maximum characters fed after the loop began until the
  detector reported it. Two families beyond the brief follow (passages under 20 characters,
  and passages of 600 to 1,000 characters, which need three copies: more than 2 KB).
- **False stops**: every legitimate text of ``tests/test_loops.py`` (recorded fixtures, demo
  answers, 2,000-row tables, 300-item numbered lists, code with repetitive lines, songs and
  poems with refrains, requested repetitions such as the demo's tongue twister, CSV data, the
  reference workload), each fed in 1-character, 4-character and random pieces (token-sized,
  now and then several KB). Also the margin: the highest ``min_repeat_chars`` (with
  ``min_copies=2``) that would have stopped one of the family's texts (about its longest
  exact repetition; 0: none even at the floor of 24), against the default 1,500.
- **CPU**: the detector's CPU over the reference workload (44 KB, the 10,000 chunks of
  DESIGN.md; also 1-character and random pieces, and a 200 KB answer) against one full render
  of the answer (``nbstream._markdown.render``). nbstream's incremental rendering costs about
  4x one full render over a stream, so the budget (5% of the render's CPU) is 20% of one
  full render; the ratio against 4 full renders is the figure to compare with 5%.

Results go to ``benchmarks/results/loops.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from _common import environment, fmt, markdown_table, median, write_json
from test_loops import (
    EXTRA_LOOPS,
    LEGIT,
    LOOPS,
    WITHIN,
    first_stop,
    make_loop,
    pieces,
)
from workload import make_answer, reference_answer, reference_chunks

from nbstream._loops import LoopDetector
from nbstream._markdown import render

DEFAULT = LoopDetector()
RENDERS_PER_STREAM = 4  # incremental rendering over a stream ~ 4 full renders (bench_render)


@dataclass
class Recall:
    family: str
    passage_chars: str
    cases: int
    caught: int
    within_2kb: int
    median_chars: float | None
    max_chars: int | None


@dataclass
class FalseStops:
    family: str
    texts: int
    chars: int
    false_stops: dict[str, int]  # by feeding mode
    stopped: list[str]
    longest_repetition: int


@dataclass
class Cost:
    case: str
    chars: int
    pieces: int
    detector_ms: float
    render_ms: float
    vs_one_render: float
    vs_stream_render: float


def recall(families: dict[str, tuple[str, Callable[..., object]]], cases: int) -> list[Recall]:
    out = []
    for family, (sizes, _maker) in families.items():
        distances: list[int] = []
        caught = within = 0
        for seed in range(cases):
            text, start, _unit = make_loop(family, seed)
            hit = first_stop(text, "4" if seed % 2 else "tokens", seed)
            if hit is None or hit[0] <= start:
                continue
            caught += 1
            distances.append(hit[0] - start)
            within += hit[0] - start <= WITHIN
        out.append(Recall(family, sizes, cases, caught, within, median(distances),
                          max(distances) if distances else None))
    return out


def _stops(text: str, threshold: int) -> bool:
    return first_stop(text, "4", detector=LoopDetector(min_repeat_chars=threshold,
                                                        min_copies=2)) is not None


def longest_repetition(texts: Iterable[str]) -> int:
    """The highest ``min_repeat_chars`` (with ``min_copies=2``) that stops one of ``texts``:
    the longest exact repetition the detector sees in them (binary search; monotone: a lower
    threshold stops whatever a higher one does). 0: none stops even at the floor (24)."""
    best = 0
    for text in texts:
        lo = max(24, best + 1)
        if not _stops(text, lo):
            continue  # no repetition longer than the best so far
        hi = 2 * DEFAULT.min_repeat_chars
        while _stops(text, hi):
            hi *= 2
        while hi - lo > 1:  # lo stops, hi does not
            mid = (lo + hi) // 2
            if _stops(text, mid):
                lo = mid
            else:
                hi = mid
        best = lo
    return best


def precision() -> list[FalseStops]:
    out = []
    for family, corpus_of in LEGIT.items():
        corpus = corpus_of()
        stops = {}
        for mode in ("1", "4", "random"):
            stops[mode] = [label for k, (label, text) in enumerate(corpus)
                           if first_stop(text, mode, seed=k) is not None]
        chars = sum(len(text) for _label, text in corpus)
        out.append(FalseStops(family, len(corpus), chars, {m: len(v) for m, v in stops.items()},
                              sorted(set().union(*stops.values())),
                              longest_repetition(t for _l, t in corpus)))
    return out


def _best(run: Callable[[], float], repeats: int = 5) -> float:
    return min(run() for _ in range(repeats))  # the least disturbed run


def detector_seconds(chunks: list[str]) -> float:
    def run() -> float:
        detector = LoopDetector()
        start = time.process_time()
        for chunk in chunks:
            detector.feed(chunk)
        return time.process_time() - start
    return _best(run)


def render_seconds(text: str) -> float:
    render(text)  # warm caches (lexers, regexes)

    def run() -> float:
        start = time.process_time()
        render(text)
        return time.process_time() - start
    return _best(run)


def cpu() -> list[Cost]:
    reference = reference_answer()
    big = make_answer(200_000, seed=1)
    cases = [("reference 44 KB, its 10,000 chunks", reference, reference_chunks()),
             ("reference 44 KB, 1-character pieces", reference, list(reference)),
             ("reference 44 KB, random pieces", reference, list(pieces(reference, "random"))),
             ("200 KB answer, 4-character pieces", big, list(pieces(big, "4")))]
    out = []
    renders: dict[int, float] = {}
    for label, text, chunks in cases:
        assert "".join(chunks) == text
        one = renders.setdefault(id(text), render_seconds(text))
        spent = detector_seconds(chunks)
        out.append(Cost(label, len(text), len(chunks), spent * 1000, one * 1000, spent / one,
                        spent / (RENDERS_PER_STREAM * one)))
    return out


def family_cpu() -> list[Cost]:
    """Per legitimate family: the detector (4-character pieces) against one full render."""
    out = []
    for family, corpus_of in LEGIT.items():
        texts = [t for _l, t in corpus_of()]
        chunks = [list(pieces(t, "4")) for t in texts]
        spent = sum(detector_seconds(c) for c in chunks)
        one = sum(render_seconds(t) for t in texts)
        out.append(Cost(family, sum(map(len, texts)), sum(map(len, chunks)), spent * 1000,
                        one * 1000, spent / one, spent / (RENDERS_PER_STREAM * one)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100, help="synthetic loops per family")
    args = parser.parse_args()
    started = time.monotonic()
    loops = recall(LOOPS, args.cases)
    extra = recall(EXTRA_LOOPS, max(10, args.cases // 4))
    legit = precision()
    costs = cpu()
    per_family = family_cpu()

    print(f"LoopDetector defaults: min_repeat_chars={DEFAULT.min_repeat_chars}, "
          f"min_copies={DEFAULT.min_copies:g}, max_period={DEFAULT.max_period}\n")
    print("Recall: synthetic loops after a real answer (4-character and token-sized pieces)\n")

    def share(n: int, of: int) -> str:
        return f"{n} ({100 * n / of:.0f}%)"

    rows = [[r.family + extra_note, r.passage_chars, str(r.cases), share(r.caught, r.cases),
             share(r.within_2kb, r.cases), fmt(r.median_chars, ",.0f"), fmt(r.max_chars, ",")]
            for group, extra_note in ((loops, ""), (extra, " (beyond the brief)"))
            for r in group]
    total = sum(r.cases for r in loops)
    in_time = sum(r.within_2kb for r in loops)
    rows.append(["**all families of the brief**", "20-600", str(total),
                 share(sum(r.caught for r in loops), total),
                 f"**{in_time} ({100 * in_time / total:.1f}%)**",
                 fmt(median(r.median_chars for r in loops), ",.0f"),
                 fmt(max(r.max_chars or 0 for r in loops), ",")])
    print(markdown_table(["loop", "passage (chars)", "cases", "caught", "within 2 KB",
                          "median chars to stop", "max chars to stop"], rows))

    print("\nFalse stops: legitimate text, fed in 1-char / 4-char / random pieces. Margin: the "
          "highest min_repeat_chars (with min_copies=2) that would stop one of the family's "
          f"texts, against the default {DEFAULT.min_repeat_chars:,}\n")
    rows = [[f.family, str(f.texts), f"{f.chars:,}",
             " / ".join(str(v) for v in f.false_stops.values()), f"{f.longest_repetition:,}"]
            for f in legit]
    print(markdown_table(["legitimate text", "texts", "chars", "false stops (1 / 4 / random)",
                          "would stop at min_repeat_chars <="], rows))
    false_stops = sum(sum(f.false_stops.values()) for f in legit)

    print("\nCPU: the detector against one full render (nbstream._markdown.render)\n")
    budget = f"vs {RENDERS_PER_STREAM} renders (budget 5%)"
    rows = [[c.case, f"{c.pieces:,}", fmt(c.detector_ms, ".1f"), fmt(c.render_ms, ".1f"),
             f"{100 * c.vs_one_render:.1f}%", f"**{100 * c.vs_stream_render:.1f}%**"]
            for c in costs]
    print(markdown_table(["answer", "pieces", "detector ms", "one render ms", "vs one render",
                          budget], rows))
    print()
    rows = [[c.case, fmt(c.detector_ms, ".1f"), fmt(c.render_ms, ".1f"),
             f"{100 * c.vs_stream_render:.1f}%"] for c in per_family]
    print(markdown_table(["legitimate text, 4-char pieces", "detector ms", "one render ms",
                          f"vs {RENDERS_PER_STREAM} renders"], rows))

    elapsed = time.monotonic() - started
    print(f"\n{in_time}/{total} loops caught within 2 KB; {false_stops} false stops over "
          f"{sum(f.texts for f in legit)} texts x 3 feedings; detector CPU "
          f"{100 * costs[0].vs_stream_render:.1f}% of the stream's render CPU on the "
          f"reference workload; ran {elapsed:.0f} s")
    path = write_json("loops.json", {
        "environment": environment(),
        "defaults": {"min_repeat_chars": DEFAULT.min_repeat_chars,
                     "min_copies": DEFAULT.min_copies, "max_period": DEFAULT.max_period},
        "within_chars": WITHIN, "renders_per_stream": RENDERS_PER_STREAM,
        "recall": [asdict(r) for r in loops],
        "recall_beyond_the_brief": [asdict(r) for r in extra],
        "false_stops": [asdict(f) for f in legit],
        "cpu": [asdict(c) for c in costs], "cpu_per_family": [asdict(c) for c in per_family],
        "seconds": elapsed,
    })
    print(f"results: {path}")


if __name__ == "__main__":
    main()
