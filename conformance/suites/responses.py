"""responses: responses.create against /openai/v1/responses (non-streamed), on every SDK."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.contract import responses as contract
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect

from ._capability import python_needs
from ._judge import conforms, sent_as_given, sole_json_post
from ._requests import (
    RESPONSES_DEPLOYMENT,
    RESPONSES_INPUT,
    RESPONSES_INSTRUCTIONS,
    RESPONSES_PYTHON_INPUT,
)
from ._response_read import output_items, response_fields, usage_read
from ._responses import report
from ._scenario import no_error, recorded, scenario

CASSETTE = "responses/create.yaml"  # a real Azure recording: the request is the recorded one
SAMPLE = {"model": RESPONSES_DEPLOYMENT, "instructions": RESPONSES_INSTRUCTIONS,
          "input": RESPONSES_INPUT}


def _create(wire: Wire, driver: Driver, params: dict[str, Any],
            observe: Observations | None = None) -> tuple[dict[str, Any], DriverOutcome]:
    """responses.create through ``driver``: the params the SDK was given, and the outcome."""
    python_needs(driver, "responses", observe=observe)
    performed = scenario(wire, "responses.create", params)
    outcome = driver.run(performed)
    no_error(outcome, driver.sdk)
    return dict(performed["operation"]["params"]), outcome


@check(
    "responses.request-shape",
    doc="JavaScript / Responses / responses.create (model, instructions, input); Python / "
    "Responses API / responses.create()",
    claim="responses.create sends POST <base>/responses with the deployment name as model and "
    "instructions, input and every other parameter exactly as given (the doc's sample live, "
    "the recorded request in replay); the SDK adds no field and no api-version query.",
    cassette=CASSETTE,
    refs=("wire §1.1, §1.3, §11.1, §11.2",),
    sdks=ALL_SDKS,
)
def request_shape(wire: Wire, driver: Driver, observe: Observations) -> None:
    given, _ = _create(wire, driver, recorded(wire, SAMPLE), observe)
    _, body = sole_json_post(wire, observe, "responses")
    sent_as_given(body, given)


@check(
    "responses.response-contract",
    doc="Python / Responses API / responses.create() (print(response.model_dump_json(indent=2)))",
    claim="The response honours the Responses contract (object 'response', id, integer "
    "created_at, a documented status, typed output items, usage adding up with reasoning "
    "tokens inside output tokens), echoes the deployment name as model, and the SDK exposes "
    "it unchanged.",
    cassette=CASSETTE,
    refs=("wire §11.3, §11.4, §10.2", "wire §17 #8, #13"),
    sdks=ALL_SDKS,
)
def response_contract(wire: Wire, driver: Driver, observe: Observations) -> None:
    given, outcome = _create(wire, driver, recorded(wire, SAMPLE), observe)
    sdk = driver.sdk
    body = wire.response_json()
    violations = contract.validate_response(body)
    conforms(violations, observe, "the response")
    observe("status", body.get("status"))
    observe("model", body["model"])
    observe("output_types", [item["type"] for item in body["output"]])
    sent = wire.deployment_sent(given["model"])  # the user's name for it, in a live run
    expect(body["model"] == sent,
           f"model should echo the deployment name {sent!r} (wire §11.3), got "
           f"{body['model']!r}")
    # What user code reads, through the SDK's typed accessors (docs/driver-protocol.md).
    got = response_fields(outcome)
    observe("sdk_response", got)
    expect(got.get("id") == body["id"], f"{sdk}'s id {got.get('id')!r} != wire {body['id']!r}")
    expect(got.get("object") == "response", f"{sdk}'s object {got.get('object')!r}")
    expect(got.get("model") == body["model"], f"{sdk}'s model differs from the wire")
    expect(got.get("status") == body.get("status"), f"{sdk}'s status differs from the wire")
    # Python types created_at as a float; the wire sends an integer (wire §11.3, §17 #13).
    if outcome.read.sdk_created_at_type is not None:
        observe("sdk_created_at_type", outcome.read.sdk_created_at_type)
    expect(got.get("created_at") == body["created_at"],
           f"{sdk}'s created_at {got.get('created_at')!r} differs from the wire")
    expect([item.get("type") for item in output_items(outcome)]
           == [i["type"] for i in body["output"]],
           f"{sdk}'s output items differ from the wire (types, order or count)")
    if body.get("usage") is not None:
        usage, wire_usage = usage_read(outcome), body["usage"]
        observe("usage", {k: wire_usage[k] for k in
                          ("input_tokens", "output_tokens", "total_tokens")})
        expect(usage is not None, f"the wire had usage, {sdk}'s response has none")
        assert usage is not None
        expect((usage.get("input_tokens"), usage.get("output_tokens"),
                usage.get("total_tokens"))
               == (wire_usage["input_tokens"], wire_usage["output_tokens"],
                   wire_usage["total_tokens"]), f"{sdk}'s usage differs from the wire")
        details = wire_usage.get("output_tokens_details") or {}
        if details.get("reasoning_tokens") is not None:
            expect(usage.get("reasoning_tokens") == details["reasoning_tokens"],
                   f"{sdk}'s reasoning_tokens differ from the wire")


@check(
    "responses.azure-content-filters",
    doc="Python / Responses API / responses.create() (the full model_dump_json is printed)",
    claim="Azure's content_filters array (prompt and completion entries with blocked, "
    "source_type, content_filter_results and offsets) has its documented shape and survives "
    "SDK parsing: user code reads it unchanged (Python's model_dump and the model_dump_json "
    "the sample prints, JavaScript's property, Go's JSON.ExtraFields, Java's "
    "_additionalProperties()).",
    cassette=CASSETTE,
    refs=("wire §11.3, §7", "wire §17 #8"),
    sdks=ALL_SDKS,
)
def azure_content_filters(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, outcome = _create(wire, driver, recorded(wire, SAMPLE), observe)
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
    expect(outcome.read.content_filters == filters,
           f"content_filters did not survive {driver.sdk}'s parsing (what user code reads "
           "differs from the wire)")
    printed = (outcome.read.printed_content_filters
               if outcome.read.has("printed_content_filters") else filters)
    expect(printed == filters,
           "content_filters did not survive model_dump_json, which the Python sample prints")


@check(
    "responses.output-text",
    doc="Python / Responses API / responses.create(); JavaScript / Responses "
    "(console.log(response.output_text)); Go / Responses (OutputText()); Java / Responses",
    claim="The output text user code reads (Python and JavaScript output_text and Go "
    "OutputText(), which the SDK computes: it is not on the wire; Java's "
    "output().message().content().outputText().text(), joined) equals the text of every "
    "output_text part of every message item on the wire, concatenated in order; reasoning "
    "items and refusal parts do not count. The response's id and status reach user code "
    "unchanged.",
    cassette="responses/output-text.yaml",
    refs=("wire §11.3 (output_text), §11.4", "wire §17 #13"),
    sdks=ALL_SDKS,
)
def output_text(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, outcome = _create(wire, driver, {"model": RESPONSES_DEPLOYMENT,
                                        "input": RESPONSES_PYTHON_INPUT})
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
    text = observe("sdk_output_text", outcome.read.output_text)
    expect(text == expected,
           f"{driver.sdk}'s output text {text!r} is not the concatenation of the wire's "
           f"output_text parts {expected!r}")
    got = response_fields(outcome)
    expect(got.get("id") == body["id"], f"{driver.sdk} returned id {got.get('id')!r}")
    expect(got.get("status") == body.get("status"), f"{driver.sdk} changed the status")
