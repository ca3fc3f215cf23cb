"""Responses streaming cassettes (cassettes/streaming/responses-*.yaml).

Nobody recorded a Responses stream from Azure. The base stream is the constructed reference
``responses-stream.azure.sse``, replayed byte for byte; the fault streams are cut from it and
renumbered, with the added events written here. The SSE helpers are shared with mcp.py.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.suites._requests import RESPONSES_STREAM_REQUEST
from conformance.wire import (
    Cassette,
    Interaction,
    encode_json,
    make_interaction,
    parse_events,
    split_events,
)

from .common import (
    BASE,
    CASSETTES,
    REQUEST_HEADERS,
    constructed,
    example,
    example_bytes,
    source,
)

STREAM_FILE = "responses-stream.azure.sse"
STREAM_HEADERS = {"content-type": "text/event-stream",
                  "apim-request-id": "00000000-0000-0000-0000-000000000000"}
HEADER_NOTE = ("response headers constructed: content-type text/event-stream (wire §12.1) and a "
               "zero-GUID apim-request-id")
_SEQUENCE = re.compile(rb'"sequence_number":\d+')
# The reference stream: events 0-11 run from response.created to the first text delta.
FIRST_DELTA = 11


def events(name: str) -> list[bytes]:
    """The events of a reference stream, each with its terminating blank line."""
    return split_events(example_bytes(name))


def event(payload: dict[str, Any], named: bool = True) -> bytes:
    """One SSE event in the reference framing (``event:`` line, compact JSON, blank line)."""
    return encode_json(payload, name=payload["type"] if named and "type" in payload else None)


def renumber(stream: list[bytes]) -> bytes:
    """Join events, rewriting each ``sequence_number`` to its position (0, 1, ...)."""
    out = []
    for n, raw in enumerate(stream):
        out.append(_SEQUENCE.sub(b'"sequence_number":%d' % n, raw, count=1))
    return b"".join(out)


def payload_of(raw: bytes) -> dict[str, Any]:
    [parsed] = parse_events(raw)
    value: dict[str, Any] = parsed.json()
    return value


def stream_interaction(request: dict[str, Any], body: bytes) -> Interaction:
    return make_interaction(
        method="POST",
        uri=f"{BASE}/responses",
        request_json=request,
        request_headers=REQUEST_HEADERS,
        status=200,
        response_headers=STREAM_HEADERS,
        body=body,
    )


def _request() -> dict[str, Any]:
    return {**RESPONSES_STREAM_REQUEST, "stream": True}


def _cassette(name: str, body: bytes, what: str, *sources: dict[str, str],
              **extra: Any) -> Cassette:
    return Cassette(
        CASSETTES / "streaming" / f"responses-{name}.yaml",
        [stream_interaction(_request(), body)],
        constructed(f"responses.create(stream=True) with the request of {STREAM_FILE}: {what}",
                    source("responses-stream.azure.request.json"), *sources,
                    headers=HEADER_NOTE, **extra),
    )


def _error_message() -> str:
    message: str = example("error-500-server-error.json")["body"]["error"]["message"]
    return message


def responses_unknown_events() -> Cassette:
    stream = events(STREAM_FILE)
    reasoning = payload_of(stream[3])  # reasoning_summary_part.added
    extra_reasoning = [
        # Names the Azure spec lists and openai-python does not (wire §12.2).
        event({"type": "response.reasoning_summary.delta", "sequence_number": 0,
               "item_id": reasoning["item_id"], "output_index": 0, "summary_index": 0,
               "delta": "Recall", "obfuscation": "xQ"}),
        event({"type": "response.reasoning_summary.done", "sequence_number": 0,
               "item_id": reasoning["item_id"], "output_index": 0, "summary_index": 0,
               "text": "Recall"}),
    ]
    made_up = event({"type": "response.conformance_unknown.event", "sequence_number": 0,
                     "note": "an event type no SDK knows", "payload": {"nested": [1, 2]}})
    body = renumber([*stream[:4], *extra_reasoning, *stream[4:12], made_up, *stream[12:]])
    return _cassette(
        "unknown-events", body,
        "the reference stream with three event types the SDK does not know inserted "
        "(response.reasoning_summary.delta/.done from the Azure spec, and a made-up one)",
        source(STREAM_FILE, "every event but the inserted ones is byte for byte the reference; "
               "sequence numbers renumbered"),
    )


def responses_error_event() -> Cassette:
    stream = events(STREAM_FILE)[: FIRST_DELTA + 1]
    error = event({"type": "error", "sequence_number": 0, "code": "server_error",
                   "message": _error_message(), "param": None})
    return _cassette(
        "error-event", renumber([*stream, error]),
        "the reference stream cut after its first text delta and ended by an error event",
        source(STREAM_FILE, "events 0-11 byte for byte"),
        source("error-500-server-error.json", "the error message"),
    )


def responses_error_payload() -> Cassette:
    stream = events(STREAM_FILE)[: FIRST_DELTA + 1]
    # The 500 error envelope sent as an unnamed event: a payload with a truthy `error` key.
    failure = event(example("error-500-server-error.json")["body"], named=False)
    return _cassette(
        "error-payload", renumber(stream) + failure,
        "the reference stream cut after its first text delta, then the JSON error envelope "
        "of a 500 as an event",
        source(STREAM_FILE, "events 0-11 byte for byte"),
        source("error-500-server-error.json", "the event's data is this body"),
        # The fault on purpose: an event without a type, and so no terminal event.
        violates=["responses-stream.event", "responses-stream.terminal"],
    )


def responses_failed() -> Cassette:
    stream = events(STREAM_FILE)
    prefix = stream[: FIRST_DELTA + 1]
    snapshot = payload_of(stream[0])["response"]
    reasoning = payload_of(stream[8])["item"]  # output_item.done of the reasoning item
    message = payload_of(stream[9])["item"]  # output_item.added of the message
    message = {**message, "content": [{"type": "output_text", "annotations": [],
                                       "logprobs": [], "text": "Paris"}]}
    failed = event({
        "type": "response.failed",
        "sequence_number": 0,
        "response": {**snapshot, "status": "failed", "output": [reasoning, message],
                     "error": {"code": "server_error", "message": _error_message()}},
    })
    return _cassette(
        "failed", renumber([*prefix, failed]),
        "the reference stream cut after its first text delta and ended by response.failed",
        source(STREAM_FILE, "events 0-11 byte for byte; the failed snapshot is built from its "
               "response.created snapshot and items"),
        source("error-500-server-error.json", "the error message"),
    )


# streaming/responses-events.yaml is a real recording (scripts/package_recordings.py).
BUILDERS = [
    responses_unknown_events,
    responses_error_event,
    responses_error_payload,
    responses_failed,
]
