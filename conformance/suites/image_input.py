"""image-input: image_url content parts in chat.completions.create, as sent on the wire."""

from __future__ import annotations

import copy
import json
from typing import Any

from conformance.contract import chat as chat_contract
from conformance.contract.image_input import validate_chat_image_request
from conformance.harness import Wire
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk

from ._judge import conforms
from ._requests import (
    DEPLOYMENT,
    IMAGE_BOTH_MESSAGES,
    IMAGE_DATA_URL,
    IMAGE_MAX_TOKENS,
    IMAGE_SAMPLE_MESSAGES,
)

DOC = "Python / Chat / chat.completions.create() - image input"


def _create(sdk: Sdk, messages: list[dict[str, Any]]) -> Any:
    # A copy: the check compares what went out with what the caller wrote.
    return sdk.client().chat.completions.create(
        model=DEPLOYMENT, messages=copy.deepcopy(messages), max_tokens=IMAGE_MAX_TOKENS
    )


def _parts(messages: list[dict[str, Any]]) -> list[Any]:
    return [part for m in messages if isinstance(m.get("content"), list) for part in m["content"]]


def _describe_image(part: dict[str, Any]) -> Any:
    """An image part for the report: the URL cut short (data URLs are long)."""
    image = part.get("image_url")
    if not isinstance(image, dict) or not isinstance(image.get("url"), str):
        return image
    url = image["url"]
    return {**image, "url": url if len(url) <= 48 else url[:45] + "..."}


def _judge_request(wire: Wire, observe: Observations, messages: list[dict[str, Any]]) -> Any:
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    request = wire.requests[0]
    body = request.json()
    sent = body.get("messages")
    observe("request", f"{request.method} {request.path}")
    observe("image_parts", [_describe_image(p) for p in _parts(sent or [])
                            if isinstance(p, dict) and p.get("type") == "image_url"])
    violations = validate_chat_image_request(body)
    conforms(violations, observe, "the request's image parts")
    expect(sent == messages, "the messages did not go out as given:\nsent     "
           f"{json.dumps(sent)[:400]}\nexpected {json.dumps(messages)[:400]}")
    expect(body.get("model") == DEPLOYMENT and body.get("max_tokens") == IMAGE_MAX_TOKENS,
           f"model/max_tokens went out as {body.get('model')!r}/{body.get('max_tokens')!r}")
    return body


@check(
    "image-input.chat-doc-sample",
    doc=DOC,
    claim="The doc's image sample (gpt-4o, a text part and an image_url part with an https URL "
    "and no detail, max_tokens 300) goes out with its content parts exactly as given (no "
    "detail added, the URL untouched), honouring the image-input contract, and the reply is "
    "returned as a chat completion.",
    cassette="image-input/chat-doc-sample.yaml",
    refs=("wire §9.1, §5.1, §6",),
)
def chat_doc_sample(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    completion = _create(sdk, IMAGE_SAMPLE_MESSAGES)
    _judge_request(wire, observe, IMAGE_SAMPLE_MESSAGES)
    reply = wire.response_json()
    violations = chat_contract.validate_completion(reply)
    expect(not violations, "the reply breaks the chat completion contract:\n"
           + "\n".join(map(str, violations)))
    # The doc prints completion.model_dump_json(indent=2).
    dumped = json.loads(completion.model_dump_json(indent=2))
    expect(dumped.get("id") == reply["id"]
           and dumped["choices"][0]["message"]["content"]
           == reply["choices"][0]["message"]["content"],
           "model_dump_json() of the SDK's completion differs from the reply (id, content)")


@check(
    "image-input.chat-url-and-data-url",
    doc=DOC,
    claim="An image_url part with a base64 data URL (data:image/png;base64,...) and detail low "
    "goes out byte for byte as given (not re-encoded, escaped or fetched), next to an https "
    "part with detail high, in the order given.",
    cassette="image-input/chat-url-and-data-url.yaml",
    refs=("wire §9.1, §5.1",),
)
def chat_url_and_data_url(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    _create(sdk, IMAGE_BOTH_MESSAGES)
    _judge_request(wire, observe, IMAGE_BOTH_MESSAGES)
    raw = wire.requests[0].body
    observe("data_url_bytes", len(IMAGE_DATA_URL))
    expect(IMAGE_DATA_URL.encode() in raw,
           "the data URL does not appear byte for byte in the request body")
