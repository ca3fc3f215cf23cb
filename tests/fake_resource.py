"""A local stand-in for an Azure OpenAI resource, for live and record runs in tests.

It authenticates like the service (a wrong or missing key gets Azure's 401 body) and answers
from a folder of cassettes (and ``corpus/standin/``, the doc-sample answers for checks whose
packaged cassette is a recording): any interaction of a live check's cassette whose request
matches (the output cap aside), as often as asked, with its usage clamped to the cap it was
sent.

``echo`` makes it a hostile upstream that repeats the credential it was sent (and its own
host) wherever a careless harness might print or store it:
- ``headers``: in response headers of every answer;
- ``json``: in every JSON body (an extra top-level field) and in the 401 message;
- ``error``: every authenticated request (but preflight's) is answered 500 with the credential
  and host in the error message;
- ``binary``: the same with a body that is not UTF-8;
- ``header-name``: in the *name* of a response header of every answer (``x-k-KEY: 1``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from vcr import matchers
from vcr.request import Request

from conformance.wire import (
    Cassette,
    RecordedRequest,
    Replay,
    Reply,
    WireServer,
    edit_json_data,
    iter_cassette_files,
)
from conformance.wire.http import has_header
from conformance.wire.replay import MATCHERS

UNAUTHORIZED = {"error": {"code": "401", "message": "Access denied due to invalid subscription "
                          "key or wrong API endpoint."}}
DEPLOYMENT_NOT_FOUND = {"error": {"code": "DeploymentNotFound", "message": "The API deployment "
                                "for this resource does not exist. If you created the deployment "
                                "within the last 5 minutes, please wait a moment and try again."}}
MISSING_PARAMETER = {"error": {"message": "Missing required parameter: 'messages'.",
                              "type": "invalid_request_error", "param": "messages",
                              "code": "missing_required_parameter"}}
ECHOES = ("headers", "json", "error", "binary", "header-name")
# Answers to the doc's sample requests that live runs send where the packaged cassette is a
# real recording of another request (the checks replay the recorded request, but a live run
# sends the doc's sample): constructed like the other cassettes, served only by this stand-in.
STANDIN = Path(__file__).parent / "corpus" / "standin"


@dataclass
class FakeResource:
    key: str
    cassettes: Path
    seen: list[RecordedRequest] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)  # Entra tokens it accepts
    echo: frozenset[str] = frozenset()
    host: str = "127.0.0.1"  # its own host:port once serving (echoed back)
    endpoint: str = ""
    # Its deployments, named its own way: {their name: the doc's name}. Empty: every name the
    # cassettes use exists as is.
    deployments: dict[str, str] = field(default_factory=dict)
    refuse: Reply | None = None  # the answer to every request (a resource that says no)
    # Applied to each JSON answer (a resource that answers differently from the cassettes).
    edit: Callable[[dict[str, Any]], None] | None = None
    # A gateway's key in the query (an Azure Functions front's ``code``): when set, a request
    # without it is refused, and it is taken off before the request is matched.
    code: str | None = None
    # A gateway in front that forwards only the inference routes: GET models is a 404.
    gateway: bool = False
    # Deployments (the doc's names) of reasoning models that reason ``reasoning_tokens``
    # before any visible output: given a smaller output cap they spend all of it on
    # reasoning, as a real one can (no visible text, finish_reason length in chat; status
    # incomplete for max_output_tokens in Responses). Answers that are not streamed.
    spends_cap_on_reasoning: frozenset[str] = frozenset()
    reasoning_tokens: int = 64

    def __post_init__(self) -> None:
        # What a resource answers on demand: the cassettes of the checks that run live (the
        # others force a 429, a filter block or an error event), successes first.
        from conformance.cli import load_suites
        from conformance.registry import REGISTRY

        load_suites()
        live = {c.cassette for c in REGISTRY.values() if c.live and c.cassette is not None}
        interactions = [
            i for root in (self.cassettes, STANDIN) for path in iter_cassette_files([root])
            if path.relative_to(root).as_posix() in live or root == STANDIN
            for i in Cassette.load(path).interactions
        ]
        self._interactions = sorted(interactions, key=lambda i: i.status != 200)

    def hostile(self, echoes: Iterable[str]) -> FakeResource:
        self.echo = frozenset(echoes)
        return self

    def respond(self, request: RecordedRequest) -> Reply:
        self.seen.append(request)
        if self.refuse is not None:
            return self.refuse
        if self.code is not None:
            pairs = parse_qsl(request.query, keep_blank_values=True)
            if ("code", self.code) not in pairs:
                return Reply(401, [("content-type", "text/plain")], b"missing function key")
            rest = urlencode([p for p in pairs if p[0] != "code"])
            request = RecordedRequest(request.index, request.method,
                                      request.path + (f"?{rest}" if rest else ""),
                                      request.headers, request.body, request.arrived)
        sent = request.header("api-key") or (request.header("authorization") or "").removeprefix(
            "Bearer ")
        echoed = [("x-echo-credential", sent), ("x-echo-host", self.host)] if (
            "headers" in self.echo) else []
        if "header-name" in self.echo:
            echoed.append((f"x-k-{sent}", "1"))
        if sent != self.key and sent not in self.tokens:
            body = json.loads(json.dumps(UNAUTHORIZED))
            if "json" in self.echo:
                body["error"]["message"] += f" Key {sent!r} is not valid for {self.host}."
            return Reply(401, [("content-type", "application/json"), *echoed],
                         json.dumps(body).encode())
        probe = (request.method == "GET" and request.path.endswith("/models")) or (
            request.body.startswith(b"{") and list(request.json()) == ["model"])
        if "error" in self.echo and not probe:
            message = f"internal error at {self.host} handling credential {sent}"
            return Reply(500, [("content-type", "application/json"), *echoed],
                         json.dumps({"error": {"code": "500", "message": message}}).encode())
        if "binary" in self.echo and not probe:
            body = b"\xff\xfe\x80 upstream failure: " + sent.encode() + b" \xc3( " + (
                self.host.encode())
            return Reply(500, [("content-type", "text/plain"), *echoed], body)
        if request.method == "GET" and request.path.endswith("/models") and self.gateway:
            return Reply(404, [("content-type", "application/json"), *echoed],
                         b'{"statusCode": 404, "message": "Resource not found"}')
        if request.method == "GET" and request.path.endswith("/models"):
            return Reply(200, [("content-type", "application/json"), *echoed],
                         b'{"object":"list","data":[]}')
        incoming = request.as_vcr()
        sent_model: str | None = None  # a Responses answer echoes the deployment it was sent
        if self.deployments:
            body = request.json() if request.body.startswith(b"{") else None
            model = body.get("model") if isinstance(body, dict) else None
            if isinstance(model, str):
                if model not in self.deployments:
                    return Reply(404, [("content-type", "application/json"), *echoed],
                                 json.dumps(DEPLOYMENT_NOT_FOUND).encode())
                sent_model, body["model"] = model, self.deployments[model]
                incoming = RecordedRequest(request.index, request.method, request.target,
                                           request.headers, json.dumps(body).encode(),
                                           request.arrived).as_vcr()
        cap = _cap(incoming.body)
        as_floats = False
        if (request.path.rstrip("/").endswith("/embeddings") and incoming.body
                and b"encoding_format" not in incoming.body):
            # No encoding_format (openai-go's default): the service answers floats. The
            # recordings asked for base64; their vectors are served as the floats they hold.
            body = json.loads(incoming.body)
            if not any(matchers.requests_match(_uncapped(incoming), _uncapped(i.request),
                                               MATCHERS) for i in self._interactions):
                incoming.body = json.dumps({**body, "encoding_format": "base64"}).encode()
                as_floats = True
        for interaction in self._interactions:
            if matchers.requests_match(_uncapped(incoming), _uncapped(interaction.request),
                                       MATCHERS):
                reply = Replay(Cassette(Path("fake"), [interaction])).reply(interaction)
                if cap is not None:  # a service honours the output cap: usage says so
                    reply = Reply(reply.status, reply.headers, _clamp(reply.body, cap),
                                  [_clamp(c, cap) for c in reply.chunks]
                                  if reply.chunks is not None else None)
                headers = [*reply.headers, ("set-cookie", "session=abc"), *echoed]
                if not has_header(headers, "x-request-id"):
                    headers.append(("x-request-id", "fake-req-1"))
                body = reply.body
                chunks = reply.chunks
                if as_floats:
                    body = _edit_json(body, _base64_as_floats)
                allowed = _allowed_tools(incoming.body)
                if allowed is not None:  # the service lists (and charges for) those alone
                    restrict = functools.partial(_restrict_listing, allowed=allowed)
                    body = _edit_json(body, restrict)
                    chunks = [_edit_json(c, restrict) for c in chunks] if chunks else chunks
                if sent_model is not None and request.path.rstrip("/").endswith("/responses"):
                    body = _echo_model(body, sent_model)
                    chunks = [_echo_model(c, sent_model) for c in chunks] if chunks else chunks
                doc_model = _model(incoming.body)
                if (cap is not None and cap < self.reasoning_tokens
                        and doc_model in self.spends_cap_on_reasoning
                        and body.startswith(b"{")):
                    body = _edit_json(body, functools.partial(_all_reasoning, cap=cap))
                if self.edit is not None and body.startswith(b"{"):
                    data = json.loads(body)
                    self.edit(data)
                    body = json.dumps(data).encode()
                if "json" in self.echo and body.startswith(b"{"):
                    data = json.loads(body)
                    data["echo"] = {"credential": sent, "host": self.host}
                    body = json.dumps(data).encode()
                return Reply(reply.status, headers, body, chunks)
        # A known deployment, a body no cassette holds (preflight's probe: the model alone).
        return Reply(400, [("content-type", "application/json"), *echoed],
                     json.dumps(MISSING_PARAMETER).encode())

    @property
    def work(self) -> list[RecordedRequest]:
        """What the checks sent: everything but preflight's requests (GET models, and probes
        whose body names only the model)."""
        return [r for r in self.seen if not (r.method == "GET" and r.path.endswith("/models"))
                and not (r.body.startswith(b"{") and list(r.json()) == ["model"])]


CAP_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


def _uncapped(request: Request) -> Request:
    """The request without its output cap: the cassettes hold what the SDK sent, the forwarder
    sends it capped."""
    try:
        body = json.loads(request.body) if request.body else None
    except ValueError:
        return request
    if not isinstance(body, dict):
        return request
    trimmed = {k: v for k, v in body.items() if k not in CAP_FIELDS}
    if isinstance(trimmed.get("tools"), list):  # the listing a run restricted, too
        trimmed["tools"] = [{k: v for k, v in t.items() if k != "allowed_tools"}
                            if isinstance(t, dict) and t.get("type") == "mcp" else t
                            for t in trimmed["tools"]]
    return Request(request.method, request.uri, json.dumps(trimmed).encode(), request.headers)


def _cap(body: bytes | None) -> int | None:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    caps = [data[k] for k in CAP_FIELDS if isinstance(data, dict) and isinstance(data.get(k), int)]
    return min(caps) if caps else None


def _allowed_tools(body: bytes | None) -> list[str] | None:
    """The tools the request's MCP server may list (None: all of them)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    tools = data.get("tools") if isinstance(data, dict) else None
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, dict) and tool.get("type") == "mcp" and isinstance(
                tool.get("allowed_tools"), list):
            return [str(name) for name in tool["allowed_tools"]]
    return None


def listing_tokens(tool: Any) -> int:
    """What one listed tool costs as input: its JSON, about 4 bytes a token."""
    return -(-len(json.dumps(tool)) // 4)


def _restrict_listing(data: Any, allowed: list[str]) -> None:
    """A Response (or a stream event carrying one, or an output item) whose mcp_list_tools
    items list only ``allowed``; usage no longer counts the tools left out."""
    if not isinstance(data, dict):
        return
    dropped = 0
    items = [data.get("item")] if isinstance(data.get("item"), dict) else []
    for holder in (data, data.get("response")):
        if isinstance(holder, dict) and isinstance(holder.get("output"), list):
            items.extend(holder["output"])
    for item in items:
        if isinstance(item, dict) and item.get("type") == "mcp_list_tools" and isinstance(
                item.get("tools"), list):
            kept = [t for t in item["tools"] if isinstance(t, dict) and t.get("name") in allowed]
            dropped += sum(listing_tokens(t) for t in item["tools"] if t not in kept)
            item["tools"] = kept
    for holder in (data, data.get("response")):
        usage = holder.get("usage") if isinstance(holder, dict) else None
        if isinstance(usage, dict) and isinstance(usage.get("input_tokens"), int) and dropped:
            usage["input_tokens"] = max(usage["input_tokens"] - dropped, 1)
            usage["total_tokens"] = usage["input_tokens"] + usage.get("output_tokens", 0)


def _model(body: bytes | None) -> str | None:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) else None


def _all_reasoning(data: Any, cap: int) -> None:
    """A chat completion or a Response whose whole output cap went on reasoning."""
    if not isinstance(data, dict):
        return
    usage = data.get("usage")
    if data.get("object") == "chat.completion":
        for choice in data.get("choices") or ():
            choice["finish_reason"] = "length"
            if isinstance(choice.get("message"), dict):
                choice["message"]["content"] = ""
        if isinstance(usage, dict):
            usage["completion_tokens"] = cap
            usage["total_tokens"] = usage.get("prompt_tokens", 0) + cap
            usage.setdefault("completion_tokens_details", {})["reasoning_tokens"] = cap
    elif data.get("object") == "response":
        data["status"] = "incomplete"
        data["incomplete_details"] = {"reason": "max_output_tokens"}
        data["output"] = [item for item in data.get("output") or ()
                          if isinstance(item, dict)
                          and item.get("type") in ("reasoning", "mcp_list_tools")]
        if isinstance(usage, dict):
            usage["output_tokens"] = cap
            usage["total_tokens"] = usage.get("input_tokens", 0) + cap
            usage.setdefault("output_tokens_details", {})["reasoning_tokens"] = cap


def _echo_model(body: bytes, name: str) -> bytes:
    """A Responses answer (a JSON body, or the events of a stream) naming ``name`` as its
    model, as the service echoes the deployment it was sent."""

    def fix(data: Any) -> None:
        if isinstance(data, dict):
            if isinstance(data.get("model"), str):
                data["model"] = name
            fix(data.get("response"))

    return _edit_json(body, fix)


def _base64_as_floats(data: Any) -> None:
    import base64
    import struct

    for item in data.get("data") or []:
        if isinstance(item.get("embedding"), str):
            raw = base64.b64decode(item["embedding"])
            item["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))


def _edit_json(body: bytes, edit: Callable[[Any], None]) -> bytes:
    """``body`` (a JSON document or an event stream's data lines) with ``edit`` applied to
    each JSON document."""

    def one(text: str) -> str:
        try:
            data = json.loads(text)
        except ValueError:
            return text
        edit(data)
        return json.dumps(data)

    if not body.lstrip().startswith(b"{"):
        return edit_json_data(body, lambda data: edit(data) or True)
    return one(body.decode("utf-8")).encode()


def _clamp(body: bytes, cap: int) -> bytes:
    """``usage`` in a JSON body or in the events of a stream, with output clamped to ``cap``."""

    def clamp(usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        for out, given in (("completion_tokens", "prompt_tokens"),
                           ("output_tokens", "input_tokens")):
            if isinstance(usage.get(out), int):
                usage[out] = min(usage[out], cap)
                usage["total_tokens"] = usage.get(given, 0) + usage[out]
                for details in ("completion_tokens_details", "output_tokens_details"):
                    if isinstance(usage.get(details), dict) and isinstance(
                        usage[details].get("reasoning_tokens"), int
                    ):
                        usage[details]["reasoning_tokens"] = min(
                            usage[details]["reasoning_tokens"], usage[out])

    def fix_usage(data: dict[str, Any]) -> bool:
        clamp(data.get("usage"))
        if isinstance(data.get("response"), dict):
            clamp(data["response"].get("usage"))
        return True

    def fix(text: str) -> str:
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if not isinstance(data, dict):
            return text
        fix_usage(data)
        return json.dumps(data)

    if not body.lstrip().startswith(b"{"):  # an event stream: fix each data line
        return edit_json_data(body, fix_usage)
    return fix(body.decode("utf-8")).encode()


@contextmanager
def serving(fake: FakeResource) -> Iterator[FakeResource]:
    """``fake`` answering on 127.0.0.1, its ``host`` and ``endpoint`` set, for a test's span."""
    with WireServer() as server:
        server.use(fake)
        fake.host = f"127.0.0.1:{server.port}"
        fake.endpoint = server.base_url
        yield fake


def live_run(pytester: Any, endpoint: str, *args: str) -> tuple[Any, dict[str, Any] | None]:
    """The packaged checks run live against ``endpoint`` in process: pytest's outcome and the
    results.json it wrote (None when the run wrote none)."""
    report = pytester.path / "report"
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", f"--conformance-endpoint={endpoint}", *args)
    path = report / "results.json"
    return outcome, (json.loads(path.read_text()) if path.exists() else None)
