"""Forwarding to a live resource, for live runs and for recording cassettes.

The SDK under test still talks to the loopback server, with a made-up credential; the
:class:`Forward` responder swaps in the real credential, sends the request upstream, returns
the answer, and keeps a scrubbed copy of each exchange as a vcrpy interaction. The real
credential therefore never passes through the SDK, the check, or a cassette.
"""

from __future__ import annotations

import gzip
import http.client
import json
import ssl
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vcr.request import Request

from .cassette import Interaction
from .server import Action, RecordedRequest, Reply
from .sse import Chunking, is_event_stream

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
PLACEHOLDER_ORIGIN = "https://RESOURCE.openai.azure.com"
BASE_PATH = "/openai/v1/"

# Request headers worth keeping in a cassette; everything else (credentials, telemetry,
# user-agent, host) is dropped before the interaction is stored.
KEPT_REQUEST_HEADERS = frozenset({"content-type", "accept"})
# Response headers never stored.
DROPPED_RESPONSE_HEADERS = frozenset(
    {"set-cookie", "content-length", "transfer-encoding", "connection", "keep-alive", "date",
     "content-encoding"}
)
# Hop-by-hop and credential headers never forwarded from the SDK's request.
NOT_FORWARDED = frozenset(
    {"host", "authorization", "api-key", "connection", "keep-alive", "content-length",
     "transfer-encoding", "accept-encoding"}
)


class EndpointError(ValueError):
    """An endpoint this project refuses to talk to."""


def parse_endpoint(endpoint: str) -> tuple[str, str, int, str]:
    """``https://RES.openai.azure.com/openai/v1/`` -> (scheme, host, port, base path).

    Plain http is allowed only on loopback (a local fake resource): a key must never cross a
    network in clear text.
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointError(f"endpoint must be an http(s) URL, got {endpoint!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise EndpointError(f"refusing plain http to {parts.hostname}: use https")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if not path.endswith(BASE_PATH):
        raise EndpointError(f"endpoint must end with {BASE_PATH} (the v1 route), got {path!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port, path


@dataclass
class Forward:
    """Forward every request to ``endpoint`` with ``credential()`` headers; record each
    exchange (scrubbed by ``scrub`` for text) as an :class:`Interaction`.

    What goes back to the SDK is scrubbed too (``scrub_body`` for bodies that may not be
    text): an upstream that echoes the credential or its own host must not put them in an
    SDK exception, which pytest prints. The repr names neither the endpoint nor the
    credential, for the same reason."""

    endpoint: str = field(repr=False)
    credential: Callable[[], Mapping[str, str]] = field(repr=False)
    scrub: Callable[[str], str] = field(default=lambda text: text, repr=False)
    scrub_body: Callable[[bytes], bytes] = field(default=lambda data: data, repr=False)
    # (path, body) -> the body sent upstream (the user's deployment names, an output cap).
    rewrite: Callable[[str, bytes], bytes] = field(default=lambda path, data: data, repr=False)
    chunking: Chunking = field(default_factory=Chunking)
    timeout_s: float = 120.0
    max_requests: int | None = None
    interactions: list[Interaction] = field(default_factory=list, repr=False)
    _target: tuple[str, str, int, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._target = parse_endpoint(self.endpoint)

    def __repr__(self) -> str:
        return f"Forward(<the resource>, {len(self.interactions)} exchange(s))"

    def respond(self, request: RecordedRequest) -> Action:
        if self.max_requests is not None and len(self.interactions) >= self.max_requests:
            return Reply(
                400,
                [("content-type", "application/json"), ("x-should-retry", "false")],
                b'{"error":{"code":"request_budget","message":"this run reached its request '
                b'budget; nothing was sent upstream"}}',
            )
        scheme, host, port, base = self._target
        target = request.target
        if target.startswith(BASE_PATH):
            target = base + target[len(BASE_PATH):]
        headers = {k: v for k, v in request.headers if k.lower() not in NOT_FORWARDED}
        headers.update(self.credential())
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeout_s)
        try:
            connection.request(request.method, target,
                               body=self.rewrite(request.path, request.body)
                               if request.body else None,
                               headers=headers)
            response = connection.getresponse()
            body = _decoded(response.read(), response.getheader("content-encoding"))
            status, reason = response.status, response.reason
            response_headers = [(k, v) for k, v in response.getheaders()]
        except (OSError, http.client.HTTPException) as exc:
            return self._unreachable(exc)
        finally:
            connection.close()
        self.interactions.append(self._store(request, status, reason, response_headers, body))
        kept = [(k, self._scrub_header(k, v)) for k, v in response_headers
                if k.lower() not in DROPPED_RESPONSE_HEADERS]
        reason = self.scrub(reason)
        body = self.scrub_body(body)
        content_type = next((v for k, v in kept if k.lower() == "content-type"), None)
        if is_event_stream(content_type):
            return Reply(status, kept, chunks=self.chunking.split(body), reason=reason)
        return Reply(status, kept, body, reason=reason)

    def _scrub_header(self, name: str, value: str) -> str:
        """A header value, scrubbed with its name as context (``x-ms-tenant-id: GUID``)."""
        line = self.scrub(f"{name}: {value}")
        return line.split(": ", 1)[1] if line.startswith(f"{name}: ") else self.scrub(value)

    def _unreachable(self, exc: BaseException) -> Reply:
        message = self.scrub(f"the resource could not be reached: {type(exc).__name__}: {exc}")
        return Reply(
            502,
            [("content-type", "application/json"), ("x-should-retry", "false")],
            json.dumps({"error": {"code": "upstream_unreachable", "message": message,
                                  "type": type(exc).__name__}}).encode(),
        )

    def _store(
        self, request: RecordedRequest, status: int, reason: str,
        headers: list[tuple[str, str]], body: bytes,
    ) -> Interaction:
        kept_request: dict[str, list[str]] = {}
        for k, v in request.headers:
            if k.lower() in KEPT_REQUEST_HEADERS:
                kept_request.setdefault(k.lower(), []).append(v)
        stored_headers: dict[str, list[str]] = {}
        for k, v in headers:
            if k.lower() not in DROPPED_RESPONSE_HEADERS:
                stored_headers.setdefault(k.lower(), []).append(self._scrub_header(k, v))
        request_body = self.scrub_body(request.body) if request.body else None
        stored_body: Any = self.scrub_body(body)
        return Interaction(
            Request(request.method, PLACEHOLDER_ORIGIN + request.target, request_body,
                    kept_request),
            {"status": {"code": status, "message": self.scrub(reason)}, "headers": stored_headers,
             "body": {"string": stored_body}},
        )


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """The body without its content-encoding (the SDK is answered, and the cassette stores
    it, without one), so that the scrubber sees the plain bytes."""
    encoding = (encoding or "").strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        pass
    return body
