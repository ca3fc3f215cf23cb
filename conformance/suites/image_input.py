"""image-input: image_url content parts in chat.completions.create, as each SDK sends them.

Each check performs the doc's image sample with the ``driver`` of the SDK it runs against and
judges the request that crossed the wire (the image parts exactly as given, honouring the
image-input contract) and what the SDK handed user code (the reply, and the content its
sample prints, read through its typed accessor).
"""

from __future__ import annotations

import json
from typing import Any

from conformance.contract import chat as chat_contract
from conformance.contract.image_input import validate_chat_image_request
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect

from ._judge import conforms
from ._requests import (
    DEPLOYMENT,
    IMAGE_BOTH_MESSAGES,
    IMAGE_DATA_URL,
    IMAGE_MAX_TOKENS,
    IMAGE_SAMPLE_MESSAGES,
)
from ._scenario import no_error, scenario

DOC = "Python / Chat / chat.completions.create() - image input"


def _parts(messages: list[dict[str, Any]]) -> list[Any]:
    return [part for m in messages if isinstance(m, dict) and isinstance(m.get("content"), list)
            for part in m["content"]]


def _describe_image(part: dict[str, Any]) -> Any:
    """An image part for the report: the URL cut short (data URLs are long)."""
    image = part.get("image_url")
    if not isinstance(image, dict) or not isinstance(image.get("url"), str):
        return image
    url = image["url"]
    return {**image, "url": url if len(url) <= 48 else url[:45] + "..."}


def _image_check(wire: Wire, driver: Driver, observe: Observations,
                 messages: list[dict[str, Any]]) -> None:
    """Perform the sample with ``messages``; judge the request and the reply user code got."""
    given = {"model": DEPLOYMENT, "messages": messages, "max_tokens": IMAGE_MAX_TOKENS}
    outcome = driver.run(scenario(wire, "chat.completions.create", given))
    expect(len(wire.requests) == 1, f"{driver.sdk} sent {len(wire.requests)} request(s), not 1")
    request = wire.requests[0]
    observe("request", f"{request.method} {request.path}")
    expect(request.path == "/openai/v1/chat/completions",
           f"{driver.sdk} sent {request.path}, not /openai/v1/chat/completions")
    body = request.json()
    expect(isinstance(body, dict), f"{driver.sdk} sent a body that is not a JSON object")
    sent = body.get("messages")
    observe("image_parts", [_describe_image(p) for p in _parts(sent or [])
                            if isinstance(p, dict) and p.get("type") == "image_url"])
    observe("part_types", [p.get("type") if isinstance(p, dict) else p
                           for p in _parts(sent or [])])
    conforms(validate_chat_image_request(body), observe, "the request's image parts")
    expect(sent == messages, f"{driver.sdk} did not send the messages as given:\nsent     "
           f"{json.dumps(sent)[:400]}\nexpected {json.dumps(messages)[:400]}")
    expect(body.get("model") == DEPLOYMENT and body.get("max_tokens") == IMAGE_MAX_TOKENS,
           f"model/max_tokens went out as {body.get('model')!r}/{body.get('max_tokens')!r}")
    expect(body == given, f"{driver.sdk} did not send the other params as given: "
           f"{sorted(k for k in set(body) | set(given) if body.get(k) != given.get(k))}")
    no_error(outcome, driver.sdk)
    reply = wire.response_json(0)
    violations = chat_contract.validate_completion(reply)
    expect(not violations, "the reply breaks the chat completion contract:\n"
           + "\n".join(map(str, violations)))
    result = outcome.result or {}
    content = observe("content", outcome.read.content)  # the SDK's typed accessor
    expect(result.get("id") == reply["id"], f"{driver.sdk} returned id {result.get('id')!r}, "
           f"the server sent {reply['id']!r}")
    expect(content == reply["choices"][0]["message"]["content"],
           f"{driver.sdk} returned other content than the server sent: {content!r}")


@check(
    "image-input.chat-doc-sample",
    doc=DOC,
    claim="The doc's image sample (gpt-4o, a text part and an image_url part with an https URL "
    "and no detail, max_tokens 300) goes out with its content parts exactly as given (no "
    "detail added, the URL untouched), honouring the image-input contract, and every SDK "
    "hands user code the reply (its id and the content its sample prints).",
    cassette="image-input/chat-doc-sample.yaml",
    refs=("wire §9.1, §5.1, §6",),
    sdks=ALL_SDKS,
)
def chat_doc_sample(wire: Wire, driver: Driver, observe: Observations) -> None:
    _image_check(wire, driver, observe, IMAGE_SAMPLE_MESSAGES)


@check(
    "image-input.chat-url-and-data-url",
    doc=DOC,
    claim="An image_url part with a base64 data URL (data:image/png;base64,...) and detail low "
    "goes out byte for byte as given (not re-encoded, escaped or fetched), next to an https "
    "part with detail high, in the order given, on every SDK.",
    cassette="image-input/chat-url-and-data-url.yaml",
    refs=("wire §9.1, §5.1",),
    sdks=ALL_SDKS,
)
def chat_url_and_data_url(wire: Wire, driver: Driver, observe: Observations) -> None:
    _image_check(wire, driver, observe, IMAGE_BOTH_MESSAGES)
    observe("data_url_bytes", len(IMAGE_DATA_URL))
    expect(IMAGE_DATA_URL.encode() in wire.requests[0].body,
           f"{driver.sdk} did not send the data URL byte for byte")
