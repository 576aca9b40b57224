"""Bounded statistics of a stream: the token-arrival timeline and latency samples."""

from __future__ import annotations

import random
from typing import Any

TIMELINE_BUCKETS = 120
"""The token-arrival timeline keeps at most this many buckets (their width doubles)."""
_SAMPLES = 4096


class Timeline:
    """Token arrivals counted in time buckets; the bucket width doubles to stay bounded."""

    def __init__(self, width: float = 0.05, limit: int = TIMELINE_BUCKETS) -> None:
        self.width = width
        self.limit = limit
        self.counts: list[int] = []

    def add(self, at: float) -> None:
        """Count one token arriving ``at`` seconds after the start."""
        index = int(at / self.width)
        while index >= self.limit:
            self.counts = [sum(self.counts[i : i + 2]) for i in range(0, len(self.counts), 2)]
            self.width *= 2
            index = int(at / self.width)
        if index >= len(self.counts):
            self.counts.extend([0] * (index + 1 - len(self.counts)))
        self.counts[index] += 1

    def as_dict(self) -> dict[str, Any]:
        """The bucket width and the counts, for metrics."""
        return {"bucket_s": self.width, "counts": list(self.counts)}


class Reservoir:
    """A bounded uniform sample of a number series (for latency percentiles)."""

    def __init__(self, size: int = _SAMPLES, seed: int = 0) -> None:
        self.size = size
        self.count = 0
        self.values: list[float] = []
        self._random = random.Random(seed)

    def add(self, value: float) -> None:
        """Offer one value to the sample."""
        self.count += 1
        if len(self.values) < self.size:
            self.values.append(value)
        else:
            slot = self._random.randrange(self.count)
            if slot < self.size:
                self.values[slot] = value

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile of the sample (``None`` when empty)."""
        if not self.values:
            return None
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
