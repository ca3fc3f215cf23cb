"""request-ids: the id of a request, as each SDK exposes it and as it crossed the wire.

The doc: "you can use the _request_id property which corresponds to the x-request-id response
header". Azure's own request id is ``apim-request-id`` (wire §3.2); the SDK never reads it
(wire §17 #18). Every check observes both headers, so a report shows what a support ticket
would need. Each runs on every SDK through its public accessor (docs/driver-protocol.md,
``read.request_id``): Python ``_request_id``, JavaScript ``_request_id`` and
``withResponse().request_id`` (each judged), Go ``option.WithResponseInto`` + ``x-request-id``,
Java ``requestId()``.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect
from conformance.sdk import require_capability

from ._requests import CHAT_REQUEST, STREAM_OPTIONS
from ._scenario import no_error, recorded, scenario

DOC = "Python / Request IDs"
X_REQUEST_ID = "x-request-id"
APIM_REQUEST_ID = "apim-request-id"


STREAM_SAMPLE = {"model": CHAT_REQUEST["model"], "messages": CHAT_REQUEST["messages"],
                 "stream": True, "stream_options": STREAM_OPTIONS}


def _create(wire: Wire, driver: Driver, observe: Observations) -> DriverOutcome:
    # request-ids/chat-completion.yaml is a real recording: its request is the recorded one.
    outcome = driver.run(scenario(wire, "chat.completions.create", recorded(wire, CHAT_REQUEST)))
    no_error(outcome, driver.sdk)
    if driver.sdk == "python" and outcome.read.request_id is None:
        # Observed before the release table speaks: an SDK whose object carries the id has
        # the accessor whatever its version; _request_id first ships in openai 1.46.
        observe("sdk_request_id", None)
        require_capability("request_id")
    return outcome


def _observe_headers(wire: Wire, observe: Observations) -> tuple[str | None, str | None]:
    reply = wire.reply()
    x_request_id = observe("x_request_id", reply.header(X_REQUEST_ID))
    apim_request_id = observe("apim_request_id", reply.header(APIM_REQUEST_ID))
    return x_request_id, apim_request_id


def _accessors(outcome: DriverOutcome, observe: Observations) -> dict[str, Any]:
    """Each public request-id accessor the SDK has on a result, by name: the one every SDK
    has (``read.request_id``) and JavaScript's second, ``withResponse().request_id``."""
    found = {"request_id": observe("sdk_request_id", outcome.read.request_id)}
    if outcome.read.has("response_request_id"):
        found["withResponse().request_id"] = observe(
            "sdk_response_request_id", outcome.read.response_request_id)
    return found


@check(
    "request-ids.parsed-object",
    doc=DOC,
    claim="The request id on the object chat.completions.create returns (Python and "
    "JavaScript _request_id, JavaScript also withResponse().request_id, Go's response "
    "header, Java requestId()) is the x-request-id response header, not Azure's "
    "apim-request-id.",
    cassette="request-ids/chat-completion.yaml",
    refs=("sdk-behavior §2.6, §8 #8", "wire §3.2, §17 #18", "docs/driver-protocol.md (read)"),
    sdks=ALL_SDKS,
)
def parsed_object(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = _create(wire, driver, observe)
    observe("result_id", (outcome.result or {}).get("id"))
    x_request_id, apim_request_id = _observe_headers(wire, observe)
    expect(x_request_id is not None,
           "the response carries no x-request-id header, so the request id accessor cannot "
           "hold it (the doc's print(completion._request_id) prints None)")
    for name, got in _accessors(outcome, observe).items():
        expect(got == x_request_id,
               f"{driver.sdk}'s {name} is {got!r}; the x-request-id header was "
               f"{x_request_id!r}" + (" (that is apim-request-id)"
                                      if got is not None and got == apim_request_id else ""))


@check(
    "request-ids.stream-response-header",
    doc=DOC,
    claim="For a streamed completion the request id is on the stream's HTTP response (Python "
    "stream.response.headers['x-request-id'], JavaScript withResponse().request_id, Go's "
    "response header, Java requestId()): the header on the wire; a chunk that carries a "
    "_request_id (openai-python) carries that value.",
    cassette="request-ids/chat-stream.yaml",
    refs=("sdk-behavior §2.6", "wire §3.2, §8.1"),
    sdks=ALL_SDKS,
)
def stream_response_header(wire: Wire, driver: Driver, observe: Observations) -> None:
    # A release without the stream_options keyword sends the recorded one through extra_body
    # (sdk.call_sdk): the same wire, and its stream's request id still judged.
    params = recorded(wire, STREAM_SAMPLE)
    outcome = driver.run(scenario(wire, "chat.completions.stream", params))
    no_error(outcome, driver.sdk)
    x_request_id, _ = _observe_headers(wire, observe)
    from_stream = observe("sdk_stream_request_id", outcome.request_id)
    on_chunks = observe("chunk_request_ids", outcome.chunk_request_ids)
    expect(x_request_id is not None, "the streamed response carries no x-request-id header")
    expect(from_stream == x_request_id,
           f"{driver.sdk}'s stream request id is {from_stream!r}; the wire had "
           f"{x_request_id!r}")
    expect(on_chunks in ([], [x_request_id]),
           f"chunks carry _request_id {on_chunks}, not the x-request-id {x_request_id!r}")


@check(
    "request-ids.not-from-apim",
    doc=DOC,
    claim="The request id comes from x-request-id only: when the response carries Azure's "
    "apim-request-id and no x-request-id, every request-id accessor is empty (the SDK does "
    "not fall back to apim-request-id; Azure's id stays reachable only through the raw "
    "response headers).",
    cassette="request-ids/apim-only.yaml",
    refs=("wire §3.2, §17 #18", "sdk-behavior §2.6"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def not_from_apim(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = _create(wire, driver, observe)
    x_request_id, apim_request_id = _observe_headers(wire, observe)
    if x_request_id is not None or apim_request_id is None:
        pytest.skip("needs a response with apim-request-id and no x-request-id; this one has "
                    f"x-request-id {x_request_id!r}, apim-request-id {apim_request_id!r}")
    for name, got in _accessors(outcome, observe).items():
        expect(got is None,
               f"{driver.sdk}'s {name} is {got!r} although the response has no x-request-id"
               + (": the SDK took apim-request-id" if got == apim_request_id else ""))
