"""The loopback HTTP/1.1 server that every SDK under test is pointed at.

The server knows nothing about OpenAI: for each request it asks its current
:class:`Responder` for an action (a reply, possibly streamed in chunks or cut short, a
connection reset, or a stall), performs it, and logs the exchange. Checks assert on that log.
:meth:`WireServer.dispatch` is the same decision and log without a socket, for in-process
transports (:mod:`conformance.wire.inprocess`).
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from vcr.request import Request as VcrRequest

from .http import BASE_PATH, JSON, NOT_RETRIED, header, header_names


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
        return header(self.headers, name)

    def header_names(self) -> list[str]:
        return header_names(self.headers)

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
        return header(self.headers, name)


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


class WireFault(Exception):
    """A failure on the harness side of the wire (a defective cassette, an upstream that
    failed or redirected, a resource limit). A responder raises it; the server records it as a
    :class:`ServerFault` and the check that was running is an ``error``, never the SDK's
    ``fail``."""


@dataclass(frozen=True)
class ServerFault:
    """What went wrong on the server's side while serving request ``request`` (None: before
    a request could be logged, such as a malformed request line)."""

    request: int | None
    message: str

    def describe(self) -> str:
        where = "" if self.request is None else f"request #{self.request}: "
        return f"{where}{self.message}"


MAX_REQUEST_BODY = 32 * 1024 * 1024  # a base64 image of ~20 MB fits
HEADER_TIMEOUT_S = 10.0  # from a request's first byte to the end of its headers and body


def refusal(status: int, code: str, message: str, *, marker: str | None = None,
            **fields: object) -> Reply:
    """An answer the harness gives instead of the service's (a replay miss, a script run out,
    a wire fault, a stand-in usage error): a JSON error envelope, ``x-should-retry: false`` so
    no SDK retries it, and ``x-aoai-conformance: marker`` when given."""
    headers = [("content-type", JSON), NOT_RETRIED]
    if marker:
        headers.append(("x-aoai-conformance", marker))
    body = {"error": {"code": code, "message": message, **fields}}
    return Reply(status, headers, json.dumps(body).encode())


class _NoResponder:
    def respond(self, request: RecordedRequest) -> Action:
        return refusal(500, "no_responder", "the wire server has no responder")


# Framing headers describe the recorded transfer, not this one; the server sets its own.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every small write waits ~40 ms for a delayed ACK
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        """Silence the stdlib's stderr access log; the exchange log is the record."""

    # Without a parsable version the stdlib would answer an unparsable request line the
    # HTTP/0.9 way: a bare body, no status line.
    default_request_version = "HTTP/1.1"
    _watchdog: threading.Timer | None = None

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if not _TOKEN.fullmatch(self.command) or _CONTROL.search(self.path):
            self.close_connection = True
            self.send_error(400, "invalid request line")
            return False
        return True

    def _serve(self) -> None:
        arrived = time.monotonic()
        wire = self.server.wire
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self._stop_watchdog()
            if exc.status == 413:  # the harness's limit, not the client's mistake
                wire._fault(None, f"a request ({self.command} {self.path[:100]}) was refused "
                            f"with 413: {exc}")
            self.close_connection = True
            self.send_error(exc.status, str(exc))
            return
        if self._stop_watchdog():
            self.close_connection = True
            return  # the fault is recorded by handle_one_request
        released = wire._released  # the responder's, taken before it answers
        action = wire._dispatch(self.command, self.path, self.headers.items(), body, arrived)
        if isinstance(action, Reset):
            self._reset()
            return
        if isinstance(action, Stall):
            released.wait(action.seconds)
            self._reset()
            return
        try:
            self._send(action)
        except MemoryError:
            wire._fault(None, f"the wire server ran out of memory answering {self.command} "
                        f"{self.path[:100]}")
            self._reset()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        limit = self.server.wire.max_request_body
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024).split(b";")[0].strip()
                if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", line):
                    raise _BadRequest(400, "invalid chunk size")
                size = int(line, 16)
                total += size
                if total > limit:
                    raise _BadRequest(413, f"request body larger than {limit:,} bytes")
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        lengths = self.headers.get_all("content-length") or []
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]{1,19}", lengths[0].strip()):
            raise _BadRequest(400, "invalid Content-Length")
        length = int(lengths[0])
        if length > limit:
            raise _BadRequest(413, f"request body of {length:,} bytes, more than {limit:,}")
        return self.rfile.read(length) if length else b""

    def handle_one_request(self) -> None:
        # A request's first byte starts the clock: the rest of its line, headers and body
        # must follow within the header timeout (a slowloris client cannot hold a thread).
        # An idle keep-alive connection waits without one.
        try:
            if not cast(io.BufferedReader, self.rfile).peek(1):  # wait for a first byte
                self.close_connection = True
                return
            self._watchdog = threading.Timer(self.server.wire.header_timeout_s, self._cut)
            self._watchdog.daemon = True
            self._watchdog.start()
            try:
                super().handle_one_request()
            finally:
                if self._stop_watchdog():
                    self.close_connection = True
        except (ConnectionError, OSError, ValueError):
            # The client went away (or we reset it on purpose): end this connection quietly.
            self.close_connection = True

    _timed_out = False

    def _cut(self) -> None:
        self._timed_out = True
        # Recorded before the peer can see the connection end.
        self.server.wire._fault(None, "a request did not arrive whole within "
                                f"{self.server.wire.header_timeout_s:g} s of its first byte: "
                                "connection closed")
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _stop_watchdog(self) -> bool:
        """Stop the header timeout; True when it had already fired."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        return self._timed_out

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
    max_request_body: int = MAX_REQUEST_BODY
    header_timeout_s: float = HEADER_TIMEOUT_S
    exchanges: list[Exchange] = field(default_factory=list)
    # The server's own failures while the current responder served: each makes the check an
    # error (see :class:`WireFault`).
    faults: list[ServerFault] = field(default_factory=list)
    _count: int = 0
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
            self.faults = []
            self._count = 0
            self._released.set()  # stalls of the previous responder end now
            self._released = threading.Event()

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
            responder, log = self._responder, self.exchanges
            request = RecordedRequest(self._count, method, target, tuple(headers), body, arrived)
            self._count += 1
            if not getattr(responder, "concurrent", False):
                # One request at a time, in arrival order (replay and scripts keep state).
                action = self._respond(responder, request)
                log.append(Exchange(request, action))
                return action
        # A responder that says it is concurrent (forwarding) answers many requests at once.
        action = self._respond(responder, request)
        with self._lock:
            bisect.insort(log, Exchange(request, action), key=lambda e: e.request.index)
        return action

    def _respond(self, responder: Responder, request: RecordedRequest) -> Action:
        try:
            action = responder.respond(request)
        except WireFault as exc:
            return self._refuse(responder, request, str(exc))
        except MemoryError:
            return self._refuse(responder, request, "the wire server ran out of memory")
        except Exception as exc:  # a broken responder must not hang the client
            return self._refuse(responder, request,
                                f"the responder raised {type(exc).__name__}: {exc}")
        problem = unsendable(action) if isinstance(action, Reply) else None
        if problem is not None:
            return self._refuse(responder, request, f"refused to write the reply: {problem}")
        return action

    def _refuse(self, responder: Responder, request: RecordedRequest, message: str) -> Reply:
        """Record a fault and answer with a 500 the SDK does not retry."""
        self._fault(request.index, message)
        failed = getattr(responder, "failed", None)
        if callable(failed):
            failed(request, message)
        return refusal(500, "wire_fault", message[:2000], marker="wire-fault")

    def _fault(self, request: int | None, message: str) -> None:
        self.faults.append(ServerFault(request, message))  # atomic; may be called under the lock


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def unsendable(reply: Reply) -> str | None:
    """Why ``reply`` cannot be written on the wire as it is, or None. Defence in depth: the
    server never writes CR, LF or other control characters into a status line or header."""
    if isinstance(reply.status, bool) or not isinstance(reply.status, int) or not (
        100 <= reply.status <= 599
    ):
        return f"status {reply.status!r} is not an HTTP status (100-599)"
    for what, text in [("reason phrase", reply.reason)] + [
        (f"header {name!r}", value) for name, value in reply.headers
    ]:
        if not isinstance(text, str) or _CONTROL.search(text):
            return f"the {what} {str(text)[:60]!r} holds CR, LF or another control character"
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            return f"the {what} {text[:60]!r} is not latin-1 text"
    for name, _ in reply.headers:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            return f"the header name {str(name)[:60]!r} is not an HTTP token"
    return None
