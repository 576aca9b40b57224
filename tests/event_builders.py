"""Synthetic but realistic streams built from the openai SDK's own type definitions.

Every Responses event is constructed with its pydantic model from ``openai.types.responses``
(validated there: a wrong field or shape fails at construction) and serialised with
``model_dump(mode="json", by_alias=True)``, so the wire shape is exactly what the SDK
declares. Only shapes the SDK does not declare (an unknown event type, the nested ``error``
event) are plain dicts. Chat chunks are built from ``openai.types.chat`` the same way.

:class:`ResponsesBuilder` records a full lifecycle (created → items → terminal event) with
increasing ``sequence_number``s; :meth:`ResponsesBuilder.mark` names a point in the stream
where :meth:`ResponsesBuilder.script` can hold the server on a gate, so a test can look at
the widget mid-stream without sleeping.
"""

from __future__ import annotations

import base64
import struct
import threading
import typing
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from openai import BaseModel
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import (
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
)
from openai.types.completion_usage import CompletionUsage
from openai.types.responses import (
    Response,
    ResponseAudioDeltaEvent,
    ResponseAudioDoneEvent,
    ResponseAudioTranscriptDeltaEvent,
    ResponseAudioTranscriptDoneEvent,
    ResponseCodeInterpreterCallCodeDeltaEvent,
    ResponseCodeInterpreterCallCodeDoneEvent,
    ResponseCodeInterpreterCallCompletedEvent,
    ResponseCodeInterpreterCallInProgressEvent,
    ResponseCodeInterpreterCallInterpretingEvent,
    ResponseCodeInterpreterToolCall,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseCustomToolCall,
    ResponseCustomToolCallInputDeltaEvent,
    ResponseCustomToolCallInputDoneEvent,
    ResponseError,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionShellToolCall,
    ResponseFunctionToolCall,
    ResponseFunctionWebSearch,
    ResponseImageGenCallCompletedEvent,
    ResponseImageGenCallGeneratingEvent,
    ResponseImageGenCallInProgressEvent,
    ResponseImageGenCallPartialImageEvent,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseMcpCallArgumentsDeltaEvent,
    ResponseMcpCallArgumentsDoneEvent,
    ResponseMcpCallCompletedEvent,
    ResponseMcpCallInProgressEvent,
    ResponseMcpListToolsCompletedEvent,
    ResponseMcpListToolsInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseQueuedEvent,
    ResponseReasoningItem,
    ResponseReasoningSummaryPartAddedEvent,
    ResponseReasoningSummaryPartDoneEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseReasoningTextDeltaEvent,
    ResponseReasoningTextDoneEvent,
    ResponseRefusalDeltaEvent,
    ResponseRefusalDoneEvent,
    ResponseShellCallCommandAddedEvent,
    ResponseShellCallCommandDeltaEvent,
    ResponseShellCallCommandDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
    ResponseWebSearchCallCompletedEvent,
    ResponseWebSearchCallInProgressEvent,
    ResponseWebSearchCallSearchingEvent,
)
from openai.types.responses.response_code_interpreter_tool_call import OutputLogs
from openai.types.responses.response_function_shell_tool_call import Action as ShellAction
from openai.types.responses.response_function_web_search import ActionSearch
from openai.types.responses.response_output_item import (
    ImageGenerationCall,
    McpCall,
    McpListTools,
    McpListToolsTool,
)
from openai.types.responses.response_output_text import (
    AnnotationFileCitation,
    AnnotationURLCitation,
)
from openai.types.responses.response_reasoning_item import Content as ReasoningContent
from openai.types.responses.response_reasoning_item import Summary as ReasoningSummary
from openai.types.responses.response_reasoning_summary_part_added_event import (
    Part as SummaryPartAdded,
)
from openai.types.responses.response_reasoning_summary_part_done_event import (
    Part as SummaryPartDone,
)
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails
from sse_server import Script

RESPONSE_ID = "resp_evt_0123"
MODEL = "gpt-evt-1"


def wire(model: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """The JSON the API sends for ``model``: exactly the SDK's declared shape."""
    if isinstance(model, dict):
        return model
    return model.model_dump(mode="json", by_alias=True)


def _type_of(cls: type[BaseModel]) -> str:
    """The ``type`` literal an SDK model declares (``ResponseRefusalDeltaEvent`` → ...)."""
    (literal,) = typing.get_args(cls.model_fields["type"].annotation)
    return str(literal)


def tiny_png(rgb: tuple[int, int, int]) -> str:
    """A valid 1x1 PNG of one colour, base64-encoded (what image generation streams)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    png += chunk(b"IEND", b"")
    return base64.b64encode(png).decode("ascii")


def usage(input_tokens: int = 11, output_tokens: int = 7, reasoning: int = 0) -> ResponseUsage:
    return ResponseUsage(
        input_tokens=input_tokens,
        input_tokens_details=InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
        output_tokens=output_tokens,
        output_tokens_details=OutputTokensDetails(reasoning_tokens=reasoning),
        total_tokens=input_tokens + output_tokens,
    )


class ResponsesBuilder:
    """Record a Responses stream event by event, from the SDK's models."""

    def __init__(self, response_id: str = RESPONSE_ID, model: str = MODEL) -> None:
        self.response_id = response_id
        self.model = model
        self.events: list[BaseModel | dict[str, Any]] = []
        self.items: dict[int, Any] = {}  # output_index -> the finished output item
        self.marks: dict[str, int] = {}
        self._seq = 0
        self._next_index = 0

    # --- plumbing ---------------------------------------------------------------------

    def emit(self, cls: type[BaseModel], **fields: Any) -> BaseModel:
        """Construct (and validate) one event with the next ``sequence_number``."""
        event = cls(type=_type_of(cls), sequence_number=self._seq, **fields)
        self._seq += 1
        self.events.append(event)
        return event

    def raw(self, event: dict[str, Any]) -> dict[str, Any]:
        """A plain-dict event (a shape the SDK does not declare), sequence-numbered."""
        event = {**event, "sequence_number": self._seq}
        self._seq += 1
        self.events.append(event)
        return event

    def mark(self, name: str) -> None:
        """Name this point of the stream (for holding the server there, see ``script``)."""
        self.marks[name] = len(self.events)

    def new_index(self) -> int:
        index = self._next_index
        self._next_index += 1
        return index

    def wire(self) -> list[dict[str, Any]]:
        return [wire(e) for e in self.events]

    def script(self, gates: dict[str, threading.Event] | None = None, **kw: Any) -> Script:
        """A loopback ``Script`` of the stream; the server waits on ``gates[name]`` at each
        named mark before sending what follows."""
        events = self.wire()
        cuts = sorted((self.marks[name], gate) for name, gate in (gates or {}).items())
        start = 0
        script: Script | None = None
        for at, gate in cuts:
            if script is None:
                script = Script.events("responses", events[start:at], **kw)
            else:
                script.then_events(events[start:at])
            script.then_wait(gate)
            start = at
        if script is None:
            return Script.events("responses", events[start:], **kw)
        return script.then_events(events[start:])

    def response(self, status: str, **fields: Any) -> Response:
        ended = status not in ("queued", "in_progress")
        output = [self.items[i] for i in sorted(self.items)] if ended else []
        fields.setdefault("error", None)
        fields.setdefault("incomplete_details", None)
        fields.setdefault("usage", None)
        return Response(
            id=self.response_id,
            object="response",
            created_at=1_700_000_000,
            model=self.model,
            status=status,
            output=output,
            parallel_tool_calls=True,
            tool_choice="auto",
            tools=[],
            instructions=None,
            metadata={},
            temperature=1.0,
            top_p=1.0,
            **fields,
        )

    # --- lifecycle --------------------------------------------------------------------

    def start(self, *, queued: bool = False) -> ResponsesBuilder:
        first = "queued" if queued else "in_progress"
        self.emit(ResponseCreatedEvent, response=self.response(first))
        if queued:
            self.emit(ResponseQueuedEvent, response=self.response("queued"))
            self.mark("queued")
        self.emit(ResponseInProgressEvent, response=self.response("in_progress"))
        return self

    def completed(self, usage_: ResponseUsage | None = None) -> Response:
        response = self.response("completed", usage=usage_ or usage())
        self.emit(ResponseCompletedEvent, response=response)
        return response

    def incomplete(self, reason: str, usage_: ResponseUsage | None = None) -> Response:
        response = self.response(
            "incomplete", usage=usage_ or usage(), incomplete_details={"reason": reason}
        )
        self.emit(ResponseIncompleteEvent, response=response)
        return response

    def failed(self, code: str, message: str) -> Response:
        response = self.response("failed", error=ResponseError(code=code, message=message))
        self.emit(ResponseFailedEvent, response=response)
        return response

    def error_flat(self, code: str | None, message: str) -> None:
        """``{"type": "error", "code", "message", "param"}``: the SDK yields it as an event."""
        self.emit(ResponseErrorEvent, code=code, message=message, param=None)

    def error_nested(self, code: str, message: str, type_: str = "server_error") -> None:
        """``{"type": "error", "error": {...}}``: the SDK raises ``openai.APIError``. The SDK
        declares no model for this shape, so it is a plain dict."""
        error = {"type": type_, "code": code, "message": message, "param": None}
        self.raw({"type": "error", "error": error})

    def unknown(self, type_: str, **fields: Any) -> None:
        self.raw({"type": type_, **fields})

    # --- output items -----------------------------------------------------------------

    def _added(self, index: int, item: BaseModel) -> None:
        self.emit(ResponseOutputItemAddedEvent, output_index=index, item=item)

    def _done(self, index: int, item: BaseModel) -> None:
        self.emit(ResponseOutputItemDoneEvent, output_index=index, item=item)
        self.items[index] = item

    def message(
        self,
        pieces: Sequence[str],
        *,
        annotations: Sequence[BaseModel] = (),
        status: str = "completed",
        finish: bool = True,
        item_id: str | None = None,
    ) -> ResponseOutputMessage:
        """An assistant message with one ``output_text`` part streamed as ``pieces``;
        ``finish=False`` stops after the deltas (a stream cut short)."""
        index = self.new_index()
        item_id = item_id or f"msg_{index}"
        key = {"item_id": item_id, "output_index": index, "content_index": 0}
        self._added(index, ResponseOutputMessage(
            id=item_id, type="message", role="assistant", status="in_progress", content=[]
        ))
        self.emit(
            ResponseContentPartAddedEvent, **key,
            part=ResponseOutputText(type="output_text", text="", annotations=[]),
        )
        for number, piece in enumerate(pieces):
            self.emit(ResponseTextDeltaEvent, **key, delta=piece, logprobs=[])
            if number == 0:
                self.mark(f"message{index}.first_delta")
        text = "".join(pieces)
        final_part = ResponseOutputText(
            type="output_text", text=text, annotations=list(annotations)
        )
        item = ResponseOutputMessage(
            id=item_id, type="message", role="assistant", status=status, content=[final_part]
        )
        if not finish:
            self.items[index] = item.model_copy(update={"status": "incomplete"})
            return item
        for number, annotation in enumerate(annotations):
            self.emit(
                ResponseOutputTextAnnotationAddedEvent, **key,
                annotation_index=number, annotation=wire(annotation),
            )
        self.emit(ResponseTextDoneEvent, **key, text=text, logprobs=[])
        self.emit(ResponseContentPartDoneEvent, **key, part=final_part)
        self._done(index, item)
        return item

    def refusal(self, pieces: Sequence[str]) -> ResponseOutputMessage:
        index = self.new_index()
        item_id = f"msg_{index}"
        key = {"item_id": item_id, "output_index": index, "content_index": 0}
        self._added(index, ResponseOutputMessage(
            id=item_id, type="message", role="assistant", status="in_progress", content=[]
        ))
        self.emit(
            ResponseContentPartAddedEvent, **key,
            part=ResponseOutputRefusal(type="refusal", refusal=""),
        )
        for piece in pieces:
            self.emit(ResponseRefusalDeltaEvent, **key, delta=piece)
        text = "".join(pieces)
        self.emit(ResponseRefusalDoneEvent, **key, refusal=text)
        final_part = ResponseOutputRefusal(type="refusal", refusal=text)
        self.emit(ResponseContentPartDoneEvent, **key, part=final_part)
        item = ResponseOutputMessage(
            id=item_id, type="message", role="assistant", status="completed", content=[final_part]
        )
        self._done(index, item)
        return item

    def function_call(self, name: str, pieces: Sequence[str]) -> ResponseFunctionToolCall:
        index = self.new_index()
        item_id, call_id = f"fc_{index}", f"call_fn_{index}"
        common = {"id": item_id, "call_id": call_id, "name": name, "type": "function_call"}
        self._added(index, ResponseFunctionToolCall(
            **common, arguments="", status="in_progress"
        ))
        for piece in pieces:
            self.emit(
                ResponseFunctionCallArgumentsDeltaEvent,
                item_id=item_id, output_index=index, delta=piece,
            )
        arguments = "".join(pieces)
        self.emit(
            ResponseFunctionCallArgumentsDoneEvent,
            item_id=item_id, output_index=index, arguments=arguments,
        )
        item = ResponseFunctionToolCall(**common, arguments=arguments, status="completed")
        self._done(index, item)
        return item

    def custom_tool_call(self, name: str, pieces: Sequence[str]) -> ResponseCustomToolCall:
        index = self.new_index()
        item_id, call_id = f"ctc_{index}", f"call_custom_{index}"
        common = {"id": item_id, "call_id": call_id, "name": name, "type": "custom_tool_call"}
        self._added(index, ResponseCustomToolCall(**common, input=""))
        for number, piece in enumerate(pieces):
            self.emit(
                ResponseCustomToolCallInputDeltaEvent,
                item_id=item_id, output_index=index, delta=piece,
            )
            if number == 0:
                self.mark("custom.first_delta")
        text = "".join(pieces)
        self.emit(
            ResponseCustomToolCallInputDoneEvent, item_id=item_id, output_index=index, input=text
        )
        item = ResponseCustomToolCall(**common, input=text)
        self._done(index, item)
        return item

    def mcp_list_tools(self, server: str, tools: Sequence[str]) -> McpListTools:
        index = self.new_index()
        item_id = f"mcpl_{index}"
        self._added(index, McpListTools(
            id=item_id, type="mcp_list_tools", server_label=server, tools=[]
        ))
        ids = {"item_id": item_id, "output_index": index}
        self.emit(ResponseMcpListToolsInProgressEvent, **ids)
        self.emit(ResponseMcpListToolsCompletedEvent, **ids)
        item = McpListTools(
            id=item_id, type="mcp_list_tools", server_label=server,
            tools=[McpListToolsTool(name=t, input_schema={"type": "object"}) for t in tools],
        )
        self._done(index, item)
        return item

    def mcp_call(self, server: str, name: str, pieces: Sequence[str], output: str) -> McpCall:
        index = self.new_index()
        item_id = f"mcp_{index}"
        common = {"id": item_id, "type": "mcp_call", "server_label": server, "name": name}
        self._added(index, McpCall(**common, arguments="", status="in_progress"))
        ids = {"item_id": item_id, "output_index": index}
        self.emit(ResponseMcpCallInProgressEvent, **ids)
        for piece in pieces:
            self.emit(ResponseMcpCallArgumentsDeltaEvent, **ids, delta=piece)
        arguments = "".join(pieces)
        self.emit(ResponseMcpCallArgumentsDoneEvent, **ids, arguments=arguments)
        self.emit(ResponseMcpCallCompletedEvent, **ids)
        item = McpCall(**common, arguments=arguments, output=output, status="completed")
        self._done(index, item)
        return item

    def web_search(self, query: str) -> ResponseFunctionWebSearch:
        index = self.new_index()
        item_id = f"ws_{index}"
        ids = {"item_id": item_id, "output_index": index}
        action = ActionSearch(type="search", query=query)
        self._added(index, ResponseFunctionWebSearch(
            id=item_id, type="web_search_call", status="in_progress", action=action
        ))
        self.emit(ResponseWebSearchCallInProgressEvent, **ids)
        self.mark("web_search.in_progress")
        self.emit(ResponseWebSearchCallSearchingEvent, **ids)
        self.mark("web_search.searching")
        self.emit(ResponseWebSearchCallCompletedEvent, **ids)
        item = ResponseFunctionWebSearch(
            id=item_id, type="web_search_call", status="completed", action=action
        )
        self._done(index, item)
        self.mark("web_search.done")
        return item

    def code_interpreter(self, pieces: Sequence[str], logs: str) -> ResponseCodeInterpreterToolCall:
        index = self.new_index()
        item_id = f"ci_{index}"
        ids = {"item_id": item_id, "output_index": index}
        common = {"id": item_id, "type": "code_interpreter_call", "container_id": "cntr_1"}
        self._added(index, ResponseCodeInterpreterToolCall(
            **common, status="in_progress", code="", outputs=None
        ))
        self.emit(ResponseCodeInterpreterCallInProgressEvent, **ids)
        for number, piece in enumerate(pieces):
            self.emit(ResponseCodeInterpreterCallCodeDeltaEvent, **ids, delta=piece)
            if number == 0:
                self.mark("code.first_delta")
        code = "".join(pieces)
        self.emit(ResponseCodeInterpreterCallCodeDoneEvent, **ids, code=code)
        self.emit(ResponseCodeInterpreterCallInterpretingEvent, **ids)
        self.mark("code.interpreting")
        self.emit(ResponseCodeInterpreterCallCompletedEvent, **ids)
        item = ResponseCodeInterpreterToolCall(
            **common, status="completed", code=code,
            outputs=[OutputLogs(type="logs", logs=logs)],
        )
        self._done(index, item)
        return item

    def image_generation(self, partials: Sequence[str], result: str) -> ImageGenerationCall:
        index = self.new_index()
        item_id = f"ig_{index}"
        ids = {"item_id": item_id, "output_index": index}
        self._added(index, ImageGenerationCall(
            id=item_id, type="image_generation_call", status="in_progress", result=None
        ))
        self.emit(ResponseImageGenCallInProgressEvent, **ids)
        self.emit(ResponseImageGenCallGeneratingEvent, **ids)
        for number, image in enumerate(partials):
            self.emit(
                ResponseImageGenCallPartialImageEvent, **ids,
                partial_image_index=number, partial_image_b64=image,
                output_format="png", size="1024x1024", quality="low", background="opaque",
            )
            self.mark(f"image.partial{number}")
        self.emit(ResponseImageGenCallCompletedEvent, **ids)
        item = ImageGenerationCall(
            id=item_id, type="image_generation_call", status="completed", result=result,
            output_format="png", size="1024x1024", quality="low", background="opaque",
        )
        self._done(index, item)
        return item

    def shell_call(self, commands: Sequence[Sequence[str]]) -> ResponseFunctionShellToolCall:
        """A shell call whose commands stream in pieces (``commands[i]`` = pieces of one)."""
        index = self.new_index()
        item_id, call_id = f"sh_{index}", f"call_sh_{index}"
        common = {"id": item_id, "call_id": call_id, "type": "shell_call"}
        self._added(index, ResponseFunctionShellToolCall(
            **common, status="in_progress", action=ShellAction(commands=[])
        ))
        for number, pieces in enumerate(commands):
            at = {"output_index": index, "command_index": number}
            self.emit(ResponseShellCallCommandAddedEvent, **at, command="")
            for piece in pieces:
                self.emit(ResponseShellCallCommandDeltaEvent, **at, delta=piece)
            self.emit(ResponseShellCallCommandDoneEvent, **at, command="".join(pieces))
        self.mark("shell.commands_done")
        full = ["".join(p) for p in commands]
        item = ResponseFunctionShellToolCall(
            **common, status="completed", action=ShellAction(commands=full, timeout_ms=10_000)
        )
        self._done(index, item)
        return item

    def reasoning(
        self, summaries: Sequence[Sequence[str]], text_pieces: Sequence[str]
    ) -> ResponseReasoningItem:
        """A reasoning item: summary parts (each streamed in pieces), then reasoning text."""
        index = self.new_index()
        item_id = f"rs_{index}"
        ids = {"item_id": item_id, "output_index": index}
        self._added(index, ResponseReasoningItem(
            id=item_id, type="reasoning", summary=[], status="in_progress"
        ))
        for number, pieces in enumerate(summaries):
            at = {**ids, "summary_index": number}
            self.emit(
                ResponseReasoningSummaryPartAddedEvent, **at,
                part=SummaryPartAdded(type="summary_text", text=""),
            )
            for piece in pieces:
                self.emit(ResponseReasoningSummaryTextDeltaEvent, **at, delta=piece)
            text = "".join(pieces)
            self.emit(ResponseReasoningSummaryTextDoneEvent, **at, text=text)
            self.emit(
                ResponseReasoningSummaryPartDoneEvent, **at,
                part=SummaryPartDone(type="summary_text", text=text),
            )
        reasoning_text = "".join(text_pieces)
        if text_pieces:
            for piece in text_pieces:
                self.emit(ResponseReasoningTextDeltaEvent, **ids, content_index=0, delta=piece)
            self.emit(ResponseReasoningTextDoneEvent, **ids, content_index=0, text=reasoning_text)
        item = ResponseReasoningItem(
            id=item_id, type="reasoning", status="completed",
            summary=[
                ReasoningSummary(type="summary_text", text="".join(p)) for p in summaries
            ],
            content=[ReasoningContent(type="reasoning_text", text=reasoning_text)]
            if text_pieces else None,
        )
        self._done(index, item)
        return item

    def audio(self, transcript: Sequence[str], audio_b64: Sequence[str]) -> str:
        """Audio output: base64 audio deltas interleaved with transcript deltas."""
        for piece, sound in zip(transcript, audio_b64, strict=False):
            self.emit(ResponseAudioDeltaEvent, delta=sound)
            self.emit(ResponseAudioTranscriptDeltaEvent, delta=piece)
        self.emit(ResponseAudioTranscriptDoneEvent)
        self.emit(ResponseAudioDoneEvent)
        return "".join(transcript)


def url_citation(start: int, end: int, url: str, title: str) -> AnnotationURLCitation:
    return AnnotationURLCitation(
        type="url_citation", start_index=start, end_index=end, url=url, title=title
    )


def file_citation(index: int, file_id: str, filename: str) -> AnnotationFileCitation:
    return AnnotationFileCitation(
        type="file_citation", index=index, file_id=file_id, filename=filename
    )


# --- Chat Completions ---------------------------------------------------------------------


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def chat_chunk(
    choices: Iterable[Choice] = (), *, usage_: CompletionUsage | None = None
) -> dict[str, Any]:
    """One ``chat.completion.chunk``. Chat deltas carry only the fields that changed (a
    tool-call continuation has no ``id``/``type``, and the SDK's accumulator would take a
    ``null`` for a new value), so chunks are dumped with ``exclude_unset``."""
    chunk = ChatCompletionChunk(
        id="chatcmpl-evt",
        object="chat.completion.chunk",
        created=1_700_000_000,
        model=MODEL,
        choices=list(choices),
        **_given(usage=usage_),
    )
    return chunk.model_dump(mode="json", by_alias=True, exclude_unset=True)


def chat_choice(
    index: int,
    content: str | None = None,
    *,
    role: str | None = None,
    refusal: str | None = None,
    finish: str | None = None,
    tool_calls: list[ChoiceDeltaToolCall] | None = None,
) -> Choice:
    delta = ChoiceDelta(
        **_given(role=role, content=content, refusal=refusal, tool_calls=tool_calls)
    )
    return Choice(index=index, delta=delta, finish_reason=finish, logprobs=None)


def chat_tool_call(
    index: int, arguments: str, *, call_id: str | None = None, name: str | None = None
) -> ChoiceDeltaToolCall:
    return ChoiceDeltaToolCall(
        index=index,
        **_given(id=call_id, type="function" if call_id else None),
        function=ChoiceDeltaToolCallFunction(**_given(name=name, arguments=arguments)),
    )


def chat_usage(prompt: int = 9, completion: int = 6) -> CompletionUsage:
    return CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def chat_stream(
    choices_pieces: Sequence[Sequence[str]],
    finish: Sequence[str] | str = "stop",
    *,
    usage_: CompletionUsage | None = None,
) -> list[dict[str, Any]]:
    """A Chat stream with ``n = len(choices_pieces)``: a role chunk per choice, the pieces
    interleaved across choices (one choice per chunk, as the API does), a finish chunk per
    choice and, with ``usage_``, a last ``choices: []`` usage chunk."""
    reasons = [finish] * len(choices_pieces) if isinstance(finish, str) else list(finish)
    chunks = [chat_chunk([chat_choice(i, "", role="assistant")]) for i in range(len(reasons))]
    longest = max((len(p) for p in choices_pieces), default=0)
    for step in range(longest):
        for i, pieces in enumerate(choices_pieces):
            if step < len(pieces):
                chunks.append(chat_chunk([chat_choice(i, pieces[step])]))
    chunks += [chat_chunk([chat_choice(i, finish=r)]) for i, r in enumerate(reasons)]
    if usage_ is not None:
        chunks.append(chat_chunk([], usage_=usage_))
    return chunks
