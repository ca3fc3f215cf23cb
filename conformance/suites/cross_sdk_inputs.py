"""The image inputs of the doc's samples, checked on every SDK it covers.

Like ``cross_sdk.py``: one scenario per check, replaying the packaged cassette the Python
checks in ``image_input.py`` replay, performed by the ``driver`` of the SDK the item runs
against. The judgement reads the request that crossed the wire (the image parts as given,
honouring their contract) and the SDK-neutral outcome (what user code got back). A driver
whose SDK cannot express the params answers ``unsupported``. (The MCP tool config is judged on
every SDK by ``mcp.tool-config``.)
"""

from __future__ import annotations

import json
from typing import Any

from conformance.contract.image_input import validate_chat_image_request
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect

from ._requests import (
    DEPLOYMENT,
    IMAGE_BOTH_MESSAGES,
    IMAGE_DATA_URL,
    IMAGE_MAX_TOKENS,
    IMAGE_SAMPLE_MESSAGES,
)
from ._scenario import no_error, read_value, scenario


def _one_request(wire: Wire, path: str, sdk: str, observe: Observations) -> dict[str, Any]:
    expect(len(wire.requests) == 1, f"{sdk} sent {len(wire.requests)} request(s), not 1")
    request = wire.requests[0]
    observe("request", f"{request.method} {request.path}")
    expect(request.path == path, f"{sdk} sent {request.path}, not {path}")
    body = request.json()
    expect(isinstance(body, dict), f"{sdk} sent a body that is not a JSON object")
    return dict(body)


def _image_check(wire: Wire, driver: Driver, observe: Observations,
                 messages: list[dict[str, Any]]) -> dict[str, Any]:
    given = {"model": DEPLOYMENT, "messages": messages, "max_tokens": IMAGE_MAX_TOKENS}
    outcome = driver.run(scenario(wire, "chat.completions.create", given))
    no_error(outcome, driver.sdk)
    body = _one_request(wire, "/openai/v1/chat/completions", driver.sdk, observe)
    parts = [p for m in body.get("messages") or [] if isinstance(m, dict)
             and isinstance(m.get("content"), list) for p in m["content"]]
    observe("part_types", [p.get("type") if isinstance(p, dict) else p for p in parts])
    violations = validate_chat_image_request(body)
    expect(not violations, f"{driver.sdk}'s request breaks the image-input contract:\n"
           + "\n".join(map(str, violations)))
    expect(body == given, f"{driver.sdk} did not send the messages as given:\nsent     "
           f"{json.dumps(body.get('messages'))[:400]}\nexpected {json.dumps(messages)[:400]}")
    reply = wire.response_json(0)
    result = outcome["result"] or {}
    content = observe("content", read_value(outcome, "content"))  # the SDK's typed accessor
    expect(result.get("id") == reply["id"], f"{driver.sdk} returned id {result.get('id')!r}, "
           f"the server sent {reply['id']!r}")
    expect(content == reply["choices"][0]["message"]["content"],
           f"{driver.sdk} returned other content than the server sent: {content!r}")
    return body


@check(
    "image-input.sdks-doc-sample",
    doc="Python / Chat / chat.completions.create() - image input",
    claim="Each SDK sends the doc's image sample (a text part and an https image_url part) "
    "exactly as given, honouring the image-input contract, and hands user code the answer.",
    cassette="image-input/chat-doc-sample.yaml",
    refs=("wire §9.1, §5.1",),
    sdks=ALL_SDKS,
)
def sdks_image_doc_sample(wire: Wire, driver: Driver, observe: Observations) -> None:
    _image_check(wire, driver, observe, IMAGE_SAMPLE_MESSAGES)


@check(
    "image-input.sdks-url-and-data-url",
    doc="Python / Chat / chat.completions.create() - image input",
    claim="Each SDK sends an https image_url part (detail high) and a base64 data URL part "
    "(detail low) in the order given, the data URL byte for byte, and hands user code the "
    "answer.",
    cassette="image-input/chat-url-and-data-url.yaml",
    refs=("wire §9.1, §5.1",),
    sdks=ALL_SDKS,
)
def sdks_image_url_and_data_url(wire: Wire, driver: Driver, observe: Observations) -> None:
    _image_check(wire, driver, observe, IMAGE_BOTH_MESSAGES)
    observe("data_url_bytes", len(IMAGE_DATA_URL))
    expect(IMAGE_DATA_URL.encode() in wire.requests[0].body,
           f"{driver.sdk} did not send the data URL byte for byte")
