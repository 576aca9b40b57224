"""Why a stream was stopped: the reasons ``w.stop_reason`` takes, and how each is said."""

from __future__ import annotations

STOP_REASONS: dict[str, str] = {
    "user": "",  # the Stop button or w.stop(): "Stopped" says it all
    "interrupt": "interrupted",
    "rerun": "its cell ran again",
    "closed": "closed",
    "max_seconds": "time limit",
    "max_output_tokens": "token limit",
    "max_cost": "cost limit",
    "idle": "no data from the server",
    "loop": "repetition loop",
    "moderation": "moderation",
    "predicate": "stop_when",
}
"""Every ``stop_reason`` and the words the header shows for it (``widget.js`` has the same)."""


def describe_stop(reason: str | None, after_s: float | None = None) -> str:
    """``"Stopped"``, or ``"Stopped: repetition loop at 3.2 s"``."""
    said = STOP_REASONS.get(reason or "user", reason or "")
    if not said:
        return "Stopped"
    return f"Stopped: {said}" + (f" at {after_s:.1f} s" if after_s is not None else "")
