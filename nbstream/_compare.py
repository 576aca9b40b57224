"""``nbstream.compare()``: every combination of the varied arguments, streaming side by side.

Everything is checked at the call, every combination of it, before anything starts: a wrong
argument in one pane fails the call, not that pane later.
"""

from __future__ import annotations

import functools
from typing import Any

from ._api import _options, check_request, make_request
from ._grid import Grid
from ._guards import Guards
from ._moderation import Moderate
from ._pane import GridPane
from ._vary import combinations

APIS = ("responses", "chat", "completions")
MAX_PANES = 1000
"""The most panes one grid takes (a sweep beyond that is a batch job, not a page)."""


def compare(client: Any, /, *, api: str = "responses", max_concurrency: int | None = None,
            title: str | None = None, guards: Guards | None = None,
            moderate: Moderate = None, **create_kwargs: Any) -> Grid:
    """Stream every combination of the varied arguments side by side, in one widget.

    Wrap any argument in ``nbstream.vary([...])`` (the client too, to compare providers
    through OpenAI-compatible servers) and it takes each of its values; the panes are every
    combination, in order (the first varied argument outermost). Plain lists keep their API
    meaning. Example::

        g = nbstream.compare(client, model=nbstream.vary(["gpt-5", "gpt-5-mini"]),
                             temperature=nbstream.vary([0.2, 1.0]), input="A haiku on tea")

    ``api``: ``"responses"``, ``"chat"`` or ``"completions"``. ``max_concurrency``: at most
    that many requests open at once (the others wait, shown as queued). ``title=``,
    ``guards=`` and ``moderate=`` as on every entry point (guards and moderation per pane).
    Returns a :class:`~nbstream.Grid`: ``g.panes``, ``g.results``, ``g.diff(i, j)``,
    ``g.to_pandas()``, ``g.stop()``, ``g.rerun()``, ``g.wait()``, ``await g``.
    """
    if api not in APIS:
        raise ValueError(f"nbstream.compare(api=...) expects one of {', '.join(map(repr, APIS))}"
                         f", got {api!r}")
    if max_concurrency is not None and (not isinstance(max_concurrency, int)
                                        or isinstance(max_concurrency, bool)
                                        or max_concurrency < 1):
        raise ValueError(f"nbstream.compare(max_concurrency=...) expects a whole number of at "
                         f"least 1 (or None: no limit), got {max_concurrency!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"nbstream.compare(title=...) expects a str, got {type(title).__name__}")
    names, combos = combinations(client, create_kwargs)
    if len(combos) > MAX_PANES:
        raise ValueError(f"nbstream.compare(): {len(combos)} combinations is more than one grid "
                         f"shows ({MAX_PANES}); vary fewer values")
    options = [_options("compare", guards, moderate, None, combo.client) for combo in combos]
    for combo, option in zip(combos, options, strict=True):
        _checked(api, combo.client, combo.kwargs, option)
    described = [{"label": combo.label, "params": dict(combo.labels),
                  "queued": max_concurrency is not None and i >= max_concurrency,
                  "can_rerun": True} for i, combo in enumerate(combos)]
    grid = Grid(columns=names, panes=described, max_concurrency=max_concurrency, title=title)
    try:
        for i, (combo, option) in enumerate(zip(combos, options, strict=True)):
            make = functools.partial(GridPane, grid=grid.channel, index=i,
                                     params=combo.params, label=combo.label)
            grid.panes.append(make_request(api, combo.client, combo.kwargs, option, make))  # type: ignore[arg-type]
    except BaseException:
        grid.stop()
        grid.channel.start_now()  # (the panes made so far end, stopped, making no request)
        raise
    grid.channel.start_now()
    return grid


def _checked(api: str, client: Any, kwargs: dict[str, Any], options: dict[str, Any]) -> None:
    """One combination's request, checked as ``nbstream.<api>()`` checks it (messages name
    ``nbstream.compare``)."""
    try:
        check_request(api, client, kwargs, options)
    except (TypeError, ValueError) as exc:
        said = str(exc).replace(f"nbstream.{api}(", f"nbstream.compare(api={api!r}, ", 1)
        raise type(exc)(said) from None
