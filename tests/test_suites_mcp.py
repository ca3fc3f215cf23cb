"""The mcp checks fail when the server or the SDK misbehaves."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict

from .mutants import rewrite_json
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


def test_an_sdk_that_strips_server_description_fails(suite, monkeypatch):
    """An SDK that sends only the fields of Azure's spec revision B (wire §17 #12)."""

    def strip(body):
        for tool in body.get("tools", []):
            tool.pop("server_description", None)

    rewrite_json(monkeypatch, strip)
    edit_request(suite, CONFIG, strip)
    run = suite.run("mcp.tool-config")
    assert run.verdict("mcp.tool-config") is Verdict.FAIL
    assert "not sent as given" in run.message("mcp.tool-config")


def test_arguments_as_an_object_fail(suite):
    """What Learn's approval sample prints (wire §13.2, §17 #14)."""
    suite.edit_json(CONFIG, 0, lambda body: _item(body, "mcp_call").update(
        arguments={"query": "Azure Functions"}))
    run = suite.run("mcp.output-items")
    assert run.verdict("mcp.output-items") is Verdict.FAIL
    assert "mcp.arguments" in run.message("mcp.output-items")


def test_a_call_before_the_tool_list_fails(suite):
    def swap(body):
        output = body["output"]
        output[0], output[2] = output[2], output[0]

    suite.edit_json(CONFIG, 0, swap)
    run = suite.run("mcp.output-items")
    assert run.verdict("mcp.output-items") is Verdict.FAIL
    assert "before mcp_list_tools" in run.message("mcp.output-items")


def test_items_naming_another_server_fail(suite):
    suite.edit_json(CONFIG, 0, lambda body: _item(body, "mcp_call").update(
        server_label="another_server"))
    run = suite.run("mcp.output-items")
    assert run.verdict("mcp.output-items") is Verdict.FAIL
    assert "another_server" in run.message("mcp.output-items")


def test_an_sdk_that_parses_arguments_into_an_object_fails(suite, monkeypatch):
    import json

    from openai.types.responses import Response

    original = Response.construct.__func__

    def construct(cls, _fields_set=None, **values):
        for item in values.get("output") or []:
            if isinstance(item, dict) and item.get("type") == "mcp_call":
                item["arguments"] = json.loads(item["arguments"])
        return original(cls, _fields_set, **values)

    monkeypatch.setattr(Response, "construct", classmethod(construct))
    run = suite.run("mcp.output-items")
    assert run.verdict("mcp.output-items") is Verdict.FAIL
    assert "JSON string" in run.message("mcp.output-items")


def test_an_error_object_is_accepted_as_well(suite):
    suite.edit_json(FAILED, 0, lambda body: _item(body, "mcp_call").update(error={
        "type": "mcp_tool_execution_error", "content": [{"type": "text", "text": "503"}]}))
    run = suite.run("mcp.failed-call")
    assert run.verdict("mcp.failed-call") is Verdict.PASS


@pytest.mark.parametrize(("change", "expected"), [
    ({"error": 503}, "mcp.call.error"),
    ({"error": None}, "mcp.call.status"),
    ({"output": "partial results"}, "mcp.call.status"),
    ({"status": "completed", "error": None}, "no failed mcp_call"),
])
def test_a_malformed_failed_call_fails(suite, change, expected):
    suite.edit_json(FAILED, 0, lambda body: _item(body, "mcp_call").update(change))
    run = suite.run("mcp.failed-call")
    assert run.verdict("mcp.failed-call") is Verdict.FAIL
    assert expected in run.message("mcp.failed-call")


def test_a_call_run_without_approval_fails(suite):
    def run_it(body):
        request = _item(body, "mcp_approval_request")
        body["output"].append({**request, "id": "mcp_1", "type": "mcp_call", "output": "x",
                               "status": "completed"})

    suite.edit_json(APPROVAL, 0, run_it)
    run = suite.run("mcp.approval-flow")
    assert run.verdict("mcp.approval-flow") is Verdict.FAIL
    assert "without approval" in run.message("mcp.approval-flow")


def test_an_sdk_that_loses_previous_response_id_fails(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.pop("previous_response_id", None))
    edit_request(suite, APPROVAL, lambda body: body.pop("previous_response_id"), index=1)
    run = suite.run("mcp.approval-flow")
    assert run.verdict("mcp.approval-flow") is Verdict.FAIL
    assert "previous_response_id" in run.message("mcp.approval-flow")


def test_an_approval_that_yields_no_call_fails(suite):
    suite.edit_json(APPROVAL, 1, lambda body: body.update(
        output=[o for o in body["output"] if o["type"] != "mcp_call"]))
    run = suite.run("mcp.approval-flow")
    assert run.verdict("mcp.approval-flow") is Verdict.FAIL
    assert "lacks the mcp_call" in run.message("mcp.approval-flow")


@pytest.mark.parametrize("index", [0, 1], ids=["sdk-spelling", "azure-spelling"])
def test_a_call_added_before_the_tool_list_is_done_fails(suite, index):
    def reorder(payloads):
        done = find(payloads, "response.output_item.done")
        moved = payloads.pop(done)
        added = next(n for n, p in enumerate(payloads)
                     if p["type"] == "response.output_item.added"
                     and p["item"]["type"] == "mcp_call")
        payloads.insert(added + 1, moved)

    edit_stream(suite, STREAMS, reorder, index=index)
    run = suite.run("mcp.streaming-events")
    assert run.verdict("mcp.streaming-events") is Verdict.FAIL
    assert "mcp.stream.list-before-call" in run.message("mcp.streaming-events")


@pytest.mark.parametrize("kind", ["response.mcp_call_arguments.delta",
                                  "response.mcp_call.arguments_delta"])
def test_argument_deltas_that_do_not_add_up_fail(suite, kind):
    index = 0 if "arguments." in kind else 1

    def change(payloads):
        payloads[find(payloads, kind)]["delta"] = '{"query":"Azure"}'

    edit_stream(suite, STREAMS, change, index=index)
    run = suite.run("mcp.streaming-events")
    assert run.verdict("mcp.streaming-events") is Verdict.FAIL
    assert "responses-stream.delta-text" in run.message("mcp.streaming-events")


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


def test_an_sdk_that_reports_a_failed_call_as_completed_fails(suite, monkeypatch):
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
    run = suite.run("mcp.failed-call")
    assert run.verdict("mcp.failed-call") is Verdict.FAIL
    assert "python gives status 'completed'" in run.message("mcp.failed-call")


def test_an_sdk_that_drops_argument_deltas_fails(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: "arguments" not in str(getattr(event, "type", "")))
    run = suite.run("mcp.streaming-events")
    assert run.verdict("mcp.streaming-events") is Verdict.FAIL
    assert "python's event types differ from the wire's" in run.message("mcp.streaming-events")


def test_an_sdk_that_hands_user_code_other_mcp_items_is_caught(suite, monkeypatch):
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
    run = suite.run("mcp.tool-config")
    assert run.verdict("mcp.tool-config") is Verdict.FAIL
    message = run.message("mcp.tool-config")
    assert ".arguments:" in message and ".tools:" in message, message
