"""streaming: chat.completions.create(stream=True) and the SDK's stream helper, on Azure.

Every check runs on every SDK (the ``driver`` fixture) and reads the stream twice: as the SDK
handed it to user code (the outcome's ``events`` and the text its loop printed, ``read``), and
as it crossed the wire (the server's log of the bytes it sent, parsed as SSE). The SDK's view
must match the wire's, whatever the HTTP chunk boundaries were (``--sse-chunking``).

Two ways of reading are exercised. ``chat.completions.stream`` is the doc's loop over the raw
stream (Python's sample::

    for chunk in completion:
        if chunk.choices and chunk.choices[0].delta.content is not None:
            print(chunk.choices[0].delta.content, end='',)

JavaScript's ``for await``, Go's ``for stream.Next()``, Java's ``stream().forEach``), and
``chat.completions.stream_helper`` is the SDK's stream helper (docs/driver-protocol.md): openai-
python's ``client.chat.completions.stream(...)`` (``client.beta.chat`` from 1.40.0, ``client.chat``
from 1.92.0: probed, :func:`conformance.drivers.python.stream_helper`), which drops Azure's
``object: ""`` filter chunks from 1.74.0 (sdk-behavior §2.8); openai-node's
``client.chat.completions.stream()``; openai-go's and openai-java's ``ChatCompletionAccumulator``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect
from conformance.sdk import has, require_capability
from conformance.wire import is_event_stream, parse_events

from ._capability import python_needs
from ._judge import conforms
from ._recorded import request_params
from ._requests import (
    ASYNC_FILTER_MESSAGES,
    BLOCKED_MESSAGES,
    CHAT_MESSAGES,
    DEPLOYMENT,
    STREAM_OPTIONS,
    TOOL_MESSAGES,
    TOOLS,
)
from ._scenario import no_error, scenario

DOC = "Python / Chat / chat.completions.create() - streaming; JavaScript / Streaming"
BUFFERED = "streaming/chat-buffered.yaml"
ASYNC_FILTER = "streaming/chat-async-filter.yaml"
BLOCKED = "streaming/chat-async-filter-blocked.yaml"
TOOL_CALLS = "streaming/chat-tool-calls.yaml"
HELPER_TOOL_CALLS = "streaming/chat-helper-tool-calls.yaml"  # a real Azure tool-call stream
STREAM = "chat.completions.stream"
HELPER = "chat.completions.stream_helper"
ASYNC = "chat.completions.stream_async"

# What each cassette's request is: the messages and the extra arguments to create()/stream().
REQUESTS: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    BUFFERED: (CHAT_MESSAGES, {"stream_options": STREAM_OPTIONS}),
    ASYNC_FILTER: (ASYNC_FILTER_MESSAGES, {}),
    BLOCKED: (BLOCKED_MESSAGES, {}),
    TOOL_CALLS: (TOOL_MESSAGES, {"tools": TOOLS}),
    HELPER_TOOL_CALLS: (TOOL_MESSAGES, {"tools": TOOLS}),
}
# The openai-python feature each extra argument needs (conformance.sdk.CAPABILITIES). Not
# stream_options: a recorded request carries it, and a release without the keyword sends it
# through extra_body (sdk.call_sdk), so the wire is the same and the stream is still read by
# that release's own decoder (what the claims judge); streaming.chat-usage-chunk, whose claim
# is that option's, asks for it itself.
ARGUMENT_CAPABILITIES = {"tools": "chat_tools"}

# -- reading the stream ----------------------------------------------------------------------


def _params(wire: Wire, cassette: str, sdk: str = "python") -> dict[str, Any]:
    """The request: the recorded one for a real recording (chat-buffered, chat-tool-calls),
    else the doc's sample with the cassette's messages and extras."""
    messages, extra = REQUESTS[cassette]
    sample = {"model": DEPLOYMENT, "messages": messages, "stream": True, **extra}
    params = request_params(wire, sample)
    if sdk == "python":  # the installed openai-python's release decides
        for argument in params:
            if argument in ARGUMENT_CAPABILITIES:
                require_capability(ARGUMENT_CAPABILITIES[argument])
    return params


def run_stream(wire: Wire, driver: Driver, cassette: str,
               operation: str = STREAM) -> DriverOutcome:
    """The SDK reads the cassette's stream with ``operation``: the outcome."""
    return driver.run(scenario(wire, operation, _params(wire, cassette, driver.sdk)))


def chunks_of(wire: Wire, driver: Driver, cassette: str,
              operation: str = STREAM) -> tuple[DriverOutcome, list[Mapping[str, Any]]]:
    """The outcome of reading the stream to its end without an error, and the chunks the
    SDK yielded (as JSON)."""
    outcome = run_stream(wire, driver, cassette, operation)
    no_error(outcome, driver.sdk)
    return outcome, list(outcome.events)


def pieces(events: list[Mapping[str, Any]]) -> list[str]:
    """The ``choices[0].delta.content`` values of the chunks, empty strings included: what the
    doc's loop (``content is not None``) hands to print."""
    found = []
    for event in events:
        choices = event.get("choices") or []
        delta = choices[0].get("delta") if choices else None
        content = delta.get("content") if isinstance(delta, Mapping) else None
        if isinstance(content, str):
            found.append(content)
    return found


def printed(outcome: DriverOutcome) -> str:
    """The text the SDK's loop printed, through its typed accessors (``read.text``)."""
    text = outcome.read.text
    return text if isinstance(text, str) else ""


def helper_run(wire: Wire, driver: Driver, cassette: str,
               observe: Observations) -> DriverOutcome:
    """The SDK's stream helper read the cassette's stream to its end (``unsupported`` where
    the SDK has none). openai-python's helper raised on Azure's object "" chunks before
    1.74.0: there that is the release's known behaviour, observed and ``unsupported``."""
    outcome = run_stream(wire, driver, cassette, HELPER)
    observe("helper", outcome.read.helper)
    error = outcome.error
    if error is not None and driver.sdk == "python" and not has(
            "chat_stream_helper_azure_chunks"):
        observe("helper_error", f"{error.class_name}: {error.message}"[:200])
        require_capability("chat_stream_helper_azure_chunks")
    no_error(outcome, driver.sdk)
    if outcome.read.chunks is not None:
        observe("chunk_events", outcome.read.chunks)
    return outcome


def final_choice(outcome: DriverOutcome) -> Mapping[str, Any]:
    """The first choice of the helper's final completion (the outcome's ``result``)."""
    choices = (outcome.result or {}).get("choices") or [{}]
    first = choices[0]
    return first if isinstance(first, Mapping) else {}


def _events(wire: Wire) -> list[SseEvent]:
    return [(event.name, event.data) for event in parse_events(wire.reply().streamed)]


def _collapse(kinds: list[str]) -> list[str]:
    """Runs of the same kind as one: the shape of the stream."""
    return [k for n, k in enumerate(kinds) if n == 0 or kinds[n - 1] != k]


def same_chunks(events: list[Mapping[str, Any]], summary: StreamSummary, sdk: str) -> None:
    """The SDK yielded one chunk per JSON event before [DONE], in order."""
    expect(
        len(events) == len(summary.chunks),
        f"{sdk} yielded {len(events)} chunk(s) for {len(summary.chunks)} JSON event(s) before "
        "data: [DONE]",
    )
    sdk_ids = [(c.get("id"), c.get("object")) for c in events]
    wire_ids = [(c.get("id"), c.get("object")) for c in summary.chunks]
    expect(sdk_ids == wire_ids, f"{sdk}'s chunks (id, object) {sdk_ids} differ from the wire's "
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
    sdks=ALL_SDKS,
)
def chat_sse_framing(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, chunks = chunks_of(wire, driver, BUFFERED)
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
    same_chunks(chunks, summary, driver.sdk)


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
    sdks=ALL_SDKS,
)
def chat_azure_chunk_order(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, chunks = chunks_of(wire, driver, BUFFERED)
    events = _events(wire)
    summary = summarize(events)
    observe("shape", _collapse(summary.kinds))
    conforms(validate_chat_stream(events, include_usage=True), observe, "the stream")
    expect(summary.kinds[:1] == [PROMPT_ANNOTATION_KIND],
           f"the stream does not open with Azure's prompt-annotation chunk (first event: "
           f"{summary.kinds[:1]})")
    same_chunks(chunks, summary, driver.sdk)
    first = chunks[0]
    observe("sdk_first_chunk", {"object": first.get("object"), "id": first.get("id"),
                                "choices": len(first.get("choices") or [])})
    expect(not first.get("choices"), f"{driver.sdk}'s first chunk has "
           f"{len(first.get('choices') or [])} choice(s), the wire's has none")
    wire_results = summary.chunks[0]["prompt_filter_results"]
    expect(first.get("prompt_filter_results") == wire_results,
           f"prompt_filter_results of the first chunk did not survive {driver.sdk}'s parsing")


USAGE_NAMES = ("prompt_tokens", "completion_tokens", "total_tokens")


def _counts(usage: Any) -> tuple[Any, ...] | None:
    return tuple(usage.get(k) for k in USAGE_NAMES) if isinstance(usage, Mapping) else None


@check(
    "streaming.chat-usage-chunk",
    doc=DOC,
    claim="With stream_options.include_usage exactly one chunk carries usage: it has choices [] "
    "and is the last JSON event before [DONE]; the SDK yields it last, with the wire's counts, "
    "and every earlier chunk without usage.",
    cassette=BUFFERED,
    refs=("wire §5 (stream_options), §8.2, §8.4 #4, §6.4",),
    sdks=ALL_SDKS,
)
def chat_usage_chunk(wire: Wire, driver: Driver, observe: Observations) -> None:
    python_needs(driver, "chat_stream_options", observe=observe)  # the doc's keyword
    _, chunks = chunks_of(wire, driver, BUFFERED)
    events = _events(wire)
    summary = summarize(events)
    observe("usage_chunks", len(summary.usages))
    conforms([v for v in validate_chat_stream(events, include_usage=True)
              if v.rule in USAGE_RULES], observe, "the usage chunk")
    wire_usage = summary.usages[0]
    observe("usage", {k: wire_usage[k] for k in USAGE_NAMES})
    expect(chunks, f"{driver.sdk} yielded no chunk")
    last = chunks[-1]
    expect(last.get("usage") and not last.get("choices"),
           f"{driver.sdk}'s last chunk is not the usage chunk (choices "
           f"{len(last.get('choices') or [])}, usage {last.get('usage')!r})")
    expect(_counts(last.get("usage")) == _counts(wire_usage),
           f"{driver.sdk}'s usage differs from the wire's")
    early = [n for n, c in enumerate(chunks[:-1]) if c.get("usage")]
    expect(not early, f"{driver.sdk}'s chunks {early} carry usage before the usage chunk")


# -- reading the text ------------------------------------------------------------------------


@check(
    "streaming.chat-doc-loop-text",
    doc=DOC,
    claim="Each SDK's streaming loop (the doc's: for chunk in completion: if chunk.choices and "
    "chunk.choices[0].delta.content is not None; JavaScript's for await, Go's stream.Next(), "
    "Java's stream()) runs without raising on Azure's empty-choices chunks, yields every chunk "
    "the server sent, in order, with exactly the delta.content values on the wire (empty "
    "strings included), and prints, through the SDK's typed delta accessor, exactly the "
    "streamed text.",
    cassette=BUFFERED,
    refs=("wire §8.2, §8.4 #2", "sdk-behavior §2.8, §8 #18"),
    sdks=ALL_SDKS,
)
def chat_doc_loop_text(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome, chunks = chunks_of(wire, driver, BUFFERED)
    summary = summarize(_events(wire))
    wire_choice = summary.choice(0)
    wire_pieces = [c for c in wire_choice.contents if c is not None]
    sdk_pieces = pieces(chunks)
    text = observe("text", printed(outcome))
    observe("pieces", len(outcome.read.deltas or []))
    observe("empty_pieces", sum(1 for p in wire_pieces if p == ""))
    observe("chunks", {"sent": len(summary.chunks), "yielded": len(chunks)})
    expect(text == wire_choice.text,
           f"{driver.sdk}'s loop printed {text!r}; the wire streamed {wire_choice.text!r}")
    expect(outcome.read.deltas == [p for p in wire_pieces if p],
           f"{driver.sdk}'s loop printed the pieces {outcome.read.deltas!r}; the "
           f"wire had {[p for p in wire_pieces if p]!r}")
    expect(sdk_pieces == wire_pieces,
           f"{driver.sdk}'s loop saw the pieces {sdk_pieces!r}; the wire had {wire_pieces!r}")
    same_chunks(chunks, summary, driver.sdk)


def _helper_read_the_wire(wire: Wire, driver: Driver, outcome: DriverOutcome,
                          observe: Observations, *, done: bool = True) -> StreamSummary:
    """What a stream helper gave (its deltas, with ``done`` the content.done events where it
    has them, its final completion's content and finish_reason) against the wire's first
    choice; the wire's stream summary, for more."""
    summary = summarize(_events(wire))
    wire_choice = summary.choice(0)
    text = observe("text", printed(outcome))
    chunk_events = outcome.read.chunks
    if chunk_events is not None:
        observe("azure_chunks_dropped", len(summary.chunks) - chunk_events)
    expect(text == wire_choice.text,
           f"{driver.sdk}'s helper deltas add up to {text!r}; the wire streamed "
           f"{wire_choice.text!r}")
    if done:
        events = outcome.read.done
        expect(events is None or events == [wire_choice.text],
               f"content.done events {events!r}, expected one with {wire_choice.text!r}")
    content = outcome.read.content
    expect(content == wire_choice.text,
           f"{driver.sdk}'s final completion's content {content!r} differs from the wire's "
           "text")
    finish = outcome.read.finish_reason
    expect(finish == wire_choice.finish_reason,
           f"final finish_reason {finish!r}, wire {wire_choice.finish_reason!r}")
    return summary


@check(
    "streaming.chat-helper-text",
    doc=DOC,
    claim="The SDK's stream helper (openai-python's and openai-node's "
    "client.chat.completions.stream(...), openai-go's and openai-java's "
    "ChatCompletionAccumulator) with the same request gives exactly the wire's text (content."
    "delta events where the helper has them, else the chunks' deltas), a content.done with it "
    "where the helper has that event, and a final completion with that text, the wire's "
    "finish_reason and usage; Azure's prompt-annotation chunk does not break it.",
    cassette=BUFFERED,
    refs=("sdk-behavior §2.8, §8 #18", "wire §8.2"),
    sdks=ALL_SDKS,
)
def chat_helper_text(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = helper_run(wire, driver, BUFFERED, observe)
    summary = _helper_read_the_wire(wire, driver, outcome, observe)
    usage = (outcome.result or {}).get("usage")
    wire_usage = summary.usages[0] if summary.usages else None
    expect(usage is not None and _counts(usage) == _counts(wire_usage),
           f"{driver.sdk}'s final completion's usage {usage!r} differs from the wire's")


# -- asynchronous filter mode ----------------------------------------------------------------


def _annotation_checks(summary: StreamSummary) -> list[int]:
    return [
        c["choices"][0]["content_filter_offsets"]["check_offset"]
        for c in summary.chunks
        if is_azure(c) and c.get("choices")
    ]


def _guarded_text(chunks: list[Mapping[str, Any]]) -> str:
    """The text of the chunks that have a delta (the doc's loop with the guard asynchronous
    filter mode needs)."""
    return "".join(pieces(chunks))


@check(
    "streaming.chat-async-filter",
    doc=DOC,
    claim="In Azure's asynchronous filter mode the annotation-only chunks (id '', no delta, "
    "content_filter_offsets with check_offset never decreasing, one after finish_reason) honour "
    "the contract; the SDK's streaming loop yields every one of them without raising, with "
    "their filter results and offsets intact, and the text it prints is exactly the wire's "
    "text.",
    cassette=ASYNC_FILTER,
    refs=("wire §8.3, §7", "sdk-behavior §2.8", "openai/openai-python#1677"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def chat_async_filter(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome, chunks = chunks_of(wire, driver, ASYNC_FILTER)
    events = _events(wire)
    summary = summarize(events)
    observe("shape", _collapse(summary.kinds))
    observe("check_offsets", _annotation_checks(summary))
    conforms(validate_chat_stream(events, include_usage=False), observe,
             "the asynchronous-filter stream")
    expect(summary.annotations, "the stream has no annotation-only chunk: this cassette is not "
           "an asynchronous-filter stream")
    same_chunks(chunks, summary, driver.sdk)
    annotations = [(c, w) for c, w in zip(chunks, summary.chunks, strict=True)
                   if is_azure(w) and w.get("choices")]
    # The doc's Python loop dereferences choices[0].delta, which the annotation chunks lack.
    observe("annotation_deltas", sorted({repr((c.get("choices") or [{}])[0].get("delta"))
                                         for c, _ in annotations}))
    for sdk_chunk, wire_chunk in annotations:
        choice = (sdk_chunk.get("choices") or [{}])[0]
        wire_choice = wire_chunk["choices"][0]
        for key in ("content_filter_results", "content_filter_offsets"):
            expect(choice.get(key) == wire_choice[key],
                   f"{key} of an annotation chunk did not survive {driver.sdk}'s parsing")
    text = observe("text", printed(outcome))
    wire_text = summary.choice(0).text
    expect(_guarded_text(chunks) == wire_text,
           f"the chunks with a delta carry {_guarded_text(chunks)!r}; the wire streamed "
           f"{wire_text!r}")
    expect(text == wire_text, f"{driver.sdk}'s loop printed {text!r}; the wire streamed "
           f"{wire_text!r}")


@check(
    "streaming.chat-async-filter-helper",
    doc=DOC,
    claim="The SDK's stream helper (client.chat.completions.stream(...), "
    "ChatCompletionAccumulator) reads an asynchronous-filter stream without raising: it skips "
    "the annotation-only chunks and gives exactly the wire's text, with finish_reason from the "
    "wire.",
    cassette=ASYNC_FILTER,
    refs=("sdk-behavior §2.8", "wire §8.3", "openai/openai-python#1677"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def chat_async_filter_helper(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = helper_run(wire, driver, ASYNC_FILTER, observe)
    _helper_read_the_wire(wire, driver, outcome, observe, done=False)  # not its claim


@check(
    "streaming.chat-async-filter-blocked",
    doc=DOC,
    claim="When asynchronous filtering blocks a completion late, the stream ends with an "
    "annotation chunk whose finish_reason is content_filter and which marks the offending "
    "category filtered, then [DONE]; the SDK's streaming loop yields that chunk last, so the "
    "caller sees finish_reason content_filter after the text already streamed (which is not "
    "retracted).",
    cassette=BLOCKED,
    refs=("wire §8.3, §6.3", "sdk-behavior §2.8"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def chat_async_filter_blocked(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome, chunks = chunks_of(wire, driver, BLOCKED)
    events = _events(wire)
    summary = summarize(events)
    wire_choice = summary.choice(0)
    observe("shape", _collapse(summary.kinds))
    conforms(validate_chat_stream(events, include_usage=False), observe,
             "the blocked stream")
    expect(wire_choice.blocked, "no annotation chunk blocks the completion: this cassette is not "
           "a blocked asynchronous-filter stream")
    same_chunks(chunks, summary, driver.sdk)
    last = (chunks[-1].get("choices") or [{}])[0]
    finish = observe("sdk_last_finish_reason", last.get("finish_reason"))
    expect(finish == "content_filter",
           f"{driver.sdk}'s last chunk has finish_reason {finish!r}, not 'content_filter'")
    filtered = sorted(k for k, v in (last.get("content_filter_results") or {}).items()
                      if isinstance(v, Mapping) and v.get("filtered"))
    observe("filtered_categories", filtered)
    expect(filtered, f"{driver.sdk}'s blocking chunk lost the filtered category")
    text = observe("text_before_block", printed(outcome))
    expect(text == wire_choice.text,
           f"{driver.sdk}'s loop printed {text!r}; the wire streamed {wire_choice.text!r}")


@check(
    "streaming.chat-helper-blocked",
    doc=DOC,
    claim="The SDK's stream helper (client.chat.completions.stream(...), "
    "ChatCompletionAccumulator) reads a late-blocked asynchronous-filter stream without raising "
    "and gives the text streamed before the block. (openai-python's helper drops the blocking "
    "annotation chunk, object '', so its final completion does not say content_filter: "
    "observed as final_finish_reason.)",
    cassette=BLOCKED,
    refs=("sdk-behavior §2.8", "wire §8.3"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def chat_helper_blocked(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = helper_run(wire, driver, BLOCKED, observe)
    wire_choice = summarize(_events(wire)).choice(0)
    text = observe("text", printed(outcome))
    observe("blocked_on_wire", wire_choice.blocked)
    observe("final_finish_reason", outcome.read.finish_reason)
    expect(text == wire_choice.text,
           f"{driver.sdk}'s helper deltas add up to {text!r}; the wire streamed "
           f"{wire_choice.text!r}")


# -- tool calls ------------------------------------------------------------------------------


def _fragments(chunks: list[Mapping[str, Any]], *, skip_azure: bool) -> list[tuple[Any, ...]]:
    fragments = []
    for chunk in chunks:
        if skip_azure and is_azure(chunk):
            continue
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta")
            for call in (delta.get("tool_calls") if isinstance(delta, Mapping) else None) or []:
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
    "chunks included), content null reaches the caller as no text, and the SDK's loop prints "
    "nothing.",
    cassette=TOOL_CALLS,
    refs=("wire §8.1, §8.4 #5, §5.1",),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def chat_tool_call_deltas(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome, chunks = chunks_of(wire, driver, TOOL_CALLS)
    events = _events(wire)
    summary = summarize(events)
    conforms(validate_chat_stream(events, include_usage=False), observe,
             "the tool-call stream")
    wire_calls = summary.choice(0).tool_calls
    observe("tool_calls", {str(i): {"id": c.id, "name": c.name, "arguments": c.arguments,
                                    "fragments": c.fragments} for i, c in wire_calls.items()})
    expect(wire_calls, "the stream has no tool-call fragment")
    same_chunks(chunks, summary, driver.sdk)
    sdk_fragments = _fragments(chunks, skip_azure=False)
    wire_fragments = _fragments(summary.chunks, skip_azure=True)
    expect(sdk_fragments == wire_fragments,
           f"{driver.sdk}'s tool-call fragments differ from the wire's:\nSDK  {sdk_fragments}\n"
           f"wire {wire_fragments}")
    finish = [c["choices"][0].get("finish_reason") for c in chunks
              if c.get("choices") and c["choices"][0].get("finish_reason") is not None]
    observe("sdk_finish_reasons", finish)
    expect(finish == ["tool_calls"], f"{driver.sdk}'s finish_reasons are {finish}, expected "
           "['tool_calls']")
    text = observe("doc_loop_printed", printed(outcome))
    wire_text = "".join(p for p in summary.choice(0).contents if p is not None)
    expect(text == wire_text,
           f"{driver.sdk}'s loop printed {text!r} for a stream that carried no text")


@check(
    "streaming.chat-helper-tool-calls",
    doc=DOC,
    claim="The SDK's stream helper (client.chat.completions.stream(...), "
    "ChatCompletionAccumulator) accumulates streamed tool calls per index into the wire's id, "
    "function name and arguments (a tool_calls.function.arguments.done event, where the helper "
    "has that event, and a final tool call each), with finish_reason tool_calls.",
    cassette=HELPER_TOOL_CALLS,
    refs=("wire §8.4 #5", "sdk-behavior §2.8"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def chat_helper_tool_calls(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = helper_run(wire, driver, HELPER_TOOL_CALLS, observe)
    events = _events(wire)
    summary = summarize(events)
    choice = final_choice(outcome)
    calls = (choice.get("message") or {}).get("tool_calls") or []
    final_calls = {n: (t.get("id"), (t.get("function") or {}).get("name"),
                       (t.get("function") or {}).get("arguments"))
                   for n, t in enumerate(calls)}
    observe("final_tool_calls", {str(k): list(v) for k, v in final_calls.items()})
    conforms([v for v in validate_chat_stream(events) if v.rule in TOOL_CALL_RULES],
             observe, "the tool-call fragments")
    wire_calls = {i: (c.id, c.name, c.arguments)
                  for i, c in summary.choice(0).tool_calls.items()}
    expect(final_calls == wire_calls, f"{driver.sdk}'s final completion's tool calls "
           f"{final_calls} differ from the wire's {wire_calls}")
    reported = outcome.read.tool_calls_done
    if reported is not None:  # a helper with tool_calls.function.arguments.done events
        done = {c.get("index"): (c.get("name"), c.get("arguments")) for c in reported}
        expect(done == {i: (n, a) for i, (_, n, a) in wire_calls.items()},
               f"tool_calls.function.arguments.done events {done} differ from the wire's "
               "calls")
    finish = outcome.read.finish_reason
    expect(finish == "tool_calls", f"final finish_reason {finish!r}, expected 'tool_calls'")
