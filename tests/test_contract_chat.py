"""Every chat and content-filter rule fires on a payload that breaks it, and only then."""

from __future__ import annotations

import copy
import json

import pytest

from conformance.contract import RULES
from conformance.contract.chat import validate_completion


@pytest.fixture
def completion(reference):
    return json.loads((reference / "chat-completion.azure.json").read_text())


def test_the_recorded_completion_conforms(completion):
    assert validate_completion(completion) == []


def test_unknown_fields_and_allowed_nulls_are_tolerated(completion):
    completion["brand_new_field"] = {"x": 1}
    completion["service_tier"] = None
    completion["system_fingerprint"] = None
    completion["choices"][0]["message"].update(annotations=[], audio=None, function_call=None,
                                              tool_calls=None, content=None)
    completion["choices"][0]["content_filter_results"]["novel_category"] = {"whatever": 1}
    completion["usage"]["completion_tokens_details"]["audio_tokens"] = None
    completion["prompt_annotations"] = completion.pop("prompt_filter_results")
    assert validate_completion(completion) == []


def set_path(body, path, value):
    *parents, last = path
    for key in parents:
        body = body[key]
    if value is DELETE:
        del body[last]
    else:
        body[last] = value


DELETE = object()

# (rule, where to change, new value)
VIOLATIONS = [
    ("chat.object", ["object"], "chat.completion.chunk"),
    ("chat.id", ["id"], ""),
    ("chat.created", ["created"], 1.5),
    ("chat.model", ["model"], None),
    ("chat.choices", ["choices"], []),
    ("chat.choice.index", ["choices", 0, "index"], "0"),
    ("chat.choice.finish-reason", ["choices", 0, "finish_reason"], None),
    ("chat.message", ["choices", 0, "message", "role"], "user"),
    ("chat.message.tool-calls", ["choices", 0, "message", "tool_calls"],
     [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]),
    ("usage.counts", ["usage", "prompt_tokens"], -1),
    ("usage.total", ["usage", "total_tokens"], 24),
    ("usage.details", ["usage", "completion_tokens_details", "reasoning_tokens"], 10),
    ("content-filter.results", ["choices", 0, "content_filter_results"], []),
    ("content-filter.severity", ["choices", 0, "content_filter_results", "hate", "severity"],
     "extreme"),
    ("content-filter.detection",
     ["choices", 0, "content_filter_results", "protected_material_code", "detected"], "no"),
    ("content-filter.error", ["choices", 0, "content_filter_results", "error"],
     {"code": "content_filter_error"}),
    ("content-filter.lists", ["choices", 0, "content_filter_results", "custom_blocklists"],
     {"filtered": False, "details": [{"filtered": False}]}),
    ("content-filter.prompt-results", ["prompt_filter_results", 0, "prompt_index"], None),
]


@pytest.mark.parametrize(("rule", "path", "value"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_each_rule_fires_on_its_violation(completion, rule, path, value):
    broken = copy.deepcopy(completion)
    set_path(broken, path, value)
    fired = {v.rule for v in validate_completion(broken)}
    assert fired == {rule}


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    completion = json.loads((reference / "chat-completion.azure.json").read_text())
    fired = set()
    for rule, path, value in VIOLATIONS:
        broken = copy.deepcopy(completion)
        set_path(broken, path, value)
        fired |= {rule} & {v.rule for v in validate_completion(broken)}
    return fired


def test_every_chat_rule_has_a_violation():
    mine = {r for r in RULES if r.startswith(("chat.", "usage.", "content-filter."))}
    assert mine == {v[0] for v in VIOLATIONS}


def test_azure_and_custom_tool_shapes_from_real_traffic_pass(completion):
    # tests/corpus/real: azure/openllmetry/chat-content-filtered.yaml (no message on a
    # filtered choice), openai/dd-trace-py/chat-custom-tool-call.yaml (a custom tool call),
    # azure/crewai/chat-image.yaml (content_filter_result, singular, possibly empty).
    filtered = copy.deepcopy(completion)
    del filtered["choices"][0]["message"]
    filtered["choices"][0]["finish_reason"] = "content_filter"
    assert validate_completion(filtered) == []
    custom = copy.deepcopy(completion)
    custom["choices"][0]["message"]["tool_calls"] = [
        {"id": "call_1", "type": "custom", "custom": {"name": "f", "input": "x"}}]
    assert validate_completion(custom) == []
    singular = copy.deepcopy(completion)
    singular["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_result": {}}]
    assert validate_completion(singular) == []
    del filtered["choices"][0]["finish_reason"]
    assert "chat.message" in {v.rule for v in validate_completion(filtered)}


def test_a_body_that_is_not_an_object():
    assert [v.rule for v in validate_completion([1, 2])] == ["chat.object"]


def test_duplicate_choice_indexes(completion):
    completion["choices"].append(copy.deepcopy(completion["choices"][0]))
    assert [v.rule for v in validate_completion(completion)] == ["chat.choice.index"]


def test_filter_error_code_may_be_a_string_or_an_int(completion):
    results = completion["choices"][0]["content_filter_results"]
    results["error"] = {"code": "content_filter_error", "message": "The contents are not filtered"}
    assert validate_completion(completion) == []
    results["error"]["code"] = 500
    assert validate_completion(completion) == []
