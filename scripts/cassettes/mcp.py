"""MCP tool cassettes (cassettes/mcp/).

No MCP exchange was ever recorded against Azure. The requests are the seed doc's MCP sample;
the bodies keep the shape of the recorded Azure response (top-level fields, content_filters)
and the item sequence of the one recorded MCP run, made against api.openai.com
(``responses-mcp.openai.json``: mcp_list_tools, reasoning, mcp_call, reasoning, message), with
the doc's server and tools. The approval flow follows ``responses-mcp-approval.json`` and the
streams are ``responses-mcp-stream.sse`` (both constructed references).
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.suites._requests import (
    MCP_DEPLOYMENT,
    MCP_INPUT,
    MCP_STREAM_DEPLOYMENT,
    MCP_STREAM_TOOL,
    MCP_TOOL,
)
from conformance.wire import Cassette

from .common import CASSETTES, constructed, example, example_bytes, source
from .responses import HEADERS, RECORDED, recorded_response, response_interaction
from .streaming_responses import HEADER_NOTE, event, events, payload_of, stream_interaction

ITEM_SHAPES = source("responses-mcp.openai.json", "recorded against api.openai.com: the order "
                     "and shapes of the mcp_list_tools, reasoning, mcp_call and message items")
AZURE_SHAPE = source(RECORDED, "recorded Azure top-level fields and content_filters")
APPROVAL = "responses-mcp-approval.json"
STREAM = "responses-mcp-stream.sse"
LABEL = MCP_TOOL["server_label"]
SEARCH_TOOL = {
    "name": "microsoft_docs_search",
    "description": "Search official Microsoft documentation",
    "input_schema": {"type": "object", "properties": {"query": {"type": "string"}},
                     "required": ["query"]},
    "annotations": {"read_only": True},
}
FETCH_TOOL = {
    "name": "microsoft_docs_fetch",
    "description": "Fetch a Microsoft documentation page as markdown",
    "input_schema": {"type": "object", "properties": {"url": {"type": "string"}},
                     "required": ["url"]},
    "annotations": {"read_only": True},
}
ANSWER = ("Azure Functions is a serverless compute service: you write functions triggered by "
          "events and Azure runs and scales them for you.")


def _id(prefix: str, n: int) -> str:
    return f"{prefix}_CONSTRUCTED{n:038d}"


def _request(tool: dict[str, Any]) -> dict[str, Any]:
    return {"model": MCP_DEPLOYMENT, "tools": [tool], "input": MCP_INPUT}


def _echo(tool: dict[str, Any], require_approval: str = "never") -> list[dict[str, Any]]:
    return [{"allowed_tools": None, "headers": None, **tool,
             "require_approval": tool.get("require_approval", require_approval)}]


def _list_tools(n: int) -> dict[str, Any]:
    return {"id": _id("mcpl", n), "type": "mcp_list_tools", "server_label": LABEL,
            "tools": [SEARCH_TOOL, FETCH_TOOL], "error": None}


def _reasoning(n: int) -> dict[str, Any]:
    return {"id": _id("rs", n), "type": "reasoning", "summary": []}


def _call(n: int, **fields: Any) -> dict[str, Any]:
    return {"id": _id("mcp", n), "type": "mcp_call", "server_label": LABEL,
            "name": "microsoft_docs_search", "arguments": '{"query":"Azure Functions"}',
            "approval_request_id": None, "status": "completed", "error": None,
            "output": '[{"title":"Azure Functions overview","url":"https://learn.microsoft.com'
                      '/azure/azure-functions/functions-overview"}]',
            **fields}


def _message(n: int, text: str) -> dict[str, Any]:
    return {"id": _id("msg", n), "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [],
                         "text": text}]}


def _usage(input_tokens: int, output_tokens: int, reasoning: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input_tokens + output_tokens}


def _body(n: int, output: list[dict[str, Any]], tools: list[dict[str, Any]],
          **changes: Any) -> dict[str, Any]:
    return recorded_response(id=_id("resp", n), model=MCP_DEPLOYMENT, output=output,
                             tools=tools, reasoning={"effort": "medium", "summary": None},
                             usage=_usage(980, 410, 256), **changes)


def failed_call() -> Cassette:
    failed = _call(31, status="failed", output=None,
                   error="Error calling tool microsoft_docs_search: the MCP server answered "
                         "HTTP 503 Service Unavailable")
    body = _body(31, [_list_tools(31), failed, _message(31, "I could not reach Microsoft "
                      "Learn to search for Azure Functions; please try again.")],
                 _echo(MCP_TOOL))
    return Cassette(
        CASSETTES / "mcp" / "failed-call.yaml",
        [response_interaction(_request(MCP_TOOL), body)],
        constructed("the doc's MCP sample; the tool call fails (status failed, error as the "
                    "string Azure's spec types it)", AZURE_SHAPE, ITEM_SHAPES,
                    source(HEADERS, "recorded headers")),
    )


def approval_flow() -> Cassette:
    flow = example(APPROVAL)
    tool = {k: v for k, v in MCP_TOOL.items() if k != "require_approval"}
    first: dict[str, Any] = copy.deepcopy(flow["step1_response"])
    first.update(model=MCP_DEPLOYMENT, tools=_echo(tool, "always"))
    request_id = next(i["id"] for i in first["output"] if i["type"] == "mcp_approval_request")
    followup = {**_request(tool), "previous_response_id": first["id"],
                "input": [{"type": "mcp_approval_response", "approval_request_id": request_id,
                           "approve": True}]}
    second = {**copy.deepcopy(flow["step1_response"]), "id": _id("resp", 42),
              "model": MCP_DEPLOYMENT, "tools": _echo(tool, "always"),
              "previous_response_id": first["id"], "usage": _usage(640, 96, 0),
              "output": [_call(42, approval_request_id=request_id,
                               arguments='{"query":"Azure Functions overview"}'),
                         _message(42, ANSWER)]}
    return Cassette(
        CASSETTES / "mcp" / "approval-flow.yaml",
        [response_interaction(_request(tool), first), response_interaction(followup, second)],
        constructed(
            "the doc's MCP sample with require_approval left at its default, then the "
            "follow-up that approves the call (previous_response_id + mcp_approval_response)",
            source(APPROVAL, "step 1 response (model and echoed tools set to the doc's); the "
                   "step 2 response follows its step2_expected_output_item_types"),
            source(HEADERS, "recorded headers"),
        ),
    )


def _azure_spelling(raw: bytes) -> bytes:
    """The same event as Azure's spec revision B spells and shapes it (wire §13.4)."""
    payload = payload_of(raw)
    kind = payload["type"]
    if kind in ("response.mcp_call_arguments.delta", "response.mcp_call_arguments.done"):
        renamed = kind.replace("mcp_call_arguments.", "mcp_call.arguments_")
        return raw.replace(kind.encode(), renamed.encode())
    if kind.startswith("response.mcp_list_tools.") or kind in (
        "response.mcp_call.completed", "response.mcp_call.failed"
    ):
        return event({"type": kind, "sequence_number": payload["sequence_number"]})
    return raw


def streaming_events() -> Cassette:
    request = {"model": MCP_STREAM_DEPLOYMENT, "tools": [MCP_STREAM_TOOL], "input": MCP_INPUT,
               "stream": True}
    azure = b"".join(_azure_spelling(raw) for raw in events(STREAM))
    return Cassette(
        CASSETTES / "mcp" / "streaming-events.yaml",
        [stream_interaction(request, example_bytes(STREAM)), stream_interaction(request, azure)],
        constructed(
            "the doc's MCP sample streamed twice, with the deployment and tool config the "
            "reference stream echoes: first with openai-python's event names, then with Azure "
            "spec revision B's (response.mcp_call.arguments_delta/_done; list-tools and "
            "call-completed events carrying only type and sequence_number)",
            source(STREAM, "interaction 0 byte for byte; interaction 1 rewrites the MCP events "
                   "as described, every other event byte for byte"),
            headers=HEADER_NOTE,
        ),
    )


# mcp/tool-config.yaml is a real recording (scripts/package_recordings.py).
BUILDERS = [failed_call, approval_flow, streaming_events]
