"""mcp: the remote MCP tool of responses.create, its output items, approvals and stream events,
on every SDK."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from conformance.contract import mcp as contract
from conformance.contract import responses as response_contract
from conformance.contract.responses_stream import payloads, validate_responses_stream
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect

from ._capability import python_needs
from ._requests import (
    MCP_DEPLOYMENT,
    MCP_INPUT,
    MCP_STREAM_DEPLOYMENT,
    MCP_STREAM_TOOL,
    MCP_TOOL,
)
from ._response_read import item_read, output_items
from ._responses import items_of, report, wire_events
from ._scenario import no_error, recorded, scenario

CASSETTE = "mcp/tool-config.yaml"  # a real recording (OpenAI platform): the recorded request
SAMPLE = {"model": MCP_DEPLOYMENT, "tools": [MCP_TOOL], "input": MCP_INPUT}
MCP_ITEMS = ("mcp_list_tools", "mcp_call", "mcp_approval_request")
# The fields of each MCP item user code reads (through the SDK's typed accessors).
ITEM_FIELDS = {"mcp_list_tools": ("type", "server_label"),
               "mcp_call": ("type", "server_label", "name", "arguments", "output", "error"),
               "mcp_approval_request": ("type", "server_label", "name", "arguments")}


def _create(wire: Wire, driver: Driver, params: Mapping[str, Any],
            observe: Observations | None = None) -> tuple[dict[str, Any], DriverOutcome]:
    """responses.create with an MCP tool through ``driver``: the params given, the outcome."""
    python_needs(driver, "responses", "mcp", observe=observe)
    performed = scenario(wire, "responses.create", params)
    outcome = driver.run(performed)
    no_error(outcome, driver.sdk)
    return dict(performed["operation"]["params"]), outcome


def _valid(body: Any, observe: Observations, key: str = "output_types") -> None:
    violations = response_contract.validate_response(body)
    observe(key, [item["type"] for item in body["output"]])
    expect(not violations, "the response breaks the contract:\n" + report(violations))


def _item_problems(sent: Mapping[str, Any], got: Mapping[str, Any] | None) -> list[str]:
    """How the MCP item user code read differs from the item the server sent."""
    if got is None:
        return [f"{sent['type']} {sent['id']} is missing from the SDK's output"]
    problems = [f"{sent['id']}.{name}: {got.get(name)!r}, the server sent {sent.get(name)!r}"
                for name in ITEM_FIELDS.get(sent["type"], ("type",))
                if got.get(name) != sent.get(name)]
    if sent["type"] == "mcp_list_tools":
        def tools(item: Mapping[str, Any]) -> list[Any]:
            return [(t.get("name"), t.get("input_schema")) for t in item.get("tools") or []
                    if isinstance(t, Mapping)]
        if tools(got) != tools(sent):
            problems.append(f"{sent['id']}.tools: the names or input schemas differ from "
                            "the server's")
    return problems


def _answer(outcome: DriverOutcome, body: Mapping[str, Any], sdk: str) -> None:
    expected = response_contract.output_text(body)
    text = outcome.read.output_text
    expect(expected and text == expected,
           f"{sdk}'s output text {text!r} is not the answer on the wire {expected!r}")


@check(
    "mcp.tool-config",
    doc="Python / Responses API / responses.create() with MCP server tool; JavaScript / MCP "
    "Server",
    claim="An MCP tool config (live, the doc's: type mcp, server_label microsoft_learn, "
    "server_description, server_url https://learn.microsoft.com/api/mcp, require_approval "
    "never; in replay, the recorded one) goes out in tools exactly as given, with the "
    "deployment as model, the input and every other parameter; the config honours the tool "
    "contract; the response's MCP items (naming the configured server_label) reach user code "
    "with their fields unchanged.",
    cassette=CASSETTE,
    refs=("wire §13.1, §13.2, §11.2, §11.4", "wire §17 #12 (server_description is not in "
          "spec rev B)"),
    sdks=ALL_SDKS,
)
def tool_config(wire: Wire, driver: Driver, observe: Observations) -> None:
    sdk = driver.sdk
    given, outcome = _create(wire, driver, recorded(wire, SAMPLE), observe)
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
           f"the tool config was not sent as given: {json.dumps(tools[0])[:400]}")
    violations = contract.validate_mcp_tool(tools[0])
    expect(not violations, "the tool config breaks the contract:\n" + report(violations))
    expect(body.get("model") == given["model"] and body.get("input") == given["input"],
           f"model and input were not sent as given: {body.get('model')!r}, "
           f"{body.get('input')!r}")
    extra = sorted(set(body) - set(given))
    expect(not extra, f"the SDK added fields the caller did not pass: {extra}")
    expect(body == given, f"{sdk} did not send the other params as given: "
           f"{sorted(k for k in set(body) | set(given) if body.get(k) != given.get(k))}")
    sent = [item for item in wire.response_json(0).get("output") or []
            if item.get("type") in MCP_ITEMS]
    observe("mcp_items", [item["type"] for item in sent])
    label = given["tools"][0].get("server_label")
    strays = [f"{item['type']} {item['id']}: {item.get('server_label')!r}" for item in sent
              if item.get("server_label") != label]
    expect(not strays, f"the service's MCP items name another server than {label!r}: {strays}")
    got = {item.get("id"): item for item in output_items(outcome)}
    problems = [p for item in sent for p in _item_problems(item, got.get(item["id"]))]
    expect(not problems, f"{sdk} handed user code other MCP items than the server sent:\n"
           + "\n".join(problems))


@check(
    "mcp.output-items",
    doc="Python / Responses API / responses.create() with MCP server tool (print(resp."
    "output_text))",
    claim="The response lists the server's tools (mcp_list_tools) before it calls one "
    "(mcp_call, arguments a JSON string), both name the configured server_label, and the SDK "
    "parses the items with their fields unchanged; output_text is the assistant's answer.",
    cassette=CASSETTE,
    refs=("wire §13.2, §11.4", "wire §17 #11, #14"),
    sdks=ALL_SDKS,
)
def output_items_(wire: Wire, driver: Driver, observe: Observations) -> None:
    sdk = driver.sdk
    given, outcome = _create(wire, driver, recorded(wire, SAMPLE), observe)
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
        call = item_read(outcome, sdk, wire_call)
        arguments = call.get("arguments")
        observe("call_arguments", arguments)
        expect(call.get("type") == "mcp_call",
               f"{sdk} gives item {wire_call['id']} type {call.get('type')!r}")
        expect(isinstance(arguments, str) and arguments == wire_call["arguments"],
               f"{sdk}'s arguments {arguments!r} are not the wire's JSON string")
        assert isinstance(arguments, str)
        expect(json.loads(arguments) == json.loads(wire_call["arguments"]),
               f"{sdk}'s arguments do not parse to the wire's")
        expect((call.get("name"), call.get("server_label"), call.get("output"))
               == (wire_call["name"], wire_call["server_label"], wire_call.get("output")),
               f"{sdk}'s name, server_label or output differ from the wire")
    for wire_list in items_of(body, "mcp_list_tools"):
        tools = item_read(outcome, sdk, wire_list).get("tools") or []
        expect([t.get("name") for t in tools] == [t["name"] for t in wire_list["tools"]],
               f"{sdk}'s listed tools differ from the wire")
        expect([t.get("input_schema") for t in tools]
               == [t["input_schema"] for t in wire_list["tools"]],
               f"{sdk}'s tool input schemas differ from the wire")
    observe("output_text", outcome.read.output_text)
    _answer(outcome, body, sdk)


@check(
    "mcp.failed-call",
    doc="Python / Responses API / responses.create() with MCP server tool",
    claim="A tool call that fails comes back as an mcp_call with status 'failed', an error "
    "(a string per Azure's spec or an object per the SDK's types) and no output; the SDK parses "
    "it without raising and exposes the error unchanged, and the answer still arrives.",
    cassette="mcp/failed-call.yaml",
    refs=("wire §13.2 (mcp_call.error string|object, status)", "wire §17 #11"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def failed_call(wire: Wire, driver: Driver, observe: Observations) -> None:
    sdk = driver.sdk
    _, outcome = _create(wire, driver, SAMPLE, observe)
    body = wire.response_json()
    _valid(body, observe)
    failed = [item for item in items_of(body, "mcp_call") if item.get("status") == "failed"]
    expect(failed, "the response has no failed mcp_call")
    for wire_call in failed:
        error = wire_call.get("error")
        observe("error_shape", type(error).__name__)
        call = item_read(outcome, sdk, wire_call)
        observe("sdk_error", call.get("error"))
        expect(call.get("status") == "failed", f"{sdk} gives status {call.get('status')!r}")
        expect(call.get("output") is None,
               f"{sdk} gives output {call.get('output')!r} for a failed call")
        expect(call.get("error") == error,
               f"{sdk}'s error {call.get('error')!r} differs from the wire's {error!r}")
    _answer(outcome, body, sdk)


@check(
    "mcp.approval-flow",
    doc="Python / Responses API / responses.create() with MCP server tool (require_approval); "
    "Responses API documentation (approvals)",
    claim="With require_approval left at its default the response asks for approval "
    "(mcp_approval_request, no mcp_call); a follow-up with previous_response_id and an "
    "mcp_approval_response input item approving it goes out as given and yields the mcp_call "
    "and the assistant's message.",
    refs=("wire §13.3, §13.2, §11.5",),
    sdks=ALL_SDKS,
)
def approval_flow(wire: Wire, driver: Driver, observe: Observations) -> None:
    sdk = driver.sdk
    tool = {k: v for k, v in MCP_TOOL.items() if k != "require_approval"}
    _, first = _create(wire, driver, {"model": MCP_DEPLOYMENT, "tools": [tool],
                                      "input": MCP_INPUT})
    first_body = wire.response_json(0)
    _valid(first_body, observe, "first_output_types")
    requests = items_of(first_body, "mcp_approval_request")
    expect(requests, "the first response has no mcp_approval_request")
    expect(not items_of(first_body, "mcp_call"),
           "the first response already ran the tool, without approval")
    request_item = item_read(first, sdk, requests[0])
    expect(request_item.get("type") == "mcp_approval_request",
           f"{sdk} gives item {requests[0]['id']} type {request_item.get('type')!r}")
    expect(request_item.get("arguments") == requests[0]["arguments"],
           f"{sdk}'s approval request arguments differ from the wire")
    first_id = (first.read.response or {}).get("id")
    approval = {"type": "mcp_approval_response", "approval_request_id": request_item.get("id"),
                "approve": True}
    _, second = _create(wire, driver, {"model": MCP_DEPLOYMENT, "tools": [tool],
                                       "previous_response_id": first_id, "input": [approval]})
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
    expect(item_read(second, sdk, calls[0]).get("type") == "mcp_call",
           f"{sdk} does not give the approved call as an mcp_call")
    _answer(second, second_body, sdk)


@check(
    "mcp.streaming-events",
    doc="Python / Responses API / responses.create() with MCP server tool; JavaScript / "
    "Streaming",
    claim="Streamed, an MCP response honours the stream contract under either spelling of the "
    "argument events (response.mcp_call_arguments.delta, or response.mcp_call.arguments_delta "
    "as Azure's spec writes it); the list-tools item is done before the first mcp_call item is "
    "added, and the SDK's streaming loop yields every event with its type so the arguments can "
    "be rebuilt.",
    refs=("wire §13.4, §12.3", "wire §17 #10"),
    sdks=ALL_SDKS,
)
def streaming_events(wire: Wire, driver: Driver, observe: Observations) -> None:
    python_needs(driver, "responses", "mcp", "responses_streaming", observe=observe)
    sdk = driver.sdk
    spellings: list[list[str]] = []
    for n in range(2):  # the cassette streams the SDK's spelling, then the Azure spec's
        outcome = driver.run(scenario(wire, "responses.stream", {
            "model": MCP_STREAM_DEPLOYMENT, "tools": [MCP_STREAM_TOOL], "input": MCP_INPUT}))
        no_error(outcome, sdk)
        events = [e for e in outcome.events if isinstance(e, Mapping)]
        raw = wire_events(wire, n)
        violations = validate_responses_stream(raw)
        expect(not violations, f"stream {n} breaks the contract:\n" + report(violations))
        wire_payloads = payloads(raw)
        expect([e.get("type") for e in events] == [p["type"] for p in wire_payloads],
               f"stream {n}: {sdk}'s event types differ from the wire's")
        deltas = {delta for delta, _ in contract.ARGUMENT_EVENTS}
        spellings.append(sorted({p["type"] for p in wire_payloads if "arguments" in p["type"]}))
        rebuilt = "".join(str(e.get("delta") or "") for e in events if e.get("type") in deltas)
        expect(events and events[-1].get("type") == "response.completed",
               f"stream {n} ends with {events[-1].get('type') if events else None!r}, not "
               "response.completed")
        completed = events[-1].get("response") or {}
        calls = [item for item in completed.get("output") or [] if item.get("type") == "mcp_call"]
        expect(calls, f"stream {n}: {sdk}'s completed response has no mcp_call")
        expect(rebuilt == calls[0].get("arguments"),
               f"stream {n}: the argument deltas rebuild {rebuilt!r}, the call has "
               f"{calls[0].get('arguments')!r}")
        answer = response_contract.output_text(wire_payloads[-1]["response"])
        expect(response_contract.output_text(completed) == answer,
               f"stream {n}: the output text of {sdk}'s completed response differs from the "
               "wire's answer")
    observe("argument_events", spellings)
