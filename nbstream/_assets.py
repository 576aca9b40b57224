"""The front-end's files: the bundled ES module and its stylesheet."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def asset(name: str) -> str:
    """Read a front-end asset from the installed package, or from ``js/src`` in a checkout."""
    packaged = files("nbstream") / "static" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parent.parent / "js" / "src" / name
    return source.read_text(encoding="utf-8")
