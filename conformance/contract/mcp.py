"""The remote MCP tool of the Responses API (wire §13): its configuration, its output items and
the order of its stream events.

Azure's spec revision and the OpenAI SDK disagree in places (wire §17 #10-#12): ``mcp_call.error``
is a string in one and an object in the other, and the argument stream events are spelled
``response.mcp_call.arguments_delta`` in one and ``response.mcp_call_arguments.delta`` in the
other. Both forms are accepted here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from . import Findings, Violation, describe, is_int, is_object, rule

TOOL = rule(
    "mcp.tool",
    'an mcp tool is {type: "mcp", server_label: non-empty string, server_url: https URL, '
    "server_description?: string}, or names a connector (connector_id: string) instead of a "
    "server_url",
    "wire §13.1",
    evidence=("openai/pydantic-ai/responses-mcp-connector.yaml",),
)
REQUIRE_APPROVAL = rule(
    "mcp.tool.require-approval",
    'require_approval is absent, null, "always", "never" or {always?: {tool_names: [string]}, '
    "never?: {tool_names: [string]}}",
    "wire §13.1",
)
ALLOWED_TOOLS = rule(
    "mcp.tool.allowed-tools",
    "allowed_tools is absent, null, [string] or {tool_names?: [string], read_only?: bool}",
    "wire §13.1",
)
HEADERS = rule(
    "mcp.tool.headers", "headers is absent, null or an object of string values", "wire §13.1"
)
LIST_TOOLS = rule(
    "mcp.list-tools",
    "an mcp_list_tools item is {id, server_label, tools: [{name: string, input_schema: object, "
    "description?: string|null, annotations?: object|null}], error?: string|null}",
    "wire §13.2",
)
CALL = rule(
    "mcp.call",
    "an mcp_call item is {id, server_label, name: string, output?: string|null, "
    "approval_request_id?: string|null}",
    "wire §13.2",
)
ARGUMENTS = rule(
    "mcp.arguments",
    "arguments of mcp_call and mcp_approval_request is a JSON string (not an object) that parses",
    "wire §13.2, §17 #14",
)
CALL_ERROR = rule(
    "mcp.call.error",
    "mcp_call.error is null, a string (Azure spec) or an object with a string type (SDK)",
    "wire §13.2, §17 #11",
)
CALL_STATUS = rule(
    "mcp.call.status",
    "mcp_call.status, when present, is in_progress|completed|incomplete|calling|failed; a failed "
    "call carries an error and no output",
    "wire §13.2",
)
APPROVAL_REQUEST = rule(
    "mcp.approval-request",
    "an mcp_approval_request item is {id, server_label, name: string, arguments}",
    "wire §13.2, §13.3",
)
APPROVAL_RESPONSE = rule(
    "mcp.approval-response",
    'an mcp_approval_response input item is {type: "mcp_approval_response", '
    "approval_request_id: string, approve: bool, reason?: string|null}",
    "wire §13.2, §13.3",
)
STREAM_ARGUMENTS = rule(
    "mcp.stream.arguments",
    "MCP argument events, spelled response.mcp_call_arguments.delta/.done (SDK) or "
    "response.mcp_call.arguments_delta/_done (Azure spec), carry item_id: string, "
    "output_index: int and a string delta / arguments",
    "wire §13.4, §17 #10",
)
STREAM_ORDER = rule(
    "mcp.stream.list-before-call",
    "a server's mcp_list_tools item, when the stream lists its tools, is done before the first "
    "mcp_call item on that server is added",
    "wire §13.2, §13.4",
)

CALL_STATUSES = frozenset({"in_progress", "completed", "incomplete", "calling", "failed"})
# Both spellings of the argument events: (delta, done).
ARGUMENT_EVENTS = (
    ("response.mcp_call_arguments.delta", "response.mcp_call_arguments.done"),
    ("response.mcp_call.arguments_delta", "response.mcp_call.arguments_done"),
)


def validate_mcp_tool(config: Any) -> list[Violation]:
    """Validate one ``tools[]`` entry of type ``mcp`` as a request sends it."""
    found = Findings()
    check_tool(found, config, "")
    return found.violations


def validate_approval_response(item: Any) -> list[Violation]:
    """Validate an ``mcp_approval_response`` input item."""
    found = Findings()
    found.require(
        is_object(item)
        and item.get("type") == "mcp_approval_response"
        and _is_text(item.get("approval_request_id"))
        and isinstance(item.get("approve"), bool)
        and isinstance(item.get("reason"), (str, type(None))),
        APPROVAL_RESPONSE,
        "",
        f"expected {{type: 'mcp_approval_response', approval_request_id, approve: bool}}, got "
        f"{describe(item)}",
    )
    return found.violations


def check_tool(found: Findings, config: Any, path: str) -> None:
    if not found.require(is_object(config), TOOL, path,
                         f"expected an object, got {describe(config)}"):
        return
    url = config.get("server_url")
    connector = "server_url" not in config and _is_text(config.get("connector_id"))
    found.require(
        config.get("type") == "mcp"
        and _is_text(config.get("server_label"))
        and (connector or (isinstance(url, str) and urlsplit(url).scheme == "https"
                           and bool(urlsplit(url).netloc)))
        and isinstance(config.get("server_description", ""), str),
        TOOL,
        path,
        "expected {type: 'mcp', server_label, server_url: https URL or connector_id, "
        f"server_description?: string}}, got {describe(config)}",
    )
    approval = config.get("require_approval")
    found.require(
        approval is None or approval in ("always", "never") or _is_approval_filter(approval),
        REQUIRE_APPROVAL,
        f"{path}.require_approval".lstrip("."),
        f"expected 'always', 'never' or {{always?, never?: {{tool_names}}}}, got "
        f"{describe(approval)}",
    )
    allowed = config.get("allowed_tools")
    found.require(
        allowed is None
        or _is_names(allowed)
        or (
            is_object(allowed)
            and set(allowed) <= {"tool_names", "read_only"}
            and _is_names(allowed.get("tool_names", []))
            and isinstance(allowed.get("read_only", False), bool)
        ),
        ALLOWED_TOOLS,
        f"{path}.allowed_tools".lstrip("."),
        f"expected [string] or {{tool_names?, read_only?}}, got {describe(allowed)}",
    )
    headers = config.get("headers")
    found.require(
        headers is None or (is_object(headers) and all(isinstance(v, str)
                                                       for v in headers.values())),
        HEADERS,
        f"{path}.headers".lstrip("."),
        f"expected an object of strings, got {describe(headers)}",
    )


def check_list_tools(found: Findings, item: Mapping[str, Any], path: str) -> None:
    tools = item.get("tools")
    found.require(
        _is_text(item.get("id"))
        and _is_text(item.get("server_label"))
        and isinstance(tools, list)
        and all(_is_listed_tool(t) for t in tools)
        and isinstance(item.get("error"), (str, type(None))),
        LIST_TOOLS,
        path,
        "expected {id, server_label, tools: [{name, input_schema, ...}], error?: string|null}, "
        f"got {describe(item)}",
    )


def check_call(found: Findings, item: Mapping[str, Any], path: str) -> None:
    found.require(
        _is_text(item.get("id"))
        and _is_text(item.get("server_label"))
        and isinstance(item.get("name"), str)
        and isinstance(item.get("output"), (str, type(None)))
        and isinstance(item.get("approval_request_id"), (str, type(None))),
        CALL,
        path,
        f"expected {{id, server_label, name, output?: string|null}}, got {describe(item)}",
    )
    _check_arguments(found, item.get("arguments"), f"{path}.arguments")
    error = item.get("error")
    found.require(
        error is None or isinstance(error, str)
        or (is_object(error) and isinstance(error.get("type"), str)),
        CALL_ERROR,
        f"{path}.error",
        f"expected null, a string or {{type: string, ...}}, got {describe(error)}",
    )
    status = item.get("status")
    if status is None:
        return
    if not found.require(status in CALL_STATUSES, CALL_STATUS, f"{path}.status",
                         f"expected one of {sorted(CALL_STATUSES)}, got {describe(status)}"):
        return
    if status == "failed":
        found.require(error not in (None, "", {}), CALL_STATUS, f"{path}.error",
                      "a failed mcp_call carries no error")
        found.require(item.get("output") is None, CALL_STATUS, f"{path}.output",
                      f"a failed mcp_call carries output {describe(item.get('output'))}")


def check_approval_request(found: Findings, item: Mapping[str, Any], path: str) -> None:
    found.require(
        _is_text(item.get("id")) and _is_text(item.get("server_label"))
        and isinstance(item.get("name"), str),
        APPROVAL_REQUEST,
        path,
        f"expected {{id, server_label, name, arguments}}, got {describe(item)}",
    )
    _check_arguments(found, item.get("arguments"), f"{path}.arguments")


def check_stream(found: Findings, events: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """MCP-specific stream rules over ``(position, payload)`` pairs of one Responses stream.

    The order rule applies per server label, and only to servers whose tools this stream
    lists: a follow-up response (``previous_response_id``) may call tools listed earlier.
    """
    deltas = {delta for delta, _ in ARGUMENT_EVENTS}
    dones = {done for _, done in ARGUMENT_EVENTS}
    listed: dict[str, int | None] = {}  # server label -> position its list was done
    calls: list[tuple[int, str]] = []
    for position, payload in events:
        kind = payload.get("type")
        if kind in deltas or kind in dones:
            field = "delta" if kind in deltas else "arguments"
            found.require(
                isinstance(payload.get("item_id"), str)
                and is_int(payload.get("output_index"))
                and isinstance(payload.get(field), str),
                STREAM_ARGUMENTS,
                f"[{position}]",
                f"{kind} needs item_id, output_index and a string {field}, got "
                f"{describe(payload)}",
            )
        item: Any = payload.get("item")
        if not is_object(item) or not isinstance(item.get("server_label"), str):
            continue
        label = item["server_label"]
        if item.get("type") == "mcp_list_tools":
            if kind == "response.output_item.added":
                listed.setdefault(label, None)
            elif kind == "response.output_item.done" and listed.get(label) is None:
                listed[label] = position
        elif item.get("type") == "mcp_call" and kind == "response.output_item.added":
            calls.append((position, label))
    for position, label in calls:
        if label not in listed:
            continue
        done_at = listed[label]
        if done_at is None or done_at > position:
            found.add(STREAM_ORDER, f"[{position}]",
                      f"an mcp_call on {label!r} was added before that server's mcp_list_tools "
                      "item was done")
            break


def _check_arguments(found: Findings, arguments: Any, path: str) -> None:
    ok = isinstance(arguments, str)
    if ok:
        try:
            json.loads(arguments)
        except ValueError:
            ok = False
    found.require(ok, ARGUMENTS, path, f"expected a JSON string, got {describe(arguments)}")


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_approval_filter(value: Any) -> bool:
    if not is_object(value) or not set(value) <= {"always", "never"}:
        return False
    return all(
        v is None or (is_object(v) and _is_names(v.get("tool_names", []))
                      and isinstance(v.get("read_only", False), bool))
        for v in value.values()
    )


def _is_listed_tool(tool: Any) -> bool:
    return (
        is_object(tool)
        and isinstance(tool.get("name"), str)
        and is_object(tool.get("input_schema"))
        and isinstance(tool.get("description"), (str, type(None)))
        and (tool.get("annotations") is None or is_object(tool.get("annotations")))
    )
