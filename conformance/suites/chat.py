"""chat: chat.completions.create against /openai/v1/chat/completions, on every SDK.

Each check performs the doc's chat sample with the ``driver`` of the SDK it runs against
(docs/driver-protocol.md) and judges the request that crossed the wire and what the SDK handed
user code: the result as the SDK serializes it and the content the samples print, read through
the SDK's typed accessor (Go ``Choices[0].Message.Content``, Java
``choices().get(0).message().content()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.contract import chat as contract
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect

from ._judge import conforms, sent_as_given, sole_json_post
from ._requests import CHAT_REQUEST
from ._scenario import no_error, recorded, scenario

CASSETTE = "chat/completion.yaml"  # a real Azure recording: the request is the recorded one


def _create(wire: Wire, driver: Driver) -> tuple[dict[str, Any], DriverOutcome]:
    """The scenario's params (what the doc's code passes) and the outcome."""
    given = recorded(wire, CHAT_REQUEST)
    return given, driver.run(scenario(wire, "chat.completions.create", given))


@check(
    "chat.request-shape",
    doc="Python / Chat / chat.completions.create(); JavaScript / Chat (max_tokens: 100)",
    claim="chat.completions.create sends POST <base>/chat/completions with the deployment name "
    "as model and the messages and every other parameter exactly as given (the doc's sample "
    "live, the recorded request in replay); no deployment segment in the path and no "
    "api-version query.",
    cassette=CASSETTE,
    refs=("wire §1.1, §1.3, §5",),
    sdks=ALL_SDKS,
)
def request_shape(wire: Wire, driver: Driver, observe: Observations) -> None:
    given, outcome = _create(wire, driver)
    _, body = sole_json_post(wire, observe, "chat/completions")
    sent_as_given(body, given)
    no_error(outcome, driver.sdk)


@check(
    "chat.response-contract",
    doc="Python / Chat / chat.completions.create() (print(completion.model_dump_json())); "
    "JavaScript / Chat; Go and Java / the chat samples",
    claim="The response honours the chat completion contract (id, object, created, model, "
    "choices with message and finish_reason, usage adding up) and every SDK hands it to user "
    "code unchanged: the same id, choices and usage, and the content its sample prints.",
    cassette=CASSETTE,
    refs=("wire §6.1, §6.2, §6.4", "docs/driver-protocol.md (read.content)"),
    sdks=ALL_SDKS,
)
def response_contract(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, outcome = _create(wire, driver)
    no_error(outcome, driver.sdk)
    body = wire.response_json()
    violations = contract.validate_completion(body)
    conforms(violations, observe, "the response")
    result = outcome.result or {}
    observe("model", body["model"])
    observe("finish_reasons", [c["finish_reason"] for c in body["choices"]])
    # The content the samples print, through the SDK's typed accessor: not the raw JSON.
    content = observe("content", outcome.read.content)
    for name in ("id", "object", "created", "model"):
        expect(result.get(name) == body[name], f"{driver.sdk}'s {name} is {result.get(name)!r}, "
               f"the wire's {body[name]!r}")
    choices = result.get("choices") or []
    expect(len(choices) == len(body["choices"]), f"{driver.sdk} dropped or added choices")
    expect(content == body["choices"][0]["message"]["content"],
           f"the content {driver.sdk}'s sample prints is {content!r}, the server sent "
           f"{body['choices'][0]['message']['content']!r}")
    for parsed, raw in zip(choices, body["choices"], strict=False):
        message = parsed.get("message") or {}
        expect(message.get("content") == raw["message"]["content"],
               f"choice {raw['index']}: {driver.sdk}'s content differs from the wire")
        expect(parsed.get("finish_reason") == raw["finish_reason"],
               f"choice {raw['index']}: {driver.sdk}'s finish_reason differs from the wire")
        expect(message.get("role") == "assistant", f"choice {raw['index']}: role "
               f"{message.get('role')!r}")
    if "usage" in body:
        wanted = {k: body["usage"][k] for k in
                  ("prompt_tokens", "completion_tokens", "total_tokens")}
        usage = result.get("usage")
        observe("usage", wanted)
        expect(isinstance(usage, dict), f"the wire had usage, {driver.sdk}'s result has none")
        got = {k: (usage or {}).get(k) for k in wanted}
        expect(got == wanted, f"{driver.sdk}'s usage {got} differs from the wire's {wanted}")
    _typed_reads(outcome, body, driver.sdk)


def _typed_reads(outcome: DriverOutcome, body: dict[str, Any], sdk: str) -> None:
    """What the typed accessors return where the driver reads them (Go's ``ID`` and ``Usage``,
    Java's ``id()`` and ``usage()``): a build that keeps the raw JSON but decodes a field
    wrongly is caught here, not by the JSON the result carries."""
    read = outcome.read
    if read.has("id"):
        expect(read.id == body["id"], f"{sdk}'s typed id is {read.id!r}, the wire's "
               f"{body['id']!r}")
    if "usage" not in body:
        return
    typed: Mapping[str, Any] = read.usage or {}
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        # Java reads usage().totalTokens() alone, as the read's total_tokens.
        value = (read.total_tokens if name == "total_tokens" and read.has("total_tokens")
                 else typed.get(name))
        if value is not None or name in typed:
            expect(value == body["usage"][name], f"{sdk}'s typed usage {name} is {value!r}, "
                   f"the wire's {body['usage'][name]!r}")


@check(
    "chat.azure-filter-results",
    doc="Python / Chat / chat.completions.create() (the full model_dump_json is printed)",
    claim="Azure's extra fields (prompt_filter_results, per-choice content_filter_results) have "
    "their documented shape and survive each SDK's parsing, reachable from the returned "
    "object.",
    cassette=CASSETTE,
    refs=("wire §6.1, §6.2, §7",),
    sdks=ALL_SDKS,
)
def azure_filter_results(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, outcome = _create(wire, driver)
    no_error(outcome, driver.sdk)
    body = wire.response_json()
    violations = [v for v in contract.validate_completion(body)
                  if v.rule.startswith("content-filter.")]
    expect(not violations, "Azure filter results break the contract:\n"
           + "\n".join(map(str, violations)))
    expect("prompt_filter_results" in body,
           "the response has no prompt_filter_results; Azure adds them to every completion")
    dumped = outcome.result or {}
    observe("prompt_filter_categories",
            sorted(body["prompt_filter_results"][0]["content_filter_results"]))
    expect(dumped.get("prompt_filter_results") == body["prompt_filter_results"],
           f"prompt_filter_results did not survive {driver.sdk}'s parsing (its result differs "
           "from the wire)")
    for parsed, raw in zip(dumped.get("choices") or [], body["choices"], strict=False):
        if "content_filter_results" in raw:
            expect(parsed.get("content_filter_results") == raw["content_filter_results"],
                   f"choice {raw['index']}: content_filter_results did not survive "
                   f"{driver.sdk}'s parsing")
    observe("choice_filter_categories",
            [sorted(c.get("content_filter_results", {})) for c in body["choices"]])
