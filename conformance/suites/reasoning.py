"""reasoning: reasoning deployments through chat completions and the Responses API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.contract import chat as chat_contract
from conformance.contract import responses as response_contract
from conformance.harness import Wire
from conformance.registry import Observations, check, expect, fail
from conformance.sdk import Sdk, require_capability

from ._judge import conforms
from ._recorded import call_sdk, request_params
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
from ._responses import items_of, report

CHAT_CASSETTE = "reasoning/chat.yaml"
# A real Azure reasoning-model completion: chat-usage calls the SDK with its recorded request.
CHAT_USAGE_CASSETTE = "reasoning/chat-usage.yaml"
RESPONSES_CASSETTE = "reasoning/responses.yaml"
# Sampling parameters reasoning deployments reject (wire §10.1); the SDK must not add them.
REJECTED = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs",
            "top_logprobs", "logit_bias", "max_tokens")


def _chat(sdk: Sdk, deployment: str = REASONING_DEPLOYMENT, effort: str = REASONING_EFFORT
          ) -> Any:
    require_capability("reasoning_effort")
    return sdk.client().chat.completions.create(
        model=deployment, messages=REASONING_MESSAGES, reasoning_effort=effort,
        max_completion_tokens=REASONING_MAX_COMPLETION_TOKENS)


RESPONSES_SAMPLE = {"model": REASONING_DEPLOYMENT, "input": REASONING_RESPONSES_INPUT,
                    "reasoning": REASONING_RESPONSES_REASONING,
                    "include": REASONING_RESPONSES_INCLUDE}


def _responses(sdk: Sdk, request: dict[str, Any]) -> Any:
    """responses.create with ``request``: the doc's .NET sample live, the recorded request
    when reasoning/responses.yaml (a real recording) is replayed."""
    require_capability("responses")
    return call_sdk(sdk.client().responses.create, request)


def _sdk_reasoning_tokens(usage: Any, details: str = "completion_tokens_details") -> Any:
    """``usage.<details>.reasoning_tokens`` as the SDK parsed it, or None."""
    return getattr(getattr(usage, details, None), "reasoning_tokens", None)


def _reasoning_tokens(wire_usage: Any, usage: Any, observe: Observations) -> None:
    details = (wire_usage or {}).get("completion_tokens_details") or {}
    observe("reasoning_tokens", details.get("reasoning_tokens"))
    observe("completion_tokens", (wire_usage or {}).get("completion_tokens"))
    expect(isinstance(details.get("reasoning_tokens"), int),
           "usage.completion_tokens_details.reasoning_tokens is missing: a reasoning "
           "deployment reports its hidden tokens there (wire §10.1)")
    expect(_sdk_reasoning_tokens(usage) == details["reasoning_tokens"],
           "the SDK's reasoning_tokens differ from the wire")


@check(
    "reasoning.chat-request",
    doc=".NET / Chat (a chat completions request to a reasoning model: DeveloperChatMessage, "
    "ReasoningEffortLevel.Low, MaxOutputTokenCount 100000)",
    claim="A chat request to a reasoning deployment sends the developer message with its role, "
    "reasoning_effort and max_completion_tokens exactly as given, and no sampling parameter or "
    "max_tokens the caller did not pass.",
    cassette=CHAT_CASSETTE,
    refs=("wire §10.1, §5, §5.1", "sdk-behavior §8 #16 (the .NET sample never passes its "
          "options)"),
)
def chat_request(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    _chat(sdk)
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
    "SDK exposes them.",
    cassette=CHAT_USAGE_CASSETTE,
    refs=("wire §10.1, §6.4",),
)
def chat_usage(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("reasoning_effort")
    sample = {"model": REASONING_DEPLOYMENT, "messages": REASONING_MESSAGES,
              "reasoning_effort": REASONING_EFFORT,
              "max_completion_tokens": REASONING_MAX_COMPLETION_TOKENS}
    completion = call_sdk(sdk.client().chat.completions.create, request_params(wire, sample))
    body = wire.response_json()
    violations = chat_contract.validate_completion(body)
    conforms(violations, observe, "the completion")
    _reasoning_tokens(body.get("usage"), completion.usage, observe)


@check(
    "reasoning.effort-values",
    doc=".NET / Chat (ReasoningEffortLevel); reasoning models how-to (effort values per model "
    "family)",
    claim="Every reasoning_effort value a model family accepts (low, medium, high; minimal for "
    "gpt-5; none for gpt-5.1; xhigh for gpt-5.1-codex-max) goes out unchanged, and each "
    "completion reports its reasoning tokens within completion_tokens.",
    refs=("wire §10.3, §5 (reasoning_effort), §17 #9",),
)
def effort_values(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    sent: list[Any] = []
    for n, (deployment, effort) in enumerate(REASONING_EFFORTS):
        completion = _chat(sdk, deployment, effort)
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
        expect(_sdk_reasoning_tokens(completion.usage) == details.get("reasoning_tokens"),
               f"{deployment} ({effort}): the SDK's reasoning_tokens differ from the wire")
    observe("sent", sent)


@check(
    "reasoning.max-tokens-rejected",
    doc="Python / Error handling (BadRequestError for 400); .NET / Chat (reasoning models take "
    "MaxOutputTokenCount, sent as max_completion_tokens)",
    claim="A reasoning deployment answers max_tokens with 400 unsupported_parameter; the SDK "
    "raises BadRequestError with that code, param 'max_tokens' and the service's message, "
    "without retrying.",
    refs=("wire §10.1, §5 (max_tokens), §4.3", "sdk-behavior §2.5"),
)
def max_tokens_rejected(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    import openai

    client = sdk.client()
    try:
        client.chat.completions.create(model=REASONING_DEPLOYMENT, messages=REASONING_MESSAGES,
                                       max_tokens=REASONING_MAX_COMPLETION_TOKENS)
    except openai.BadRequestError as exc:
        error = wire.response_json()["error"]
        observe("status", exc.status_code)
        observe("code", exc.code)
        observe("param", exc.param)
        observe("attempts", len(wire.requests))
        expect(exc.status_code == 400, f"status {exc.status_code}")
        expect(len(wire.requests) == 1, f"the SDK retried the 400: {len(wire.requests)} "
               "attempts")
        # code, param and type (conformance.policy.ERROR_ATTRIBUTES)
        require_capability("error_fields")
        expect(exc.code == error["code"] == "unsupported_parameter",
               f"BadRequestError.code is {exc.code!r}, the wire says {error['code']!r}")
        expect(exc.param == "max_tokens", f"BadRequestError.param is {exc.param!r}")
        expect(exc.type == error["type"], f"BadRequestError.type is {exc.type!r}")
        expect(error["message"] in str(exc.message),
               "BadRequestError.message does not carry the service's message")
    else:
        fail("the SDK returned a completion; the cassette answers 400 unsupported_parameter")


@check(
    "reasoning.responses-request",
    doc=".NET / Responses API (ReasoningOptions with ReasoningEffortLevel.High)",
    claim="responses.create sends reasoning {effort, summary} and include exactly as given, "
    "with the deployment as model and the input (the .NET sample live, the recorded request "
    "in replay).",
    cassette=RESPONSES_CASSETTE,
    refs=("wire §10.2, §11.2",),
)
def responses_request(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    given = request_params(wire, RESPONSES_SAMPLE)
    _responses(sdk, given)
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
    "unchanged.",
    cassette=RESPONSES_CASSETTE,
    refs=("wire §10.2, §11.3, §11.4",),
)
def responses_items(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("responses")
    require_capability("responses_reasoning_summary")
    given = request_params(wire, RESPONSES_SAMPLE)
    response = _responses(sdk, given)
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
        expect((response.status, getattr(response.incomplete_details, "reason", None))
               == ("incomplete", "max_output_tokens"),
               "the SDK's status or incomplete_details differ from the wire's")
        expect(response.output_text == "",
               f"output_text is {response.output_text!r} with no message on the wire")
    else:
        expect("message" in types and types.index("reasoning") < types.index("message"),
               f"the reasoning item does not precede the message: {types}")
    echoed = body.get("reasoning") or {}
    observe("reasoning_echo", echoed)
    expect(echoed.get("effort") == given["reasoning"]["effort"],
           f"the response echoes effort {echoed.get('effort')!r}")
    parsed = {item.id: item for item in response.output if item.type == "reasoning"}
    for item in reasoning:
        observe("summary_parts", len(item["summary"]))
        expect(isinstance(item.get("encrypted_content"), str) and item["encrypted_content"],
               f"reasoning item {item['id']} has no encrypted_content although include asked "
               "for it")
        expect(item["id"] in parsed, f"the SDK's output lacks reasoning item {item['id']}")
        sdk_item = parsed[item["id"]]
        expect([(s.type, s.text) for s in sdk_item.summary]
               == [(s["type"], s["text"]) for s in item["summary"]],
               f"the SDK's summary of {item['id']} differs from the wire")
        expect(getattr(sdk_item, "encrypted_content", None) == item["encrypted_content"],
               f"the SDK's encrypted_content of {item['id']} differs from the wire")
    details = (body.get("usage") or {}).get("output_tokens_details") or {}
    observe("reasoning_tokens", details.get("reasoning_tokens"))
    expect(isinstance(details.get("reasoning_tokens"), int),
           "usage.output_tokens_details.reasoning_tokens is missing")
    expect(_sdk_reasoning_tokens(response.usage, "output_tokens_details")
           == details["reasoning_tokens"], "the SDK's reasoning_tokens differ from the wire")


def _spent_on_reasoning(body: Mapping[str, Any]) -> bool:
    """A Response that stopped at its output cap with every output token spent on reasoning
    (what a reasoning deployment may answer to a live run's small cap)."""
    usage = body.get("usage") or {}
    details = usage.get("output_tokens_details") or {}
    return (body.get("status") == "incomplete"
            and (body.get("incomplete_details") or {}).get("reason") == "max_output_tokens"
            and isinstance(details.get("reasoning_tokens"), int)
            and details["reasoning_tokens"] == usage.get("output_tokens"))
