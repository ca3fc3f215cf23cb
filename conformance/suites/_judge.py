"""Judgements the suites share: a payload against the contract, and the one request of a
check against the doc's sample."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from conformance.contract import WARNING, Violation
from conformance.harness import Wire
from conformance.registry import Observations, expect
from conformance.wire import RecordedRequest


def conforms(violations: list[Violation], observe: Observations, what: str) -> None:
    """Record the contract violations and fail with them, ``what`` naming the payload.
    Findings of warning rules (mixed evidence) are recorded apart and never fail."""
    warnings = [str(v) for v in violations if v.severity == WARNING]
    violations = [v for v in violations if v.severity != WARNING]
    observe("violations", [str(v) for v in violations])
    if warnings:
        observe("contract_warnings", warnings)
    expect(not violations, f"{what} breaks the contract:\n" + "\n".join(map(str, violations)))


def sole_json_post(wire: Wire, observe: Observations, operation: str
                   ) -> tuple[RecordedRequest, Any]:
    """The check's only request: a JSON POST to ``/openai/v1/<operation>``, no deployment
    segment and no ``api-version`` query (wire §1.1, §1.3). Returns it and its JSON body."""
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    request = wire.requests[0]
    observe("request", f"{request.method} {request.target}")
    observe("headers", header_set(request))
    body = request.json()
    observe("body_fields", sorted(body))
    path = f"/openai/v1/{operation}"
    expect(request.method == "POST", f"expected POST, got {request.method}")
    expect(request.path == path, f"expected path {path}, got {request.path}")
    expect("api-version" not in request.query, f"unexpected api-version query: {request.query}")
    expect(request.header("content-type") == "application/json",
           f"expected Content-Type application/json, got {request.header('content-type')}")
    return request, body


def sent_as_given(body: Mapping[str, Any], given: Mapping[str, Any]) -> None:
    """Every field the caller passed went out unchanged, and the SDK added none."""
    for name, value in given.items():
        expect(body.get(name) == value, f"{name} should be {value!r}, got {body.get(name)!r}")
    extra = sorted(set(body) - set(given))
    expect(not extra, f"the SDK added fields the caller did not pass: {extra}")


# Header values that vary by design: the connection's, the credential's, the body's length.
_VARYING = {"host": "<host>", "content-length": "<length>"}
_CREDENTIALS = ("authorization", "api-key")
_VERSION = re.compile(r"\d+\.\d+(\.\d+)?([-+._a-zA-Z0-9]*)?")


def header_set(request: RecordedRequest) -> dict[str, str]:
    """Every request header, by lower-case name, with its value where it does not vary by
    design: version strings become ``<version>``, credentials keep their scheme only, the host
    and the body length are masked. An SDK release that adds, drops or changes a header (an
    ``x-stainless-*``, the ``user-agent``'s shape, ``accept``, a timeout sent as a header)
    then shows in ``diff`` and ``gate``."""
    shown: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        if key in _VARYING:
            shown[key] = _VARYING[key]
        elif key in _CREDENTIALS:
            shown[key] = value.split(" ", 1)[0] + " <credential>" if " " in value \
                else "<credential>"
        else:
            shown[key] = _VERSION.sub("<version>", value)
    return dict(sorted(shown.items()))
