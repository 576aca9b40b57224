"""Making strings from a server safe to keep in widget state.

Two hazards, both found in the wild:

- *Lone surrogates.* ``"\\ud800"`` is valid JSON, so a server can send one; the kernel's
  message packer cannot encode it and the page cannot show it. Every lone surrogate becomes
  U+FFFD, and a surrogate pair split across two deltas is joined back into its character.
- *Echoed secrets.* A server (or a proxy) may echo the request's credentials back in an
  error event, a failed response or an error body. The client's actual secret values (its API
  key, credentials in ``base_url``, organization and project ids, custom header and query
  values) are replaced by ``[redacted]`` wherever text enters the document or an error
  message is made; key-like patterns (``sk-...``, ``Bearer ...``, masked echoes such as
  ``abcd****wxyz``) are redacted from messages too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4
"""Shorter values (a header ``"1"``) are not scrubbed: they would shred every message."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|Bearer\s+\S+)|[\w\-]*\*{3,}[\w\-]*")


def fix_surrogates(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def client_secrets(client: Any) -> list[str]:
    """The secret values an ``openai`` client sends with its requests."""
    values: list[Any] = [
        getattr(client, name, None)
        for name in ("api_key", "admin_api_key", "webhook_secret", "organization", "project")
    ]
    for name in ("base_url", "websocket_base_url"):
        url = getattr(client, name, None)
        for part in ("username", "password"):
            value = getattr(url, part, None)
            values += [value, unquote(value) if isinstance(value, str) else None]
    for name in ("_custom_headers", "_custom_query"):
        mapping = getattr(client, name, None)
        if isinstance(mapping, dict):
            values += list(mapping.values())
    return [v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH]


_PLAIN_HEADERS = frozenset({
    "host", "accept", "accept-encoding", "connection", "content-type", "content-length",
    "user-agent", "idempotency-key", "openai-beta",
})


def request_secrets(source: Any) -> list[str]:
    """The secret values the request of a response or an error carried (for a stream whose
    client is not known): credentials, organization, project, custom headers and query."""
    try:
        request = getattr(source, "request", None)
    except RuntimeError:  # httpx2 objects made without a request
        return []
    values: list[Any] = []
    headers = getattr(request, "headers", None)
    for name, value in getattr(headers, "items", list)():
        name = name.lower()
        if name in _PLAIN_HEADERS or name.startswith("x-stainless-"):
            continue
        values.append(value)
        if name in ("authorization", "proxy-authorization"):
            values.append(value.partition(" ")[2])
    url = getattr(request, "url", None)
    values += [getattr(url, "username", None), getattr(url, "password", None)]
    values += list(getattr(getattr(url, "params", None), "values", list)())
    return [v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH]


class Cleaner:
    """Cleans server strings: surrogates fixed, the client's secrets redacted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.longest = 0
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Scrub these values too (at least :data:`MIN_SECRET_LENGTH` characters long)."""
        new = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        if not new - self._secrets:
            return
        self._secrets |= new
        ordered = sorted(self._secrets, key=len, reverse=True)  # longest first
        self._pattern = re.compile("|".join(map(re.escape, ordered)))
        self.longest = len(ordered[0])

    def has_secret(self, text: str) -> bool:
        """Whether ``text`` holds one of the client's secret values."""
        return self._pattern is not None and self._pattern.search(text) is not None

    def text(self, text: str) -> str:
        """Model output: surrogates fixed and the client's exact secrets redacted."""
        text = fix_surrogates(text)
        pattern = self._pattern
        if pattern is None or pattern.search(text) is None:
            return text
        return pattern.sub(REDACTED, text)

    def message(self, text: str) -> str:
        """A message or detail from the server: also key-like patterns redacted."""
        return _KEY_LIKE.sub(REDACTED, self.text(text))

    def value(self, value: Any) -> Any:
        """Any JSON-like value with every string in it cleaned as a message."""
        if isinstance(value, str):
            return self.message(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value
