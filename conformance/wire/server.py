"""The loopback HTTP/1.1 server that every SDK under test is pointed at.

The server knows nothing about OpenAI: for each request it asks its current
:class:`Responder` for an action (a reply, possibly streamed in chunks or cut short, a
connection reset, or a stall), performs it, and logs the exchange. Checks assert on that log.
:meth:`WireServer.dispatch` is the same decision and log without a socket, for in-process
transports (:mod:`conformance.wire.inprocess`).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from vcr.request import Request as VcrRequest

BASE_PATH = "/openai/v1/"


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server received it."""

    index: int
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    arrived: float  # time.monotonic() when the request line was read

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def header_names(self) -> list[str]:
        return [k.lower() for k, _ in self.headers]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def as_vcr(self, origin: str = "http://127.0.0.1") -> VcrRequest:
        headers: dict[str, list[str]] = {}
        for k, v in self.headers:
            headers.setdefault(k, []).append(v)
        return VcrRequest(self.method, origin + self.target, self.body or None, headers)

    def describe(self) -> str:
        return f"{self.method} {self.target}"


@dataclass(frozen=True)
class Reply:
    """An HTTP response. With ``chunks`` the body is sent with chunked transfer-encoding,
    one HTTP chunk per item, flushed one by one; otherwise ``body`` with a Content-Length.
    ``reset_after_chunks`` resets the connection after that many chunks (a mid-stream fault).
    ``cut_after`` (for a body sent with a Content-Length) sends only that many body bytes and
    then closes the connection: the length promised the whole body, the peer hung up early.
    """

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    chunks: Sequence[bytes] | None = None
    reset_after_chunks: int | None = None
    reason: str = ""
    cut_after: int | None = None

    @property
    def streamed(self) -> bytes:
        return b"".join(self.chunks) if self.chunks is not None else self.body

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


@dataclass(frozen=True)
class Reset:
    """Reset the connection (TCP RST) before any byte of a response is sent."""


@dataclass(frozen=True)
class Stall:
    """Send nothing for ``seconds``, then reset: a client whose read timeout is shorter times
    out. The server lets go of a stalled connection early when its responder changes or it
    stops, so a stall never outlives the check that asked for it. In-process transports do
    not wait at all: they raise the HTTP library's read timeout at once."""

    seconds: float = 30.0


Action = Reply | Reset | Stall


class Responder(Protocol):
    def respond(self, request: RecordedRequest) -> Action: ...


@dataclass(frozen=True)
class Exchange:
    request: RecordedRequest
    action: Action


class _NoResponder:
    def respond(self, request: RecordedRequest) -> Action:
        return Reply(
            500,
            [("content-type", "application/json"), ("x-should-retry", "false")],
            b'{"error":{"code":"no_responder","message":"the wire server has no responder"}}',
        )


# Framing headers describe the recorded transfer, not this one; the server sets its own.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every small write waits ~40 ms for a delayed ACK
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        """Silence the stdlib's stderr access log; the exchange log is the record."""

    def _serve(self) -> None:
        arrived = time.monotonic()
        body = self._read_body()
        released = self.server.wire._released  # the responder's, taken before it answers
        action = self.server.wire._dispatch(self.command, self.path, self.headers.items(), body,
                                           arrived)
        if isinstance(action, Reset):
            self._reset()
            return
        if isinstance(action, Stall):
            released.wait(action.seconds)
            self._reset()
            return
        self._send(action)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status, reply.reason or None)
        for name, value in reply.headers:
            if name.lower() not in _FRAMING:
                self.send_header(name, value)
        if reply.chunks is None:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body[: reply.cut_after])
            self.wfile.flush()
            if reply.cut_after is not None and reply.cut_after < len(reply.body):
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_WR)  # FIN: the body ends early
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for n, chunk in enumerate(reply.chunks):
            if reply.reset_after_chunks is not None and n >= reply.reset_after_chunks:
                self._reset()
                return
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        if reply.reset_after_chunks is not None and reply.reset_after_chunks <= len(reply.chunks):
            self._reset()
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, OSError):
            # The client went away (or we reset it on purpose): end this connection quietly.
            self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    wire: WireServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Errors in a handler are recorded as exchanges; do not print tracebacks."""


@dataclass
class WireServer:
    """A loopback server on 127.0.0.1, port 0, with keep-alive and TCP_NODELAY.

    Use it as a context manager. ``use(responder)`` installs a responder and starts a fresh
    exchange log, so one server can serve many checks.
    """

    host: str = "127.0.0.1"
    exchanges: list[Exchange] = field(default_factory=list)
    _responder: Responder = field(default_factory=_NoResponder)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    _httpd: _HTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> WireServer:
        httpd = _HTTPServer((self.host, 0), _Handler)
        httpd.wire = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"wire-server:{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the wire server is not running")
        return int(self._httpd.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The URL the SDK is given: the v1 route, as on ``RESOURCE.openai.azure.com``."""
        return self.origin + BASE_PATH

    def use(self, responder: Responder) -> None:
        with self._lock:
            self._responder = responder
            self.exchanges = []
            self._released.set()  # stalls of the previous responder end now
            self._released = threading.Event()

    @contextmanager
    def serving(self, responder: Responder) -> Iterator[WireServer]:
        self.use(responder)
        try:
            yield self
        finally:
            self.use(_NoResponder())

    @property
    def requests(self) -> list[RecordedRequest]:
        return [e.request for e in self.exchanges]

    def dispatch(
        self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> Action:
        """Log a request that did not come through the socket and return the responder's
        action for it; an in-process transport performs the action itself. The server need
        not be running."""
        return self._dispatch(method, target, headers, body, time.monotonic())

    def _dispatch(
        self, method: str, target: str, headers: Any, body: bytes, arrived: float
    ) -> Action:
        with self._lock:
            request = RecordedRequest(
                len(self.exchanges), method, target, tuple(headers), body, arrived
            )
            try:
                action = self._responder.respond(request)
            except Exception as exc:  # a broken responder must not hang the client
                action = Reply(
                    500,
                    [("content-type", "application/json"), ("x-should-retry", "false")],
                    json.dumps(
                        {"error": {"code": "responder_error", "message": repr(exc)}}
                    ).encode(),
                )
            self.exchanges.append(Exchange(request, action))
            return action
