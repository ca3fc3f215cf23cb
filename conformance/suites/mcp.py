"""mcp: the remote MCP tool of responses.create, its output items, approvals and stream events."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from conformance.contract import mcp as contract
from conformance.contract import responses as response_contract
from conformance.contract.responses_stream import payloads, validate_responses_stream
from conformance.harness import Wire
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk, require_capability

from ._recorded import call_sdk, request_params
from ._requests import (
    MCP_DEPLOYMENT,
    MCP_INPUT,
    MCP_STREAM_DEPLOYMENT,
    MCP_STREAM_TOOL,
    MCP_TOOL,
)
from ._responses import items_of, plain, report, wire_events

CASSETTE = "mcp/tool-config.yaml"  # a real recording (OpenAI platform): the recorded request
SAMPLE = {"model": MCP_DEPLOYMENT, "tools": [MCP_TOOL], "input": MCP_INPUT}
MCP_ITEMS = ("mcp_list_tools", "mcp_call", "mcp_approval_request")


def _client(sdk: Sdk) -> Any:
    require_capability("responses")
    require_capability("mcp")
    return sdk.client()


def _create(sdk: Sdk, request: Mapping[str, Any]) -> Any:
    return call_sdk(_client(sdk).responses.create, request)


def _valid(body: Any, observe: Observations, key: str = "output_types") -> None:
    violations = response_contract.validate_response(body)
    observe(key, [item["type"] for item in body["output"]])
    expect(not violations, "the response breaks the contract:\n" + report(violations))


def _sdk_item(response: Any, wire_item: Mapping[str, Any]) -> Any:
    found = [item for item in response.output if getattr(item, "id", None) == wire_item["id"]]
    expect(found, f"the SDK's output has no item {wire_item['id']} ({wire_item['type']})")
    return found[0]


@check(
    "mcp.tool-config",
    doc="Python / Responses API / responses.create() with MCP server tool; JavaScript / MCP "
    "Server",
    claim="An MCP tool config (live, the doc's: type mcp, server_label microsoft_learn, "
    "server_description, server_url https://learn.microsoft.com/api/mcp, require_approval "
    "never; in replay, the recorded one) goes out in tools exactly as given, with the "
    "deployment as model, the input and every other parameter; the config honours the tool "
    "contract.",
    cassette=CASSETTE,
    refs=("wire §13.1, §11.2", "wire §17 #12 (server_description is not in spec rev B)"),
)
def tool_config(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    given = request_params(wire, SAMPLE)
    _create(sdk, given)
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    request = wire.requests[0]
    body = request.json()
    observe("request", f"{request.method} {request.target}")
    observe("body_fields", sorted(body))
    expect(request.path == "/openai/v1/responses",
           f"expected path /openai/v1/responses, got {request.path}")
    tools = body.get("tools")
    expect(isinstance(tools, list) and len(tools) == 1,
           f"expected one tool in the request, got {tools!r}")
    observe("tool_fields", sorted(tools[0]))
    expect(tools[0] == given["tools"][0],
           f"the tool config was not sent as given: {tools[0]!r}")
    violations = contract.validate_mcp_tool(tools[0])
    expect(not violations, "the tool config breaks the contract:\n" + report(violations))
    expect(body.get("model") == given["model"] and body.get("input") == given["input"],
           f"model and input were not sent as given: {body.get('model')!r}, "
           f"{body.get('input')!r}")
    extra = sorted(set(body) - set(given))
    expect(not extra, f"the SDK added fields the caller did not pass: {extra}")


@check(
    "mcp.output-items",
    doc="Python / Responses API / responses.create() with MCP server tool (print(resp."
    "output_text))",
    claim="The response lists the server's tools (mcp_list_tools) before it calls one "
    "(mcp_call, arguments a JSON string), both name the configured server_label, and the SDK "
    "parses the items with their fields unchanged; output_text is the assistant's answer.",
    cassette=CASSETTE,
    refs=("wire §13.2, §11.4", "wire §17 #11, #14"),
)
def output_items(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    given = request_params(wire, SAMPLE)
    response = _create(sdk, given)
    label = given["tools"][0]["server_label"]
    body = wire.response_json()
    _valid(body, observe)
    types = [item["type"] for item in body["output"]]
    expect("mcp_list_tools" in types and "mcp_call" in types,
           f"expected mcp_list_tools and mcp_call items, got {types}")
    expect(types.index("mcp_list_tools") < types.index("mcp_call"),
           f"mcp_call comes before mcp_list_tools: {types}")
    listed = [tool["name"] for item in items_of(body, "mcp_list_tools") for tool in item["tools"]]
    observe("listed_tools", listed)
    for item in body["output"]:
        if item["type"] in MCP_ITEMS:
            expect(item["server_label"] == label,
                   f"{item['type']} {item['id']} names server {item['server_label']!r}, "
                   f"not {label!r}")
    for wire_call in items_of(body, "mcp_call"):
        expect(wire_call["name"] in listed,
               f"mcp_call {wire_call['id']} calls {wire_call['name']!r}, which was not listed")
        call = _sdk_item(response, wire_call)
        observe("call_arguments", call.arguments)
        expect(call.type == "mcp_call", f"the SDK gives item {wire_call['id']} type {call.type!r}")
        expect(isinstance(call.arguments, str) and call.arguments == wire_call["arguments"],
               f"the SDK's arguments {call.arguments!r} are not the wire's JSON string")
        expect(json.loads(call.arguments) == json.loads(wire_call["arguments"]),
               "the SDK's arguments do not parse to the wire's")
        expect((call.name, call.server_label, call.output)
               == (wire_call["name"], wire_call["server_label"], wire_call.get("output")),
               "the SDK's name, server_label or output differ from the wire")
    for wire_list in items_of(body, "mcp_list_tools"):
        tools = _sdk_item(response, wire_list).tools
        expect([t.name for t in tools] == [t["name"] for t in wire_list["tools"]],
               "the SDK's listed tools differ from the wire")
        expect([plain(t.input_schema) for t in tools]
               == [t["input_schema"] for t in wire_list["tools"]],
               "the SDK's tool input schemas differ from the wire")
    expected = response_contract.output_text(body)
    observe("output_text", response.output_text)
    expect(expected and response.output_text == expected,
           f"output_text {response.output_text!r} is not the answer on the wire {expected!r}")


@check(
    "mcp.failed-call",
    doc="Python / Responses API / responses.create() with MCP server tool",
    claim="A tool call that fails comes back as an mcp_call with status 'failed', an error "
    "(a string per Azure's spec or an object per the SDK's types) and no output; the SDK parses "
    "it without raising and exposes the error unchanged, and the answer still arrives.",
    cassette="mcp/failed-call.yaml",
    refs=("wire §13.2 (mcp_call.error string|object, status)", "wire §17 #11"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def failed_call(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    response = _create(sdk, SAMPLE)
    body = wire.response_json()
    _valid(body, observe)
    failed = [item for item in items_of(body, "mcp_call") if item.get("status") == "failed"]
    expect(failed, "the response has no failed mcp_call")
    for wire_call in failed:
        error = wire_call.get("error")
        observe("error_shape", type(error).__name__)
        call = _sdk_item(response, wire_call)
        observe("sdk_error_type", type(call.error).__name__)
        expect(call.status == "failed", f"the SDK gives status {call.status!r}")
        expect(call.output is None, f"the SDK gives output {call.output!r} for a failed call")
        expect(plain(call.error) == error,
               f"the SDK's error {plain(call.error)!r} differs from the wire's {error!r}")
    expected = response_contract.output_text(body)
    expect(expected and response.output_text == expected,
           f"output_text {response.output_text!r} is not the answer on the wire {expected!r}")


@check(
    "mcp.approval-flow",
    doc="Python / Responses API / responses.create() with MCP server tool (require_approval); "
    "Responses API documentation (approvals)",
    claim="With require_approval left at its default the response asks for approval "
    "(mcp_approval_request, no mcp_call); a follow-up with previous_response_id and an "
    "mcp_approval_response input item approving it goes out as given and yields the mcp_call "
    "and the assistant's message.",
    refs=("wire §13.3, §13.2, §11.5",),
)
def approval_flow(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    client = _client(sdk)
    tool = {k: v for k, v in MCP_TOOL.items() if k != "require_approval"}
    first = client.responses.create(model=MCP_DEPLOYMENT, tools=[tool], input=MCP_INPUT)
    first_body = wire.response_json(0)
    _valid(first_body, observe, "first_output_types")
    requests = items_of(first_body, "mcp_approval_request")
    expect(requests, "the first response has no mcp_approval_request")
    expect(not items_of(first_body, "mcp_call"),
           "the first response already ran the tool, without approval")
    request_item = _sdk_item(first, requests[0])
    expect(request_item.type == "mcp_approval_request",
           f"the SDK gives item {requests[0]['id']} type {request_item.type!r}")
    expect(request_item.arguments == requests[0]["arguments"],
           "the SDK's approval request arguments differ from the wire")
    approval = {"type": "mcp_approval_response", "approval_request_id": request_item.id,
                "approve": True}
    second = client.responses.create(model=MCP_DEPLOYMENT, tools=[tool],
                                     previous_response_id=first.id, input=[approval])
    expect(len(wire.requests) == 2, f"expected 2 requests, saw {len(wire.requests)}")
    sent = wire.requests[1].json()
    observe("followup_fields", sorted(sent))
    expect(sent.get("previous_response_id") == first_body["id"],
           f"previous_response_id {sent.get('previous_response_id')!r} is not the first "
           f"response's id {first_body['id']!r}")
    expect(sent.get("input") == [approval], f"the approval went out as {sent.get('input')!r}")
    violations = contract.validate_approval_response(sent["input"][0])
    expect(not violations, "the approval breaks the contract:\n" + report(violations))
    second_body = wire.response_json(1)
    _valid(second_body, observe, "second_output_types")
    calls = items_of(second_body, "mcp_call")
    expect(calls and items_of(second_body, "message"),
           "the approved response lacks the mcp_call or the assistant's message")
    expect(calls[0]["name"] == requests[0]["name"],
           f"the approved call ran {calls[0]['name']!r}, not {requests[0]['name']!r}")
    expected = response_contract.output_text(second_body)
    expect(expected and second.output_text == expected,
           f"output_text {second.output_text!r} is not the answer on the wire {expected!r}")


@check(
    "mcp.streaming-events",
    doc="Python / Responses API / responses.create() with MCP server tool; JavaScript / "
    "Streaming",
    claim="Streamed, an MCP response honours the stream contract under either spelling of the "
    "argument events (response.mcp_call_arguments.delta, or response.mcp_call.arguments_delta "
    "as Azure's spec writes it); the list-tools item is done before the first mcp_call item is "
    "added, and the SDK yields every event with its type so the arguments can be rebuilt.",
    refs=("wire §13.4, §12.3", "wire §17 #10"),
)
def streaming_events(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    client = _client(sdk)
    require_capability("responses_streaming")
    spellings: list[list[str]] = []
    for n in range(2):  # the cassette streams the SDK's spelling, then the Azure spec's
        events = list(client.responses.create(
            model=MCP_STREAM_DEPLOYMENT, tools=[MCP_STREAM_TOOL], input=MCP_INPUT, stream=True))
        raw = wire_events(wire, n)
        violations = validate_responses_stream(raw)
        expect(not violations, f"stream {n} breaks the contract:\n" + report(violations))
        wire_payloads = payloads(raw)
        expect([getattr(e, "type", None) for e in events] == [p["type"] for p in wire_payloads],
               f"stream {n}: the SDK's event types differ from the wire's")
        deltas = {delta for delta, _ in contract.ARGUMENT_EVENTS}
        spellings.append(sorted({p["type"] for p in wire_payloads if "arguments" in p["type"]}))
        rebuilt = "".join(e.delta for e in events if e.type in deltas)
        expect(events[-1].type == "response.completed",
               f"stream {n} ends with {events[-1].type!r}, not response.completed")
        calls = [item for item in events[-1].response.output if item.type == "mcp_call"]
        expect(calls, f"stream {n}: the completed response has no mcp_call")
        expect(rebuilt == calls[0].arguments,
               f"stream {n}: the argument deltas rebuild {rebuilt!r}, the call has "
               f"{calls[0].arguments!r}")
        answer = response_contract.output_text(wire_payloads[-1]["response"])
        expect(events[-1].response.output_text == answer,
               f"stream {n}: output_text differs from the wire's answer")
    observe("argument_events", spellings)
