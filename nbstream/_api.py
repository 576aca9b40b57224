"""The public entry points: make a request (or take a stream) and return a ``StreamWidget``.

Everything is checked at the call, before anything runs in the background, so a wrong
argument fails right away with a message that says what to pass.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

import openai
import pydantic

from . import _session
from ._attempts import Launch
from ._clean import client_secrets
from ._connection import ConnectionTracker, tracked_client
from ._consume import is_async_source
from ._guards import Guards
from ._moderation import Moderate, moderator
from ._prices import PRICES_CHECKED, price_of
from ._widget import StreamWidget

_EXAMPLES = {
    "responses": 'nbstream.responses(client, model="gpt-5", input="Hello")',
    "chat": 'nbstream.chat(client, model="gpt-4o-mini", messages=[{"role": "user", '
    '"content": "Hello"}])',
    "completions": 'nbstream.completions(client, model="gpt-3.5-turbo-instruct", prompt="Hello")',
}
_REQUIRED = {
    "responses": (("model",), ("input", "prompt", "previous_response_id", "conversation")),
    "chat": (("model", "messages"), ()),
    "completions": (("model", "prompt"), ()),
}
_RESOURCE = {
    "responses": ("responses",),
    "chat": ("chat", "completions"),
    "completions": ("completions",),
}


def _create_method(client: Any, api: str) -> Callable[..., Any]:
    obj = client
    for name in _RESOURCE[api]:
        obj = getattr(obj, name, None)
    create = getattr(obj, "create", None)
    if not callable(create) or isinstance(client, str | bytes | int | float | dict | list):
        raise TypeError(
            f"nbstream.{api}() expects an OpenAI client as its first argument "
            f"(openai.OpenAI(), openai.AsyncOpenAI() or nbstream.demo_client()), "
            f"got {type(client).__name__}. Example: {_EXAMPLES[api]}"
        )
    return create


# Keywords people carry over from another API (or from another SDK), with what to pass instead.
_MOVED: dict[str, dict[str, str]] = {
    "responses": {
        "messages": "`input=` (a string, or the list of messages), or use nbstream.chat() "
        "for Chat Completions",
        "max_tokens": "`max_output_tokens=`",
        "max_completion_tokens": "`max_output_tokens=`",
        "system": "`instructions=`",
        "system_prompt": "`instructions=`",
        "reasoning_effort": '`reasoning={"effort": ...}`',
        "response_format": '`text={"format": ...}`',
        "n": "one request per answer (the Responses API has no `n`), or nbstream.chat(n=...)",
    },
    "chat": {
        "input": '`messages=[{"role": "user", "content": ...}]`, or use nbstream.responses() '
        "for the Responses API",
        "prompt": '`messages=[{"role": "user", "content": ...}]`, or use '
        "nbstream.completions() for legacy Completions",
        "max_output_tokens": "`max_completion_tokens=`",
        "instructions": 'a `{"role": "system", "content": ...}` message in `messages=`',
        "system": 'a `{"role": "system", "content": ...}` message in `messages=`',
        "system_prompt": 'a `{"role": "system", "content": ...}` message in `messages=`',
        "reasoning": "`reasoning_effort=`",
    },
    "completions": {
        "messages": "`prompt=` (a string), or use nbstream.chat() for Chat Completions",
        "input": "`prompt=` (a string), or use nbstream.responses() for the Responses API",
        "max_output_tokens": "`max_tokens=`",
        "max_completion_tokens": "`max_tokens=`",
    },
}
_METHOD = {
    "responses": "client.responses.create()",
    "chat": "client.chat.completions.create()",
    "completions": "client.completions.create()",
}


def _parameter_names(function: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword names ``function`` accepts; ``None`` if it takes any (``**kwargs``) or its
    signature can't be read."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(
        p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )


_ACCEPTED: dict[Any, frozenset[str] | None] = {}


def _accepted_keywords(create: Callable[..., Any]) -> frozenset[str] | None:
    """The keywords the SDK's ``create`` accepts, ``None`` when that can't be known.

    Cached by the method's function: sync, async and ``with_options()`` copies of one client
    class share it, so ``inspect.signature`` runs once per class, not per call.
    """
    key = getattr(create, "__func__", None)
    if key is not None and key in _ACCEPTED:
        return _ACCEPTED[key]
    names = _parameter_names(create)
    if key is not None and len(_ACCEPTED) < 256:
        _ACCEPTED[key] = names
    return names


def _own_options(api: str) -> list[str]:
    """nbstream's own keyword-only options of the entry point (``title=``, ``guards=``, ...),
    read from its signature, so that a misspelt one gets a suggestion too."""
    entry = globals().get(api)
    try:
        parameters = inspect.signature(entry).parameters.values() if callable(entry) else ()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]


def _unknown_keyword(api: str, name: str, valid: frozenset[str]) -> str:
    """One sentence about one keyword that ``create()`` does not take."""
    head = f"`{name}=` is not a parameter of {_METHOD[api]}"
    moved = _MOVED[api].get(name)
    if moved:
        return f"{head}: pass {moved}."
    close = difflib.get_close_matches(name, sorted(valid | set(_own_options(api))), n=1)
    if not close:  # `Temperature`, `top-p`
        normal = name.replace("-", "_").lower()
        close = [normal] if normal in valid else []
    if close:
        return f"{head}: did you mean `{close[0]}=`?"
    return (
        f"{head} (a parameter newer than your openai {openai.__version__} can go in "
        f'`extra_body={{"{name}": ...}}`).'
    )


def _check_kwargs(
    api: str, kwargs: dict[str, Any], create: Callable[..., Any] | None = None
) -> None:
    """Refuse, at the call, what the request would fail on in the background.

    ``kwargs`` are the keywords for the SDK's ``create()`` only: nbstream's own options
    (keyword-only parameters of the entry points: ``title=``, ``guards=``, ...) must be taken
    out before this check. Every other name is checked against ``create``'s signature, so an
    unknown one fails here with the closest valid name, instead of as an error in the widget.
    """
    valid = _accepted_keywords(create) if create is not None else None
    if valid is not None:
        unknown = [name for name in kwargs if name not in valid]
        if unknown:
            problems = " ".join(_unknown_keyword(api, name, valid) for name in unknown)
            raise TypeError(f"nbstream.{api}() got an unexpected keyword: {problems}")
    if api == "responses" and isinstance(kwargs.get("prompt"), str):
        raise TypeError(
            "nbstream.responses(): `prompt=` in the Responses API is a stored prompt template "
            '(`prompt={"id": ...}`); pass the text as `input=`. Example: '
            f"{_EXAMPLES['responses']}"
        )
    required, one_of = _REQUIRED[api]
    missing = [name for name in required if kwargs.get(name) is None]
    if one_of and not any(kwargs.get(name) is not None for name in one_of):
        missing.append(" or ".join(one_of))
    if missing:
        names = ", ".join(f"`{name}=`" for name in missing)
        raise TypeError(f"nbstream.{api}() is missing {names}. Example: {_EXAMPLES[api]}")
    if kwargs.get("stream") not in (None, True):
        raise ValueError(
            f"nbstream.{api}() always streams; drop `stream={kwargs['stream']!r}` "
            "(nbstream passes stream=True itself)."
        )


def _checked_guards(api: str, guards: Any) -> Guards | None:
    if guards is None or isinstance(guards, Guards):
        return guards
    raise TypeError(f"nbstream.{api}(guards=...) expects nbstream.Guards(...), e.g. "
                    f"guards=nbstream.Guards(max_seconds=60); got {type(guards).__name__}")


def _check_priced(api: str, guards: Guards | None, model: Any) -> None:
    """``max_cost_usd`` needs the model's price: refuse, at the call, a guard that could never
    stop anything."""
    effective = guards if guards is not None else _session.settings().guards
    if effective.max_cost_usd is None or not isinstance(model, str):
        return
    if price_of(model, effective.prices) is None:
        raise ValueError(
            f"nbstream.{api}(guards=Guards(max_cost_usd=...)) needs the price of {model!r}: "
            f"pass prices={{{model!r}: (usd_per_1m_input, usd_per_1m_output)}} in Guards "
            f"(nbstream's table, from {PRICES_CHECKED}, does not list it)."
        )


def _options(api: str, guards: Any, moderate: Any, title: Any,
             client: Any = None) -> dict[str, Any]:
    """nbstream's own options of a call, checked (wrong ones fail here, at the call), as
    :class:`StreamWidget` takes them."""
    if title is not None and not isinstance(title, str):
        raise TypeError(f"nbstream.{api}(title=...) expects a str (a label for the answer), "
                        f"got {type(title).__name__}")
    return {"guards": _checked_guards(api, guards), "title": title,
            "moderate": moderator(api, moderate, client)}


def _request(api: str, client: Any, kwargs: dict[str, Any], options: dict[str, Any],
             make: Callable[..., StreamWidget] = StreamWidget) -> StreamWidget:
    """Check a request at the call, then make the widget that streams it (``make``: the
    widget's class, or a grid's pane maker)."""
    check_request(api, client, kwargs, options)
    return make_request(api, client, kwargs, options, make)


def check_request(api: str, client: Any, kwargs: dict[str, Any],
                  options: dict[str, Any]) -> None:
    """Refuse, at the call, a request that would fail in the background (see
    :func:`_check_kwargs`), and a cost guard that could never price it."""
    _check_priced(api, options["guards"], kwargs.get("model"))
    _check_kwargs(api, kwargs, _create_method(client, api))


def make_request(api: str, client: Any, kwargs: dict[str, Any], options: dict[str, Any],
                 make: Callable[..., StreamWidget] = StreamWidget) -> StreamWidget:
    """Make the widget that streams a request already checked (:func:`check_request`)."""
    launcher = _launcher(api, client, kwargs)
    launch = launcher()
    widget = make(launch.opener, source_is_async=launch.source_is_async,
                  connection=launch.connection, cancel_remote=launch.cancel_remote,
                  secrets=client_secrets(client),  # never shown: scrubbed from all echoed
                  request=kwargs, relaunch=launcher, **options)
    widget._made = (api, dict(kwargs), _remaker(api, client, options))
    return widget


def _launcher(api: str, client: Any, kwargs: dict[str, Any]) -> Callable[[], Launch]:
    """How to start one attempt of the request (``w.rerun()`` starts another): a fresh
    connection tracker for each, so Stop closes that attempt's connection."""
    arguments = {**kwargs, "stream": True}
    if api == "chat" and "stream_options" not in arguments:
        arguments["stream_options"] = {"include_usage": True}
    create = _create_method(client, api)
    is_async = isinstance(client, openai.AsyncOpenAI) \
        or inspect.iscoroutinefunction(inspect.unwrap(create))
    # A background response goes on after its connection closes: Stop also cancels it.
    cancel_remote = client.responses.cancel if api == "responses" and kwargs.get("background") \
        else None
    if is_async:
        _know_the_platform(client)

    def launch() -> Launch:
        if is_async:
            # Stop cancels the task, which closes a connection still waiting for its response.
            return Launch(lambda: create(**arguments), True, None, cancel_remote)
        tracker = ConnectionTracker()
        tracked = _create_method(tracked_client(client, tracker), api)
        return Launch(lambda: tracked(**arguments), False, tracker, cancel_remote)

    return launch


def _remaker(api: str, client: Any, options: dict[str, Any]) -> Any:
    """How ``w.reply()`` makes the next request: the same client and nbstream options (but
    the title), the given ones (``title=``, ``guards=``, ``moderate=``) instead."""

    def remake(kwargs: dict[str, Any], own: dict[str, Any]) -> StreamWidget:
        merged = {**options, "title": None}
        if own:
            checked = _options(api, own.get("guards"), own.get("moderate"), own.get("title"),
                               client)
            merged.update({name: checked[name] for name in own})
        return _request(api, client, kwargs, merged)

    return remake


def _know_the_platform(client: Any) -> None:
    """An async client's first requests each look up the platform (for its headers) on the
    event loop's default executor: a hundred streams started at once leave that executor's
    six threads in the kernel for good. Looked up here once (the SDK caches the answer),
    those requests start no thread at all."""
    if getattr(client, "_platform", False) is not None:
        return  # known already, or an SDK without this attribute
    try:
        from openai._base_client import get_platform

        client._platform = get_platform()
    except Exception:  # an SDK that does it differently: it looks the platform up itself
        return


def responses(client: Any, /, *, guards: Guards | None = None, moderate: Moderate = None,
              title: str | None = None, **create_kwargs: Any) -> StreamWidget:
    """Stream ``client.responses.create(**create_kwargs, stream=True)`` into a live widget.

    The request is made in the background: this returns at once with
    ``status == "pending"``, and the widget streams the answer as it arrives.

    ``moderate=``: a callable ``text -> falsy or a reason``, ``"openai"`` (this client's
    moderation endpoint) or ``("openai", other_client)``: the answer is checked in the
    background as it grows, and a flagged one is stopped (``stop_reason == "moderation"``)
    and hidden behind a "Hidden by moderation — show" control (the same on every entry point).
    """
    return _request("responses", client, create_kwargs,
                    _options("responses", guards, moderate, title, client))


def chat(client: Any, /, *, guards: Guards | None = None, moderate: Moderate = None,
         title: str | None = None, **create_kwargs: Any) -> StreamWidget:
    """Stream ``client.chat.completions.create(**create_kwargs, stream=True)`` into a widget.

    Asks for usage (``stream_options={"include_usage": True}``) unless you pass
    ``stream_options`` yourself.

    nbstream's own options (keyword-only, on every entry point): ``guards=``, ``moderate=``
    (see :func:`responses`) and ``title=``, a label shown in the header and kept in the saved
    copy.
    """
    return _request("chat", client, create_kwargs,
                    _options("chat", guards, moderate, title, client))


def completions(client: Any, /, *, guards: Guards | None = None, moderate: Moderate = None,
                title: str | None = None, **create_kwargs: Any) -> StreamWidget:
    """Stream legacy ``client.completions.create(**create_kwargs, stream=True)`` into a widget."""
    return _request("completions", client, create_kwargs,
                    _options("completions", guards, moderate, title, client))


_NOT_STREAMS = (bytes, bytearray, dict, int, float, bool, type(None))


def _describe_source_error(source: Any) -> str | None:
    if isinstance(source, pydantic.BaseModel):
        name = type(source).__name__
        return (
            f"nbstream.stream() got a complete {name}, not a stream: create it with "
            "stream=True, or let nbstream make the request: nbstream.responses(client, ...) / "
            "nbstream.chat(client, ...)."
        )
    if hasattr(source, "responses") and hasattr(source, "chat") and hasattr(source, "api_key"):
        return (
            "nbstream.stream() got an OpenAI client, not a stream: use "
            f"{_EXAMPLES['responses']} or nbstream.chat(client, ...)."
        )
    if isinstance(source, _NOT_STREAMS):
        return None  # handled below with the generic message
    if callable(source) and not _is_stream_like(source):
        try:
            signature = inspect.signature(source)
        except (TypeError, ValueError):
            return None
        required = [
            p.name for p in signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                                   p.KEYWORD_ONLY)
        ]
        if required:
            return (
                f"nbstream.stream() calls a callable source with no arguments, but "
                f"{getattr(source, '__name__', 'it')} requires {', '.join(required)}: "
                "wrap it, e.g. nbstream.stream(lambda: make_stream(...))."
            )
    return None


def _is_stream_like(source: Any) -> bool:
    return any(
        hasattr(source, name) for name in ("__iter__", "__aiter__", "__enter__", "__aenter__")
    )


def stream(source: Any, /, *, guards: Guards | None = None, moderate: Moderate = None,
           title: str | None = None) -> StreamWidget:
    """Show any stream live: a Responses/Chat/Completions stream (sync or async), a
    ``client.responses.stream(...)`` or ``client.chat.completions.stream(...)`` manager, any
    iterable or async iterable of ``str``, or a zero-argument callable returning one of these.

    ``moderate=`` takes a callable or ``("openai", client)`` (a stream has no client of its
    own to moderate with).
    """
    options = _options("stream", guards, moderate, title)
    problem = _describe_source_error(source)
    if problem:
        raise TypeError(problem)
    if isinstance(source, str):
        text = source
        return StreamWidget(lambda: iter([text]), source_is_async=False, **options)
    if _is_stream_like(source) and not isinstance(source, _NOT_STREAMS):
        return StreamWidget(lambda: source, source_is_async=is_async_source(source), **options)
    if callable(source) and not isinstance(source, type):
        return StreamWidget(source, source_is_async=None, **options)
    raise TypeError(
        "nbstream.stream() expects a stream: an OpenAI stream (create(..., stream=True)), a "
        "client.responses.stream(...) manager, an iterable or async iterable of str, or a "
        f"zero-argument callable returning one; got {type(source).__name__}."
    )
