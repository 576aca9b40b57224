"""The repetition-loop detector (``nbstream._loops.LoopDetector``, the ``loops`` guard).

Real text must never be stopped: every recorded fixture's final text, every demo answer (the
canned documents and the demo client's answers to the README's prompts, the "double bubble
bath" tongue twister among them), long tables, numbered lists of similar items, code with
repetitive lines inside and outside fences, songs and poems with refrains, CSV data, the
benchmark's reference workload; each fed in 1-character, 4-character and random-size pieces.

Synthetic loops must be caught within 2 KB of their start: a sentence, a paragraph, a list
item, a numbered list item (the number goes up), a JSON object (compact or indented), a
section (heading and paragraph), each repeated after a real answer as prefix.

The corpora and the loop generators are shared with ``benchmarks/bench_loops.py``.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from nbstream._demo import ANSWERS
from nbstream._loops import LoopDetector

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO / "benchmarks") not in sys.path:
    sys.path.insert(0, str(_REPO / "benchmarks"))

from workload import make_answer, reference_answer  # noqa: E402

SHARED = Path(os.environ.get("NBSTREAM_SHARED") or _REPO.parent / "shared")
FIXTURES_INDEX = SHARED / "fixtures" / "index.json"

WITHIN = 2048  # characters after the loop began: "within 2 KB"

# ---- feeding ---------------------------------------------------------------------------------


def pieces(text: str, mode: str, seed: int = 0) -> Iterator[str]:
    """``text`` cut the way a stream delivers it: ``"1"``, ``"4"`` characters, ``"tokens"``
    (random sizes of 1 to 32), or ``"random"`` sizes (mostly token-sized, sometimes a few
    hundred, now and then several KB)."""
    if mode in ("1", "4"):
        step = int(mode)
        for i in range(0, len(text), step):
            yield text[i:i + step]
        return
    rng = random.Random(f"pieces-{seed}")
    i = 0
    if mode == "tokens":
        while i < len(text):
            size = rng.randint(1, 32)
            yield text[i:i + size]
            i += size
        return
    while i < len(text):
        roll = rng.random()
        size = (rng.randint(1, 12) if roll < 0.85 else rng.randint(13, 400) if roll < 0.98
                else rng.randint(401, 6000))
        yield text[i:i + size]
        i += size


def first_stop(text: str, mode: str = "4", seed: int = 0,
               detector: LoopDetector | None = None) -> tuple[int, str] | None:
    """(characters fed when the detector first reported, its description), or None."""
    detector = detector or LoopDetector()
    fed = 0
    for piece in pieces(text, mode, seed):
        fed += len(piece)
        found = detector.feed(piece)
        if found is not None:
            return fed, found
    return None


# ---- legitimate texts ------------------------------------------------------------------------

Corpus = list[tuple[str, str]]  # (label, text)


def fixture_texts() -> Corpus:
    """Every final text of the recorded streams: content, refusals, tool-call arguments,
    output text and reasoning summaries."""
    if not FIXTURES_INDEX.is_file():
        pytest.fail(f"fixtures index not found at {FIXTURES_INDEX}; set NBSTREAM_SHARED")
    out: Corpus = []
    for entry in json.loads(FIXTURES_INDEX.read_text(encoding="utf-8")):
        a, name = entry["analysis"], entry["path"]
        if entry["api"] == "responses":
            texts = [a.get("final_output_text"), a.get("output_text_from_deltas"),
                     a.get("reasoning_summary_from_deltas")]
            texts += [args for _id, args in a.get("function_call_arguments_done") or []]
        else:
            texts = []
            for choice in a["choices"].values():
                texts += [choice.get("content"), choice.get("refusal")]
                texts += [call["arguments"] for call in choice.get("tool_calls") or []]
            if len(a["choices"]) > 1:  # every choice one after the other, as one text
                texts.append("\n\n".join(c.get("content") or "" for c in a["choices"].values()))
        for k, text in enumerate(texts):
            if isinstance(text, list):
                text = "\n\n".join(map(str, text))
            if text:
                out.append((f"{name}#{k}", text))
    return out


# The README's and quickstart's prompts (tests/test_demo.py's EXPECTED) and a few others.
DEMO_PROMPTS = [
    "Explain Python generators with a code example and a table.",
    "Give me a quick markdown cheat sheet.",
    "Write a long, detailed essay about the history of computing.",
    "Summarise async IO in three bullet points.",
    "Show a small table.",
    "Say 'double bubble bath' ten times fast.",
    "How do I read a CSV file?",
    "Tell me about Rust.",
    "What should I know about this?",
]
TONGUE_TWISTER_PROMPT = "Say 'double bubble bath' ten times fast."


@cache
def demo_client_answer(prompt: str) -> str:
    import nbstream

    client = nbstream.demo_client(speed=float("inf"))
    return str(client.responses.create(model="demo", input=prompt).output_text)


def demo_texts() -> Corpus:
    """Every canned demo answer, and the demo client's answers to the README's prompts."""
    out = [(f"answer {name}", text) for name, text in ANSWERS.items()]
    out += [(f"demo client: {p}", demo_client_answer(p)) for p in DEMO_PROMPTS]
    return out


def workload_texts() -> Corpus:
    """The benchmarks' reference answer (44 KB), a 200 KB one, and the renderer tests'
    markdown corpus."""
    from markdown_corpus import corpus_document

    return [("reference workload 44 KB", reference_answer()),
            ("workload 200 KB", make_answer(200_000, seed=3)),
            ("markdown corpus", corpus_document())]


@cache
def _vocabulary() -> tuple[str, ...]:
    words = re.findall(r"[A-Za-z][a-z]{2,}", "\n".join(ANSWERS.values()) + reference_answer())
    return tuple(sorted(set(w.lower() for w in words)))


def _words(rng: random.Random, n: int) -> str:
    vocab = _vocabulary()
    return " ".join(rng.choice(vocab) for _ in range(n))


def _sentence(rng: random.Random, words: int | None = None) -> str:
    text = _words(rng, words or rng.randint(5, 16))
    return text[0].upper() + text[1:] + rng.choice(".....!?")


def table_texts() -> Corpus:
    """Markdown tables of 2,000 rows: varied rows, identical rows (a blank template), and a
    table without leading pipes."""
    rng = random.Random("tables")
    head = "Here is the data you asked for.\n\n"
    varied = ["| # | name | region | score | status |", "|---|---|---|---:|:---:|"]
    varied += [f"| {i} | {_words(rng, 2)} | {rng.choice(['EU', 'US', 'APAC'])} | "
               f"{rng.uniform(0, 100):.1f} | {rng.choice(['ok', 'ok', 'late'])} |"
               for i in range(1, 2001)]
    blank = ["| Date | Task | Done |", "|------|------|------|"]
    blank += ["|      |      |  [ ]  |"] * 2000
    same = ["| status | count |", "|---|---|"] + ["| ok | 0 |"] * 2000
    bare = ["name | value | unit", "--- | ---: | ---"]
    bare += [f"{_words(rng, 1)} | {rng.randint(0, 999)} | ms" for _ in range(2000)]
    bare_same = ["a | b", "--- | ---"] + ["0 | 0"] * 2000
    return [(f"table: {label}", head + "\n".join(rows) + "\n\nThat is all.\n")
            for label, rows in (("2,000 varied rows", varied), ("2,000 blank rows", blank),
                                ("2,000 identical rows", same),
                                ("2,000 rows, no leading pipes", bare),
                                ("2,000 identical rows, no leading pipes", bare_same))]


def list_texts() -> Corpus:
    """Numbered lists of 300 similar items."""
    rng = random.Random("lists")
    templated = "\n".join(
        f"{i}. **{_words(rng, 1).title()}**: a {_words(rng, 1)} {_words(rng, 1)} that "
        f"{_words(rng, 2)} the {_words(rng, 1)}." for i in range(1, 301))
    item_n = "\n".join(f"{i}. Item {i}: description of item {i}." for i in range(1, 301))
    steps = "\n".join(f"{i}. Step {i}: run the test suite again and record the result "
                      f"in row {i} of the sheet." for i in range(1, 301))
    bullets = "\n".join(f"- `{_words(rng, 1)}_{i}`: returns the {_words(rng, 1)} value"
                        for i in range(300))
    nested = "\n".join(f"{i}. Chapter {i}\n   - Summary: see below.\n   - Pages: {10 * i}-"
                       f"{10 * i + 9}" for i in range(1, 301))
    return [("list: 300 templated items", "Here are the items:\n\n" + templated),
            ("list: 300 'Item n' items", item_n),
            ("list: 300 steps", steps),
            ("list: 300 bullets", bullets),
            ("list: 300 nested items", nested)]


def code_texts() -> Corpus:
    """Code with repetitive lines, inside fences and outside them."""
    rng = random.Random("code")
    fields = [f"field_{i}" for i in range(150)]
    py = "class Config:\n    def __init__(self, " + ", ".join(fields) + "):\n"
    py += "".join(f"        self.{f} = {f}\n" for f in fields)
    py += "".join(f"\n    def {f}_changed(self):\n        pass\n" for f in fields[:60])
    c = "switch (code) {\n" + "".join(
        f"    case {i}:\n        return \"{_words(rng, 1)}\";\n" for i in range(200)) + "}\n"
    zeros = "static const uint8_t table[2048] = {\n" + "    0x00, 0x00, 0x00, 0x00, 0x00, " \
        "0x00, 0x00, 0x00,\n" * 256 + "};\n"
    same = "\n".join(["for i in range(10):"] + ["    print('hello world')"] * 400)
    asm = "\n".join(["loop:"] + ["    nop"] * 300 + ["    jmp loop"])
    out = [
        ("code outside fences: Python class", "Here is the class:\n\n" + py),
        ("code outside fences: C switch", c),
        ("code outside fences: closing braces",
         "".join("  " * d + "if (x) {\n" for d in range(20))
         + "".join("  " * d + "}\n" for d in reversed(range(20)))),
        ("code outside fences: similar asserts",
         "\n".join(f"assert parse('{_words(rng, 1)}') == {i}" for i in range(300))),
    ]
    for fence, lang in (("```", "python"), ("~~~", "python"), ("````", "c")):
        for label, body in (("Python class", py), ("C switch", c), ("zero table", zeros),
                            ("400 identical lines", same), ("300 nop lines", asm)):
            out.append((f"code in {fence} fences: {label}",
                        f"Here you go:\n\n{fence}{lang}\n{body}\n{fence}\n\nDone."))
    out.append(("code in a fence inside a list",
                "1. Install it.\n2. Write this:\n\n   ```python\n"
                + "\n".join(["   print('hello world')"] * 400) + "\n   ```\n\n3. Run it.\n"))
    out.append(("code in an unclosed fence", "Start:\n\n```\n" + "0, " * 3000))
    return out


_CHORUS = ("And the river keeps on rolling, rolling,\nAnd the river keeps on rolling home,\n"
           "Carry me down where the willows are growing,\nAnd I'll never walk alone.\n")


def refrain_texts() -> Corpus:
    """Songs and poems with refrains, counting songs, cumulative songs."""
    rng = random.Random("refrains")
    song = "# The River Song\n\n" + "\n".join(
        f"**Verse {v}**\n" + "\n".join(_sentence(rng, 7) for _ in range(4)) + "\n\n**Chorus**\n"
        + _CHORUS for v in range(1, 13)) + "\n" + _CHORUS + "\n" + _CHORUS
    poem = "\n\n".join("\n".join(_sentence(rng, 6) for _ in range(5))
                       + "\nQuoth the Raven, \"Nevermore.\"" for _ in range(18))
    bottles = "\n\n".join(
        f"{n} bottles of beer on the wall, {n} bottles of beer.\nTake one down and pass it "
        f"around, {n - 1} bottles of beer on the wall." for n in range(99, 0, -1))
    gifts = ["A partridge in a pear tree.", "Two turtle doves,", "Three French hens,",
             "Four calling birds,", "Five gold rings,", "Six geese a-laying,",
             "Seven swans a-swimming,", "Eight maids a-milking,", "Nine ladies dancing,",
             "Ten lords a-leaping,", "Eleven pipers piping,", "Twelve drummers drumming,"]
    ordinals = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                "ninth", "tenth", "eleventh", "twelfth"]
    days = "\n\n".join(
        f"On the {ordinals[d]} day of Christmas my true love sent to me:\n"
        + "\n".join(reversed(gifts[:d + 1])) for d in range(12))
    days = days.replace("\nA partridge", "\nAnd a partridge").replace(
        "me:\nAnd a partridge", "me:\nA partridge")
    bus = "\n\n".join(
        f"The {thing} on the bus go {sound},\n{sound.capitalize()},\n{sound.capitalize()}.\n"
        f"The {thing} on the bus go {sound},\nAll through the town."
        for thing, sound in (("wheels", "round and round"), ("wipers", "swish swish swish"),
                             ("horn", "beep beep beep"), ("doors", "open and shut"),
                             ("babies", "wah wah wah"), ("mummies", "shh shh shh"),
                             ("daddies", "read read read"), ("people", "up and down")))
    return [("song with a chorus", song), ("poem with a refrain", poem),
            ("99 bottles of beer", bottles), ("the twelve days of Christmas", days),
            ("the wheels on the bus", bus)]


def requested_texts() -> Corpus:
    """Repetitions the user asked for: the demo's tongue twister and its like."""
    return [
        ("demo: double bubble bath ten times", demo_client_answer(TONGUE_TWISTER_PROMPT)),
        ("red lorry, yellow lorry twenty times",
         "Here goes:\n\n" + "Red lorry, yellow lorry, " * 20 + "\n\nTry it!"),
        ("she sells seashells ten times", "\n".join(
            ["She sells seashells by the seashore."] * 10)),
        ("chalkboard lines, twenty", "\n".join(["I will not talk in class."] * 20)),
        ("laughter", "Ha" + "ha" * 100 + "! That's a good one."),
        ("rating stars", "\n".join(f"- {_w}: " + "⭐" * n for _w, n in
                                    (("Food", 5), ("Service", 4), ("Price", 5)))),
    ]


def csv_texts() -> Corpus:
    """CSV-like data outside fences."""
    rng = random.Random("csv")
    rows = ["date,ticker,open,high,low,close,volume"]
    for d in range(2000):
        base = rng.uniform(50, 200)
        rows.append(f"2024-{1 + d // 28 % 12:02d}-{1 + d % 28:02d},{rng.choice(['AAPL', 'MSFT'])},"
                    f"{base:.2f},{base * 1.02:.2f},{base * 0.98:.2f},{base * 1.01:.2f},"
                    f"{rng.randint(10**5, 10**7)}")
    sensor = ["t,x,y,z"] + [f"{i / 100:.2f},{rng.gauss(0, 1):.3f},{rng.gauss(0, 1):.3f},0.000"
                            for i in range(2000)]
    sparse = ["id,a,b,c,d"] + [f"{i},0,0,0,{int(i % 97 == 0)}" for i in range(2000)]
    return [("CSV: 2,000 stock rows", "\n".join(rows)),
            ("CSV: 2,000 sensor rows", "\n".join(sensor)),
            ("CSV: 2,000 sparse rows", "\n".join(sparse))]


LEGIT: dict[str, Callable[[], Corpus]] = {
    "recorded fixtures": fixture_texts,
    "demo answers": demo_texts,
    "tables (2,000 rows)": table_texts,
    "numbered lists (300 items)": list_texts,
    "code with repetitive lines": code_texts,
    "songs and poems with refrains": refrain_texts,
    "requested repetitions (tongue twister)": requested_texts,
    "CSV data": csv_texts,
    "reference workload, markdown corpus": workload_texts,
}

# ---- synthetic loops -------------------------------------------------------------------------


def _sized(rng: random.Random, low: int, high: int, make: Callable[[int], str]) -> str:
    """``make(words)`` with the word count adjusted until its length is in [low, high]."""
    target = rng.randint(low, high)
    words = max(1, target // 7)
    text = make(words)
    for _ in range(200):
        if len(text) < target and len(text) < high:
            words += 1
        elif len(text) > high:
            words -= 1
        else:
            break
        text = make(words)
    return text


def _json_object(rng: random.Random, low: int, high: int, indent: int | None) -> str:
    seed = rng.random()

    def make(words: int) -> str:
        r = random.Random(seed)
        obj: dict[str, Any] = {}
        while words > 0:
            key = _words(r, 1)
            kind = r.random()
            if kind < 0.4:
                n = min(words, r.randint(1, 6))
                obj[key] = _words(r, n)
                words -= n
            elif kind < 0.6:
                obj[key] = r.randint(0, 10_000)
                words -= 1
            elif kind < 0.7:
                obj[key] = r.choice([True, False, None])
                words -= 1
            else:
                n = min(words, r.randint(1, 4))
                obj[key] = [_words(r, 1) for _ in range(n)]
                words -= n
        return json.dumps(obj, indent=indent)

    return _sized(rng, low, high, make)


def _sentences(rng: random.Random, low: int, high: int) -> str:
    seed = rng.random()

    def make(words: int) -> str:
        r, out = random.Random(seed), []
        while words > 0:
            n = min(words, r.randint(5, 16))
            out.append(_sentence(r, n))
            words -= n
        return " ".join(out)

    return _sized(rng, low, high, make)


# family -> (unit length range, the loop's text from its unit and the copy number)
LoopMaker = Callable[[random.Random], Callable[[int], str]]


def _loop_sentence(rng: random.Random) -> Callable[[int], str]:
    unit = _sentences(rng, 20, 200) + " "
    return lambda k: unit


def _loop_paragraph(rng: random.Random) -> Callable[[int], str]:
    unit = _sentences(rng, 200, 600) + "\n\n"
    return lambda k: unit


def _loop_list_item(rng: random.Random) -> Callable[[int], str]:
    unit = rng.choice("-*+") + " " + _sentences(rng, 18, 198) + "\n"
    return lambda k: unit


def _loop_numbered_item(rng: random.Random) -> Callable[[int], str]:
    body = _sentences(rng, 16, 196)
    start = rng.randint(1, 9)
    return lambda k: f"{start + k}. {body}\n"


def _loop_json(rng: random.Random) -> Callable[[int], str]:
    unit = _json_object(rng, 20, 598, None) + ",\n"
    return lambda k: unit


def _loop_json_indented(rng: random.Random) -> Callable[[int], str]:
    unit = _json_object(rng, 40, 598, 2) + ",\n"
    return lambda k: unit


def _loop_section(rng: random.Random) -> Callable[[int], str]:
    title = "#" * rng.randint(2, 4) + " " + _words(rng, rng.randint(1, 4)).title() + "\n\n"
    unit = title + _sentences(rng, max(20, 100 - len(title)), 600 - len(title) - 2) + "\n\n"
    return lambda k: unit


LOOPS: dict[str, tuple[str, LoopMaker]] = {
    "sentence": ("20-200", _loop_sentence),
    "paragraph": ("200-600", _loop_paragraph),
    "list item": ("20-200", _loop_list_item),
    "numbered item (number goes up)": ("20-200", _loop_numbered_item),
    "JSON object": ("20-600", _loop_json),
    "JSON object, indented": ("40-600", _loop_json_indented),
    "section (heading + paragraph)": ("100-600", _loop_section),
}


def _loop_phrase(rng: random.Random) -> Callable[[int], str]:
    unit = ""
    while not 4 <= len(unit) < 20:
        unit = _words(rng, rng.randint(1, 3)) + rng.choice([" ", ", ", "! "])
    return lambda k: unit


def _loop_long_passage(rng: random.Random) -> Callable[[int], str]:
    unit = _sentences(rng, 600, 1000) + "\n\n"
    return lambda k: unit


# Beyond the brief: passages shorter than 20 characters, and passages too long for three copies
# to fit in 2 KB (these are caught after three copies).
EXTRA_LOOPS: dict[str, tuple[str, LoopMaker]] = {
    "short phrase": ("4-19", _loop_phrase),
    "long passage": ("600-1000", _loop_long_passage),
}


def _outside_fences(text: str) -> str:
    """``text``, or, if it ends inside a fenced code block, ``text`` before that block."""
    fence, opened_at, at = "", 0, 0
    for line in text.splitlines(keepends=True):
        head = line.strip()
        if fence:
            if head.startswith(fence) and not head.strip(fence[0]):
                fence = ""
        elif m := re.match(r"`{3,}|~{3,}", head):
            fence, opened_at = m.group(), at
        at += len(line)
    return text[:opened_at] if fence else text


def make_loop(family: str, seed: int, copies_chars: int = 6000) -> tuple[str, int, int]:
    """(text, index where the loop begins, unit length): a real answer as prefix, then the
    family's unit repeated for ``copies_chars`` characters."""
    rng = random.Random(f"loop-{family}-{seed}")
    prefixes = [t for n, t in ANSWERS.items() if n not in ("tongue_twister",)]
    prefix = rng.choice(prefixes).rstrip("\n")
    if rng.random() < 0.5:
        prefix = _outside_fences(prefix[:rng.randint(len(prefix) // 2, len(prefix))]).rstrip()
        if re.search(r"(?m)^\|.*\Z", prefix):  # cut inside a table: end it
            prefix += "\n"
    unit_of = (LOOPS.get(family) or EXTRA_LOOPS[family])[1](rng)
    inline = family == "sentence" and rng.random() < 0.5 and not prefix.endswith("```")
    prefix += " " if inline else "\n\n"
    loop: list[str] = []
    size = 0
    while size < copies_chars:
        loop.append(unit_of(len(loop)))
        size += len(loop[-1])
    return prefix + "".join(loop), len(prefix), len(unit_of(1))


# ---- tests: legitimate text ------------------------------------------------------------------


@pytest.mark.parametrize("family", list(LEGIT))
@pytest.mark.parametrize("mode", ["1", "4", "random"])
def test_no_false_stop(family: str, mode: str) -> None:
    corpus = LEGIT[family]()
    assert corpus
    stopped = []
    for k, (label, text) in enumerate(corpus):
        hit = first_stop(text, mode, seed=k)
        if hit is not None:
            stopped.append((label, hit))
    assert not stopped, stopped


def test_the_tongue_twister_is_the_demo_answer_and_is_not_stopped() -> None:
    text = demo_client_answer(TONGUE_TWISTER_PROMPT)
    assert text.lower().count("double bubble bath") == 10
    for mode in ("1", "4", "random"):
        assert first_stop(text, mode) is None
    # the same phrase as a runaway: caught
    runaway = "Double bubble bath, " * 200
    hit = first_stop(runaway)
    assert hit is not None and hit[0] <= WITHIN
    assert "20-character passage" in hit[1] and "double bubble bath" in hit[1].lower()


def test_all_demo_answers_in_one_stream() -> None:
    """All demo answers one after another in one detector: still nothing."""
    text = "\n\n".join(ANSWERS.values())
    assert first_stop(text, "random") is None


# ---- tests: loops ----------------------------------------------------------------------------

LOOP_SEEDS = range(15)


@pytest.mark.parametrize("family", list(LOOPS))
def test_loops_are_caught_within_2_kb(family: str) -> None:
    misses, late = [], []
    for seed in LOOP_SEEDS:
        text, start, unit = make_loop(family, seed)
        assert first_stop(text[:start], "4") is None  # the prefix alone is fine
        # (pieces of several KB would only tell that the loop was found in the last piece)
        hit = first_stop(text, "4" if seed % 2 else "tokens", seed)
        if hit is None or hit[0] <= start:
            misses.append((seed, unit, hit))
        elif hit[0] - start > WITHIN:
            late.append((seed, unit, hit[0] - start))
    assert not misses and not late, (misses, late)


@pytest.mark.parametrize("family", list(EXTRA_LOOPS))
def test_short_and_long_passages_are_caught_too(family: str) -> None:
    for seed in range(8):
        text, start, unit = make_loop(family, seed)
        hit = first_stop(text, "4")
        assert hit is not None and start < hit[0] <= start + max(WITHIN, 3 * unit + 200), (
            seed, unit, hit)


def test_the_description_names_the_passage() -> None:
    text, _start, unit = make_loop("paragraph", 1)
    hit = first_stop(text)
    assert hit is not None
    description = hit[1]
    match = re.fullmatch(r"the same ([\d,]+)-character passage \d+ times: “.+”", description)
    assert match is not None, description
    period = int(match[1].replace(",", ""))
    assert abs(period - unit) <= 2  # the blank line between copies is not counted
    assert len(description) < 120


def test_after_a_loop_is_found_feed_returns_none_until_reset() -> None:
    detector = LoopDetector()
    loop = "I am sorry, I cannot help with that request. " * 100
    assert first_stop(loop, detector=detector) is not None
    assert detector.detected is not None
    assert all(detector.feed(p) is None for p in pieces(loop, "4"))
    detector.reset()
    assert detector.detected is None
    # reset forgets the text: fewer than the needed characters after it do not stop
    assert all(detector.feed(p) is None for p in pieces(loop[:990], "4"))  # 22 copies
    hit = first_stop(loop, detector=detector)
    assert hit is not None and hit[0] <= 1500 - 990 + 100


def test_reset_forgets_an_open_fence_and_a_table() -> None:
    detector = LoopDetector()
    for piece in pieces("Code:\n\n```python\nx = 1\n| a | b |\n", "4"):
        detector.feed(piece)
    detector.reset()
    hit = first_stop("- The same item again and again\n" * 200, detector=detector)
    assert hit is not None and hit[0] <= WITHIN


def test_repetition_inside_fences_and_tables_is_left_alone_but_not_after_them() -> None:
    body = "\n".join(["    print('again')"] * 500)
    fenced = f"```python\n{body}\n```\n\n"
    table = "| a | b |\n|---|---|\n" + "| x | y |\n" * 500 + "\n"
    loop = "After the code, the model loops on this sentence. " * 100
    for head in (fenced, table, fenced.replace("```", "~~~")):
        assert first_stop(head) is None
        hit = first_stop(head + loop)
        assert hit is not None and len(head) < hit[0] <= len(head) + WITHIN


def test_whitespace_forever_is_a_loop() -> None:
    hit = first_stop('{"answer": ' + "\n" * 5000)
    assert hit is not None and hit[0] <= WITHIN and "whitespace" in hit[1]
    assert first_stop("Text.\n\n\n\n" + "    \n" * 100 + "More text.\n") is None


def test_huge_single_deltas() -> None:
    detector = LoopDetector()
    big = make_answer(1_000_000, seed=7)
    start = time.perf_counter()
    assert detector.feed(big) is None
    assert detector.feed(big[:1000]) is None
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, elapsed
    # a loop inside one 1 MB delta, followed by normal text, is still found
    detector.reset()
    start = time.perf_counter()
    text = big[:400_000] + "\n\n" + "This sentence repeats. " * 200 + "\n\n" + big[400_000:]
    found = detector.feed(text)
    assert found is not None and "23-character passage" in found
    assert time.perf_counter() - start < 2.0
    # one huge line without any newline
    detector.reset()
    assert detector.feed("word" * 10 + "abcdefghij" * 100_000) is not None


def test_memory_stays_bounded() -> None:
    detector = LoopDetector()
    for piece in pieces(make_answer(300_000, seed=5), "random"):
        assert detector.feed(piece) is None
    held = sum(len(v) for v in vars(detector).values() if isinstance(v, str))
    assert held < 16_000, held


def test_instances_are_independent() -> None:
    a, b = LoopDetector(), LoopDetector()
    loop = "- the same list item, over and over\n" * 100
    results_a, results_b = [], []
    for piece, other in zip(pieces(loop, "4"), pieces(reference_answer(), "4"), strict=False):
        results_a.append(a.feed(piece))
        results_b.append(b.feed(other))
    assert any(results_a) and not any(results_b)


def test_parameters() -> None:
    eager = LoopDetector(min_repeat_chars=200, min_copies=2)
    assert first_stop("double bubble bath, " * 15, detector=eager) is not None
    with pytest.raises(ValueError):
        LoopDetector(min_copies=1)
