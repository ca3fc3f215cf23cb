"""streaming: chat.completions.create(stream=True) and the SDK's stream helper, on Azure.

Every check reads the stream twice: as the SDK hands it to the caller, and as it crossed the
wire (the server's log of the bytes it sent, parsed as SSE). The SDK's view must match the
wire's, whatever the HTTP chunk boundaries were (``--sse-chunking``).

Two ways of reading are exercised. The doc's sample iterates the raw stream::

    for chunk in completion:
        if chunk.choices and chunk.choices[0].delta.content is not None:
            print(chunk.choices[0].delta.content, end='',)

and ``client.chat.completions.stream(...)`` is the SDK's helper (``client.beta.chat`` from
openai 1.40.0, ``client.chat`` from 1.92.0: probed, see :func:`stream_helper`), which drops
Azure's ``object: ""`` filter chunks from 1.74.0 (sdk-behavior §2.8).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.contract import SseEvent
from conformance.contract.chat_stream import (
    FRAMING_RULES,
    PROMPT_ANNOTATION_KIND,
    TOOL_CALL_RULES,
    USAGE_RULES,
    StreamSummary,
    is_azure,
    summarize,
    validate_chat_stream,
)
from conformance.harness import Wire
from conformance.registry import Observations, check, expect, fail
from conformance.sdk import Sdk, has, require_capability
from conformance.wire import is_event_stream, parse_events

from ._judge import conforms
from ._recorded import call_sdk, request_params
from ._requests import (
    ASYNC_FILTER_MESSAGES,
    BLOCKED_MESSAGES,
    CHAT_MESSAGES,
    DEPLOYMENT,
    STREAM_OPTIONS,
    TOOL_MESSAGES,
    TOOLS,
)

DOC = "Python / Chat / chat.completions.create() - streaming"
BUFFERED = "streaming/chat-buffered.yaml"
ASYNC_FILTER = "streaming/chat-async-filter.yaml"
BLOCKED = "streaming/chat-async-filter-blocked.yaml"
TOOL_CALLS = "streaming/chat-tool-calls.yaml"
HELPER_TOOL_CALLS = "streaming/chat-helper-tool-calls.yaml"  # a real Azure tool-call stream

# What each cassette's request is: the messages and the extra arguments to create()/stream().
REQUESTS: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    BUFFERED: (CHAT_MESSAGES, {"stream_options": STREAM_OPTIONS}),
    ASYNC_FILTER: (ASYNC_FILTER_MESSAGES, {}),
    BLOCKED: (BLOCKED_MESSAGES, {}),
    TOOL_CALLS: (TOOL_MESSAGES, {"tools": TOOLS}),
    HELPER_TOOL_CALLS: (TOOL_MESSAGES, {"tools": TOOLS}),
}
# The SDK feature each extra argument needs (conformance.sdk.CAPABILITIES).
ARGUMENT_CAPABILITIES = {"stream_options": "chat_stream_options", "tools": "chat_tools"}


# -- reading the stream ----------------------------------------------------------------------


def _params(wire: Wire, cassette: str) -> dict[str, Any]:
    """The request: the recorded one for a real recording (chat-buffered, chat-tool-calls),
    else the doc's sample with the cassette's messages and extras."""
    messages, extra = REQUESTS[cassette]
    sample = {"model": DEPLOYMENT, "messages": messages, "stream": True, **extra}
    params = request_params(wire, sample)
    for argument in params:
        if argument in ARGUMENT_CAPABILITIES:
            require_capability(ARGUMENT_CAPABILITIES[argument])
    return params


def _create(sdk: Sdk, wire: Wire, cassette: str) -> Any:
    return call_sdk(sdk.client().chat.completions.create, _params(wire, cassette))


def _chunks(sdk: Sdk, wire: Wire, cassette: str) -> list[Any]:
    """Every chunk create(stream=True) yields, read to the end."""
    return list(_create(sdk, wire, cassette))


def doc_loop(chunks: Iterable[Any]) -> list[str]:
    """The seed doc's loop, verbatim but for print(): the pieces it would print."""
    printed: list[str] = []
    for chunk in chunks:
        if chunk.choices and chunk.choices[0].delta.content is not None:
            printed.append(chunk.choices[0].delta.content)
    return printed


def guarded_loop(chunks: Iterable[Any]) -> list[str]:
    """The doc's loop with the extra guard asynchronous filter mode needs (``delta`` None)."""
    return [
        chunk.choices[0].delta.content
        for chunk in chunks
        if chunk.choices
        and chunk.choices[0].delta is not None
        and chunk.choices[0].delta.content is not None
    ]


def _doc_loop_error(chunks: list[Any]) -> str | None:
    try:
        doc_loop(chunks)
    except AttributeError as exc:
        return f"AttributeError: {exc}"
    return None


HELPER_PLACES = ("chat.completions", "beta.chat.completions")  # newest first


def stream_helper(client: Any) -> tuple[str, Any]:
    """The chat stream helper wherever this release has it (``client.chat.completions.stream``
    from openai 1.92.0, ``client.beta.chat.completions.stream`` from 1.40.0 before that), with
    where it was found; ``unsupported`` before the release that added it, a fail after."""
    for place in HELPER_PLACES:
        owner = client
        for name in place.split("."):
            owner = getattr(owner, name, None)
        method = getattr(owner, "stream", None)
        if callable(method):
            return f"client.{place}.stream", method
    require_capability("chat_stream_helper")  # names the release that added it
    fail("the chat stream helper is gone: neither client.chat.completions.stream nor "
         "client.beta.chat.completions.stream exists")


def azure_chunks_or_unsupported(exc: Exception, observe: Observations | None) -> None:
    """The helper raised while reading a stream with Azure's object "" chunks: before the
    release that skips them (chat_stream_helper_azure_chunks) that is the release's known
    behaviour, observed and ``unsupported``; from it on the exception stands (a fail)."""
    if has("chat_stream_helper_azure_chunks"):
        return
    if observe is not None:
        observe("helper_error", f"{type(exc).__name__}: {exc}"[:200])
    require_capability("chat_stream_helper_azure_chunks")


class HelperRun:
    """What the stream helper handed out: its events, and the final completion."""

    def __init__(self, sdk: Sdk, wire: Wire, cassette: str,
                 observe: Observations | None = None) -> None:
        params = {k: v for k, v in _params(wire, cassette).items() if k != "stream"}
        client = sdk.client()
        self.place, helper = stream_helper(client)
        if observe is not None:
            observe("helper", self.place)
        try:
            self._read(helper, params)
        except Exception as exc:
            azure_chunks_or_unsupported(exc, observe)
            raise

    def _read(self, helper: Any, params: dict[str, Any]) -> None:
        self.deltas: list[str] = []
        self.done: list[str] = []
        self.chunk_events = 0
        self.tool_calls_done: dict[int, tuple[str, str]] = {}
        with call_sdk(helper, params) as stream:
            for event in stream:
                if event.type == "chunk":
                    self.chunk_events += 1
                elif event.type == "content.delta":
                    self.deltas.append(event.delta)
                elif event.type == "content.done":
                    self.done.append(event.content)
                elif event.type == "tool_calls.function.arguments.done":
                    self.tool_calls_done[event.index] = (event.name, event.arguments)
            self.final = stream.get_final_completion()

    @property
    def text(self) -> str:
        return "".join(self.deltas)

    @property
    def choice(self) -> Any:
        return self.final.choices[0] if self.final.choices else None


def _events(wire: Wire) -> list[SseEvent]:
    return [(event.name, event.data) for event in parse_events(wire.reply().streamed)]


def _collapse(kinds: list[str]) -> list[str]:
    """Runs of the same kind as one: the shape of the stream."""
    return [k for n, k in enumerate(kinds) if n == 0 or kinds[n - 1] != k]


def _same_chunks(chunks: list[Any], summary: StreamSummary) -> None:
    """The SDK yielded one chunk per JSON event before [DONE], in order."""
    expect(
        len(chunks) == len(summary.chunks),
        f"the SDK yielded {len(chunks)} chunk(s) for {len(summary.chunks)} JSON event(s) before "
        "data: [DONE]",
    )
    sdk_ids = [(c.id, c.object) for c in chunks]
    wire_ids = [(c.get("id"), c.get("object")) for c in summary.chunks]
    expect(sdk_ids == wire_ids, f"the SDK's chunks (id, object) {sdk_ids} differ from the wire's "
           f"{wire_ids}")


# -- framing and Azure's chunk order ---------------------------------------------------------


@check(
    "streaming.chat-sse-framing",
    doc=DOC,
    claim="A streamed chat completion comes back as text/event-stream: data-only events, each "
    "one line of JSON, ended by 'data: [DONE]' with nothing after it; the SDK yields one chunk "
    "per JSON event, in order, and stops at [DONE].",
    cassette=BUFFERED,
    refs=("wire §8.1, §8.4 #1, §3.2 (content-type)", "sdk-behavior §2.8"),
)
def chat_sse_framing(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    chunks = _chunks(sdk, wire, BUFFERED)
    content_type = wire.reply().header("content-type")
    events = _events(wire)
    summary = summarize(events)
    observe("content_type", content_type)
    observe("events", len(events))
    observe("sdk_chunks", len(chunks))
    expect(is_event_stream(content_type),
           f"the stream's Content-Type is {content_type!r}, not text/event-stream")
    conforms([v for v in validate_chat_stream(events) if v.rule in FRAMING_RULES], observe,
             "the stream's SSE framing")
    _same_chunks(chunks, summary)


@check(
    "streaming.chat-azure-chunk-order",
    doc=DOC,
    claim="In Azure's default (buffered) filter mode the stream is a prompt-annotation chunk "
    "(id '', object '', created 0, choices [], prompt_filter_results), the role chunk, content "
    "chunks, one finish chunk and the usage chunk, each honouring the chunk contract; the SDK "
    "yields the annotation chunk as a chunk with empty choices and its prompt_filter_results "
    "intact.",
    cassette=BUFFERED,
    refs=("wire §8.2, §8.4, §7", "sdk-behavior §2.8, §8 #18"),
)
def chat_azure_chunk_order(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    chunks = _chunks(sdk, wire, BUFFERED)
    events = _events(wire)
    summary = summarize(events)
    observe("shape", _collapse(summary.kinds))
    conforms(validate_chat_stream(events, include_usage=True), observe, "the stream")
    expect(summary.kinds[:1] == [PROMPT_ANNOTATION_KIND],
           f"the stream does not open with Azure's prompt-annotation chunk (first event: "
           f"{summary.kinds[:1]})")
    _same_chunks(chunks, summary)
    first = chunks[0]
    observe("sdk_first_chunk", {"object": first.object, "id": first.id,
                                "choices": len(first.choices)})
    expect(first.choices == [], f"the SDK's first chunk has {len(first.choices)} choice(s), the "
           "wire's has none")
    wire_results = summary.chunks[0]["prompt_filter_results"]
    expect(first.model_dump().get("prompt_filter_results") == wire_results,
           "prompt_filter_results of the first chunk did not survive SDK parsing")


@check(
    "streaming.chat-usage-chunk",
    doc=DOC,
    claim="With stream_options.include_usage exactly one chunk carries usage: it has choices [] "
    "and is the last JSON event before [DONE]; the SDK yields it last, with the wire's counts, "
    "and every earlier chunk with usage None.",
    cassette=BUFFERED,
    refs=("wire §5 (stream_options), §8.2, §8.4 #4, §6.4",),
)
def chat_usage_chunk(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    chunks = _chunks(sdk, wire, BUFFERED)
    events = _events(wire)
    summary = summarize(events)
    observe("usage_chunks", len(summary.usages))
    conforms([v for v in validate_chat_stream(events, include_usage=True)
              if v.rule in USAGE_RULES], observe, "the usage chunk")
    wire_usage = summary.usages[0]
    names = ("prompt_tokens", "completion_tokens", "total_tokens")
    observe("usage", {k: wire_usage[k] for k in names})
    expect(chunks, "the SDK yielded no chunk")
    last = chunks[-1]
    expect(last.usage is not None and last.choices == [],
           "the SDK's last chunk is not the usage chunk (choices "
           f"{len(last.choices)}, usage {last.usage!r})")
    expect(tuple(getattr(last.usage, k) for k in names) == tuple(wire_usage[k] for k in names),
           "the SDK's usage differs from the wire's")
    early = [n for n, c in enumerate(chunks[:-1]) if c.usage is not None]
    expect(not early, f"SDK chunks {early} carry usage before the usage chunk")


# -- reading the text ------------------------------------------------------------------------


@check(
    "streaming.chat-doc-loop-text",
    doc=DOC,
    claim="The doc's loop (for chunk in completion: if chunk.choices and "
    "chunk.choices[0].delta.content is not None) runs without raising on Azure's empty-choices "
    "chunks and yields exactly the delta.content values on the wire, empty strings included, in "
    "order: what it prints is the streamed text.",
    cassette=BUFFERED,
    refs=("wire §8.2, §8.4 #2", "sdk-behavior §2.8, §8 #18"),
)
def chat_doc_loop_text(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    completion = _create(sdk, wire, BUFFERED)
    printed: list[str] = []
    for chunk in completion:
        if chunk.choices and chunk.choices[0].delta.content is not None:
            printed.append(chunk.choices[0].delta.content)
    wire_choice = summarize(_events(wire)).choice(0)
    pieces = [c for c in wire_choice.contents if c is not None]
    observe("text", "".join(printed))
    observe("pieces", len(printed))
    observe("empty_pieces", sum(1 for p in pieces if p == ""))
    expect("".join(printed) == wire_choice.text,
           f"the loop printed {''.join(printed)!r}; the wire streamed {wire_choice.text!r}")
    expect(printed == pieces, f"the loop saw the pieces {printed!r}; the wire had {pieces!r}")


@check(
    "streaming.chat-helper-text",
    doc=DOC,
    claim="client.chat.completions.stream(...) with the same request yields content.delta "
    "events adding up to exactly the wire's text, a content.done with it, and a final "
    "completion with that text, the wire's finish_reason and usage; Azure's prompt-annotation "
    "chunk does not break it.",
    cassette=BUFFERED,
    refs=("sdk-behavior §2.8, §8 #18", "wire §8.2"),
)
def chat_helper_text(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    run = HelperRun(sdk, wire, BUFFERED, observe)
    summary = summarize(_events(wire))
    wire_choice = summary.choice(0)
    observe("text", run.text)
    observe("chunk_events", run.chunk_events)
    observe("azure_chunks_dropped", len(summary.chunks) - run.chunk_events)
    expect(run.text == wire_choice.text,
           f"content.delta events add up to {run.text!r}; the wire streamed {wire_choice.text!r}")
    expect(run.done == [wire_choice.text], f"content.done events {run.done!r}, expected one with "
           f"{wire_choice.text!r}")
    choice = run.choice
    expect(choice is not None and choice.message.content == wire_choice.text,
           "the final completion's content differs from the wire's text")
    expect(choice.finish_reason == wire_choice.finish_reason,
           f"final finish_reason {choice.finish_reason!r}, wire {wire_choice.finish_reason!r}")
    usage = run.final.usage
    names = ("prompt_tokens", "completion_tokens", "total_tokens")
    expect(usage is not None and tuple(getattr(usage, k) for k in names)
           == tuple(summary.usages[0][k] for k in names),
           f"the final completion's usage {usage!r} differs from the wire's")


# -- asynchronous filter mode ----------------------------------------------------------------


def _annotation_checks(summary: StreamSummary) -> list[int]:
    return [
        c["choices"][0]["content_filter_offsets"]["check_offset"]
        for c in summary.chunks
        if is_azure(c) and c.get("choices")
    ]


@check(
    "streaming.chat-async-filter",
    doc=DOC,
    claim="In Azure's asynchronous filter mode the annotation-only chunks (id '', no delta, "
    "content_filter_offsets with check_offset never decreasing, one after finish_reason) honour "
    "the contract; create(stream=True) yields every one of them without raising, with their "
    "filter results and offsets intact, and the text of the chunks that have a delta is "
    "exactly the wire's text.",
    cassette=ASYNC_FILTER,
    refs=("wire §8.3, §7", "sdk-behavior §2.8", "openai/openai-python#1677"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def chat_async_filter(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    chunks = _chunks(sdk, wire, ASYNC_FILTER)
    events = _events(wire)
    summary = summarize(events)
    observe("shape", _collapse(summary.kinds))
    observe("check_offsets", _annotation_checks(summary))
    conforms(validate_chat_stream(events, include_usage=False), observe,
             "the asynchronous-filter stream")
    expect(summary.annotations, "the stream has no annotation-only chunk: this cassette is not "
           "an asynchronous-filter stream")
    _same_chunks(chunks, summary)
    annotations = [(c, w) for c, w in zip(chunks, summary.chunks, strict=True)
                   if is_azure(w) and w.get("choices")]
    observe("sdk_annotation_deltas", sorted({repr(c.choices[0].delta) for c, _ in annotations}))
    for sdk_chunk, wire_chunk in annotations:
        dumped = sdk_chunk.choices[0].model_dump()
        wire_choice = wire_chunk["choices"][0]
        for key in ("content_filter_results", "content_filter_offsets"):
            expect(dumped.get(key) == wire_choice[key],
                   f"{key} of an annotation chunk did not survive SDK parsing")
    text = "".join(guarded_loop(chunks))
    observe("text", text)
    # The doc's loop dereferences choices[0].delta, which the SDK leaves None here.
    observe("doc_loop_error", _doc_loop_error(chunks))
    expect(text == summary.choice(0).text,
           f"the chunks with a delta carry {text!r}; the wire streamed {summary.choice(0).text!r}")


@check(
    "streaming.chat-async-filter-helper",
    doc=DOC,
    claim="client.chat.completions.stream(...) reads an asynchronous-filter stream without "
    "raising: it skips the annotation-only chunks and yields exactly the wire's text, with "
    "finish_reason from the wire.",
    cassette=ASYNC_FILTER,
    refs=("sdk-behavior §2.8", "wire §8.3", "openai/openai-python#1677"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def chat_async_filter_helper(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    run = HelperRun(sdk, wire, ASYNC_FILTER, observe)
    summary = summarize(_events(wire))
    wire_choice = summary.choice(0)
    observe("text", run.text)
    observe("chunk_events", run.chunk_events)
    observe("azure_chunks_dropped", len(summary.chunks) - run.chunk_events)
    expect(run.text == wire_choice.text,
           f"content.delta events add up to {run.text!r}; the wire streamed {wire_choice.text!r}")
    choice = run.choice
    expect(choice is not None and choice.message.content == wire_choice.text,
           "the final completion's content differs from the wire's text")
    expect(choice.finish_reason == wire_choice.finish_reason,
           f"final finish_reason {choice.finish_reason!r}, wire {wire_choice.finish_reason!r}")


@check(
    "streaming.chat-async-filter-blocked",
    doc=DOC,
    claim="When asynchronous filtering blocks a completion late, the stream ends with an "
    "annotation chunk whose finish_reason is content_filter and which marks the offending "
    "category filtered, then [DONE]; create(stream=True) yields that chunk last, so the caller "
    "sees finish_reason content_filter after the text already streamed (which is not "
    "retracted).",
    cassette=BLOCKED,
    refs=("wire §8.3, §6.3", "sdk-behavior §2.8"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def chat_async_filter_blocked(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    chunks = _chunks(sdk, wire, BLOCKED)
    events = _events(wire)
    summary = summarize(events)
    wire_choice = summary.choice(0)
    observe("shape", _collapse(summary.kinds))
    conforms(validate_chat_stream(events, include_usage=False), observe,
             "the blocked stream")
    expect(wire_choice.blocked, "no annotation chunk blocks the completion: this cassette is not "
           "a blocked asynchronous-filter stream")
    _same_chunks(chunks, summary)
    last = chunks[-1]
    finish = last.choices[0].finish_reason if last.choices else None
    observe("sdk_last_finish_reason", finish)
    expect(finish == "content_filter",
           f"the SDK's last chunk has finish_reason {finish!r}, not 'content_filter'")
    filtered = sorted(k for k, v in (last.choices[0].model_dump().get("content_filter_results")
                                     or {}).items() if isinstance(v, dict) and v.get("filtered"))
    observe("filtered_categories", filtered)
    expect(filtered, "the SDK's blocking chunk lost the filtered category")
    text = "".join(guarded_loop(chunks))
    observe("text_before_block", text)
    expect(text == wire_choice.text,
           f"the chunks with a delta carry {text!r}; the wire streamed {wire_choice.text!r}")


@check(
    "streaming.chat-helper-blocked",
    doc=DOC,
    claim="client.chat.completions.stream(...) reads a late-blocked asynchronous-filter stream "
    "without raising and yields the text streamed before the block. (It drops the blocking "
    "annotation chunk, object '', so its final completion does not say content_filter: "
    "observed as final_finish_reason.)",
    cassette=BLOCKED,
    refs=("sdk-behavior §2.8", "wire §8.3"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def chat_helper_blocked(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    run = HelperRun(sdk, wire, BLOCKED, observe)
    wire_choice = summarize(_events(wire)).choice(0)
    observe("text", run.text)
    observe("blocked_on_wire", wire_choice.blocked)
    observe("final_finish_reason", run.choice.finish_reason if run.choice else None)
    expect(run.text == wire_choice.text,
           f"content.delta events add up to {run.text!r}; the wire streamed {wire_choice.text!r}")


# -- tool calls ------------------------------------------------------------------------------


def _sdk_fragments(chunks: list[Any]) -> list[tuple[Any, ...]]:
    fragments = []
    for chunk in chunks:
        for choice in chunk.choices:
            for call in (choice.delta.tool_calls if choice.delta is not None else None) or []:
                function = call.function
                fragments.append((call.index, call.id, call.type,
                                  function.name if function else None,
                                  function.arguments if function else None))
    return fragments


def _wire_fragments(summary: StreamSummary) -> list[tuple[Any, ...]]:
    fragments = []
    for chunk in summary.chunks:
        if is_azure(chunk):
            continue
        for choice in chunk.get("choices") or []:
            for call in (choice.get("delta") or {}).get("tool_calls") or []:
                function = call.get("function") or {}
                fragments.append((call.get("index"), call.get("id"), call.get("type"),
                                  function.get("name"), function.get("arguments")))
    return fragments


@check(
    "streaming.chat-tool-call-deltas",
    doc=DOC,
    claim="Streamed tool calls arrive as delta.tool_calls fragments keyed by index, with id, "
    "type and function.name on the first fragment only and function.arguments accumulating per "
    "index; the SDK yields every fragment unchanged (multi-byte characters split across HTTP "
    "chunks included), content null reaches the caller as None, and the doc's loop prints "
    "nothing.",
    cassette=TOOL_CALLS,
    refs=("wire §8.1, §8.4 #5, §5.1",),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def chat_tool_call_deltas(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    chunks = _chunks(sdk, wire, TOOL_CALLS)
    events = _events(wire)
    summary = summarize(events)
    conforms(validate_chat_stream(events, include_usage=False), observe,
             "the tool-call stream")
    wire_calls = summary.choice(0).tool_calls
    observe("tool_calls", {str(i): {"id": c.id, "name": c.name, "arguments": c.arguments,
                                    "fragments": c.fragments} for i, c in wire_calls.items()})
    expect(wire_calls, "the stream has no tool-call fragment")
    _same_chunks(chunks, summary)
    sdk_fragments = _sdk_fragments(chunks)
    wire_fragments = _wire_fragments(summary)
    expect(sdk_fragments == wire_fragments,
           f"the SDK's tool-call fragments differ from the wire's:\nSDK  {sdk_fragments}\n"
           f"wire {wire_fragments}")
    finish = [c.choices[0].finish_reason for c in chunks
              if c.choices and c.choices[0].finish_reason is not None]
    observe("sdk_finish_reasons", finish)
    expect(finish == ["tool_calls"], f"the SDK's finish_reasons are {finish}, expected "
           "['tool_calls']")
    printed = doc_loop(chunks)
    observe("doc_loop_printed", printed)
    expect(printed == [p for p in summary.choice(0).contents if p is not None],
           f"the doc's loop printed {printed!r} for a stream that carried no text")


@check(
    "streaming.chat-helper-tool-calls",
    doc=DOC,
    claim="client.chat.completions.stream(...) accumulates streamed tool calls per index into "
    "the wire's id, function name and arguments (a tool_calls.function.arguments.done event "
    "and a final tool call each), with finish_reason tool_calls.",
    cassette=HELPER_TOOL_CALLS,
    refs=("wire §8.4 #5", "sdk-behavior §2.8"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def chat_helper_tool_calls(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    run = HelperRun(sdk, wire, HELPER_TOOL_CALLS, observe)
    events = _events(wire)
    summary = summarize(events)
    choice = run.choice
    final_calls = {n: (t.id, t.function.name, t.function.arguments)
                   for n, t in enumerate((choice.message.tool_calls if choice else None) or [])}
    observe("final_tool_calls", {str(k): list(v) for k, v in final_calls.items()})
    conforms([v for v in validate_chat_stream(events) if v.rule in TOOL_CALL_RULES],
             observe, "the tool-call fragments")
    wire_calls = {i: (c.id, c.name, c.arguments)
                  for i, c in summary.choice(0).tool_calls.items()}
    expect(final_calls == wire_calls, f"the final completion's tool calls {final_calls} differ "
           f"from the wire's {wire_calls}")
    done = {i: (name, arguments) for i, (name, arguments) in run.tool_calls_done.items()}
    expect(done == {i: (n, a) for i, (_, n, a) in wire_calls.items()},
           f"tool_calls.function.arguments.done events {done} differ from the wire's calls")
    expect(choice.finish_reason == "tool_calls",
           f"final finish_reason {choice.finish_reason!r}, expected 'tool_calls'")
