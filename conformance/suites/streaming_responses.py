"""streaming (Responses): responses.create(stream=True), its events and its failures.

The chat streaming checks live in ``streaming.py``; these share the feature and the
``streaming.responses-*`` ids. Every check runs on every SDK (the ``driver`` fixture performs
``responses.stream``: the SDK's streaming loop, as JavaScript's sample writes it, ``for await``
with ``if (event.type === 'response.output_text.delta' && event.delta)``), and judges the events
the SDK yielded, the text that loop printed and what it raised. Every check here also holds
when the recorded stream is cut at arbitrary byte offsets (``--sse-chunking random:SEED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.contract import responses as response_contract
from conformance.contract.responses_stream import payloads, validate_responses_stream
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect, fail
from conformance.sdk import require_capability

from ._judge import conforms
from ._recorded import request_params
from ._requests import RESPONSES_STREAM_REQUEST
from ._responses import wire_events
from ._scenario import no_error, scenario
from .streaming_hostile import known_misreading

SCALARS = (str, int, float, bool, type(None))
DOC = "Python / Responses API; JavaScript / Streaming (responses.create with stream: true)"


def _stream(wire: Wire, driver: Driver) -> DriverOutcome:
    """The SDK's streaming loop over responses.create(stream=True): the recorded request for
    a real recording (responses-events), else the doc's sample."""
    if driver.sdk == "python":
        require_capability("responses_streaming")
    request = request_params(wire, {**RESPONSES_STREAM_REQUEST, "stream": True})
    return driver.run(scenario(wire, "responses.stream", request))


def _events(wire: Wire, driver: Driver) -> tuple[DriverOutcome, list[Mapping[str, Any]]]:
    """The outcome of a stream read to its end without raising, and the events yielded."""
    outcome = _stream(wire, driver)
    no_error(outcome, driver.sdk)
    return outcome, list(outcome.events)


def _valid_stream(wire: Wire, observe: Observations) -> list[Mapping[str, Any]]:
    events = wire_events(wire)
    violations = validate_responses_stream(events)
    observe("wire_event_types", [p["type"] for p in payloads(events)])
    conforms(violations, observe, "the stream")
    return payloads(events)


def _same_events(events: list[Mapping[str, Any]], wire: list[Mapping[str, Any]],
                 sdk: str) -> None:
    """The SDK yielded one event per wire event, in order, with its type and number."""
    expect(len(events) == len(wire),
           f"{sdk} yielded {len(events)} events for {len(wire)} on the wire")
    for n, (event, payload) in enumerate(zip(events, wire, strict=True)):
        expect(event.get("type") == payload["type"],
               f"event {n}: {sdk} yielded type {event.get('type')!r} for {payload['type']!r}")
        expect(event.get("sequence_number") == payload.get("sequence_number"),
               f"event {n} ({payload['type']}): {sdk}'s sequence_number differs from the wire")


def _first_difference(yielded: list[Any], sent: list[Any]) -> str:
    for n, (got, wanted) in enumerate(zip(yielded, sent, strict=False)):
        if got != wanted:
            return f"event {n} is {got!r}, the server sent {wanted!r}"
    n = min(len(yielded), len(sent))
    got, wanted = (yielded[n:] or [None])[0], (sent[n:] or [None])[0]
    return f"event {n} is {got!r}, the server sent {wanted!r}"


def _printed(outcome: DriverOutcome) -> str:
    text = outcome.read.text
    return text if isinstance(text, str) else ""


@check(
    "streaming.responses-event-contract",
    doc=DOC,
    claim="A Responses stream honours the event contract (response.created first, sequence "
    "numbers 0..N, items and parts bracketed, .done texts equal to their deltas, one terminal "
    "event, completed output equal to the finished items) and the SDK yields every event, in "
    "order, with its type and sequence number, the completed response carrying the output "
    "text.",
    cassette="streaming/responses-events.yaml",
    refs=("wire §12.1, §12.2, §12.3", "sdk-behavior §2.8"),
    sdks=ALL_SDKS,
)
def event_contract(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, events = _events(wire, driver)
    wire_payloads = _valid_stream(wire, observe)
    _same_events(events, wire_payloads, driver.sdk)
    expected = response_contract.output_text(wire_payloads[-1]["response"])
    got = response_contract.output_text(events[-1].get("response") or {})
    expect(got == expected, f"{driver.sdk}'s completed response's output text {got!r} != "
           f"{expected!r} on the wire")


@check(
    "streaming.responses-sample-handling",
    doc=".NET / Streaming (StreamingResponseOutputItemAddedUpdate with a ReasoningResponseItem "
    "-> its status; StreamingResponseOutputTextDeltaUpdate -> the delta); JavaScript / "
    "Streaming (event.type === 'response.output_text.delta' -> write event.delta)",
    claim="Handling the stream as the doc's samples do works through each SDK: its loop yields "
    "every typed event the server sent, in order, from response.created to response.completed; "
    "output_item.added events carry the reasoning item (with its status), and the "
    "output_text.delta deltas the loop prints (through the SDK's typed delta accessor), in "
    "order, are the final answer.",
    cassette="streaming/responses-events.yaml",
    refs=("wire §12.2, §12.3, §10.2",),
    sdks=ALL_SDKS,
)
def sample_handling(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome, events = _events(wire, driver)
    yielded = observe("event_types", [e.get("type") for e in events])
    wire_payloads = _valid_stream(wire, observe)  # first: the loop below trusts the shapes
    sent = [p.get("type") for p in wire_payloads]
    reasoning_status = [
        (e.get("item") or {}).get("status") for e in events
        if e.get("type") == "response.output_item.added"
        and (e.get("item") or {}).get("type") == "reasoning"]
    added = [p["item"] for p in wire_payloads if p["type"] == "response.output_item.added"]
    expected_status = [item.get("status") for item in added if item.get("type") == "reasoning"]
    answer = response_contract.output_text(wire_payloads[-1]["response"])
    deltas = "".join(p.get("delta") or "" for p in wire_payloads
                     if p.get("type") == "response.output_text.delta")
    printed = _printed(outcome)
    observe("reasoning_status", reasoning_status)
    observe("printed", printed)
    expect(expected_status, "the stream has no reasoning item to report (the sample expects one)")
    expect(reasoning_status == expected_status,
           f"{driver.sdk} reported reasoning items with status {reasoning_status}, the wire "
           f"{expected_status}")
    expect(printed == answer,
           f"the printed deltas {printed!r} are not the final answer {answer!r}")
    expect(printed == deltas, f"the text {driver.sdk}'s streaming loop prints is {printed!r}, "
           f"the server streamed {deltas!r}")
    expect(yielded == sent, f"{driver.sdk} yielded {len(yielded)} events, the server sent "
           f"{len(sent)}; the first difference: {_first_difference(yielded, sent)}")


@check(
    "streaming.responses-unknown-events",
    doc="JavaScript / Streaming (the loop acts on the event types it knows and skips others)",
    claim="Event types the SDK does not know (names from Azure's spec revision, or new ones) "
    "are yielded with their type and fields intact, without raising, and the events after "
    "them are handled as usual.",
    cassette="streaming/responses-unknown-events.yaml",
    refs=("wire §12.2 (tolerate unknown reasoning event names), §13.4", "sdk-behavior §2.8"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def unknown_events(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome, events = _events(wire, driver)
    wire_payloads = _valid_stream(wire, observe)
    _same_events(events, wire_payloads, driver.sdk)
    kept = 0
    for n, (event, payload) in enumerate(zip(events, wire_payloads, strict=True)):
        for name, value in payload.items():
            if isinstance(value, SCALARS):
                kept += 1
                expect(event.get(name) == value,
                       f"event {n} ({payload['type']}): {driver.sdk} changed or dropped {name} "
                       f"({value!r} on the wire, {event.get(name)!r} yielded)")
    observe("scalar_fields_compared", kept)
    printed = _printed(outcome)
    answer = response_contract.output_text(wire_payloads[-1]["response"])
    expect(printed == answer, f"after the unknown events the deltas printed {printed!r}, not "
           f"{answer!r}")
    expect(response_contract.output_text(events[-1].get("response") or {}) == answer,
           "after the unknown events the completed response's output_text is wrong")


@check(
    "streaming.responses-error-event",
    doc="Python / Error handling (the SDK surfaces service errors); JavaScript / Streaming",
    claim="An error event mid-stream (type 'error' with top-level code, message and param, no "
    "error key) reaches user code with that code and message after the deltas before it: "
    "openai-python yields it as the stream's last event, a typed error event, and raises "
    "nothing; another SDK yields it so or raises its stream error carrying them.",
    cassette="streaming/responses-error-event.yaml",
    refs=("wire §12.2, §12.4", "sdk-behavior §2.8 (an `event: error` without an error key is "
          "yielded)"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def error_event(wire: Wire, driver: Driver, observe: Observations) -> None:
    # Run on every openai-python release with Responses streams; one that misreads the error
    # event (before 1.97.2: wrapped as {data, event}) is observed, then unsupported.
    with known_misreading(driver.sdk, "responses_error_event", observe):
        _error_event(wire, driver, observe)


def _error_event(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = _stream(wire, driver)
    events = outcome.events
    wire_payloads = _valid_stream(wire, observe)
    error_payload = wire_payloads[-1]
    raised = outcome.error
    printed = outcome.read.deltas or []
    observe("deltas_before_error", printed)
    if raised is None:
        observe("surfaced_as", "event")
        last = events[-1] if events else {}
        observe("last_event", {k: last.get(k) for k in ("type", "code", "message", "param")})
        _same_events(events, wire_payloads, driver.sdk)
        expect(last.get("type") == "error",
               f"the last event {driver.sdk} yielded is {last.get('type')!r}, not the error")
        expect((last.get("code"), last.get("message"), last.get("param"))
               == (error_payload["code"], error_payload["message"], error_payload["param"]),
               f"the error event {driver.sdk} yielded does not carry the wire's code, message "
               "and param")
    else:
        observe("surfaced_as", "raised")
        observe("error", {"kind": raised.kind, "class": raised.class_name, "code": raised.code,
                          "message": raised.message})
        expect(driver.sdk != "python",
               f"python raised {raised.class_name} ({raised.message}) for an error "
               "event: sdk-behavior §2.8 says it is yielded")
        expect(raised.kind == "stream",
               f"{driver.sdk} raised a {raised.kind} error, not its stream error")
        expect(str(error_payload["message"]) in str(raised.message),
               f"{driver.sdk}'s stream error says {raised.message!r}, not the "
               f"error's message {error_payload['message']!r}")
        expect(raised.code in (None, error_payload["code"]),
               f"{driver.sdk}'s stream error has code {raised.code!r}, the event "
               f"{error_payload['code']!r}")
        expect([e.get("type") for e in events] == [p["type"] for p in wire_payloads[:-1]],
               f"the events before the error were not all yielded by {driver.sdk}")
    expect(printed, "no text delta was delivered before the error")


@check(
    "streaming.responses-error-payload",
    doc="Python / Error handling (openai.APIError family)",
    claim="An event whose JSON has a truthy error key makes the SDK raise its stream error "
    "(openai-python: openai.APIError, not an APIStatusError: the HTTP status was 200; with the "
    "error object as body) carrying the error's message, after yielding the events before it.",
    cassette="streaming/responses-error-payload.yaml",
    refs=("sdk-behavior §2.8 (any JSON payload with a truthy error key raises APIError)",
          "wire §12.4"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def error_payload(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = _stream(wire, driver)
    received = outcome.events
    error = outcome.error
    if error is None:
        fail(f"{driver.sdk} yielded {len(received)} events and raised nothing for an event "
             "with a truthy error key")
    status = error.status
    if error.kind == "status" or (isinstance(status, int) and status >= 400):
        fail(f"{driver.sdk} raised {error.class_name} (status {status}) for an error inside "
             "a 200 stream; sdk-behavior §2.8 says a stream error without an error status")
    wire_payloads = payloads(wire_events(wire))
    at = next((n for n, p in enumerate(wire_payloads) if p.get("error")), None)
    message = str(error.message)
    observe("exception", error.class_name)
    observe("kind", error.kind)
    observe("events_before", len(received))
    if at is None:
        fail(f"{driver.sdk} raised {error.class_name} ({message}) but no event on the wire "
             "has an error key")
    wire_error = wire_payloads[at]["error"]
    said = wire_error.get("message") if isinstance(wire_error, Mapping) else None
    expect([e.get("type") for e in received] == [p.get("type") for p in wire_payloads[:at]],
           f"the events before the error payload were not all yielded by {driver.sdk}")
    if driver.sdk == "python":
        expect(error.class_name == "APIError" or "APIError" in (error.bases or []),
               f"python raised {error.class_name}, not an openai.APIError")
        expect(message == (said or "An error occurred during streaming"),
               f"APIError.message {message!r} is not the error's message")
        expect(outcome.error_body == wire_error,
               "APIError.body is not the error object of the event")
    else:
        expect(said is None or said in message,
               f"{driver.sdk}'s stream error says {message!r}, not the error's message "
               f"{said!r}")


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
    sdks=ALL_SDKS,
)
def failed(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, events = _events(wire, driver)
    wire_payloads = _valid_stream(wire, observe)
    _same_events(events, wire_payloads, driver.sdk)
    last, error = events[-1], wire_payloads[-1]["response"]["error"]
    observe("error_code", error["code"])
    response = last.get("response") or {}
    sdk_error = response.get("error") or {}
    expect(last.get("type") == "response.failed",
           f"the last event {driver.sdk} yielded is {last.get('type')!r}")
    expect(response.get("status") == "failed",
           f"the failed response has status {response.get('status')!r}")
    expect((sdk_error.get("code"), sdk_error.get("message")) == (error["code"], error["message"]),
           f"the failed response {driver.sdk} yielded does not carry the wire's error code and "
           "message")
