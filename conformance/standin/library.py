"""What the stand-in answers with: the packaged cassettes (they ship inside the wheel), read
once, real recordings ahead of constructed ones.

A request is answered, in this order, by:

1. an interaction whose request is the same one (method, path, query and JSON body, the
   ``model`` and the output caps aside), so the doc's samples get the answers the checks
   judged;
2. the route's default answer (:data:`DEFAULTS`), a real recording wherever one exists,
   fitted to the request where a client checks the fit: embeddings come back one per input,
   with the requested ``dimensions`` and ``encoding_format``.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcr import matchers
from vcr.request import Request as VcrRequest

from ..wire import Cassette, Chunking, Interaction, Replay, Reply, iter_cassette_files
from ..wire.replay import MATCHERS
from ..wire.sse import edit_json_data, is_event_stream, json_payloads

# The route of a request, with "-stream" for "stream": true.
Route = str
ROUTES = ("chat", "chat-stream", "responses", "responses-stream", "embeddings")

# Each route's answer when no recorded request is the one asked: (cassette, interaction).
DEFAULTS: dict[Route, tuple[str, int]] = {
    "chat": ("chat/completion.yaml", 0),  # recorded on Azure
    "chat-stream": ("streaming/chat-buffered.yaml", 0),  # recorded on Azure, buffered filter
    "responses": ("responses/create.yaml", 0),  # recorded on Azure
    "responses-stream": ("streaming/responses-events.yaml", 0),  # recorded on Azure
    "embeddings": ("embeddings/multiple-inputs.yaml", 0),  # recorded on Azure
}
# Deployment names that name a reasoning model family (o1, o3-mini, o4-mini, gpt-5, ...).
REASONING = re.compile(r"(?:^|[-_/.])(?:o[1-9]|gpt-5)(?:$|[-_/.])", re.IGNORECASE)
CAP_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
# Default vector lengths by model family (wire contract §14.4), found in the deployment name.
VECTOR_LENGTHS = (("3-large", 3072), ("3-small", 1536), ("ada-002", 1536))


@dataclass(frozen=True)
class Entry:
    """One packaged interaction and where it comes from."""

    cassette: str  # path under the cassette root, e.g. chat/completion.yaml
    index: int
    interaction: Interaction
    recorded: bool


class Library:
    """The packaged cassettes, loaded once; answers are built from them per request."""

    def __init__(self, root: Path, chunking: Chunking | None = None) -> None:
        self.root = root
        self.chunking = chunking or Chunking()
        self.cassettes: dict[str, Cassette] = {}
        for path in iter_cassette_files([root]):
            self.cassettes[path.relative_to(root).as_posix()] = Cassette.load(path)
        entries = [
            Entry(name, index, interaction, cassette.provenance == "recorded")
            for name, cassette in self.cassettes.items()
            for index, interaction in enumerate(cassette.interactions)
        ]
        # Successes only (a check's forced error is a scenario, not an answer: a 200 stream
        # that carries an error event is one too), real first.
        self.successes = sorted((e for e in entries if e.interaction.status == 200
                                 and not _stream_error(e.interaction)),
                                key=lambda e: not e.recorded)
        missing = [f"{name}#{index}" for name, index in [*DEFAULTS.values()]
                   if name not in self.cassettes
                   or index >= len(self.cassettes[name].interactions)]
        if missing:
            raise LookupError(f"the cassettes under {root} lack the stand-in's default answers: "
                              + ", ".join(missing))

    def entry(self, name: str, index: int = 0) -> Entry:
        cassette = self.cassettes[name]
        return Entry(name, index, cassette.interactions[index], cassette.provenance == "recorded")

    def reply(self, entry: Entry) -> Reply:
        """The interaction's answer as replay serves it (decoded body, streams in chunks)."""
        return Replay(Cassette(self.root / entry.cassette, [entry.interaction]),
                      self.chunking).reply(entry.interaction)

    def same_request(self, method: str, uri: str, body: dict[str, Any]) -> Entry | None:
        """The packaged interaction whose request is this one, the model and caps aside."""
        incoming = _comparable(VcrRequest(method, uri, json.dumps(body).encode(), {}))
        for entry in self.successes:
            if matchers.requests_match(incoming, _comparable(entry.interaction.request),
                                       MATCHERS):
                return entry
        return None

    def answer(self, route: Route, method: str, uri: str, body: dict[str, Any]) -> tuple[
            Entry, Reply]:
        """The answer to a request that passed authentication and routing."""
        same = self.same_request(method, uri, body)
        if same is None and route == "embeddings" and "encoding_format" not in body:
            # An SDK that asks for its default format (openai-go sends none): the recording of
            # the same request in base64, served as floats below (as a resource answers it).
            loose = self.same_request(method, uri, {**body, "encoding_format": "base64"})
        else:
            loose = None
        entry = same or loose or self.entry(*self.fitting(route, body))
        reply = self.reply(entry)
        if same is None and route == "embeddings":
            reply = _fit_embeddings(reply, body)
        if reply.status == 200 and route.startswith("responses"):
            reply = _fit_json(reply, _fit_responses(body), self.chunking)
        cap = _cap(body)
        if reply.status == 200 and cap is not None:
            reply = _fit_json(reply, _clamp_usage(cap), self.chunking)
        return entry, reply

    def fitting(self, route: Route, body: dict[str, Any]) -> tuple[str, int]:
        """The recording that answers a request of this kind, when none is the same request."""
        model = str(body.get("model", ""))
        if route == "chat" and "max_tokens" in body and REASONING.search(model):
            # wire §10.1: reasoning models refuse max_tokens (400 unsupported_parameter).
            return "reasoning/max-tokens-rejected.yaml", 0
        tools = body.get("tools")
        mcp = [t for t in tools if isinstance(t, dict) and t.get("type") == "mcp"] if (
            isinstance(tools, list)) else []
        if route == "responses-stream" and mcp:
            return "mcp/streaming-events.yaml", 0
        if route == "responses" and mcp:
            given = body.get("input")
            items: list[Any] = given if isinstance(given, list) else []
            if any(isinstance(i, dict) and i.get("type") == "mcp_approval_response"
                   for i in items):
                return "mcp/approval-flow.yaml", 1
            if any(t.get("require_approval", "always") != "never" for t in mcp):
                return "mcp/approval-flow.yaml", 0  # wire §13.3: approval is the default
            return "mcp/tool-config.yaml", 0
        if route == "responses" and isinstance(body.get("reasoning"), dict):
            return "reasoning/responses.yaml", 0
        return DEFAULTS[route]

def _stream_error(interaction: Interaction) -> bool:
    """An event stream that carries an error: an ``error`` or ``response.failed`` event, or
    a payload with a truthy ``error`` key (wire §12.4)."""
    if not is_event_stream(interaction.header("content-type")):
        return False
    try:
        payloads = json_payloads(interaction.body)
    except ValueError:
        return True
    return any(isinstance(p, dict) and (p.get("error") or p.get("type") in (
        "error", "response.failed")) for p in payloads)


def _comparable(request: VcrRequest) -> VcrRequest:
    """The request without what any deployment answers the same way: its model and caps."""
    try:
        data = json.loads(request.body) if request.body else None
    except ValueError:
        return request
    if not isinstance(data, dict):
        return request
    trimmed = {k: v for k, v in data.items() if k not in ("model", *CAP_FIELDS)}
    return VcrRequest(request.method, request.uri, json.dumps(trimmed).encode(), {})


def _inputs(value: Any) -> int:
    """How many embeddings a request's ``input`` asks for."""
    if isinstance(value, list) and value and not all(isinstance(v, int) for v in value):
        return len(value)
    return 1


def _fit_embeddings(reply: Reply, body: dict[str, Any]) -> Reply:
    data = json.loads(reply.body)
    recorded = data["data"][0]["embedding"]
    if isinstance(recorded, str):
        raw = base64.b64decode(recorded)
        vector = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    else:
        vector = [float(v) for v in recorded]
    model = str(body.get("model", ""))
    length = next((n for family, n in VECTOR_LENGTHS if family in model), len(vector))
    dimensions = body.get("dimensions")
    if isinstance(dimensions, int) and not isinstance(dimensions, bool) and dimensions > 0:
        length = min(dimensions, 3072)
    as_base64 = body.get("encoding_format") == "base64"
    items = []
    for index in range(min(_inputs(body.get("input")), 2048)):
        # Each input gets its own vector: the recorded one, rotated, cycled to the length.
        values = list(itertools.islice(itertools.cycle(vector[index:] + vector[:index]), length))
        encoded: Sequence[float] | str = (
            base64.b64encode(struct.pack(f"<{length}f", *values)).decode()
            if as_base64 else values)
        items.append({"object": "embedding", "index": index, "embedding": encoded})
    data["data"] = items
    headers = [(k, v) for k, v in reply.headers if k.lower() != "content-type"]
    return Reply(reply.status, [*headers, ("content-type", "application/json")],
                 json.dumps(data).encode(), reason=reply.reason)


def _fit_json(reply: Reply, edit: Callable[[Any], bool], chunking: Chunking) -> Reply:
    """``reply`` with ``edit`` applied to its JSON body, or to each JSON event of a stream
    (before the stream is cut into chunks); ``edit`` says whether it changed anything."""
    if reply.chunks is None:
        try:
            data = json.loads(reply.body)
        except ValueError:
            return reply
        if not edit(data):
            return reply
        return Reply(reply.status, reply.headers, json.dumps(data).encode(), reason=reply.reason)
    body = edit_json_data(b"".join(reply.chunks), edit)
    return Reply(reply.status, reply.headers, chunks=chunking.split(body), reason=reply.reason)


def _fit_responses(body: dict[str, Any]) -> Callable[[Any], bool]:
    """wire §11.3: a Responses body (and each stream event's response) names the deployment
    that was asked, not the model behind it; MCP items name the request's server label."""
    deployment = body.get("model")
    given = body.get("tools")
    tools: list[Any] = given if isinstance(given, list) else []
    labels = [t.get("server_label") for t in tools
              if isinstance(t, dict) and t.get("type") == "mcp"]
    label = labels[0] if len(labels) == 1 and isinstance(labels[0], str) else None

    def edit(data: Any) -> bool:
        changed = False
        if not isinstance(data, dict):
            return False
        response = data.get("response")
        for holder in (data, response):
            if isinstance(holder, dict) and isinstance(holder.get("model"), str) and (
                    isinstance(deployment, str)):
                holder["model"] = deployment
                changed = True
        if label is not None:
            outputs = [data.get("item")]
            for holder in (data, response):
                if isinstance(holder, dict) and isinstance(holder.get("output"), list):
                    outputs += holder["output"]
            for item in outputs:
                if isinstance(item, dict) and isinstance(item.get("server_label"), str):
                    item["server_label"] = label
                    changed = True
        return changed

    return edit


def _clamp_usage(cap: int) -> Callable[[Any], bool]:
    """A service honours the output cap it was sent: usage never reports more output."""

    def clamp(usage: Any) -> bool:
        if not isinstance(usage, dict):
            return False
        changed = False
        for out, given in (("completion_tokens", "prompt_tokens"),
                           ("output_tokens", "input_tokens")):
            if isinstance(usage.get(out), int) and usage[out] > cap:
                usage[out] = cap
                usage["total_tokens"] = (usage.get(given) or 0) + cap
                changed = True
                for details in ("completion_tokens_details", "output_tokens_details"):
                    detail = usage.get(details)
                    if isinstance(detail, dict) and isinstance(
                            detail.get("reasoning_tokens"), int):
                        detail["reasoning_tokens"] = min(detail["reasoning_tokens"], cap)
        return changed

    def edit(data: Any) -> bool:
        if not isinstance(data, dict):
            return False
        response = data.get("response")
        return clamp(data.get("usage")) | (
            isinstance(response, dict) and clamp(response.get("usage")))

    return edit


def _cap(body: dict[str, Any]) -> int | None:
    caps = [body[k] for k in CAP_FIELDS
            if isinstance(body.get(k), int) and not isinstance(body[k], bool) and body[k] >= 0]
    return min(caps) if caps else None
