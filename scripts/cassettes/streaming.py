"""Chat streaming cassettes: Azure's asynchronous filter modes, and tool calls.

The two text streams are the reference ``.sse`` files byte for byte. The tool-call stream is
built here: its first event is the buffered stream's prompt-annotation chunk (copied bytes),
the rest follows the delta schema of wire §8.1 and the accumulation rules of §8.4 #5.
"""

from __future__ import annotations

from typing import Any

from conformance.suites._requests import (
    ASYNC_FILTER_MESSAGES,
    BLOCKED_MESSAGES,
    DEPLOYMENT,
    TOOL_MESSAGES,
    TOOLS,
)
from conformance.wire import Cassette, Interaction, encode_json, make_interaction, split_events
from conformance.wire.sse import DONE_EVENT

from .common import BASE, CASSETTES, REQUEST_HEADERS, constructed, example_bytes, source

STREAM_HEADERS = {"content-type": "text/event-stream"}
HEADER_NOTE = ("response headers constructed: content-type text/event-stream (wire §3.2, §8.1) "
               "and a zero-GUID apim-request-id")


def stream_request(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The doc's streaming sample: deployment as model, the messages, stream=True."""
    return {"model": DEPLOYMENT, "messages": messages, "stream": True, **extra}


def stream_reply(request: dict[str, Any], body: bytes, apim_request_id: str,
                 **headers: str) -> Interaction:
    return make_interaction(
        method="POST",
        uri=f"{BASE}/chat/completions",
        request_json=request,
        request_headers=REQUEST_HEADERS,
        status=200,
        response_headers={**STREAM_HEADERS, "apim-request-id": apim_request_id, **headers},
        body=body,
    )


def _cassette(name: str, request: dict[str, Any], body_file: str, apim: str, what: str,
              note: str) -> Cassette:
    return Cassette(
        CASSETTES / "streaming" / f"{name}.yaml",
        [stream_reply(request, example_bytes(body_file), apim)],
        constructed(what, source(body_file, note), headers=HEADER_NOTE),
    )


def chat_async_filter() -> Cassette:
    return _cassette(
        "chat-async-filter", stream_request(ASYNC_FILTER_MESSAGES),
        "chat-stream-async-filter.azure.sse", "00000000-0000-0000-0000-000000000012",
        "the doc's streaming sample (stream=True) against a deployment in asynchronous filter "
        "mode",
        "annotation-only chunks interleaved, one after finish_reason; bytes unchanged",
    )


def chat_async_filter_blocked() -> Cassette:
    return _cassette(
        "chat-async-filter-blocked", stream_request(BLOCKED_MESSAGES),
        "chat-stream-async-filter-blocked.azure.sse", "00000000-0000-0000-0000-000000000013",
        "the doc's streaming sample (stream=True), asynchronous filter mode, completion blocked "
        "late",
        "final annotation chunk has finish_reason content_filter; bytes unchanged",
    )


TOOL_STREAM_ID = "chatcmpl-CONSTRUCTED0000000000000004"
CREATED = 1761000000


def _chunk(delta: dict[str, Any], finish_reason: str | None = None,
           **choice: Any) -> dict[str, Any]:
    return {
        "choices": [{**choice, "delta": delta, "finish_reason": finish_reason, "index": 0,
                     "logprobs": None}],
        "created": CREATED,
        "id": TOOL_STREAM_ID,
        "model": "gpt-4o-2024-11-20",
        "object": "chat.completion.chunk",
        "system_fingerprint": "fp_constructed01",
        "usage": None,
    }


def _fragment(index: int, arguments: str, call_id: str | None = None) -> dict[str, Any]:
    if call_id is None:
        return {"tool_calls": [{"index": index, "function": {"arguments": arguments}}]}
    return {"tool_calls": [{"index": index, "id": call_id, "type": "function",
                            "function": {"name": "get_weather", "arguments": arguments}}]}


def tool_call_stream() -> bytes:
    """Two parallel get_weather calls, arguments split mid-token and inside "Zürich"."""
    first = split_events(example_bytes("chat-stream.azure.sse"))[0]
    chunks = [
        _chunk({"content": None, "refusal": None, "role": "assistant"},
               content_filter_results={}),
        _chunk(_fragment(0, "", "call_CONSTRUCTED0000000000000001")),
        _chunk(_fragment(0, '{"ci')),
        _chunk(_fragment(0, 'ty": "Zü')),
        _chunk(_fragment(0, 'rich"}')),
        _chunk(_fragment(1, "", "call_CONSTRUCTED0000000000000002")),
        _chunk(_fragment(1, '{"city": ')),
        _chunk(_fragment(1, '"Paris"}')),
        _chunk({}, "tool_calls"),
    ]
    events = [first]
    events.extend(encode_json(c, sort_keys=True, ensure_ascii=False) for c in chunks)
    events.append(DONE_EVENT)
    return b"".join(events)


def chat_tool_calls() -> Cassette:
    return Cassette(
        CASSETTES / "streaming" / "chat-tool-calls.yaml",
        [stream_reply(stream_request(TOOL_MESSAGES, tools=TOOLS), tool_call_stream(),
                      "00000000-0000-0000-0000-000000000014")],
        constructed(
            "chat.completions.create(stream=True) with one function tool, answered by two "
            "parallel tool calls",
            source("chat-stream.azure.sse", "first event (prompt-annotation chunk) copied "
                   "byte for byte; chunk envelope (id, model, system_fingerprint, usage: null) "
                   "follows its shape"),
            deltas="built by scripts/cassettes/streaming.py from wire §8.1 (delta.tool_calls: "
            "index, id?, type?, function {name?, arguments?}) and §8.4 #5 (id/name on the first "
            "fragment only, arguments accumulate per index); nobody recorded these bytes",
            headers=HEADER_NOTE,
        ),
    )


# streaming/chat-buffered.yaml is a real recording (scripts/package_recordings.py).
BUILDERS = [chat_async_filter, chat_async_filter_blocked, chat_tool_calls]
