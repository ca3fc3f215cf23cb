"""Scenarios for the cross-SDK checks: the protocol-v1 shape (docs/driver-protocol.md).

A check builds one scenario (client options, the operation and its params as data) and hands it
to the ``driver`` fixture of whichever SDK the item runs against; the same scenario and the same
cassette serve python, javascript, go and java.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from conformance.drivers.outcome import DriverOutcome
from conformance.harness import Wire
from conformance.policy import DOC_SCOPE
from conformance.registry import CheckFailed
from conformance.sdk import TEST_API_KEY
from conformance.wire import json_payloads

from ._recorded import request_params

# Every scenario is bounded: JavaScript 6.x sleeps a whole Retry-After, so hints stay short.
DEADLINE_MS = 20_000
KEY = TEST_API_KEY


def key_auth() -> dict[str, Any]:
    return {"kind": "key", "key": KEY}


def token_auth(*tokens: str, expires_in_s: int = 3600) -> dict[str, Any]:
    return {"kind": "token_provider", "scope": DOC_SCOPE, "tokens": list(tokens),
            "expires_in_s": expires_in_s}


def scenario(
    wire: Wire,
    operation: str,
    params: Mapping[str, Any],
    *,
    auth: Mapping[str, Any] | None = None,
    max_retries: int | None = None,
    timeout_ms: int | None = None,
    request_max_retries: int | None = None,
    deadline_ms: int = DEADLINE_MS,
) -> dict[str, Any]:
    body = dict(params)
    # The operation says whether to stream (the driver streams the SDK's own way; openai-go's
    # New/NewStreaming have no stream field): a recording's "stream" is not a param.
    if ".stream" in operation or body.get("stream") is False:
        body.pop("stream", None)
    return {
        "base_url": wire.base_url,
        "client": {"auth": dict(auth or key_auth()), "max_retries": max_retries,
                   "timeout_ms": timeout_ms},
        "operation": {"name": operation, "params": body,
                      "request_options": {"max_retries": request_max_retries,
                                          "timeout_ms": None}},
        "deadline_ms": deadline_ms,
    }


def recorded(wire: Wire, sample: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    """The params of the replayed cassette's request ``index`` (a recording's own request),
    else ``sample``."""
    return request_params(wire, sample, index)


def no_error(outcome: DriverOutcome, sdk: str) -> None:
    """Fail the check when the SDK raised, or when its request type dropped a parameter the
    doc's code passes (the driver never adds it back: the wire lacks it)."""
    error = outcome.error
    if error is not None:
        raise CheckFailed(f"{sdk} raised {error.class_name} ({error.kind}, status "
                          f"{error.status}): {error.message}")
    dropped = outcome.read.dropped_params
    if dropped:
        raise CheckFailed(f"{sdk}'s request type dropped the parameter(s) {', '.join(dropped)}: "
                          "the request on the wire lacks them")


def sse_data(body: bytes) -> list[Any]:
    """The JSON ``data:`` payloads of an event stream, in order (``[DONE]`` left out), as a
    standard client reads them (an unfinished last event is not one)."""
    return json_payloads(body)


def arrival_gaps(wire: Wire) -> list[float]:
    """Seconds between consecutive requests' arrival at the wire server."""
    times = [r.arrived for r in wire.requests]
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]
