"""Shared plumbing for the benchmarks: paths, imports from ``tests/``, stats and tables."""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TESTS_DIR = REPO_ROOT / "tests"
RESULTS_DIR = BENCH_DIR / "results"

for _p in (str(TESTS_DIR), str(BENCH_DIR)):
    if _p not in sys.path:
        sys.path.insert(0, _p)


def median(values: Iterable[float | int | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def fmt(value: float | int | None, spec: str = ".2f") -> str:
    if value is None:
        return "n/a"
    return format(value, spec)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(r) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    lines = [
        "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True))
                     + " |")
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    """Versions and machine facts recorded with every result file."""
    versions: dict[str, str] = {}
    for name in ("nbstream", "ipykernel", "jupyter_client", "ipywidgets", "anywidget", "openai",
                 "markdown_it", "zmq"):
        try:
            module = __import__(name)
            versions[name] = str(getattr(module, "__version__", "?"))
        except Exception as exc:  # a missing package is recorded, not fatal
            versions[name] = f"unavailable ({type(exc).__name__})"
    import os

    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def write_json(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def stderr_report(items: list[tuple[str, str]]) -> list[str]:
    """Report lines for kernel stderr output: ``items`` are (run label, stderr text). Each
    distinct error (by its last line) is shown once in full, with the runs it came from.
    Output of a background thread may be flushed during the following run."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for label, text in items:
        text = text.strip()
        if not text:
            continue
        key = text.splitlines()[-1]
        groups.setdefault(key, (text, []))[1].append(label)
    lines = []
    for key, (text, labels) in groups.items():
        shown = text.split("\nException in thread")[0]  # the first of repeated tracebacks
        lines.append(f"- PROBLEM: the kernel wrote to stderr ({key}) in: {', '.join(labels)}\n"
                     "    " + shown[:3000].replace("\n", "\n    "))
    return lines
