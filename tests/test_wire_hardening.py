"""The wire server against a raw socket: bounded request bodies, a deadline for half-sent
requests, a 400 for what cannot be parsed; harness limits are recorded as faults."""

from __future__ import annotations

import socket

import pytest

from conformance.wire import RecordedRequest, Reply, WireServer


class Ok:
    def respond(self, request: RecordedRequest):
        return Reply(200, [("content-type", "application/json")], b"{}")


@pytest.fixture
def server():
    with WireServer(max_request_body=1024, header_timeout_s=0.2) as server:
        server.use(Ok())
        yield server


def exchange(server: WireServer, raw: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_request_body_over_the_limit_is_413_and_a_fault(server):
    raw = exchange(server, b"POST /openai/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000"
                           b"\r\n\r\n" + b"{" * 2000)
    assert raw.startswith(b"HTTP/1.1 413 ")
    assert server.requests == []
    (fault,) = server.faults
    assert "more than 1,024" in fault.message


def test_a_chunked_body_over_the_limit_is_413(server):
    raw = exchange(server, b"POST /openai/v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                           b"\r\n\r\n800\r\n" + b"x" * 2048 + b"\r\n0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 413 ")


@pytest.mark.parametrize("length", [b"abc", b"-5", b"1e3", b"10, 20", b" "])
def test_an_invalid_content_length_is_400(server, length):
    raw = exchange(server, b"POST /openai/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: " + length
                   + b"\r\n\r\n{}")
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:80]
    assert server.requests == []


def test_an_invalid_chunk_size_is_400(server):
    raw = exchange(server, b"POST /openai/v1/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                           b"\r\n\r\nzz\r\n")
    assert raw.startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET /x HTTP/x.y\r\n\r\n",
                                  b"GET\x00 / HTTP/1.1\r\n\r\n", b"GET /a\x01b HTTP/1.1\r\n\r\n",
                                  b"GET / HTTP/1.1 extra\r\n\r\n"])
def test_an_invalid_request_line_is_400(server, line):
    assert exchange(server, line).startswith(b"HTTP/1.1 400 ")
    assert server.requests == []


def test_a_half_sent_request_is_cut_at_the_header_timeout(server):
    # Headers never finished: the server must hang up on its own (recv returns b"").
    raw = exchange(server, b"POST /openai/v1/x HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
    assert raw == b""
    (fault,) = server.faults
    assert fault.message.startswith("a request did not arrive whole within 0.2 s")


def test_a_half_sent_body_is_cut_too(server):
    raw = exchange(server, b"POST /openai/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100"
                           b"\r\n\r\n{")
    assert raw == b""
    assert server.requests == []
    assert server.faults


def test_an_idle_keep_alive_connection_is_not_a_fault(server):
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /openai/v1/x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    assert server.faults == []
