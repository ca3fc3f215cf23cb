"""streaming (Responses): responses.create(stream=True), its events and its failures.

The chat streaming checks live in ``streaming.py``; these share the feature and the
``streaming.responses-*`` ids. Every check here also holds when the recorded stream is cut at
arbitrary byte offsets (``--sse-chunking random:SEED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.contract import responses as response_contract
from conformance.contract.responses_stream import payloads, validate_responses_stream
from conformance.harness import Wire
from conformance.registry import Observations, check, expect, fail
from conformance.sdk import Sdk, require_capability

from ._judge import conforms
from ._recorded import call_sdk, request_params
from ._requests import RESPONSES_STREAM_REQUEST
from ._responses import wire_events

SCALARS = (str, int, float, bool, type(None))


def _stream(sdk: Sdk, wire: Wire) -> Any:
    """responses.create(stream=True): the recorded request for a real recording
    (responses-events), else the doc's sample."""
    require_capability("responses_streaming")
    request = request_params(wire, {**RESPONSES_STREAM_REQUEST, "stream": True})
    return call_sdk(sdk.client().responses.create, request)


def _valid_stream(wire: Wire, observe: Observations) -> list[Mapping[str, Any]]:
    events = wire_events(wire)
    violations = validate_responses_stream(events)
    observe("wire_event_types", [p["type"] for p in payloads(events)])
    conforms(violations, observe, "the stream")
    return payloads(events)


def _same_events(events: list[Any], wire: list[Mapping[str, Any]]) -> None:
    """The SDK yielded one event per wire event, in order, with its type and number."""
    expect(len(events) == len(wire),
           f"the SDK yielded {len(events)} events for {len(wire)} on the wire")
    for n, (event, payload) in enumerate(zip(events, wire, strict=True)):
        expect(getattr(event, "type", None) == payload["type"],
               f"event {n}: the SDK yielded type {getattr(event, 'type', None)!r} for "
               f"{payload['type']!r}")
        expect(getattr(event, "sequence_number", None) == payload.get("sequence_number"),
               f"event {n} ({payload['type']}): the SDK's sequence_number differs from the wire")


@check(
    "streaming.responses-event-contract",
    doc="Python / Responses API; JavaScript / Streaming (responses.create with stream: true)",
    claim="A Responses stream honours the event contract (response.created first, sequence "
    "numbers 0..N, items and parts bracketed, .done texts equal to their deltas, one terminal "
    "event, completed output equal to the finished items) and the SDK yields every event, in "
    "order, with its type and sequence number.",
    cassette="streaming/responses-events.yaml",
    refs=("wire §12.1, §12.2, §12.3", "sdk-behavior §2.8"),
)
def event_contract(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    events = list(_stream(sdk, wire))
    wire_payloads = _valid_stream(wire, observe)
    _same_events(events, wire_payloads)
    completed = events[-1]
    expected = response_contract.output_text(wire_payloads[-1]["response"])
    expect(completed.response.output_text == expected,
           f"the completed response's output_text {completed.response.output_text!r} != "
           f"{expected!r} on the wire")


@check(
    "streaming.responses-sample-handling",
    doc=".NET / Streaming (StreamingResponseOutputItemAddedUpdate with a ReasoningResponseItem "
    "-> its status; StreamingResponseOutputTextDeltaUpdate -> the delta); JavaScript / "
    "Streaming (event.type === 'response.output_text.delta' -> write event.delta)",
    claim="Handling the stream as the doc's samples do works through the SDK: output_item.added "
    "events carry the reasoning item (with its status), and the output_text.delta deltas, "
    "printed in order, are the final answer.",
    cassette="streaming/responses-events.yaml",
    refs=("wire §12.2, §12.3, §10.2",),
)
def sample_handling(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    events = list(_stream(sdk, wire))
    wire_payloads = _valid_stream(wire, observe)  # first: the loop below trusts the shapes
    printed: list[str] = []
    reasoning_status: list[Any] = []
    for event in events:  # the samples' loop
        if event.type == "response.output_item.added" and event.item.type == "reasoning":
            reasoning_status.append(getattr(event.item, "status", None))
        elif event.type == "response.output_text.delta" and event.delta:
            printed.append(event.delta)
    added = [p["item"] for p in wire_payloads if p["type"] == "response.output_item.added"]
    expected_status = [item.get("status") for item in added if item.get("type") == "reasoning"]
    answer = response_contract.output_text(wire_payloads[-1]["response"])
    observe("reasoning_status", reasoning_status)
    observe("printed", "".join(printed))
    expect(expected_status, "the stream has no reasoning item to report (the sample expects one)")
    expect(reasoning_status == expected_status,
           f"the SDK reported reasoning items with status {reasoning_status}, the wire "
           f"{expected_status}")
    expect("".join(printed) == answer,
           f"the printed deltas {''.join(printed)!r} are not the final answer {answer!r}")


@check(
    "streaming.responses-unknown-events",
    doc="JavaScript / Streaming (the loop acts on the event types it knows and skips others)",
    claim="Event types the SDK does not know (names from Azure's spec revision, or new ones) "
    "are yielded with their type and fields intact, without raising, and the events after "
    "them are handled as usual.",
    cassette="streaming/responses-unknown-events.yaml",
    refs=("wire §12.2 (tolerate unknown reasoning event names), §13.4", "sdk-behavior §2.8"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def unknown_events(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    events = list(_stream(sdk, wire))
    wire_payloads = _valid_stream(wire, observe)
    _same_events(events, wire_payloads)
    kept = 0
    for n, (event, payload) in enumerate(zip(events, wire_payloads, strict=True)):
        for name, value in payload.items():
            if isinstance(value, SCALARS):
                kept += 1
                expect(getattr(event, name, None) == value,
                       f"event {n} ({payload['type']}): the SDK changed or dropped {name} "
                       f"({value!r} on the wire, {getattr(event, name, None)!r} yielded)")
    observe("scalar_fields_compared", kept)
    printed = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    answer = response_contract.output_text(wire_payloads[-1]["response"])
    expect(printed == answer, f"after the unknown events the deltas printed {printed!r}, not "
           f"{answer!r}")
    expect(events[-1].response.output_text == answer,
           "after the unknown events the completed response's output_text is wrong")


@check(
    "streaming.responses-error-event",
    doc="Python / Error handling (the SDK surfaces service errors); JavaScript / Streaming",
    claim="An error event mid-stream (type 'error' with top-level code, message and param, no "
    "error key) is yielded as the stream's last event, a typed error event carrying that code "
    "and message; the SDK raises nothing and the deltas before it were delivered.",
    cassette="streaming/responses-error-event.yaml",
    refs=("wire §12.2, §12.4", "sdk-behavior §2.8 (an `event: error` without an error key is "
          "yielded)"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def error_event(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("responses_streaming")
    require_capability("responses_error_event")
    events = list(_stream(sdk, wire))
    wire_payloads = _valid_stream(wire, observe)
    _same_events(events, wire_payloads)
    error, last = wire_payloads[-1], events[-1]
    observe("sdk_event_class", type(last).__name__)
    expect(last.type == "error", f"the last event yielded is {last.type!r}, not the error")
    expect((last.code, last.message, last.param)
           == (error["code"], error["message"], error["param"]),
           "the yielded error event does not carry the wire's code, message and param")
    printed = [e.delta for e in events if e.type == "response.output_text.delta"]
    observe("deltas_before_error", printed)
    expect(printed, "no text delta was delivered before the error")


@check(
    "streaming.responses-error-payload",
    doc="Python / Error handling (openai.APIError family)",
    claim="An event whose JSON has a truthy error key makes the SDK raise openai.APIError "
    "(not an APIStatusError: the HTTP status was 200) with the error's message and the error "
    "object as body, after yielding the events before it.",
    cassette="streaming/responses-error-payload.yaml",
    refs=("sdk-behavior §2.8 (any JSON payload with a truthy error key raises APIError)",
          "wire §12.4"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def error_payload(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    import openai

    received: list[Any] = []
    try:
        for event in _stream(sdk, wire):
            received.append(event)
    except openai.APIStatusError as exc:
        fail(f"the SDK raised {type(exc).__name__} (status {exc.status_code}) for an error "
             "inside a 200 stream; sdk-behavior §2.8 says APIError without a status")
    except openai.APIError as exc:
        wire_payloads = payloads(wire_events(wire))
        at = next((n for n, p in enumerate(wire_payloads) if p.get("error")), None)
        observe("exception", type(exc).__name__)
        observe("events_before", len(received))
        if at is None:
            fail(f"the SDK raised {type(exc).__name__} ({exc.message}) but no event on the "
                 "wire has an error key")
        error = wire_payloads[at]["error"]
        message = error.get("message") if isinstance(error, Mapping) else None
        expect(exc.message == (message or "An error occurred during streaming"),
               f"APIError.message {exc.message!r} is not the error's message")
        expect(exc.body == error, "APIError.body is not the error object of the event")
        expect([e.type for e in received] == [p.get("type") for p in wire_payloads[:at]],
               "the events before the error payload were not all yielded")
    else:
        fail(f"the SDK yielded {len(received)} events and raised nothing for an event with a "
             "truthy error key")


@check(
    "streaming.responses-failed",
    doc="Python / Error handling; .NET / Streaming (the update loop ends at the terminal "
    "update)",
    claim="A stream that ends with response.failed is yielded to its end without raising; the "
    "failed event's response has status 'failed' and carries the wire's error code and "
    "message.",
    cassette="streaming/responses-failed.yaml",
    refs=("wire §12.2 (response.failed: terminal, response.error set), §12.4",),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def failed(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    events = list(_stream(sdk, wire))
    wire_payloads = _valid_stream(wire, observe)
    _same_events(events, wire_payloads)
    last, error = events[-1], wire_payloads[-1]["response"]["error"]
    observe("error_code", error["code"])
    expect(last.type == "response.failed", f"the last event yielded is {last.type!r}")
    expect(last.response.status == "failed", f"the failed response has status "
           f"{last.response.status!r}")
    expect(last.response.error is not None
           and (last.response.error.code, last.response.error.message)
           == (error["code"], error["message"]),
           "the failed response does not carry the wire's error code and message")
