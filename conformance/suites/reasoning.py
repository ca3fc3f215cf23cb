"""reasoning: reasoning deployments through chat completions and the Responses API, on every
SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance import sdks
from conformance.contract import chat as chat_contract
from conformance.contract import responses as response_contract
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect, fail

from ._capability import python_needs
from ._judge import conforms
from ._requests import (
    REASONING_DEPLOYMENT,
    REASONING_EFFORT,
    REASONING_EFFORTS,
    REASONING_MAX_COMPLETION_TOKENS,
    REASONING_MESSAGES,
    REASONING_RESPONSES_INCLUDE,
    REASONING_RESPONSES_INPUT,
    REASONING_RESPONSES_REASONING,
)
from ._response_read import item_read, response_fields, usage_read
from ._responses import items_of, report
from ._scenario import no_error, recorded, scenario

CHAT_CASSETTE = "reasoning/chat.yaml"
# A real Azure reasoning-model completion: chat-usage calls the SDK with its recorded request.
CHAT_USAGE_CASSETTE = "reasoning/chat-usage.yaml"
RESPONSES_CASSETTE = "reasoning/responses.yaml"
# Sampling parameters reasoning deployments reject (wire §10.1); the SDK must not add them.
REJECTED = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs",
            "top_logprobs", "logit_bias", "max_tokens")


def _chat_params(deployment: str = REASONING_DEPLOYMENT, effort: str = REASONING_EFFORT
                 ) -> dict[str, Any]:
    return {"model": deployment, "messages": REASONING_MESSAGES, "reasoning_effort": effort,
            "max_completion_tokens": REASONING_MAX_COMPLETION_TOKENS}


def _chat(wire: Wire, driver: Driver, params: Mapping[str, Any],
          observe: Observations | None = None) -> DriverOutcome:
    python_needs(driver, "reasoning_effort", observe=observe)
    outcome = driver.run(scenario(wire, "chat.completions.create", params))
    no_error(outcome, driver.sdk)
    return outcome


RESPONSES_SAMPLE = {"model": REASONING_DEPLOYMENT, "input": REASONING_RESPONSES_INPUT,
                    "reasoning": REASONING_RESPONSES_REASONING,
                    "include": REASONING_RESPONSES_INCLUDE}


def _responses(wire: Wire, driver: Driver) -> tuple[dict[str, Any], DriverOutcome]:
    """responses.create with the .NET sample's request live, the recorded request when
    reasoning/responses.yaml (a real recording) is replayed: the params and the outcome."""
    python_needs(driver, "responses")
    performed = scenario(wire, "responses.create", recorded(wire, RESPONSES_SAMPLE))
    outcome = driver.run(performed)
    no_error(outcome, driver.sdk)
    return dict(performed["operation"]["params"]), outcome


def _sdk_reasoning_tokens(outcome: DriverOutcome) -> Any:
    """The usage's reasoning tokens as user code read them (Go
    Usage.CompletionTokensDetails.ReasoningTokens, Java usage().completionTokensDetails()...)."""
    return (usage_read(outcome) or {}).get("reasoning_tokens")


def _reasoning_tokens(wire_usage: Any, outcome: DriverOutcome, sdk: str,
                      observe: Observations) -> None:
    details = (wire_usage or {}).get("completion_tokens_details") or {}
    observe("reasoning_tokens", details.get("reasoning_tokens"))
    observe("completion_tokens", (wire_usage or {}).get("completion_tokens"))
    expect(isinstance(details.get("reasoning_tokens"), int),
           "usage.completion_tokens_details.reasoning_tokens is missing: a reasoning "
           "deployment reports its hidden tokens there (wire §10.1)")
    got = observe("sdk_reasoning_tokens", _sdk_reasoning_tokens(outcome))
    expect(got == details["reasoning_tokens"],
           f"{sdk}'s reasoning_tokens {got!r} differ from the wire's "
           f"{details['reasoning_tokens']!r}")


@check(
    "reasoning.chat-request",
    doc=".NET / Chat (a chat completions request to a reasoning model: DeveloperChatMessage, "
    "ReasoningEffortLevel.Low, MaxOutputTokenCount 100000)",
    claim="A chat request to a reasoning deployment sends the developer message with its role, "
    "reasoning_effort and max_completion_tokens exactly as given, and no sampling parameter or "
    "max_tokens the caller did not pass (a parameter the SDK's request type drops fails).",
    cassette=CHAT_CASSETTE,
    refs=("wire §10.1, §5, §5.1", "sdk-behavior §8 #16 (the .NET sample never passes its "
          "options)"),
    sdks=ALL_SDKS,
)
def chat_request(wire: Wire, driver: Driver, observe: Observations) -> None:
    _chat(wire, driver, _chat_params(), observe)
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    body = wire.requests[0].json()
    observe("body_fields", sorted(body))
    observe("roles", [m.get("role") for m in body.get("messages", [])])
    expect(body.get("messages") == REASONING_MESSAGES,
           f"the messages (developer role included) were not sent as given: "
           f"{body.get('messages')!r}")
    expect(body.get("reasoning_effort") == REASONING_EFFORT,
           f"reasoning_effort should be {REASONING_EFFORT!r}, got "
           f"{body.get('reasoning_effort')!r}")
    expect(body.get("max_completion_tokens") == REASONING_MAX_COMPLETION_TOKENS,
           f"max_completion_tokens should be {REASONING_MAX_COMPLETION_TOKENS}, got "
           f"{body.get('max_completion_tokens')!r}")
    added = sorted(set(body) & set(REJECTED))
    expect(not added, f"the SDK added parameters reasoning deployments reject: {added}")
    extra = sorted(set(body) - {"model", "messages", "reasoning_effort",
                                "max_completion_tokens"})
    expect(not extra, f"the SDK added fields the caller did not pass: {extra}")


@check(
    "reasoning.chat-usage",
    doc=".NET / Chat (a chat completions request to a reasoning model)",
    claim="The completion honours the chat contract and reports its hidden reasoning tokens in "
    "usage.completion_tokens_details.reasoning_tokens, counted inside completion_tokens; the "
    "SDK exposes them (Go Usage.CompletionTokensDetails.ReasoningTokens, Java "
    "usage().completionTokensDetails().reasoningTokens()).",
    cassette=CHAT_USAGE_CASSETTE,
    refs=("wire §10.1, §6.4",),
    sdks=ALL_SDKS,
)
def chat_usage(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = _chat(wire, driver, recorded(wire, _chat_params()), observe)
    body = wire.response_json()
    violations = chat_contract.validate_completion(body)
    conforms(violations, observe, "the completion")
    _reasoning_tokens(body.get("usage"), outcome, driver.sdk, observe)


@check(
    "reasoning.effort-values",
    doc=".NET / Chat (ReasoningEffortLevel); reasoning models how-to (effort values per model "
    "family)",
    claim="Every reasoning_effort value a model family accepts (low, medium, high; minimal for "
    "gpt-5; none for gpt-5.1; xhigh for gpt-5.1-codex-max) goes out unchanged, and each "
    "completion reports its reasoning tokens within completion_tokens.",
    refs=("wire §10.3, §5 (reasoning_effort), §17 #9",),
    sdks=ALL_SDKS,
)
def effort_values(wire: Wire, driver: Driver, observe: Observations) -> None:
    sent: list[Any] = []
    for n, (deployment, effort) in enumerate(REASONING_EFFORTS):
        outcome = _chat(wire, driver, _chat_params(deployment, effort), observe)
        body = wire.requests[n].json()
        sent.append([body.get("model"), body.get("reasoning_effort")])
        expect(body.get("reasoning_effort") == effort,
               f"{deployment}: reasoning_effort {effort!r} went out as "
               f"{body.get('reasoning_effort')!r}")
        reply = wire.response_json(n)
        violations = chat_contract.validate_completion(reply)
        expect(not violations, f"{deployment} ({effort}): the completion breaks the "
               "contract:\n" + report(violations))
        details = (reply.get("usage") or {}).get("completion_tokens_details") or {}
        expect(_sdk_reasoning_tokens(outcome) == details.get("reasoning_tokens"),
               f"{deployment} ({effort}): {driver.sdk}'s reasoning_tokens differ from the wire")
    observe("sent", sent)


@check(
    "reasoning.max-tokens-rejected",
    doc="Python / Error handling (BadRequestError for 400); .NET / Chat (reasoning models take "
    "MaxOutputTokenCount, sent as max_completion_tokens)",
    claim="A reasoning deployment answers max_tokens with 400 unsupported_parameter; the SDK "
    "raises its 400 error class (BadRequestError, Go's *openai.Error, Java's "
    "BadRequestException) with that code, param 'max_tokens' and the service's message, "
    "without retrying.",
    refs=("wire §10.1, §5 (max_tokens), §4.3", "sdk-behavior §2.5"),
    sdks=ALL_SDKS,
)
def max_tokens_rejected(wire: Wire, driver: Driver, observe: Observations) -> None:
    sdk = driver.sdk
    outcome = driver.run(scenario(wire, "chat.completions.create", {
        "model": REASONING_DEPLOYMENT, "messages": REASONING_MESSAGES,
        "max_tokens": REASONING_MAX_COMPLETION_TOKENS}))
    error = outcome.error
    if error is None:
        fail(f"{sdk} returned a completion; the cassette answers 400 unsupported_parameter")
    assert error is not None
    wire_error = wire.response_json()["error"]
    expected = sdks.get(sdk).policies(driver.version).actual.status_outcome(400).name
    for name, value in (("class", error.class_name), ("status", error.status),
                        ("code", error.code), ("param", error.param), ("type", error.type)):
        observe(name, value)
    observe("attempts", len(wire.requests))
    expect(error.status == 400, f"{sdk}'s error carries status {error.status!r}")
    expect(error.class_name == expected,
           f"{sdk} raised {error.class_name!r}, its class for a 400 is {expected!r}")
    expect(len(wire.requests) == 1, f"{sdk} retried the 400: {len(wire.requests)} attempts")
    # code, param and type (conformance.policy.ERROR_ATTRIBUTES)
    python_needs(driver, "error_fields")
    expect(error.code == wire_error["code"] == "unsupported_parameter",
           f"{sdk}'s error code is {error.code!r}, the wire says {wire_error['code']!r}")
    expect(error.param == "max_tokens", f"{sdk}'s error param is {error.param!r}")
    expect(error.type == wire_error["type"],
           f"{sdk}'s error type is {error.type!r}")
    expect(wire_error["message"] in str(error.message),
           f"{sdk}'s error message does not carry the service's message")


@check(
    "reasoning.responses-request",
    doc=".NET / Responses API (ReasoningOptions with ReasoningEffortLevel.High)",
    claim="responses.create sends reasoning {effort, summary} and include exactly as given, "
    "with the deployment as model and the input (the .NET sample live, the recorded request "
    "in replay).",
    cassette=RESPONSES_CASSETTE,
    refs=("wire §10.2, §11.2",),
    sdks=ALL_SDKS,
)
def responses_request(wire: Wire, driver: Driver, observe: Observations) -> None:
    given, _ = _responses(wire, driver)
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    body = wire.requests[0].json()
    observe("body_fields", sorted(body))
    observe("reasoning", body.get("reasoning"))
    expect(body.get("reasoning") == given["reasoning"],
           f"reasoning went out as {body.get('reasoning')!r}")
    expect(body.get("include") == given["include"],
           f"include went out as {body.get('include')!r}")
    expect(body.get("model") == given["model"] and body.get("input") == given["input"],
           "model and input were not sent as given")
    extra = sorted(set(body) - set(given))
    expect(not extra, f"the SDK added fields the caller did not pass: {extra}")


@check(
    "reasoning.responses-items",
    doc=".NET / Responses API; .NET / Streaming ([Reasoning] items)",
    claim="The response carries reasoning items before the message they led to, each with a "
    "summary list of summary_text parts and, as include asked, encrypted_content; it echoes "
    "the effort, counts reasoning tokens inside output_tokens, and the SDK exposes all of it "
    "unchanged (Go AsReasoning() and Usage.OutputTokensDetails.ReasoningTokens, Java "
    "reasoning() and usage().outputTokensDetails().reasoningTokens()).",
    cassette=RESPONSES_CASSETTE,
    refs=("wire §10.2, §11.3, §11.4",),
    sdks=ALL_SDKS,
)
def responses_items(wire: Wire, driver: Driver, observe: Observations) -> None:
    python_needs(driver, "responses", "responses_reasoning_summary")
    sdk = driver.sdk
    given, outcome = _responses(wire, driver)
    body = wire.response_json()
    violations = response_contract.validate_response(body)
    types = [item["type"] for item in body["output"]]
    observe("output_types", types)
    expect(not violations, "the response breaks the contract:\n" + report(violations))
    reasoning = items_of(body, "reasoning")
    expect(reasoning, "the response has no reasoning item")
    if "message" not in types and _spent_on_reasoning(body):
        # A live answer whose whole output cap went on reasoning: no message to precede, and
        # the SDK must say so as the wire does.
        observe("message", "none: the output cap went on reasoning (incomplete, "
                "max_output_tokens)")
        got = response_fields(outcome)
        expect((got.get("status"), got.get("incomplete_reason"))
               == ("incomplete", "max_output_tokens"),
               f"{sdk}'s status or incomplete_details differ from the wire's")
        text = outcome.read.output_text
        expect(text == "", f"{sdk}'s output text is {text!r} with no message on the wire")
    else:
        expect("message" in types and types.index("reasoning") < types.index("message"),
               f"the reasoning item does not precede the message: {types}")
    echoed = body.get("reasoning") or {}
    observe("reasoning_echo", echoed)
    expect(echoed.get("effort") == given["reasoning"]["effort"],
           f"the response echoes effort {echoed.get('effort')!r}")
    for item in reasoning:
        observe("summary_parts", len(item["summary"]))
        expect(isinstance(item.get("encrypted_content"), str) and item["encrypted_content"],
               f"reasoning item {item['id']} has no encrypted_content although include asked "
               "for it")
        got_item = item_read(outcome, sdk, item)
        expect(got_item.get("type") == "reasoning",
               f"{sdk} gives item {item['id']} type {got_item.get('type')!r}")
        expect([(s.get("type"), s.get("text")) for s in got_item.get("summary") or []]
               == [(s["type"], s["text"]) for s in item["summary"]],
               f"{sdk}'s summary of {item['id']} differs from the wire")
        expect(got_item.get("encrypted_content") == item["encrypted_content"],
               f"{sdk}'s encrypted_content of {item['id']} differs from the wire")
    details = (body.get("usage") or {}).get("output_tokens_details") or {}
    observe("reasoning_tokens", details.get("reasoning_tokens"))
    expect(isinstance(details.get("reasoning_tokens"), int),
           "usage.output_tokens_details.reasoning_tokens is missing")
    expect(_sdk_reasoning_tokens(outcome) == details["reasoning_tokens"],
           f"{sdk}'s reasoning_tokens differ from the wire")


def _spent_on_reasoning(body: Mapping[str, Any]) -> bool:
    """A Response that stopped at its output cap with every output token spent on reasoning
    (what a reasoning deployment may answer to a live run's small cap)."""
    usage = body.get("usage") or {}
    details = usage.get("output_tokens_details") or {}
    return (body.get("status") == "incomplete"
            and (body.get("incomplete_details") or {}).get("reason") == "max_output_tokens"
            and isinstance(details.get("reasoning_tokens"), int)
            and details["reasoning_tokens"] == usage.get("output_tokens"))
