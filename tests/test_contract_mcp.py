"""The MCP contract: tool configs, output items and stream order; every rule fires once."""

from __future__ import annotations

import copy
import json

import pytest

from conformance.contract import RULES
from conformance.contract.mcp import validate_approval_response, validate_mcp_tool
from conformance.contract.responses import validate_response
from conformance.contract.responses_stream import validate_responses_stream
from conformance.suites._requests import MCP_STREAM_TOOL, MCP_TOOL
from conformance.wire import parse_events

from .responses_support import sse_body, sse_payloads


@pytest.fixture
def recorded(reference):
    return _recorded(reference)


def _recorded(reference):
    return json.loads((reference / "responses-mcp.openai.json").read_text())


@pytest.fixture
def approval(reference):
    return _approval(reference)


def _approval(reference):
    return json.loads((reference / "responses-mcp-approval.json").read_text())


@pytest.fixture
def stream(reference):
    return _stream(reference)


def _stream(reference):
    return sse_payloads((reference / "responses-mcp-stream.sse").read_bytes())


def as_events(payloads):
    return [(e.name, e.data) for e in parse_events(sse_body(payloads))]


def tool_rules(config):
    return {v.rule for v in validate_mcp_tool(config)}


def test_the_doc_and_reference_tool_configs_pass(reference, approval):
    recorded = json.loads((reference / "responses-mcp.openai.request.json").read_text())
    configs = [MCP_TOOL, MCP_STREAM_TOOL, *recorded["body"]["tools"],
               *approval["step1_request"]["body"]["tools"]]
    for config in configs:
        assert validate_mcp_tool(config) == [], config


@pytest.mark.parametrize("extra", [
    {"require_approval": "always"},
    {"require_approval": {"never": {"tool_names": ["microsoft_docs_search"]}}},
    {"require_approval": {"always": {"tool_names": ["a"]}, "never": {"tool_names": ["b"]}}},
    {"allowed_tools": {"tool_names": ["a"], "read_only": True}},
    {"allowed_tools": None, "headers": {"Authorization": "Bearer x"}},
])
def test_the_other_documented_forms_pass(extra):
    assert validate_mcp_tool({**MCP_TOOL, **extra}) == []


def test_a_connector_tool_passes():
    # A real request (tests/corpus/real/openai/pydantic-ai/responses-mcp-connector.yaml)
    # names a connector instead of a server_url.
    connector = {"type": "mcp", "server_label": "google_calendar",
                 "connector_id": "connector_googlecalendar", "authorization": "REDACTED",
                 "require_approval": "never", "allowed_tools": ["search_events"]}
    assert validate_mcp_tool(connector) == []
    assert {v.rule for v in validate_mcp_tool({**connector, "connector_id": ""})} == {"mcp.tool"}


TOOL_CASES = [
    ("mcp.tool", {"type": "function"}),
    ("mcp.tool", {"server_label": ""}),
    ("mcp.tool", {"server_url": "http://learn.microsoft.com/api/mcp"}),
    ("mcp.tool", {"server_description": 5}),
    ("mcp.tool.require-approval", {"require_approval": "sometimes"}),
    ("mcp.tool.require-approval", {"require_approval": {"always": ["a"]}}),
    ("mcp.tool.allowed-tools", {"allowed_tools": "microsoft_docs_search"}),
    ("mcp.tool.allowed-tools", {"allowed_tools": {"names": ["a"]}}),
    ("mcp.tool.headers", {"headers": {"x-count": 1}}),
]


@pytest.mark.parametrize(("rule", "change"), TOOL_CASES)
def test_each_tool_rule_fires(rule, change):
    assert rule in tool_rules({**MCP_TOOL, **change})


def test_a_tool_that_is_not_an_object_fails():
    assert tool_rules("mcp") == {"mcp.tool"}


def test_the_approval_response_item(approval):
    item = approval["step2_request"]["body"]["input"][0]
    assert validate_approval_response(item) == []
    assert validate_approval_response({**item, "reason": "ok by policy"}) == []
    for broken in _broken_approval_responses(item):
        assert [v.rule for v in validate_approval_response(broken)] == ["mcp.approval-response"]


def _broken_approval_responses(item):
    return ({**item, "approve": "yes"}, {**item, "type": "mcp_approval"},
            {k: v for k, v in item.items() if k != "approval_request_id"})


def _item(body, kind):
    return next(item for item in body["output"] if item["type"] == kind)


def test_mcp_call_error_may_be_a_string_or_an_object(recorded):
    call = _item(recorded, "mcp_call")
    call.update(status="failed", output=None, error="HTTP 503 from the MCP server")
    assert validate_response(recorded) == []
    call["error"] = {"type": "mcp_tool_execution_error", "content": [{"type": "text"}]}
    assert validate_response(recorded) == []


ITEM_CASES = [
    ("mcp.list-tools", "mcp_list_tools", lambda i: i["tools"][0].pop("input_schema")),
    ("mcp.list-tools", "mcp_list_tools", lambda i: i.update(error={"message": "x"})),
    ("mcp.call", "mcp_call", lambda i: i.pop("name")),
    ("mcp.call", "mcp_call", lambda i: i.update(output={"text": "x"})),
    ("mcp.arguments", "mcp_call", lambda i: i.update(arguments={})),
    ("mcp.arguments", "mcp_call", lambda i: i.update(arguments="{'repoName': 1}")),
    ("mcp.call.error", "mcp_call", lambda i: i.update(error=503)),
    ("mcp.call.error", "mcp_call", lambda i: i.update(error={"code": 503})),
    ("mcp.call.status", "mcp_call", lambda i: i.update(status="done")),
    ("mcp.call.status", "mcp_call", lambda i: i.update(status="failed")),
    ("mcp.call.status", "mcp_call", lambda i: i.update(status="failed", output=None,
                                                       error=None)),
]


@pytest.mark.parametrize(("rule", "kind", "change"), ITEM_CASES,
                         ids=[f"{rule}-{n}" for n, (rule, _, _) in enumerate(ITEM_CASES)])
def test_each_item_rule_fires(recorded, rule, kind, change):
    change(_item(recorded, kind))
    assert rule in {v.rule for v in validate_response(recorded)}


APPROVAL_REQUEST_CASES = [
    ("mcp.approval-request", lambda i: i.pop("server_label")),
    ("mcp.arguments", lambda i: i.update(arguments={"query": "x"})),
]


@pytest.mark.parametrize(("rule", "change"), APPROVAL_REQUEST_CASES,
                         ids=["no-server-label", "arguments-object"])
def test_the_approval_request_rules_fire(approval, rule, change):
    body = copy.deepcopy(approval["step1_response"])
    change(_item(body, "mcp_approval_request"))
    assert rule in {v.rule for v in validate_response(body)}


def test_the_reference_stream_passes_under_both_argument_spellings(stream):
    assert validate_responses_stream(as_events(stream)) == []
    for payload in stream:
        payload["type"] = payload["type"].replace("mcp_call_arguments.", "mcp_call.arguments_")
        if payload["type"].startswith("response.mcp_list_tools."):
            payload.pop("item_id")
            payload.pop("output_index")  # Azure spec revision B carries only the type
    assert validate_responses_stream(as_events(stream)) == []


def _drop_argument_item_ids(stream):
    for payload in stream:
        if payload["type"] == "response.mcp_call_arguments.delta":
            del payload["item_id"]


def test_argument_events_without_item_id_fire(stream):
    _drop_argument_item_ids(stream)
    assert "mcp.stream.arguments" in {v.rule for v in validate_responses_stream(as_events(stream))}


def _call_before_list_done(stream):
    # Move the list-tools item's .done (and its completed event) after the call's .added.
    done = next(n for n, p in enumerate(stream) if p["type"] == "response.output_item.done")
    moved = stream[done - 1: done + 1]
    del stream[done - 1: done + 1]
    added = next(n for n, p in enumerate(stream)
                 if p["type"] == "response.output_item.added" and p["item"]["type"] == "mcp_call")
    stream[added + 1: added + 1] = moved


STREAM_CASES = [("mcp.stream.arguments", _drop_argument_item_ids),
                ("mcp.stream.list-before-call", _call_before_list_done)]


def test_an_mcp_call_added_before_the_tool_list_is_done_fires(stream):
    _call_before_list_done(stream)
    assert "mcp.stream.list-before-call" in {
        v.rule for v in validate_responses_stream(as_events(stream))
    }


def test_a_follow_up_stream_may_call_a_tool_listed_earlier(stream):
    # No mcp_list_tools in this stream (previous_response_id): the order rule does not apply.
    listing = [n for n, p in enumerate(stream)
               if p.get("output_index") == 0 and p["type"] != "response.completed"]
    kept = [p for n, p in enumerate(stream) if n not in listing]
    for payload in kept:
        if "output_index" in payload:
            payload["output_index"] -= 1
    completed = kept[-1]["response"]
    completed["output"] = completed["output"][1:]
    assert "mcp.stream.list-before-call" not in {
        v.rule for v in validate_responses_stream(as_events(kept))
    }


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    fired = {rule for rule, change in TOOL_CASES if rule in tool_rules({**MCP_TOOL, **change})}
    for rule, kind, change in ITEM_CASES:
        body = _recorded(reference)
        change(_item(body, kind))
        fired |= {rule} & {v.rule for v in validate_response(body)}
    approval = _approval(reference)
    for rule, change in APPROVAL_REQUEST_CASES:
        body = copy.deepcopy(approval["step1_response"])
        change(_item(body, "mcp_approval_request"))
        fired |= {rule} & {v.rule for v in validate_response(body)}
    for broken in _broken_approval_responses(approval["step2_request"]["body"]["input"][0]):
        fired |= {"mcp.approval-response"} & {v.rule for v in validate_approval_response(broken)}
    for rule, change in STREAM_CASES:
        stream = _stream(reference)
        change(stream)
        fired |= {rule} & {v.rule for v in validate_responses_stream(as_events(stream))}
    return fired


def test_every_mcp_rule_has_a_case():
    covered = {r for r, _ in TOOL_CASES} | {r for r, _, _ in ITEM_CASES} | {
        "mcp.approval-response", "mcp.approval-request", "mcp.stream.arguments",
        "mcp.stream.list-before-call"}
    assert {r for r in RULES if r.startswith("mcp.")} <= covered
