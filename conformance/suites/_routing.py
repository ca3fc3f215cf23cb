"""Client construction through the drivers: build the client as the user wrote it (in any
SDK), send one operation, and see the request line that reached the loopback wire server.

A :class:`DriverConstruction` is one construction in the protocol's terms
(docs/driver-protocol.md, "Construction"); :func:`cell` performs it for one operation through
a driver, with the wire server answering as Azure's v1 API would (:class:`AzureRoutes`: the
judge of :mod:`conformance.routes`, the recorded 404 and 401 bodies for refused routes), and
returns what was sent (:class:`~._construction.Sent`: never a credential value, never the
resource's name) or why nothing was.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.routes import Route, judge
from conformance.wire import Reply
from conformance.wire.server import RecordedRequest

from ._construction import FAKE_TOKEN, Sent, _redact, host_kind
from ._requests import CHAT_MESSAGES, EMBEDDING_INPUT, EMBEDDING_SMALL, RESPONSES_DEPLOYMENT
from ._scenario import KEY, key_auth, scenario, token_auth

# A cell is one cheap request; connection refusals are not retried (max_retries 0).
CELL_DEADLINE_MS = 10_000
_OPERATION_NAMES = {"chat": "chat.completions.create", "responses": "responses.create",
                    "embeddings": "embeddings.create"}
_PARAMS: dict[str, dict[str, Any]] = {
    "chat": {"model": RESPONSES_DEPLOYMENT, "messages": CHAT_MESSAGES},
    "responses": {"model": RESPONSES_DEPLOYMENT, "input": "This is a test"},
    "embeddings": {"model": EMBEDDING_SMALL, "input": EMBEDDING_INPUT},
}


@dataclass(frozen=True)
class DriverConstruction:
    """One construction, as the protocol carries it. ``None``: the argument is not passed
    (the SDK may read a variable). ``auth``: ``key``, ``token`` (the SDK's token provider)
    or ``none`` (no credential argument: the SDK reads its key variable)."""

    client: str = "openai"  # "openai" (the doc's client) or "azure" (the SDK's Azure client)
    base_url: str | None = None
    endpoint: str | None = None
    api_version: str | None = None
    api_version_query: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    auth: str = "key"

    def protocol(self) -> dict[str, Any]:
        return {"client": self.client, "base_url": self.base_url, "endpoint": self.endpoint,
                "api_version": self.api_version, "deployment": None,
                "api_version_query": self.api_version_query,
                "from_environment": bool(self.environment),
                "environment": dict(self.environment)}

    def describe(self, sdk: str) -> str:
        """The construction as the user wrote it in ``sdk``, with no credential value and no
        resource name."""
        base = _redact(self.base_url)
        endpoint = _redact(self.endpoint)
        env = "".join(f"{k}=<set> " for k in sorted(self.environment))
        azure = self.client == "azure"
        token = self.auth == "token"
        if sdk == "javascript":
            args = [f"{n}: {v!r}" for n, v in (("baseURL", base), ("endpoint", endpoint),
                                               ("apiVersion", self.api_version)) if v]
            if self.api_version_query:
                args.append(f"defaultQuery: {{'api-version': {self.api_version_query!r}}}")
            if token:
                args.append(("azureADTokenProvider" if azure else "apiKey")
                            + ": getBearerTokenProvider(...)")
            elif self.auth == "key":
                args.append("apiKey: <key>")
            return f"{env}new {'AzureOpenAI' if azure else 'OpenAI'}({{{', '.join(args)}}})"
        if sdk == "go":
            opts = []
            if endpoint:
                opts.append(f"azure.WithEndpoint({endpoint!r}, {self.api_version!r})")
            if base:
                opts.append(f"option.WithBaseURL({base!r})")
            if self.api_version_query:
                opts.append(f'option.WithQuery("api-version", {self.api_version_query!r})')
            if token:
                opts.append("azure.WithTokenCredential(<credential>)")
            elif self.auth == "key":
                opts.append("azure.WithAPIKey(<key>)" if azure else "option.WithAPIKey(<key>)")
            return f"{env}openai.NewClient({', '.join(opts)})"
        if sdk == "java":
            calls = ["OpenAIOkHttpClient.builder()"] + ([".fromEnv()"] if self.environment
                                                        else [])
            if base or endpoint:
                calls.append(f".baseUrl({base or endpoint!r})")
            if self.api_version:
                calls.append(f".azureServiceVersion(fromString({self.api_version!r}))")
            if self.api_version_query:
                calls.append(f'.putQueryParam("api-version", {self.api_version_query!r})')
            if token:
                calls.append(".credential(BearerTokenCredential.create(<supplier>))")
            elif self.auth == "key":
                calls.append(".credential(AzureApiKeyCredential.create(<key>))" if azure
                             else ".apiKey(<key>)")
            return env + "".join(calls) + ".build()"
        args = [f"{n}={v!r}" for n, v in (("base_url", base), ("azure_endpoint", endpoint),
                                          ("api_version", self.api_version)) if v]
        if self.api_version_query:
            args.append(f"default_query={{'api-version': {self.api_version_query!r}}}")
        if token:
            args.append("azure_ad_token_provider=<provider>" if azure
                        else "api_key=<token provider>")
        elif self.auth == "key":
            args.append("api_key=<key>")
        return f"{env}{'AzureOpenAI' if azure else 'OpenAI'}({', '.join(args)})"


@dataclass(frozen=True)
class Cell:
    """What one construction did for one operation: the request the wire server saw, or the
    SDK's error before any request, or that the SDK cannot express it (``unsupported``)."""

    operation: str
    sent: Sent | None
    error: str | None
    unsupported: str | None = None

    def observation(self) -> object:
        if self.unsupported is not None:
            return {"unsupported": self.unsupported}
        if self.sent is None:
            return {"error": self.error}
        return self.sent.as_observation()

    def refused(self) -> str | None:
        """Why Azure's v1 API would not serve this cell, or None."""
        if self.unsupported is not None:
            return None
        if self.sent is None:
            return f"no request ({self.error})"
        if self.sent.route.api != "v1":
            return self.sent.route.describe()
        return None


class AzureRoutes:
    """A responder answering as Azure's v1 API would: a v1 (or legacy) route gets a minimal
    success body of its operation; a refused one the recorded 404 or 401 body."""

    def respond(self, request: RecordedRequest) -> Reply:
        parts = urlsplit(request.target)
        route = judge(request.method, parts.path, parts.query, _credential_names(request))
        headers = [("content-type", "application/json"), ("x-should-retry", "false"),
                   ("x-request-id", "00000000-0000-0000-0000-00000000c0de")]
        if not route.accepted:
            body = route.body or {"error": {"code": str(route.status),
                                            "message": route.problem}}
            return Reply(route.status, headers, json.dumps(body).encode())
        return Reply(200, headers, json.dumps(_success(parts.path, request.body)).encode())


def cell(driver: Driver, wire: Wire, built: DriverConstruction, operation: str) -> Cell:
    """Perform ``built`` for ``operation`` through ``driver``; the wire server must be
    serving :class:`AzureRoutes`."""
    from conformance.harness import HarnessFault
    from conformance.registry import Unsupported

    auth = {"token": token_auth(FAKE_TOKEN),
            "none": {"kind": "none"}}.get(built.auth, key_auth())
    run = scenario(wire, _OPERATION_NAMES[operation], _PARAMS[operation], auth=auth,
                   max_retries=0, deadline_ms=CELL_DEADLINE_MS)
    run["client"]["construction"] = built.protocol()
    before = len(wire.requests)
    try:
        outcome = driver.run(run)
    except Unsupported as exc:
        return Cell(operation, None, None, str(exc))
    if not outcome.constructed:
        raise HarnessFault(f"the {driver.sdk} driver did not build the client from the "
                           "scenario's construction (its outcome has no constructed: true): "
                           "a driver of an older protocol; the cell would be the doc's client")
    requests = wire.requests[before:]
    if not requests:
        return Cell(operation, None, _raised(outcome) or "the SDK sent nothing and raised "
                    "nothing")
    return Cell(operation, sent_of(requests[0]), None)


def sent_of(request: RecordedRequest) -> Sent:
    parts = urlsplit(request.target)
    names = _credential_names(request)
    shown = tuple(sorted(name if _usable(request, name) else f"{name} (unusable)"
                         for name in names))
    host = next((v for k, v in request.headers if k.lower() == "host"), "")
    return Sent(request.method, parts.path, parts.query, shown,
                host_kind(host.split(":")[0]), judge(request.method, parts.path, parts.query,
                                                     names))


def judged(one: Cell) -> bool:
    """Cells another check owns are observed, not judged here: a token provider the release
    formats instead of calling (auth.entra-token-provider)."""
    return not (one.sent and any("(unusable)" in c for c in one.sent.credential_headers))


def _raised(outcome: DriverOutcome) -> str | None:
    error = outcome.error
    return None if error is None else f"{error.class_name}: {error.message}"


def _credential_names(request: RecordedRequest) -> set[str]:
    return {k.lower() for k, v in request.headers
            if k.lower() in ("api-key", "authorization") and v}


def _usable(request: RecordedRequest, name: str) -> bool:
    value = next((v for k, v in request.headers if k.lower() == name), "")
    if name == "authorization":
        return value in (f"Bearer {KEY}", f"Bearer {FAKE_TOKEN}")
    return value == KEY


def _success(path: str, body: bytes) -> dict[str, Any]:
    if path.endswith("/embeddings"):
        try:
            asked = json.loads(body or b"{}").get("encoding_format")
        except ValueError:
            asked = None
        vector: Any = (base64.b64encode(struct.pack("<2f", 0.5, -0.25)).decode()
                       if asked == "base64" else [0.5, -0.25])
        return {"object": "list", "model": EMBEDDING_SMALL,
                "data": [{"object": "embedding", "index": 0, "embedding": vector}],
                "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    if path.endswith("/responses"):
        return {"id": "resp_construction", "object": "response", "created_at": 0,
                "model": RESPONSES_DEPLOYMENT, "status": "completed", "output": [
                    {"type": "message", "id": "msg_construction", "role": "assistant",
                     "status": "completed", "content": [
                         {"type": "output_text", "text": "ok", "annotations": []}]}],
                "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                          "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": 0}},
                "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
    return {"id": "chatcmpl-construction", "object": "chat.completion", "created": 0,
            "model": "gpt-4.1-nano", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "ok"},
                 "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


__all__ = ["AzureRoutes", "Cell", "DriverConstruction", "Route", "cell", "judged", "sent_of"]
