"""request-ids: the id of a request, as the SDK exposes it and as it crossed the wire.

The doc: "you can use the _request_id property which corresponds to the x-request-id response
header". Azure's own request id is ``apim-request-id`` (wire §3.2); the SDK never reads it
(wire §17 #18). Every check observes both headers, so a report shows what a support ticket
would need.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Wire
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk, require_capability

from ._observe import observe_result
from ._recorded import call_sdk, request_params
from ._requests import CHAT_MESSAGES, DEPLOYMENT, STREAM_OPTIONS

DOC = "Python / Request IDs"
X_REQUEST_ID = "x-request-id"
APIM_REQUEST_ID = "apim-request-id"


SAMPLE = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "max_tokens": 100}
STREAM_SAMPLE = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "stream": True,
                 "stream_options": STREAM_OPTIONS}


def _create(sdk: Sdk, wire: Wire) -> Any:
    # request-ids/chat-completion.yaml is a real recording: its request is the recorded one.
    return call_sdk(sdk.client().chat.completions.create, request_params(wire, SAMPLE))


def _observe_headers(wire: Wire, observe: Observations) -> tuple[str | None, str | None]:
    reply = wire.reply()
    x_request_id = observe("x_request_id", reply.header(X_REQUEST_ID))
    apim_request_id = observe("apim_request_id", reply.header(APIM_REQUEST_ID))
    return x_request_id, apim_request_id


@check(
    "request-ids.parsed-object",
    doc=DOC,
    claim="completion._request_id on the object chat.completions.create returns is the "
    "x-request-id response header, not Azure's apim-request-id.",
    cassette="request-ids/chat-completion.yaml",
    refs=("sdk-behavior §2.6, §8 #8", "wire §3.2, §17 #18"),
)
def parsed_object(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    completion = _create(sdk, wire)
    require_capability("request_id")
    observe_result(observe, completion, ("_request_id", "id", "model"))
    x_request_id, apim_request_id = _observe_headers(wire, observe)
    sdk_request_id = observe("sdk_request_id", getattr(completion, "_request_id", None))
    expect(x_request_id is not None,
           "the response carries no x-request-id header, so _request_id cannot hold the "
           "request id (the doc's print(completion._request_id) prints None)")
    expect(sdk_request_id == x_request_id,
           f"_request_id is {sdk_request_id!r}; the x-request-id header was {x_request_id!r}"
           + (" (that is apim-request-id)" if sdk_request_id == apim_request_id else ""))


@check(
    "request-ids.stream-response-header",
    doc=DOC,
    claim="For a streamed completion the request id is on the stream's HTTP response: "
    "stream.response.headers['x-request-id'] is the header on the wire; a chunk that carries "
    "a _request_id carries that value.",
    cassette="request-ids/chat-stream.yaml",
    refs=("sdk-behavior §2.6", "wire §3.2, §8.1"),
)
def stream_response_header(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    params = request_params(wire, STREAM_SAMPLE)
    if "stream_options" in params:
        require_capability("chat_stream_options")
    stream = call_sdk(sdk.client().chat.completions.create, params)
    chunks = list(stream)
    observe_result(observe, stream, ("response.status_code", "response.headers.x-request-id"))
    x_request_id, _ = _observe_headers(wire, observe)
    from_stream = observe("sdk_stream_request_id", stream.response.headers.get(X_REQUEST_ID))
    on_chunks = sorted({str(c._request_id) for c in chunks
                        if getattr(c, "_request_id", None) is not None})
    observe("chunk_request_ids", on_chunks)
    expect(x_request_id is not None, "the streamed response carries no x-request-id header")
    expect(from_stream == x_request_id,
           f"stream.response.headers['x-request-id'] is {from_stream!r}; the wire had "
           f"{x_request_id!r}")
    expect(on_chunks in ([], [x_request_id]),
           f"chunks carry _request_id {on_chunks}, not the x-request-id {x_request_id!r}")


@check(
    "request-ids.not-from-apim",
    doc=DOC,
    claim="_request_id comes from x-request-id only: when the response carries Azure's "
    "apim-request-id and no x-request-id, _request_id is None (the SDK does not fall back to "
    "apim-request-id; Azure's id stays reachable only through the raw response headers).",
    cassette="request-ids/apim-only.yaml",
    refs=("wire §3.2, §17 #18", "sdk-behavior §2.6"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def not_from_apim(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    completion = _create(sdk, wire)
    require_capability("request_id")
    observe_result(observe, completion, ("_request_id", "id", "model"))
    x_request_id, apim_request_id = _observe_headers(wire, observe)
    sdk_request_id = observe("sdk_request_id", getattr(completion, "_request_id", None))
    if x_request_id is not None or apim_request_id is None:
        pytest.skip("needs a response with apim-request-id and no x-request-id; this one has "
                    f"x-request-id {x_request_id!r}, apim-request-id {apim_request_id!r}")
    expect(sdk_request_id is None,
           f"_request_id is {sdk_request_id!r} although the response has no x-request-id"
           + (": the SDK took apim-request-id" if sdk_request_id == apim_request_id else ""))
