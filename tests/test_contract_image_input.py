"""The image-input request contract: the examples pass, every rule fires on its own."""

from __future__ import annotations

import copy
import json

import pytest

from conformance.contract import RULES
from conformance.contract import image_input as contract
from conformance.suites._requests import IMAGE_BOTH_MESSAGES, IMAGE_SAMPLE_MESSAGES


def body(messages):
    return {"model": "gpt-4o", "messages": copy.deepcopy(messages), "max_tokens": 300}


def rules(found):
    return {v.rule for v in found}


def test_the_reference_request_passes(reference):
    example = json.loads((reference / "chat-request-image.json").read_text())
    assert contract.validate_chat_image_request(example["body"]) == []


@pytest.mark.parametrize("messages", [IMAGE_SAMPLE_MESSAGES, IMAGE_BOTH_MESSAGES])
def test_the_suite_requests_pass(messages):
    assert contract.validate_chat_image_request(body(messages)) == []


def test_other_parts_and_unknown_fields_are_tolerated():
    request = body(IMAGE_BOTH_MESSAGES)
    parts = request["messages"][0]["content"]
    parts.append({"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}})
    parts[1]["image_url"]["future_field"] = True
    parts[1]["cache_control"] = {"type": "ephemeral"}
    request["messages"].insert(0, {"role": "system", "content": [{"type": "text", "text": "Hi"}]})
    request["messages"].append({"role": "assistant", "content": None})
    assert contract.validate_chat_image_request(request) == []


def test_a_plain_http_url_is_accepted():
    """The spec allows http(s); Azure fetches either (wire §9.1)."""
    request = body(IMAGE_SAMPLE_MESSAGES)
    request["messages"][0]["content"][1]["image_url"]["url"] = "http://example.com/a.png"
    assert contract.validate_chat_image_request(request) == []


def part(n):
    return lambda request: request["messages"][0]["content"][n]


def set_image(n, **fields):
    return lambda request: part(n)(request)["image_url"].update(fields)


def replace_part(n, value):
    def change(request):
        request["messages"][0]["content"][n] = value
    return change


def in_system_message(request):
    image = request["messages"][0]["content"].pop(1)
    request["messages"].insert(0, {"role": "system", "content": [image]})


CASES = [
    (contract.CONTENT, lambda r: r["messages"][0].update(content=42)),
    (contract.CONTENT, replace_part(0, "What's in this image?")),
    (contract.CONTENT, replace_part(0, {"text": "no type"})),
    (contract.TEXT_PART, replace_part(0, {"type": "text", "text": ["What's in this image?"]})),
    (contract.PART, replace_part(1, {"type": "image_url",
                                     "image_url": "https://example.com/a.png"})),
    (contract.PART, replace_part(1, {"type": "image_url", "image_url": {"detail": "low"}})),
    (contract.URL, set_image(1, url="ftp://example.com/a.png")),
    (contract.URL, set_image(1, url="https:///a.png")),
    (contract.URL, set_image(1, url="picture.png")),
    (contract.DATA_URL, set_image(2, url="data:image/png;base64,#not-base64#")),
    (contract.DATA_URL, set_image(2, url="data:image/png;base64,")),
    (contract.DATA_URL, set_image(2, url="data:text/plain;base64,aGVsbG8=")),
    (contract.DATA_URL, set_image(2, url="data:image/png,raw-bytes")),
    (contract.DETAIL, set_image(1, detail="medium")),
    (contract.DETAIL, set_image(2, detail=None)),
    (contract.USER_ONLY, in_system_message),
]


@pytest.mark.parametrize(("rule", "mutation"), CASES,
                         ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)])
def test_each_rule_fires_alone(rule, mutation):
    request = body(IMAGE_BOTH_MESSAGES)
    mutation(request)
    assert rules(contract.validate_chat_image_request(request)) == {rule}


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    fired = set()
    for rule, mutation in CASES:
        request = body(IMAGE_BOTH_MESSAGES)
        mutation(request)
        fired |= {rule} & rules(contract.validate_chat_image_request(request))
    return fired


def test_every_image_input_rule_has_a_violating_request():
    assert {case[0] for case in CASES} == {r for r in RULES if r.startswith("image-input.")}


def test_not_a_request_is_no_crash():
    assert contract.validate_chat_image_request(None) == []
    assert contract.validate_chat_image_request({"messages": "nope"}) == []
