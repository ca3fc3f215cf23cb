"""The loopback server: framing, keep-alive, resets and the exchange log."""

from __future__ import annotations

import http.client
import socket

import pytest

from conformance.wire import RecordedRequest, Reply, Reset, WireServer


class Fixed:
    def __init__(self, *actions):
        self.actions = list(actions)

    def respond(self, request: RecordedRequest):
        return self.actions.pop(0)


_open: list[http.client.HTTPConnection] = []


@pytest.fixture
def server():
    with WireServer() as server:
        yield server
        while _open:
            _open.pop().close()


def connect(server: WireServer) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    _open.append(conn)
    return conn


def test_listens_on_loopback_with_an_ephemeral_port(server):
    assert server.host == "127.0.0.1"
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/openai/v1/"


def test_logs_method_target_headers_body_and_arrival(server):
    server.use(Fixed(Reply(200, [("content-type", "application/json")], b"{}")))
    conn = connect(server)
    conn.request("POST", "/openai/v1/chat/completions?x=1", body=b'{"a":1}',
                 headers={"Content-Type": "application/json", "X-Stainless-Lang": "python"})
    assert conn.getresponse().read() == b"{}"
    (request,) = server.requests
    assert (request.method, request.path, request.query) == ("POST",
                                                             "/openai/v1/chat/completions", "x=1")
    assert request.header("x-stainless-lang") == "python"
    assert request.json() == {"a": 1}
    assert request.arrived > 0


def test_keeps_the_connection_alive_across_requests(server):
    server.use(Fixed(Reply(200, body=b"one"), Reply(200, body=b"two")))
    conn = connect(server)
    conn.request("GET", "/openai/v1/models")
    first = conn.getresponse()
    assert first.read() == b"one"
    sock = conn.sock
    conn.request("GET", "/openai/v1/models")
    assert conn.getresponse().read() == b"two"
    assert conn.sock is sock  # same socket: HTTP/1.1 keep-alive


def test_disables_nagle_on_accepted_connections(server):
    seen = []

    class Probe:
        def respond(self, request):
            return Reply(200, body=b"ok")

    server.use(Probe())
    import conformance.wire.server as module

    original = module._Handler.setup

    def setup(handler):
        original(handler)
        seen.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    module._Handler.setup = setup
    try:
        conn = connect(server)
        conn.request("GET", "/")
        conn.getresponse().read()
    finally:
        module._Handler.setup = original
    assert seen and seen[0] != 0


def test_chunks_are_sent_one_by_one_with_chunked_encoding(server):
    server.use(Fixed(Reply(200, [("content-type", "text/event-stream"),
                                 ("content-length", "999")],
                           chunks=[b"data: 1\n\n", b"data: 2\n\n"])))
    sock = socket.create_connection((server.host, server.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = b""
    while not raw.endswith(b"0\r\n\r\n"):
        raw += sock.recv(65536)
    sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert b"999" not in head  # the recorded framing header is replaced, not forwarded
    assert body == b"9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"


def test_reset_before_headers(server):
    server.use(Fixed(Reset()))
    conn = connect(server)
    conn.request("GET", "/")
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.getresponse()
    assert len(server.exchanges) == 1


def test_reset_mid_stream(server):
    server.use(Fixed(Reply(200, [("content-type", "text/event-stream")],
                           chunks=[b"data: 1\n\n", b"data: 2\n\n"], reset_after_chunks=1)))
    conn = connect(server)
    conn.request("GET", "/")
    response = conn.getresponse()
    with pytest.raises((ConnectionError, http.client.IncompleteRead)):
        response.read()


def test_a_broken_responder_answers_500_without_retry(server):
    class Broken:
        def respond(self, request):
            raise RuntimeError("boom")

    server.use(Broken())
    conn = connect(server)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 500
    assert response.getheader("x-should-retry") == "false"
    assert b"boom" in response.read()


def test_use_starts_a_fresh_log(server):
    server.use(Fixed(Reply(200)))
    conn = connect(server)
    conn.request("GET", "/")
    conn.getresponse().read()
    server.use(Fixed())
    assert server.exchanges == []
