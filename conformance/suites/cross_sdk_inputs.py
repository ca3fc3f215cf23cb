"""The MCP tool and image inputs of the doc's samples, checked on every SDK it covers.

Like ``cross_sdk.py``: one scenario per check, replaying the packaged cassette the Python
checks in ``mcp.py`` and ``image_input.py`` replay, performed by the ``driver`` of the SDK the
item runs against. The judgement reads the request that crossed the wire (the tool config and
the image parts as given, honouring their contracts) and the SDK-neutral outcome (what user
code got back). A driver whose SDK cannot express the params answers ``unsupported``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from conformance.contract import mcp as mcp_contract
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect

from ._requests import (
    MCP_DEPLOYMENT,
    MCP_INPUT,
    MCP_TOOL,
)
from ._scenario import no_error, recorded, scenario

MCP_SAMPLE = {"model": MCP_DEPLOYMENT, "tools": [MCP_TOOL], "input": MCP_INPUT}
MCP_OUTPUT_TYPES = ("mcp_list_tools", "mcp_call")


def _one_request(wire: Wire, path: str, sdk: str, observe: Observations) -> dict[str, Any]:
    expect(len(wire.requests) == 1, f"{sdk} sent {len(wire.requests)} request(s), not 1")
    request = wire.requests[0]
    observe("request", f"{request.method} {request.path}")
    expect(request.path == path, f"{sdk} sent {request.path}, not {path}")
    body = request.json()
    expect(isinstance(body, dict), f"{sdk} sent a body that is not a JSON object")
    return dict(body)


def _by_id(items: Any) -> dict[str, Mapping[str, Any]]:
    return {item["id"]: item for item in items or [] if isinstance(item, Mapping)
            and isinstance(item.get("id"), str)}


def _mcp_problems(sent: Mapping[str, Any], got: Mapping[str, Any] | None) -> list[str]:
    """How the item user code got differs from the item the server sent."""
    if got is None:
        return [f"{sent['type']} {sent['id']} is missing from the SDK's output"]
    problems = []
    fields = (("type", "server_label", "name", "arguments", "output", "error")
              if sent["type"] == "mcp_call" else ("type", "server_label"))
    for name in fields:
        if got.get(name) != sent.get(name):
            problems.append(f"{sent['id']}.{name}: {got.get(name)!r}, the server sent "
                            f"{sent.get(name)!r}")
    if sent["type"] == "mcp_list_tools":
        def tools(item: Mapping[str, Any]) -> list[Any]:
            return [(t.get("name"), t.get("input_schema")) for t in item.get("tools") or []
                    if isinstance(t, Mapping)]
        if tools(got) != tools(sent):
            problems.append(f"{sent['id']}.tools: the names or input schemas differ from "
                            "the server's")
    return problems


@check(
    "mcp.sdks-tool-config",
    doc="Python / Responses API / responses.create() with MCP server tool; JavaScript / MCP "
    "Server",
    claim="Each SDK's responses.create sends the MCP tool config exactly as configured (with "
    "the model, input and every other parameter, honouring the tool contract), and the "
    "response's mcp_list_tools and mcp_call items (naming the configured server_label) "
    "reach user code with their fields unchanged (arguments the wire's JSON string).",
    cassette="mcp/tool-config.yaml",
    refs=("wire §13.1, §13.2, §11.4", "docs/driver-protocol.md (result)"),
    sdks=ALL_SDKS,
)
def sdks_mcp_tool_config(wire: Wire, driver: Driver, observe: Observations) -> None:
    performed = scenario(wire, "responses.create", recorded(wire, MCP_SAMPLE))
    given = performed["operation"]["params"]  # what the doc's code passes
    outcome = driver.run(performed)
    no_error(outcome, driver.sdk)
    body = _one_request(wire, "/openai/v1/responses", driver.sdk, observe)
    tools = body.get("tools")
    observe("tool_fields", sorted(tools[0]) if isinstance(tools, list) and tools
            and isinstance(tools[0], dict) else tools)
    expect(tools == given["tools"], f"{driver.sdk} did not send the tools as configured: "
           f"{json.dumps(tools)[:400]}")
    violations = [v for tool in given["tools"] for v in mcp_contract.validate_mcp_tool(tool)]
    expect(not violations, "the tool config breaks the contract:\n"
           + "\n".join(map(str, violations)))
    expect(body == given, f"{driver.sdk} did not send the other params as given: "
           f"{sorted(k for k in set(body) | set(given) if body.get(k) != given.get(k))}")
    sent = [item for item in wire.response_json(0).get("output") or []
            if item.get("type") in MCP_OUTPUT_TYPES]
    observe("mcp_items", [item["type"] for item in sent])
    if not {item["type"] for item in sent} >= set(MCP_OUTPUT_TYPES):  # the cassette, not the SDK
        raise LookupError("the cassette's response has no mcp_list_tools and mcp_call items")
    label = given["tools"][0].get("server_label")
    strays = [f"{item['type']} {item['id']}: {item.get('server_label')!r}" for item in sent
              if item.get("server_label") != label]
    expect(not strays, f"the service's MCP items name another server than {label!r}: {strays}")
    got = _by_id((outcome["result"] or {}).get("output"))
    problems = [p for item in sent for p in _mcp_problems(item, got.get(item["id"]))]
    expect(not problems, f"{driver.sdk} handed user code other MCP items than the server "
           "sent:\n" + "\n".join(problems))
