"""responses: responses.create against /openai/v1/responses (non-streamed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.contract import responses as contract
from conformance.harness import Wire
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk, require_capability

from ._judge import conforms, sent_as_given, sole_json_post
from ._observe import observe_result
from ._recorded import call_sdk, request_params
from ._requests import (
    RESPONSES_DEPLOYMENT,
    RESPONSES_INPUT,
    RESPONSES_INSTRUCTIONS,
    RESPONSES_PYTHON_INPUT,
)
from ._responses import report

CASSETTE = "responses/create.yaml"  # a real Azure recording: the request is the recorded one
SAMPLE = {"model": RESPONSES_DEPLOYMENT, "instructions": RESPONSES_INSTRUCTIONS,
          "input": RESPONSES_INPUT}


def _create(sdk: Sdk, request: dict[str, Any]) -> Any:
    require_capability("responses")
    return call_sdk(sdk.client().responses.create, request)


@check(
    "responses.request-shape",
    doc="JavaScript / Responses / responses.create (model, instructions, input); Python / "
    "Responses API / responses.create()",
    claim="responses.create sends POST <base>/responses with the deployment name as model and "
    "instructions, input and every other parameter exactly as given (the doc's sample live, "
    "the recorded request in replay); the SDK adds no field and no api-version query.",
    cassette=CASSETTE,
    refs=("wire §1.1, §1.3, §11.1, §11.2",),
)
def request_shape(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    _create(sdk, request_params(wire, SAMPLE))
    _, body = sole_json_post(wire, observe, "responses")
    sent_as_given(body, request_params(wire, SAMPLE))


@check(
    "responses.response-contract",
    doc="Python / Responses API / responses.create() (print(response.model_dump_json(indent=2)))",
    claim="The response honours the Responses contract (object 'response', id, integer "
    "created_at, a documented status, typed output items, usage adding up with reasoning "
    "tokens inside output tokens), echoes the deployment name as model, and the SDK exposes "
    "it unchanged.",
    cassette=CASSETTE,
    refs=("wire §11.3, §11.4, §10.2", "wire §17 #8, #13"),
)
def response_contract(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    request = request_params(wire, SAMPLE)
    response = _create(sdk, request)
    observe_result(observe, response, (
        "id", "object", "created_at", "model", "status", "output_text", "usage.input_tokens",
        "usage.output_tokens", "usage.total_tokens"))
    body = wire.response_json()
    violations = contract.validate_response(body)
    conforms(violations, observe, "the response")
    observe("status", body.get("status"))
    observe("model", body["model"])
    observe("output_types", [item["type"] for item in body["output"]])
    sent = wire.deployment_sent(request["model"])  # the user's name for it, in a live run
    expect(body["model"] == sent,
           f"model should echo the deployment name {sent!r} (wire §11.3), got "
           f"{body['model']!r}")
    expect(response.id == body["id"], f"SDK id {response.id!r} != wire {body['id']!r}")
    expect(response.object == "response", f"SDK object {response.object!r}")
    expect(response.model == body["model"], "SDK model differs from the wire")
    expect(response.status == body.get("status"), "SDK status differs from the wire")
    # The SDK types created_at as a float; the wire sends an integer (wire §11.3, §17 #13).
    observe("sdk_created_at_type", type(response.created_at).__name__)
    expect(response.created_at == body["created_at"], "SDK created_at differs from the wire")
    expect([item.type for item in response.output] == [i["type"] for i in body["output"]],
           "SDK output items differ from the wire (types, order or count)")
    if body.get("usage") is not None:
        usage, wire_usage = response.usage, body["usage"]
        observe("usage", {k: wire_usage[k] for k in
                          ("input_tokens", "output_tokens", "total_tokens")})
        expect(usage is not None, "the wire had usage, the SDK object has none")
        expect((usage.input_tokens, usage.output_tokens, usage.total_tokens)
               == (wire_usage["input_tokens"], wire_usage["output_tokens"],
                   wire_usage["total_tokens"]), "SDK usage differs from the wire")
        details = wire_usage.get("output_tokens_details") or {}
        if details.get("reasoning_tokens") is not None:
            parsed = getattr(usage.output_tokens_details, "reasoning_tokens", None)
            expect(parsed == details["reasoning_tokens"],
                   "SDK reasoning_tokens differ from the wire")


@check(
    "responses.azure-content-filters",
    doc="Python / Responses API / responses.create() (the full model_dump_json is printed)",
    claim="Azure's content_filters array (prompt and completion entries with blocked, "
    "source_type, content_filter_results and offsets) has its documented shape and survives "
    "SDK parsing: model_dump and model_dump_json carry it unchanged.",
    cassette=CASSETTE,
    refs=("wire §11.3, §7", "wire §17 #8"),
)
def azure_content_filters(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    response = _create(sdk, request_params(wire, SAMPLE))
    body = wire.response_json()
    filters = body.get("content_filters")
    if filters is None:
        pytest.skip("the response carries no content_filters (Azure sends null at times, "
                    "wire §11.3)")
    violations = [v for v in contract.validate_response(body)
                  if v.rule == contract.CONTENT_FILTERS or v.rule.startswith("content-filter.")]
    expect(not violations, "Azure content_filters break the contract:\n" + report(violations))
    observe("source_types", [entry["source_type"] for entry in filters])
    observe("categories", [sorted(entry["content_filter_results"]) for entry in filters])
    expect(response.model_dump().get("content_filters") == filters,
           "content_filters did not survive SDK parsing (model_dump differs from the wire)")
    printed = json.loads(response.model_dump_json(indent=2))
    expect(printed.get("content_filters") == filters,
           "content_filters did not survive model_dump_json, which the Python sample prints")


@check(
    "responses.output-text",
    doc="Python / Responses API / responses.create(); JavaScript / Responses "
    "(console.log(response.output_text))",
    claim="response.output_text, which the SDK computes (it is not on the wire), equals the "
    "text of every output_text part of every message item on the wire, concatenated in order; "
    "reasoning items and refusal parts do not count.",
    cassette="responses/output-text.yaml",
    refs=("wire §11.3 (output_text), §11.4", "wire §17 #13"),
)
def output_text(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    response = _create(sdk, {"model": RESPONSES_DEPLOYMENT, "input": RESPONSES_PYTHON_INPUT})
    body = wire.response_json()
    violations = contract.validate_response(body)
    expect(not violations, "the response breaks the contract:\n" + report(violations))
    expected = contract.output_text(body)
    observe("output_text_on_wire", "output_text" in body)
    observe("message_parts", [
        [part["type"] for part in item["content"]]
        for item in body["output"] if item["type"] == "message"
    ])
    observe("expected", expected)
    observe("sdk_output_text", response.output_text)
    expect(response.output_text == expected,
           f"output_text {response.output_text!r} is not the concatenation of the wire's "
           f"output_text parts {expected!r}")
