"""The front-end's files: the bundled ES module and its stylesheet (``nbstream/static/``)."""

from __future__ import annotations

from importlib.resources import files


class MissingFrontEnd(RuntimeError):
    """The front-end bundle was never built (a checkout used without ``pip install``)."""


def asset(name: str) -> str:
    """Read a front-end asset built into ``nbstream/static/`` (by ``npm run build`` in js/,
    which ``pip install`` runs through hatch-jupyter-builder)."""
    packaged = files("nbstream") / "static" / name
    if not packaged.is_file():
        raise MissingFrontEnd(
            f"nbstream's front-end is not built (no nbstream/static/{name}): run "
            "`pip install -e .` in the checkout, or `npm --prefix js install` and "
            "`npm --prefix js run build` (needs node)"
        )
    return packaged.read_text(encoding="utf-8")
