"""What Python reads of an answer (``w.text``, ``w.metrics``, ...): the current attempt's
document, read under its stream's lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._runner import Controller


class AnswerView:
    """The read-only Python view of a stream widget's answer (a mixin of ``StreamWidget``)."""

    _controller: Controller
    status: str

    def _read(self, getter: Callable[[Any], Any]) -> Any:
        controller = self._controller
        with controller.lock:
            return getter(controller.document)

    @property
    def text(self) -> str:
        """The output text so far (Chat with ``n > 1``: choice 0)."""
        return str(self._read(lambda doc: doc.text()))

    @property
    def html(self) -> str:
        """``text`` rendered, exactly as the page shows it once the stream has ended."""
        with self._controller.lock:
            return self._controller.channel.html

    @property
    def refusal(self) -> str | None:
        """The refusal text, if the model refused."""
        result: str | None = self._read(lambda doc: doc.refusal())
        return result

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """Tool calls in output order: ``{"call_id", "name", "arguments"}`` (raw JSON)."""
        result: list[dict[str, Any]] = self._read(lambda doc: doc.tool_calls())
        return result

    @property
    def parts(self) -> list[dict[str, Any]]:
        """Every output part in order: ``{"kind": "text"/"refusal"/..., ...}``."""
        return list(self._read(lambda doc: [p.as_dict() for p in doc.parts.values()]))

    @property
    def choices(self) -> list[str]:
        """The output text of every choice (Chat with ``n > 1``)."""
        return list(self._read(lambda doc: doc.choices()))

    @property
    def usage(self) -> dict[str, Any] | None:
        """The usage the API reported, if it did."""
        result: dict[str, Any] | None = self._read(lambda doc: doc.usage)
        return result

    @property
    def error(self) -> str | None:
        """A readable message when ``status == "error"``."""
        with self._controller.lock:
            return self._controller.error if self.status == "error" else None

    @property
    def metrics(self) -> dict[str, Any]:
        """Time to first token, duration, event counts, tokens and rate, finish reason, ..."""
        return dict(self._read(lambda doc: doc.metrics()))

    @property
    def event_log(self) -> dict[str, Any]:
        """The bounded event log: the first and last events with relative times, and counts."""
        return dict(self._read(lambda doc: doc.event_log()))
