"""The Responses contract: the reference examples pass, and every rule fires on a violation."""

from __future__ import annotations

import copy
import json

import pytest

from conformance.contract import RULES
from conformance.contract.responses import output_text, validate_item, validate_response


@pytest.fixture
def recorded(reference):
    return json.loads((reference / "responses.azure.json").read_text())


@pytest.fixture
def rich(recorded):
    return _rich(recorded)


def _rich(recorded):
    """The recorded body with one item of every type the contract knows in detail."""
    body = copy.deepcopy(recorded)
    body["output"] = [
        {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "s"}],
         "encrypted_content": None},
        {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f",
         "arguments": '{"a":1}', "status": "completed"},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Hi", "annotations": []},
                     {"type": "refusal", "refusal": "No"}]},
    ]
    return body


def rules(body):
    return {v.rule for v in validate_response(body)}


@pytest.mark.parametrize("name", ["responses.azure.json", "responses-mcp.openai.json"])
def test_recorded_examples_pass(reference, name):
    assert validate_response(json.loads((reference / name).read_text())) == []


def test_constructed_examples_pass(reference, rich):
    approval = json.loads((reference / "responses-mcp-approval.json").read_text())
    assert validate_response(approval["step1_response"]) == []
    assert validate_response(rich) == []


def test_unknown_fields_items_and_nulls_are_tolerated(rich):
    rich["a_future_field"] = {"x": 1}
    rich["output"].append({"id": "ig_1", "type": "image_generation_call", "anything": None})
    rich["output"][2]["content"].append({"type": "output_audio", "data": "..."})
    rich["output"][2]["phase"] = "final_answer"
    rich["output_text"] = "printed from an SDK object"
    rich["content_filters"] = None
    del rich["status"]
    rich["usage"]["output_tokens_details"]["reasoning_tokens"] = None
    assert validate_response(rich) == []


def test_a_failed_and_an_incomplete_response_pass(rich):
    failed = {**rich, "status": "failed", "error": {"code": "server_error", "message": "x"}}
    incomplete = {**rich, "status": "incomplete",
                  "incomplete_details": {"reason": "max_output_tokens"}}
    assert validate_response(failed) == []
    assert validate_response(incomplete) == []


def _set(path, value):
    def change(body):
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _drop(path):
    def change(body):
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


CASES = [
    ("responses.object", _set(["object"], "chat.completion")),
    ("responses.id", _set(["id"], "")),
    ("responses.created-at", _set(["created_at"], 1785164068.0)),
    ("responses.status", _set(["status"], "done")),
    ("responses.model", _set(["model"], None)),
    ("responses.output", _set(["output"], {"id": "msg_1"})),
    ("responses.output", _drop(["output", 2, "id"])),
    ("responses.error", _set(["error"], {"message": "no code"})),
    ("responses.error", _set(["status"], "failed")),
    ("responses.incomplete-details", _set(["incomplete_details"], {"reason": "too_long"})),
    ("responses.incomplete-details", _set(["status"], "incomplete")),
    ("responses.message", _set(["output", 2, "role"], "user")),
    ("responses.message", _set(["output", 2, "status"], "done")),
    ("responses.content-part", _set(["output", 2, "content", 0, "text"], None)),
    ("responses.content-part", _drop(["output", 2, "content", 0, "annotations"])),
    ("responses.content-part", _set(["output", 2, "content", 1, "refusal"], 1)),
    ("responses.reasoning", _set(["output", 0, "summary", 0, "type"], "text")),
    ("responses.reasoning", _set(["output", 0, "encrypted_content"], {"opaque": 1})),
    ("responses.function-call", _set(["output", 1, "arguments"], {"a": 1})),
    ("responses.function-call", _set(["output", 1, "arguments"], "{not json")),
    ("responses.usage.counts", _set(["usage", "output_tokens"], -1)),
    ("responses.usage.total", _set(["usage", "total_tokens"], 24)),
    ("responses.usage.details", _set(["usage", "output_tokens_details", "reasoning_tokens"],
                                     6)),
    ("responses.usage.details", _set(["usage", "input_tokens_details", "cached_tokens"], "0")),
    ("responses.content-filters", _set(["content_filters"], {"blocked": False})),
    ("responses.content-filters", _set(["content_filters", 0, "blocked"], "false")),
    ("responses.content-filters", _drop(["content_filters", 1, "content_filter_offsets",
                                         "end_offset"])),
    ("content-filter.severity", _set(["content_filters", 0, "content_filter_results", "hate",
                                      "severity"], "none")),
    ("mcp.arguments", lambda body: body["output"].append(
        {"id": "mcp_1", "type": "mcp_call", "server_label": "s", "name": "n",
         "arguments": {}})),
]


@pytest.mark.parametrize(("rule", "change"), CASES, ids=[f"{r}-{n}" for n, (r, _) in
                                                          enumerate(CASES)])
def test_each_rule_fires(rich, rule, change):
    change(rich)
    assert rule in rules(rich)


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    recorded = json.loads((reference / "responses.azure.json").read_text())
    fired = set()
    for rule, change in CASES:
        body = _rich(recorded)
        change(body)
        fired |= {rule} & rules(body)
    return fired


def test_every_responses_rule_has_a_case():
    declared = {r for r in RULES if r.startswith("responses.")}
    assert declared <= {rule for rule, _ in CASES}


def test_validate_item_checks_one_item():
    assert validate_item({"id": "rs_1", "type": "reasoning", "summary": []}) == []
    assert [v.rule for v in validate_item({"type": "reasoning", "summary": []})] == [
        "responses.output"
    ]


def test_output_text_is_every_output_text_part_of_every_message_in_order(rich):
    rich["output"].append({"id": "msg_2", "type": "message", "role": "assistant",
                           "status": "completed",
                           "content": [{"type": "output_text", "text": " there",
                                        "annotations": []}]})
    assert output_text(rich) == "Hi there"
    assert output_text({"output": []}) == ""
