"""Forwarding to a live resource, for live runs and for recording cassettes.

The SDK under test still talks to the loopback server, with a made-up credential; the
:class:`Forward` responder swaps in the real credential, sends the request upstream, returns
the answer, and keeps a scrubbed copy of each exchange as a vcrpy interaction. The real
credential therefore never passes through the SDK, the check, or a cassette.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote_plus, urlsplit

from vcr.request import Request

from .cassette import Interaction
from .http import BASE_PATH, header
from .server import Action, RecordedRequest, Reply, WireFault, refusal
from .sse import Chunking, is_event_stream
from .validation import Undecodable, decode_body

# What a header name may hold (RFC 9110 token).
_NOT_TOKEN = re.compile(r"[^!#$%&'*+.^_`|~0-9A-Za-z-]+")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
PLACEHOLDER_ORIGIN = "https://RESOURCE.openai.azure.com"
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


class UpstreamError(WireFault):
    """The upstream failed (TLS, connection, timeout), redirected, or sent too much: the
    harness's problem, never the SDK's. ``cause`` names the exception class behind it
    (``SSLCertVerificationError``, ``gaierror``, ...), for preflight's explanation."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause


Answer = tuple[int, str, list[tuple[str, str]], bytes]  # status, reason, headers, body


@dataclass
class Answers:
    """The successful answers the upstream gave in one run, by request (method, target and
    the JSON body sent upstream, keys in any order): an identical request later in the run,
    from any check or SDK, is answered from here and costs nothing. The service's answer to
    a request is a sample of what it answers; every SDK is judged on the same sample."""

    _stored: dict[tuple[str, str, str], Answer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def key(method: str, target: str, body: bytes) -> tuple[str, str, str] | None:
        if not body:
            return (method, target, "")
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return (method, target, json.dumps(data, sort_keys=True))

    def get(self, key: tuple[str, str, str] | None) -> Answer | None:
        with self._lock:
            return self._stored.get(key) if key is not None else None

    def put(self, key: tuple[str, str, str] | None, answer: Answer) -> None:
        if key is not None and 200 <= answer[0] < 300:
            with self._lock:
                self._stored.setdefault(key, answer)

    def __len__(self) -> int:
        return len(self._stored)


class Spending(Protocol):
    """What a request may cost, asked before it goes upstream (:meth:`reserve`: the tokens
    held, or why it must not be sent) and told after (:meth:`settle`)."""

    def reserve(self, body: bytes) -> tuple[int, str | None]: ...

    def settle(self, held: int, body: bytes, answer: bytes, content_type: str | None) -> None: ...


DEFAULT_REQUEST_TIMEOUT_S = 120.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


# Query parameters of an endpoint that are not secrets (forwarded, shown as they are).
PUBLIC_QUERY = frozenset({"api-version"})
# The shortest query value (an Azure Functions ``code``, an API Management
# ``subscription-key``, a signature) the scrubber can hide: the floor of Scrubber.add.
MIN_SECRET = 8


def _refusal(code: str, message: str) -> Reply:
    return refusal(400, code, message)


def parse_endpoint(endpoint: str) -> tuple[str, str, int, str]:
    """``https://RES.openai.azure.com/openai/v1/`` -> (scheme, host, port, base path).

    Plain http is allowed only on loopback (a local fake resource): a key must never cross a
    network in clear text. A user name or password in the URL is refused (Azure OpenAI and
    its gateways take a key or a token, which this tool sends itself; http.client would
    silently drop them). A query is kept and sent with every request (see
    :func:`endpoint_query`). Messages never quote the endpoint: its host and query are
    secrets.
    """
    parts = urlsplit(endpoint.strip())
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise EndpointError("the endpoint's port is not a number") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointError("the endpoint must be an http(s) URL such as "
                            f"https://RESOURCE.openai.azure.com{BASE_PATH}, got "
                            + (f"a {parts.scheme}: URL" if parts.scheme else "no scheme"))
    if parts.username is not None or parts.password is not None:
        raise EndpointError("the endpoint holds a user name or password (user:pass@host): "
                            "remove them; the key is read from AZURE_OPENAI_API_KEY (or use "
                            "--auth entra), and a gateway's key goes in its query or header")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise EndpointError("refusing plain http to the resource: use https")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if not path.endswith(BASE_PATH):
        raise EndpointError(f"endpoint must end with {BASE_PATH} (the v1 route), got {path!r}")
    endpoint_query(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port, path


def endpoint_query(endpoint: str) -> str:
    """The query of the endpoint as written (``code=...`` for an Azure Functions front,
    ``subscription-key=...`` for API Management), sent with every request upstream. Every
    value but :data:`PUBLIC_QUERY`'s is a secret; one too short to hide is refused."""
    query = urlsplit(endpoint.strip()).query
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        if unquote_plus(name).lower() in PUBLIC_QUERY:
            continue
        if len(unquote_plus(value)) < MIN_SECRET:
            raise EndpointError(
                f"the endpoint's query parameter {unquote_plus(name)[:40]!r} has a value shorter "
                f"than {MIN_SECRET} characters: too short to keep out of reports and cassettes "
                "(query values are treated as secrets); remove it from the URL")
    return query


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
    timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S  # for the whole response, not per read
    max_requests: int | None = None
    interactions: list[Interaction] = field(default_factory=list, repr=False)
    deadline: float | None = None  # time.monotonic() by which the run must be done
    sent: int = 0  # upstream sends, failed or not: what the budget counts
    answers: Answers | None = field(default=None, repr=False)  # the run's, shared
    spending: Spending | None = field(default=None, repr=False)
    reused: int = 0  # requests answered from ``answers``, sending nothing
    refused: list[str] = field(default_factory=list)  # why requests were not sent
    _target: tuple[str, str, int, str] = field(init=False, repr=False)
    _query: str = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _stored: list[tuple[int, Interaction]] = field(default_factory=list, init=False,
                                                   repr=False)
    # The wire server may call respond() for many requests at once: nothing here waits on
    # another request's upstream.
    concurrent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._target = parse_endpoint(self.endpoint)
        self._query = endpoint_query(self.endpoint)

    def __repr__(self) -> str:
        return f"Forward(<the resource>, {len(self.interactions)} exchange(s))"

    def respond(self, request: RecordedRequest) -> Action:
        scheme, host, port, base = self._target
        target = request.target
        if target.startswith(BASE_PATH):
            target = base + target[len(BASE_PATH):]
        if self._query:  # the endpoint's own query first, then the SDK's
            path, _, query = target.partition("?")
            target = f"{path}?{self._query}" + (f"&{query}" if query else "")
        sent_body = self.rewrite(request.path, request.body) if request.body else b""
        key = Answers.key(request.method, target, sent_body)
        known = self.answers.get(key) if self.answers is not None else None
        if known is not None:
            with self._lock:
                self.reused += 1
            status, reason, response_headers, body = known
            return self._answer(request, status, reason, list(response_headers), body)
        with self._lock:
            if self.max_requests is not None and self.sent >= self.max_requests:
                self.refused.append("not sent: the run reached its request budget")
                return _refusal("request_budget", "this run reached its request budget; "
                                "nothing was sent upstream")
            held, why = self.spending.reserve(sent_body) if self.spending else (0, None)
            if why is not None:
                self.refused.append(why)
                return _refusal("token_budget", why)
            self.sent += 1  # counted when sent, whatever then happens to it
        headers = {k: v for k, v in request.headers if k.lower() not in NOT_FORWARDED}
        answered = b""
        content_type: str | None = None
        try:
            headers.update(self.credential())
            status, reason, response_headers, body = self._send(
                scheme, host, port, request.method, target, headers, sent_body)
            try:  # the SDK is answered, and the cassette stores it, without an encoding
                body = decode_body(body, header(response_headers, "content-encoding"))
            except Undecodable as exc:
                raise UpstreamError(f"the upstream's body cannot be decoded: {exc}") from None
            answered = body
            content_type = header(response_headers, "content-type")
        finally:
            if self.spending is not None:
                self.spending.settle(held, sent_body, answered, content_type)
        if 300 <= status < 400:
            location = header(response_headers, "location") or ""
            raise UpstreamError(
                f"the upstream answered {status} redirecting to {self.scrub(location)!r}: "
                "redirects are refused (followed by the SDK they would leave the wire log, "
                "the https rule and the budget)")
        if self.answers is not None:
            self.answers.put(key, (status, reason, list(response_headers), body))
        return self._answer(request, status, reason, response_headers, body)

    def _answer(self, request: RecordedRequest, status: int, reason: str,
                response_headers: list[tuple[str, str]], body: bytes) -> Action:
        """Store the exchange and answer the SDK with it."""
        interaction = self._store(request, status, reason, response_headers, body)
        with self._lock:  # in request order, whichever upstream answer came first
            self._stored.append((request.index, interaction))
            self._stored.sort(key=lambda pair: pair[0])
            self.interactions[:] = [i for _, i in self._stored]
        kept = [(self._scrub_name(k), self._scrub_header(k, v)) for k, v in response_headers
                if k.lower() not in DROPPED_RESPONSE_HEADERS]
        reason = self.scrub(reason)
        body = self.scrub_body(body)
        content_type = header(kept, "content-type")
        if is_event_stream(content_type):
            return Reply(status, kept, chunks=self.chunking.split(body), reason=reason)
        return Reply(status, kept, body, reason=reason)

    def _send(
        self, scheme: str, host: str, port: int, method: str, target: str,
        headers: dict[str, str], body: bytes,
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """One upstream exchange, all of it (connect, TLS, headers, body) within the request
        timeout and the run's deadline; any failure is an :class:`UpstreamError`."""
        started = time.monotonic()
        limit, why = self.timeout_s, f"{self.timeout_s:g} s (the request timeout)"
        if self.deadline is not None and self.deadline - started < limit:
            limit, why = self.deadline - started, "the run's deadline"
        if limit <= 0:
            raise UpstreamError("the run's deadline has passed: the request was not completed")
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=limit, context=ssl.create_default_context())
        else:
            connection = http.client.HTTPConnection(host, port, timeout=limit)
        expired = threading.Event()

        def cut() -> None:  # a peer that drips bytes never trips a per-read timeout
            expired.set()
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(limit, cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            body = response.read(MAX_RESPONSE_BYTES + 1)
            status, reason = response.status, response.reason
            response_headers = [(k, v) for k, v in response.getheaders()]
        except ssl.SSLError as exc:
            if expired.is_set():
                raise UpstreamError(f"the upstream did not answer within {why}") from None
            raise UpstreamError(self.scrub(f"TLS with the upstream failed: {exc}"),
                                type(exc).__name__) from None
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise UpstreamError(
                    f"the upstream did not send its whole response within {why}") from None
            raise UpstreamError(
                self.scrub(f"the upstream connection failed: {type(exc).__name__}: {exc}"),
                type(exc).__name__) from None
        finally:
            watchdog.cancel()
            connection.close()
        if expired.is_set():
            raise UpstreamError(f"the upstream did not send its whole response within {why}")
        if len(body) > MAX_RESPONSE_BYTES:
            raise UpstreamError(f"the upstream response is larger than {MAX_RESPONSE_BYTES:,} "
                                "bytes: refused")
        return status, reason, response_headers, body

    def _scrub_name(self, name: str) -> str:
        """A header name with any secret in it replaced (an upstream may echo the key in a
        name, ``x-k-KEY: 1``), still a valid name: what a placeholder adds that a name cannot
        hold (``<``, ``>``) is dropped."""
        scrubbed = self.scrub(name)
        if scrubbed == name:
            return name
        return _NOT_TOKEN.sub("", scrubbed) or "x-redacted"

    def _scrub_header(self, name: str, value: str) -> str:
        """A header value, scrubbed with its name as context (``x-ms-tenant-id: GUID``)."""
        line = self.scrub(f"{name}: {value}")
        return line.split(": ", 1)[1] if line.startswith(f"{name}: ") else self.scrub(value)

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
                stored_headers.setdefault(self._scrub_name(k).lower(), []).append(
                    self._scrub_header(k, v))
        request_body = self.scrub_body(request.body) if request.body else None
        stored_body: Any = self.scrub_body(body)
        return Interaction(
            Request(request.method, PLACEHOLDER_ORIGIN + request.target, request_body,
                    kept_request),
            {"status": {"code": status, "message": self.scrub(reason)}, "headers": stored_headers,
             "body": {"string": stored_body}},
        )
