"""chat: chat.completions.create against /openai/v1/chat/completions."""

from __future__ import annotations

from typing import Any

from conformance.contract import chat as contract
from conformance.harness import Wire
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk

from ._judge import conforms, sent_as_given, sole_json_post
from ._observe import observe_result
from ._recorded import call_sdk, request_params
from ._requests import CHAT_MESSAGES, DEPLOYMENT

CASSETTE = "chat/completion.yaml"  # a real Azure recording: the request is the recorded one
SAMPLE = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "max_tokens": 100}


def _create(sdk: Sdk, wire: Wire) -> Any:
    return call_sdk(sdk.client().chat.completions.create, request_params(wire, SAMPLE))


@check(
    "chat.request-shape",
    doc="Python / Chat / chat.completions.create(); JavaScript / Chat (max_tokens: 100)",
    claim="chat.completions.create sends POST <base>/chat/completions with the deployment name "
    "as model and the messages and every other parameter exactly as given (the doc's sample "
    "live, the recorded request in replay); no deployment segment in the path and no "
    "api-version query.",
    cassette=CASSETTE,
    refs=("wire §1.1, §1.3, §5",),
)
def request_shape(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    _create(sdk, wire)
    _, body = sole_json_post(wire, observe, "chat/completions")
    sent_as_given(body, request_params(wire, SAMPLE))


@check(
    "chat.response-contract",
    doc="Python / Chat / chat.completions.create() (print(completion.model_dump_json()))",
    claim="The response honours the chat completion contract (id, object, created, model, "
    "choices with message and finish_reason, usage adding up) and the SDK exposes it "
    "unchanged.",
    cassette=CASSETTE,
    refs=("wire §6.1, §6.2, §6.4",),
)
def response_contract(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    completion = _create(sdk, wire)
    observe_result(observe, completion, (
        "id", "object", "created", "model", "choices.0.message.role",
        "choices.0.message.content", "choices.0.finish_reason", "usage.prompt_tokens",
        "usage.completion_tokens", "usage.total_tokens"))
    body = wire.response_json()
    violations = contract.validate_completion(body)
    conforms(violations, observe, "the response")
    observe("model", body["model"])
    observe("finish_reasons", [c["finish_reason"] for c in body["choices"]])
    expect(completion.id == body["id"], f"SDK id {completion.id!r} != wire {body['id']!r}")
    expect(completion.object == "chat.completion", f"SDK object {completion.object!r}")
    expect(completion.created == body["created"], "SDK created differs from the wire")
    expect(completion.model == body["model"], "SDK model differs from the wire")
    expect(len(completion.choices) == len(body["choices"]), "SDK dropped or added choices")
    for parsed, raw in zip(completion.choices, body["choices"], strict=True):
        expect(parsed.message.content == raw["message"]["content"],
               f"choice {raw['index']}: SDK content differs from the wire")
        expect(parsed.finish_reason == raw["finish_reason"],
               f"choice {raw['index']}: SDK finish_reason differs from the wire")
        expect(parsed.message.role == "assistant", f"choice {raw['index']}: role "
               f"{parsed.message.role!r}")
    if "usage" in body:
        usage = completion.usage
        observe("usage", {k: body["usage"][k] for k in
                          ("prompt_tokens", "completion_tokens", "total_tokens")})
        expect(usage is not None, "the wire had usage, the SDK object has none")
        expect(
            (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
            == (body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"],
                body["usage"]["total_tokens"]),
            "SDK usage differs from the wire",
        )


@check(
    "chat.azure-filter-results",
    doc="Python / Chat / chat.completions.create() (the full model_dump_json is printed)",
    claim="Azure's extra fields (prompt_filter_results, per-choice content_filter_results) have "
    "their documented shape and survive SDK parsing, reachable from the returned object.",
    cassette=CASSETTE,
    refs=("wire §6.1, §6.2, §7",),
)
def azure_filter_results(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    completion = _create(sdk, wire)
    body = wire.response_json()
    violations = [v for v in contract.validate_completion(body)
                  if v.rule.startswith("content-filter.")]
    expect(not violations, "Azure filter results break the contract:\n"
           + "\n".join(map(str, violations)))
    expect("prompt_filter_results" in body,
           "the response has no prompt_filter_results; Azure adds them to every completion")
    dumped = completion.model_dump()
    observe("prompt_filter_categories",
            sorted(body["prompt_filter_results"][0]["content_filter_results"]))
    expect(dumped.get("prompt_filter_results") == body["prompt_filter_results"],
           "prompt_filter_results did not survive SDK parsing (model_dump differs from the wire)")
    for parsed, raw in zip(dumped["choices"], body["choices"], strict=True):
        if "content_filter_results" in raw:
            expect(parsed.get("content_filter_results") == raw["content_filter_results"],
                   f"choice {raw['index']}: content_filter_results did not survive SDK parsing")
    observe("choice_filter_categories",
            [sorted(c.get("content_filter_results", {})) for c in body["choices"]])
