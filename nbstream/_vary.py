"""Varied arguments: ``nbstream.vary(values)`` marks an argument of ``compare()`` to take each
of its values, and :func:`combinations` expands the marked ones into every combination.

Order: ``itertools.product`` over the varied arguments in keyword order, the first varied
argument outermost; a varied client counts as the argument ``client``, first. A plain list
keeps its API meaning (``input=[...]`` is a list of messages, not a sweep).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LABEL_CHARS = 40
"""A value's label (in the page) is cut to this many characters."""


class Vary:
    """An argument that takes each of ``values`` (make it with :func:`vary`)."""

    def __init__(self, values: Sequence[Any], labels: Sequence[str] | None,
                 rows: Sequence[Mapping[str, Any]] | None = None) -> None:
        self.values = list(values)
        self.labels = [str(label) for label in labels] if labels is not None else None
        self.rows = list(rows) if rows is not None else None
        """For :func:`fill`: the row each value was filled from."""

    def label(self, index: int) -> str:
        """How the page names value ``index``."""
        if self.labels is not None:
            return self.labels[index]
        if self.rows is not None:
            return ", ".join(f"{k}={_short(v)}" for k, v in self.rows[index].items())
        return _short(self.values[index])

    def __repr__(self) -> str:
        return f"nbstream.vary({self.values!r})"


def vary(values: Iterable[Any], labels: Iterable[str] | None = None) -> Vary:
    """Mark an argument of :func:`nbstream.compare` to take each of ``values`` in turn.

    ``labels`` (one per value) name them in the page; by default a value names itself (a
    client by its base URL). Example: ``model=nbstream.vary(["gpt-5", "gpt-5-mini"])``.
    """
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise TypeError(f"nbstream.vary() expects a list of values, got "
                        f"{type(values).__name__}: e.g. nbstream.vary([0.2, 0.8]) (a single "
                        f"value needs no vary: pass it as it is)")
    values = list(values)
    if not values:
        raise ValueError("nbstream.vary() needs at least one value, e.g. nbstream.vary([0.2, 1])")
    label_list = None
    if labels is not None:
        if isinstance(labels, str):
            raise TypeError("nbstream.vary(labels=...) expects one str per value, not a str")
        label_list = [str(label) for label in labels]
        if len(label_list) != len(values):
            raise ValueError(f"nbstream.vary() got {len(values)} values but {len(label_list)} "
                             "labels: give one label per value")
    return Vary(values, label_list)


def fill(template: str, rows: Iterable[Mapping[str, Any]],
         labels: Iterable[str] | None = None) -> Vary:
    """A varied text made from ``template`` (``str.format`` fields) and each of ``rows``: a
    prompt over a small data set. Example: ``input=nbstream.fill("Translate to French:
    {text}", [{"text": "Good morning"}, {"text": "Thank you"}])``. Each pane is labelled with
    its row."""
    if not isinstance(template, str):
        raise TypeError(f"nbstream.fill() expects a template str first, got "
                        f"{type(template).__name__}")
    row_list = list(rows)
    if not row_list or not all(isinstance(row, Mapping) for row in row_list):
        raise TypeError("nbstream.fill() expects a non-empty list of dicts, one per pane, "
                        'e.g. [{"text": "Good morning"}, {"text": "Thank you"}]')
    try:
        values = [template.format(**row) for row in row_list]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"nbstream.fill(): the template needs {exc} in every row "
                         f"(fields in {template!r}; rows have {sorted(row_list[0])})") from None
    varied = vary(values, labels)
    varied.rows = row_list
    return varied


@dataclass(frozen=True)
class Combination:
    """One pane's request: its client, its create arguments and its varied values."""

    client: Any
    kwargs: dict[str, Any]
    params: dict[str, Any]
    """The varied arguments' names and values (``pane.params``)."""
    labels: dict[str, str]
    """The varied arguments' names and how the page names their values."""

    @property
    def label(self) -> str:
        """The pane's label: ``model=gpt-5 · temperature=0.2``."""
        return " · ".join(f"{name}={label}" for name, label in self.labels.items())


def combinations(client: Any, kwargs: Mapping[str, Any]) -> tuple[list[str], list[Combination]]:
    """The varied arguments' names and every combination of their values, in order."""
    axes: list[tuple[str, Vary]] = []
    if isinstance(client, Vary):
        axes.append(("client", client))
    axes += [(name, value) for name, value in kwargs.items() if isinstance(value, Vary)]
    names = [name for name, _ in axes]
    found = []
    for picks in itertools.product(*(range(len(v.values)) for _, v in axes)):
        chosen = {name: varied.values[i] for (name, varied), i in zip(axes, picks, strict=True)}
        labels = {name: varied.label(i) for (name, varied), i in zip(axes, picks, strict=True)}
        arguments = {**kwargs, **{k: v for k, v in chosen.items() if k != "client"}}
        found.append(Combination(client=chosen.get("client", client), kwargs=arguments,
                                 params=chosen, labels=labels))
    return names, found


def _short(value: Any) -> str:
    """A value as a short label: a str as it is, a client by its base URL, else its repr."""
    if isinstance(value, str):
        text = value
    elif hasattr(value, "base_url") and hasattr(value, "api_key"):
        text = str(value.base_url).rstrip("/")
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"
