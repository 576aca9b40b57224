"""The DESIGN.md reference workload, generated deterministically.

A long model answer in markdown (headings, nested lists, bold / italic / inline code, links,
fenced code blocks in several languages, a GFM table, a blockquote) that arrives as many
chunks of ~4 characters, like tokens.

- :func:`reference_answer` / :func:`reference_chunks`: the reference workload: a 44 KB
  answer (UTF-8 bytes) with exactly 13 fenced code blocks, one table and one blockquote,
  split into exactly 10,000 chunks.
- :func:`make_answer` scales it to any size (fences, tables and quotes scale with it: 13
  fences per 44 KB) and :func:`make_chunks` splits it at the same ~4.4 characters a chunk.

Everything is a pure function of its arguments (a seeded ``random.Random``), so every run,
process and machine sees the same text. Import with ``benchmarks/`` on ``sys.path``::

    from workload import reference_chunks
"""

from __future__ import annotations

import random
from functools import lru_cache
from itertools import pairwise

__all__ = [
    "CHARS_PER_CHUNK",
    "REFERENCE_BYTES",
    "REFERENCE_CHUNKS",
    "REFERENCE_FENCES",
    "describe",
    "make_answer",
    "make_chunks",
    "reference_answer",
    "reference_chunks",
    "split_chunks",
]

REFERENCE_BYTES = 44_000
REFERENCE_CHUNKS = 10_000
REFERENCE_FENCES = 13
CHARS_PER_CHUNK = REFERENCE_BYTES / REFERENCE_CHUNKS  # 4.4 (the text is almost all ASCII)

# ---- vocabulary ------------------------------------------------------------------------------

_TOPICS = [
    "Streaming responses",
    "Back-pressure and frame clocks",
    "Rendering markdown incrementally",
    "Stopping a generation",
    "Error handling",
    "Token accounting",
    "Testing against a loopback server",
    "Async clients and event loops",
    "Caching finished blocks",
    "Security of untrusted output",
    "Measuring latency",
    "Deployment notes",
    "Observability",
    "Tool calls",
    "Reasoning summaries",
    "Rate limits",
]
_SUBJECTS = [
    "the kernel", "the front-end", "each chunk", "the renderer", "the event loop",
    "a worker thread", "the HTTP connection", "the flush clock", "every patch",
    "the open tail", "a finished block", "the snapshot", "the server", "the client",
    "a naïve loop", "the model",
]
_VERBS = [
    "receives", "coalesces", "renders", "forwards", "buffers", "measures", "replaces",
    "appends", "closes", "reports", "validates", "escapes", "schedules", "retries",
]
_OBJECTS = [
    "the accumulated text", "small sequence-numbered patches", "the whole document",
    "a single message per frame", "the remaining bytes", "thirty updates a second",
    "the final HTML", "an unclosed code fence", "the usage block", "its own copy",
    "the pending request", "the last delta", "a table row", "the error event",
]
_TAILS = [
    "as soon as it can", "without blocking the cell", "once the stream has ended",
    "while the user scrolls", "before the next frame", "on a background thread",
    "only when something changed", "exactly once", "at a steady pace",
    "even when the server is silent", "in well under a millisecond", "— and nothing more",
]
_CODE_WORDS = [
    "flush()", "stop()", "wait(timeout=5)", "display_id=True", "stream=True", "max_retries=0",
    "html=False", "seq", "status", "asyncio.Task", "threading.Event", "Content-Length",
    "text/event-stream", "IOPub", "comm_msg", "process_time()",
]
_LINKS = [
    ("the Responses API", "https://platform.openai.com/docs/api-reference/responses"),
    ("the Jupyter messaging spec", "https://jupyter-client.readthedocs.io/en/latest/messaging.html"),
    ("markdown-it-py", "https://markdown-it-py.readthedocs.io/"),
    ("anywidget", "https://anywidget.dev/"),
    ("the SSE specification", "https://html.spec.whatwg.org/multipage/server-sent-events.html"),
    ("CommonMark", "https://spec.commonmark.org/0.31.2/"),
    ("ipywidgets", "https://ipywidgets.readthedocs.io/"),
]
_FENCE_LANGS = ["python", "javascript", "bash", "json", "sql", "rust", "typescript"]


# ---- blocks -------------------------------------------------------------------------------


def _inline(rng: random.Random) -> str:
    """One sentence with some inline markup."""
    subject, verb, obj, tail = (
        rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_TAILS)
    )
    style = rng.randrange(6)
    if style == 0:
        obj = f"**{obj}**"
    elif style == 1:
        subject = f"*{subject}*"
    elif style == 2:
        tail = f"{tail} (see `{rng.choice(_CODE_WORDS)}`)"
    elif style == 3:
        name, url = rng.choice(_LINKS)
        tail = f"{tail}, as described in [{name}]({url})"
    elif style == 4:
        obj = f"***{obj}***"
    else:
        verb = f"{verb} `{rng.choice(_CODE_WORDS)}` and"
    sentence = f"{subject} {verb} {obj} {tail}."
    k = len(sentence) - len(sentence.lstrip("*"))  # capitalise inside leading emphasis
    return sentence[:k] + sentence[k].upper() + sentence[k + 1 :]


def _paragraph(rng: random.Random, sentences: int | None = None) -> str:
    n = sentences if sentences is not None else rng.randint(3, 5)
    return " ".join(_inline(rng) for _ in range(n))


def _list(rng: random.Random) -> str:
    ordered = rng.random() < 0.35
    lines = []
    for i in range(rng.randint(3, 5)):
        bullet = f"{i + 1}." if ordered else "-"
        pad = " " * (len(bullet) + 1)
        lines.append(f"{bullet} {_inline(rng)}")
        if rng.random() < 0.5:  # a nested level, sometimes two
            for _ in range(rng.randint(1, 3)):
                lines.append(f"{pad}- {_inline(rng)}")
                if rng.random() < 0.2:
                    lines.append(f"{pad}  - `{rng.choice(_CODE_WORDS)}` {rng.choice(_TAILS)}")
    return "\n".join(lines)


def _code_lines(lang: str, rng: random.Random, k: int) -> list[str]:
    n = rng.randint(8, 22)
    name = f"{rng.choice(['flush', 'render', 'stream', 'patch', 'stop', 'measure'])}_{k}"
    if lang == "python":
        out = [f"def {name}(chunks, *, frame=1 / 30):", '    """Coalesce chunks into frames."""',
               "    acc, last = [], time.monotonic()"]
        for i in range(n):
            out.append(f"    if len(acc) > {rng.randint(2, 64)}:  # step {i}")
            out.append(f"        publish(''.join(acc)); acc.clear()  # {rng.choice(_SUBJECTS)}")
        out.append("    return acc")
    elif lang in ("javascript", "typescript"):
        typ = ": string[]" if lang == "typescript" else ""
        out = [f"export function {name}(parts{typ}) {{", "  const out = [];"]
        for i in range(n):
            out.append(f"  if (parts.length > {rng.randint(2, 64)}) out.push(parts[{i}]);")
        out += ["  return out.join('');", "}"]
    elif lang == "bash":
        out = ["#!/usr/bin/env bash", "set -euo pipefail"]
        for i in range(n):
            out.append(f"python -m nbstream.bench --chunks {rng.randint(100, 10000)} "
                       f"--run {i} | tee -a log.txt")
    elif lang == "json":
        out = ["{", f'  "name": "{name}",', '  "events": [']
        for i in range(n):
            comma = "," if i < n - 1 else ""
            out.append(f'    {{"type": "response.output_text.delta", "seq": {i}, '
                       f'"delta": "tok{rng.randint(0, 999)}"}}{comma}')
        out += ["  ]", "}"]
    elif lang == "sql":
        out = [f"-- {name}", "SELECT method, median(cpu_s) AS cpu, sum(bytes) AS bytes",
               "FROM runs"]
        for i in range(n):
            kw = "WHERE" if i == 0 else "  AND"
            out.append(f"{kw} chunk_{i} < {rng.randint(1, 500)}")
        out.append("GROUP BY method ORDER BY cpu;")
    else:  # rust
        out = [f"fn {name}(parts: &[&str]) -> String {{", "    let mut out = String::new();"]
        for i in range(n):
            out.append(f"    if parts.len() > {rng.randint(2, 64)} {{ out.push_str(parts[{i}]); }}")
        out += ["    out", "}"]
    return out


def _fence(rng: random.Random, k: int) -> str:
    lang = _FENCE_LANGS[k % len(_FENCE_LANGS)]
    return "\n".join([f"```{lang}", *_code_lines(lang, rng, k), "```"])


def _table(rng: random.Random) -> str:
    rows = ["| Method | Kernel CPU (s) | IOPub messages | Notes |", "|:---|---:|---:|:---|"]
    for name in ("`print`", "`Markdown` update", "markdown-it per chunk", "**nbstream**",
                 "*coalesced*", "`HTML` update", "custom patches", "snapshot only"):
        rows.append(f"| {name} | {rng.uniform(0.05, 60):.2f} | {rng.randint(30, 10000):,} | "
                    f"{rng.choice(_TAILS)} |")
    return "\n".join(rows)


def _quote(rng: random.Random) -> str:
    return "\n".join([
        f"> **Note:** {_inline(rng)}",
        f"> {_inline(rng)}",
        ">",
        f"> - {_inline(rng)}",
        f"> - {_inline(rng)}",
    ])


def _section(rng: random.Random, n: int) -> list[str]:
    blocks = [f"## {n}. {_TOPICS[(n - 1) % len(_TOPICS)]}", _paragraph(rng)]
    if rng.random() < 0.4:
        blocks.append(f"### {rng.choice(_TOPICS)} in practice")
    blocks.append(_list(rng))
    if rng.random() < 0.6:
        blocks.append(_paragraph(rng, rng.randint(2, 4)))
    return blocks


def _size(blocks: list[str]) -> int:
    return len("\n\n".join(blocks).encode()) + 1


# ---- public -----------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def make_answer(size_bytes: int = REFERENCE_BYTES, seed: int = 0) -> str:
    """A deterministic markdown answer of exactly ``size_bytes`` UTF-8 bytes.

    Carries ``round(13 * size / 44 KB)`` fenced code blocks (at least one) in several
    languages and one GFM table and one blockquote per 44 KB (at least one each), spread
    evenly between sections of headings, paragraphs and nested lists. Ends with a newline.
    """
    if size_bytes < 10_000:
        raise ValueError("make_answer() needs at least 10,000 bytes")
    rng = random.Random(f"nbstream-workload-{seed}")
    ratio = size_bytes / REFERENCE_BYTES
    specials = [_fence(rng, k) for k in range(max(1, round(REFERENCE_FENCES * ratio)))]
    specials += [_table(rng) for _ in range(max(1, round(ratio)))]
    specials += [_quote(rng) for _ in range(max(1, round(ratio)))]
    rng.shuffle(specials)

    head = [
        "# Streaming a model's answer into a notebook",
        "Here is a complete walkthrough. " + _paragraph(rng, 3),
    ]
    closing_heading = "## Summary"
    budget = size_bytes - _size(head) - _size(specials) - len(closing_heading) - 300
    sections: list[list[str]] = []
    used = 0
    while True:
        section = _section(rng, len(sections) + 1)
        cost = _size(section) + 2
        if sections and used + cost > budget:
            break
        sections.append(section)
        used += cost
    # Spread the special blocks evenly over the sections (after their first paragraph).
    for i, block in enumerate(specials):
        target = sections[(i * len(sections)) // len(specials)]
        target.insert(2, block)

    blocks = head + [b for s in sections for b in s] + [closing_heading]
    prefix = "\n\n".join(blocks) + "\n\n"
    room = size_bytes - len(prefix.encode()) - 1  # the closing paragraph, then "\n"
    if room < 40:
        raise AssertionError(f"workload generator overshot the size by {40 - room} bytes")
    # Plain ASCII sentences (no markup to cut in half), cut at a word, padded with dots.
    closing = ""
    while len(closing) < room:
        sentence = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
        sentence = f"{sentence}{rng.choice(_TAILS)}. ".replace("—", "-").replace("ï", "i")
        closing += sentence[0].upper() + sentence[1:]
    closing = closing[:room]
    closing = closing[: closing.rfind(" ")].rstrip(".") + "."
    closing += "." * (room - len(closing))
    text = prefix + closing + "\n"
    assert len(text.encode()) == size_bytes, (len(text.encode()), size_bytes)
    return text


def split_chunks(text: str, n_chunks: int) -> list[str]:
    """``text`` cut into ``n_chunks`` consecutive pieces of (almost) equal length."""
    if not 0 < n_chunks <= len(text):
        raise ValueError(f"cannot cut {len(text)} characters into {n_chunks} chunks")
    bounds = [(i * len(text)) // n_chunks for i in range(n_chunks + 1)]
    return [text[a:b] for a, b in pairwise(bounds)]


def make_chunks(size_bytes: int = REFERENCE_BYTES, seed: int = 0) -> list[str]:
    """:func:`make_answer` cut into chunks of ~4.4 characters (10,000 for 44 KB)."""
    text = make_answer(size_bytes, seed)
    return split_chunks(text, max(1, round(len(text.encode()) / CHARS_PER_CHUNK)))


def reference_answer() -> str:
    """The 44 KB reference answer."""
    return make_answer(REFERENCE_BYTES)


def reference_chunks() -> list[str]:
    """The reference answer as exactly 10,000 chunks."""
    return split_chunks(reference_answer(), REFERENCE_CHUNKS)


def describe(text: str) -> dict[str, int]:
    """Counts of the markdown constructs in ``text`` (for reports and sanity checks)."""
    lines = text.splitlines()
    return {
        "bytes": len(text.encode()),
        "chars": len(text),
        "headings": sum(1 for ln in lines if ln.startswith("#")),
        "fences": sum(1 for ln in lines if ln.startswith("```")) // 2,
        "tables": sum(1 for ln in lines if ln.startswith("|:---")),
        "blockquotes": sum(1 for ln in lines if ln.startswith("> **Note:**")),
        "list_items": sum(1 for ln in lines if ln.lstrip().startswith(("- ", "1. ", "2. "))),
        "links": text.count("]("),
    }


if __name__ == "__main__":
    import json

    for size in (REFERENCE_BYTES, 100_000, 500_000):
        answer = make_answer(size)
        print(json.dumps({**describe(answer), "chunks": len(make_chunks(size))}))
    print(reference_answer()[:1500])
