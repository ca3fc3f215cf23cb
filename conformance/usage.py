"""What a live run costs in tokens: usage read from answers, and the output cap on requests.

Usage is read where the service reports it: ``usage`` of a chat completion, an embeddings
list or a Response; in a chat stream the usage chunk; in a Responses stream the ``response``
of its final event. Every live request is sent upstream with its output capped at
:data:`OUTPUT_CAP` (lowered if the SDK asked for more, added if it asked for nothing): the
checks judge what the SDK sent and the shape of what came back, not how long the answer is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .settings import DEFAULT_TOKEN_BUDGET as DEFAULT_TOKEN_BUDGET
from .settings import OUTPUT_CAP as OUTPUT_CAP
from .wire import Cassette, CassetteError
from .wire.sse import is_event_stream, parse_events

# What one image part may cost as input: a high-detail image at the largest size the service
# keeps (2048 x 768: 8 tiles of 170 tokens, plus 85) is 1,445 tokens.
IMAGE_TOKENS = 1500
# What the listing of an MCP server's tools may add to a request's input until the run has
# seen one (the service feeds the listing to the model; it is not in the request). Raised to
# the largest listing the run then sees.
MCP_LISTING_TOKENS = 2000
# The output cap of a Responses request that configures an MCP server: the tool call is
# output too, and a reasoning deployment reasons first; 32 tokens can all go on reasoning,
# leaving no call to judge. Held in the budget like any other cap.
MCP_OUTPUT_CAP = 256
# Tools an MCP server lists to the model in live runs, for servers whose doc sample asks for
# one tool (the request goes upstream with ``allowed_tools``, like the output cap): the
# listing of every tool of the Microsoft Learn server is most of a live run's input.
MCP_ALLOWED_TOOLS: dict[str, list[str]] = {
    "https://learn.microsoft.com/api/mcp": ["microsoft_docs_search"],
}

# route (under /openai/v1/) -> the request's output-cap fields: (present ones, the one to add)
_CAPS: dict[str, tuple[tuple[str, ...], str]] = {
    "chat/completions": (("max_tokens", "max_completion_tokens"), "max_completion_tokens"),
    "responses": (("max_output_tokens",), "max_output_tokens"),
}


@dataclass(frozen=True)
class Usage:
    input: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input + other.input, self.output + other.output)

    def capped(self, cap: int = OUTPUT_CAP) -> Usage:
        return Usage(self.input, min(self.output, cap))


def _of(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    numbers = {k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}
    given = numbers.get("prompt_tokens", numbers.get("input_tokens", 0))
    produced = numbers.get("completion_tokens", numbers.get("output_tokens", 0))
    if not given and not produced and "total_tokens" in numbers:
        given = numbers["total_tokens"]  # embeddings: prompt_tokens == total_tokens
    return Usage(given, produced)


def of_body(body: bytes, content_type: str | None) -> Usage:
    """The usage an answer reports (zero when it reports none)."""
    if is_event_stream(content_type) or body.lstrip().startswith((b"data:", b"event:")):
        found: Usage | None = None
        for event in parse_events(body):
            try:
                data = event.json()
            except ValueError:
                continue
            if isinstance(data, dict):
                response = data.get("response")
                usage = _of(data.get("usage")) or (
                    _of(response.get("usage")) if isinstance(response, dict) else None)
                found = usage or found  # the last report of the stream stands
        return found or Usage()
    try:
        data = json.loads(body)
    except ValueError:
        return Usage()
    return (_of(data.get("usage")) if isinstance(data, dict) else None) or Usage()


def total(usages: Iterable[Usage]) -> Usage:
    result = Usage()
    for usage in usages:
        result = result + usage
    return result


def cap_output(path: str, body: bytes, cap: int = OUTPUT_CAP) -> bytes:
    """The request body with its output capped at ``cap`` (unchanged for other routes)."""
    route = next((r for r in _CAPS if path.rstrip("/").endswith("/" + r)), None)
    if route is None or not body.lstrip().startswith(b"{"):
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict):
        return body
    fields, added = _CAPS[route]
    if route == "responses" and mcp_tools(data):
        cap = max(cap, MCP_OUTPUT_CAP)
    present = [f for f in fields if isinstance(data.get(f), int)]
    for name in present:
        data[name] = min(data[name], cap)
    if not present:
        data[added] = cap
    if route == "responses" and isinstance(data.get("tools"), list):
        data["tools"] = [_restricted(tool) for tool in data["tools"]]
    return json.dumps(data).encode()


def _restricted(tool: Any) -> Any:
    """An MCP tool config listing only the tools its doc sample needs (unchanged when it
    names its own ``allowed_tools`` or its server is not in :data:`MCP_ALLOWED_TOOLS`)."""
    if (isinstance(tool, dict) and tool.get("type") == "mcp" and "allowed_tools" not in tool
            and tool.get("server_url") in MCP_ALLOWED_TOOLS):
        return {**tool, "allowed_tools": list(MCP_ALLOWED_TOOLS[tool["server_url"]])}
    return tool


def _bytes(value: Any) -> int:
    """An upper bound of the tokens ``value`` (part of a JSON request) can cost as input: its
    UTF-8 bytes (no token is shorter than a byte; the JSON syntax around each message is
    longer than the service's framing of it), an image part at :data:`IMAGE_TOKENS`."""
    if isinstance(value, dict):
        if value.get("type") in ("image_url", "input_image"):
            return IMAGE_TOKENS
        return 2 + sum(len(str(k).encode()) + 4 + _bytes(v) for k, v in value.items())
    if isinstance(value, list):
        return 2 + sum(1 + _bytes(v) for v in value)
    return len(json.dumps(value, ensure_ascii=False).encode())


def mcp_tools(data: Any) -> int:
    """How many MCP server tools a request body configures."""
    tools = data.get("tools") if isinstance(data, dict) else None
    return sum(1 for t in tools if isinstance(t, dict) and t.get("type") == "mcp") if (
        isinstance(tools, list)) else 0


def request_bound(body: bytes, listing: int = MCP_LISTING_TOKENS) -> int:
    """An upper bound, without a tokenizer, of what the request ``body`` (as sent upstream,
    output capped) can cost: its input by :func:`_bytes`, ``listing`` per MCP server it
    configures, and the output it allows (its output cap; nothing for embeddings)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return len(body)
    if not isinstance(data, dict):
        return len(body)
    output = max((data[f] for f in ("max_tokens", "max_completion_tokens", "max_output_tokens")
                  if isinstance(data.get(f), int)), default=0)
    return _bytes(data) + listing * mcp_tools(data) + output


@cache
def estimate(cassette: Path) -> tuple[int, Usage]:
    """(requests, usage with the output capped) a live check whose cassette this is will
    spend, judged from what the cassette recorded."""
    try:
        interactions = Cassette.load(cassette).interactions
    except CassetteError:
        return 0, Usage()
    spent = total(of_body(i.body, i.header("content-type")).capped() for i in interactions)
    return len(interactions), spent
