"""The mcp checks fail when the server or the SDK misbehaves."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk, rewrite_json
from .responses_support import edit_request, edit_stream, filter_stream, find

CONFIG = "mcp/tool-config.yaml"
FAILED = "mcp/failed-call.yaml"
APPROVAL = "mcp/approval-flow.yaml"
STREAMS = "mcp/streaming-events.yaml"
IDS = ("mcp.tool-config", "mcp.output-items", "mcp.failed-call", "mcp.approval-flow",
       "mcp.streaming-events")


def _item(body, kind):
    return next(item for item in body["output"] if item["type"] == kind)


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*IDS)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(IDS, Verdict.PASS)


@pytest.mark.parametrize("chunking", ["fixed:1", "random:3", "random:99"])
def test_the_streams_pass_under_any_chunking(suite, chunking):
    run = suite.run("mcp.streaming-events", args=(f"--sse-chunking={chunking}",))
    assert run.verdict("mcp.streaming-events") is Verdict.PASS


def test_an_error_object_is_accepted_as_well(suite):
    suite.edit_json(FAILED, 0, lambda body: _item(body, "mcp_call").update(error={
        "type": "mcp_tool_execution_error", "content": [{"type": "text", "text": "503"}]}))
    run = suite.run("mcp.failed-call")
    assert run.verdict("mcp.failed-call") is Verdict.PASS


# -- a misbehaving server ----------------------------------------------------------------------


def arguments_as_an_object(suite, monkeypatch):
    """What Learn's approval sample prints (wire §13.2, §17 #14)."""
    suite.edit_json(CONFIG, 0, lambda body: _item(body, "mcp_call").update(
        arguments={"query": "Azure Functions"}))


def a_call_before_the_tool_list(suite, monkeypatch):
    def swap(body):
        output = body["output"]
        output[0], output[2] = output[2], output[0]

    suite.edit_json(CONFIG, 0, swap)


def items_naming_another_server(suite, monkeypatch):
    suite.edit_json(CONFIG, 0, lambda body: _item(body, "mcp_call").update(
        server_label="another_server"))


def _edit_the_failed_call(suite, change):
    suite.edit_json(FAILED, 0, lambda body: _item(body, "mcp_call").update(change))


def a_failed_call_whose_error_is_a_number(suite, monkeypatch):
    _edit_the_failed_call(suite, {"error": 503})


def a_failed_call_without_its_error(suite, monkeypatch):
    _edit_the_failed_call(suite, {"error": None})


def a_failed_call_with_output(suite, monkeypatch):
    _edit_the_failed_call(suite, {"output": "partial results"})


def a_failed_call_reported_completed(suite, monkeypatch):
    _edit_the_failed_call(suite, {"status": "completed", "error": None})


def a_call_run_without_approval(suite, monkeypatch):
    def run_it(body):
        request = _item(body, "mcp_approval_request")
        body["output"].append({**request, "id": "mcp_1", "type": "mcp_call", "output": "x",
                               "status": "completed"})

    suite.edit_json(APPROVAL, 0, run_it)


def an_approval_that_yields_no_call(suite, monkeypatch):
    suite.edit_json(APPROVAL, 1, lambda body: body.update(
        output=[o for o in body["output"] if o["type"] != "mcp_call"]))


def _add_the_call_before_the_tool_list_is_done(suite, index):
    def reorder(payloads):
        done = find(payloads, "response.output_item.done")
        moved = payloads.pop(done)
        added = next(n for n, p in enumerate(payloads)
                     if p["type"] == "response.output_item.added"
                     and p["item"]["type"] == "mcp_call")
        payloads.insert(added + 1, moved)

    edit_stream(suite, STREAMS, reorder, index=index)


def a_call_added_before_the_tool_list_is_done(suite, monkeypatch):
    _add_the_call_before_the_tool_list_is_done(suite, 0)  # the SDK's event spelling


def a_call_added_before_the_tool_list_is_done_azure_spelling(suite, monkeypatch):
    _add_the_call_before_the_tool_list_is_done(suite, 1)


def _garble_the_argument_deltas(suite, kind):
    def change(payloads):
        payloads[find(payloads, kind)]["delta"] = '{"query":"Azure"}'

    edit_stream(suite, STREAMS, change, index=0 if "arguments." in kind else 1)


def argument_deltas_that_do_not_add_up(suite, monkeypatch):
    _garble_the_argument_deltas(suite, "response.mcp_call_arguments.delta")


def argument_deltas_that_do_not_add_up_azure_spelling(suite, monkeypatch):
    _garble_the_argument_deltas(suite, "response.mcp_call.arguments_delta")


# -- a misbehaving SDK -------------------------------------------------------------------------


@broken_sdk
def strips_server_description(suite, monkeypatch):
    """An SDK that sends only the fields of Azure's spec revision B (wire §17 #12)."""

    def strip(body):
        for tool in body.get("tools", []):
            tool.pop("server_description", None)

    rewrite_json(monkeypatch, strip)
    edit_request(suite, CONFIG, strip)


@broken_sdk
def parses_arguments_into_an_object(suite, monkeypatch):
    import json

    from openai.types.responses import Response

    original = Response.construct.__func__

    def construct(cls, _fields_set=None, **values):
        for item in values.get("output") or []:
            if isinstance(item, dict) and item.get("type") == "mcp_call":
                item["arguments"] = json.loads(item["arguments"])
        return original(cls, _fields_set, **values)

    monkeypatch.setattr(Response, "construct", classmethod(construct))


@broken_sdk
def loses_previous_response_id(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.pop("previous_response_id", None))
    edit_request(suite, APPROVAL, lambda body: body.pop("previous_response_id"), index=1)


@broken_sdk
def reports_a_failed_call_as_completed(suite, monkeypatch):
    import openai

    responses = type(openai.OpenAI(api_key="unused").responses)
    create = responses.create

    def completed(self, *args, **kwargs):
        result = create(self, *args, **kwargs)
        for item in result.output:
            if item.type == "mcp_call":
                item.status = "completed"
        return result

    monkeypatch.setattr(responses, "create", completed)


@broken_sdk
def drops_argument_deltas(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: "arguments" not in str(getattr(event, "type", "")))


@broken_sdk
def hands_user_code_other_mcp_items(suite, monkeypatch):
    """The wire is right; what openai-python hands user code is not: mcp_call arguments parsed
    into an object (not the wire's JSON string), the listed tools without their schemas.
    (Retired mcp.sdks-tool-config's case, now mcp.tool-config's.)"""
    import json

    from conformance.drivers import python as python_driver

    original = python_driver._read_response

    def parsed(result, read):
        original(result, read)
        for item in read["output_items"]:
            if item.get("type") == "mcp_call":
                item["arguments"] = json.loads(item["arguments"])
            for tool in item.get("tools") or []:
                tool.pop("input_schema", None)

    monkeypatch.setattr(python_driver, "_read_response", parsed)


CAUGHT = [
    (arguments_as_an_object, "mcp.output-items", "python", "mcp.arguments"),
    (a_call_before_the_tool_list, "mcp.output-items", "python", "before mcp_list_tools"),
    (items_naming_another_server, "mcp.output-items", "python", "another_server"),
    (a_failed_call_whose_error_is_a_number, "mcp.failed-call", "python", "mcp.call.error"),
    (a_failed_call_without_its_error, "mcp.failed-call", "python", "mcp.call.status"),
    (a_failed_call_with_output, "mcp.failed-call", "python", "mcp.call.status"),
    (a_failed_call_reported_completed, "mcp.failed-call", "python", "no failed mcp_call"),
    (a_call_run_without_approval, "mcp.approval-flow", "python", "without approval"),
    (an_approval_that_yields_no_call, "mcp.approval-flow", "python", "lacks the mcp_call"),
    (a_call_added_before_the_tool_list_is_done, "mcp.streaming-events", "python",
     "mcp.stream.list-before-call"),
    (a_call_added_before_the_tool_list_is_done_azure_spelling, "mcp.streaming-events",
     "python", "mcp.stream.list-before-call"),
    (argument_deltas_that_do_not_add_up, "mcp.streaming-events", "python",
     "responses-stream.delta-text"),
    (argument_deltas_that_do_not_add_up_azure_spelling, "mcp.streaming-events", "python",
     "responses-stream.delta-text"),
    (strips_server_description, "mcp.tool-config", "python", "not sent as given"),
    (parses_arguments_into_an_object, "mcp.output-items", "python", "JSON string"),
    (loses_previous_response_id, "mcp.approval-flow", "python", "previous_response_id"),
    (reports_a_failed_call_as_completed, "mcp.failed-call", "python",
     "python gives status 'completed'"),
    (drops_argument_deltas, "mcp.streaming-events", "python",
     "python's event types differ from the wire's"),
    (hands_user_code_other_mcp_items, "mcp.tool-config", "python", ".arguments:"),
    (hands_user_code_other_mcp_items, "mcp.tool-config", "python", ".tools:"),
]
test_caught = caught(CAUGHT)


def test_mcp_below_1_80_is_unsupported(suite, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.79.0" if name == "openai" else real(name))
    run = suite.run(*IDS)  # probed: this wheel has the MCP tool type, whatever it is called
    assert Verdict.PASS in {c.verdict for c in run.results.checks}
    import openai.types.responses.tool

    monkeypatch.delattr(openai.types.responses.tool, "Mcp")  # as the 1.79.0 wheel
    run = suite.run(*IDS)
    assert {c.verdict for c in run.results.checks} == {Verdict.UNSUPPORTED}
