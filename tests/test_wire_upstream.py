"""Forwarding to an upstream the suite does not control: concurrent, deadline-bound, no
redirects, every send counted, and every upstream failure a wire fault (an ``error``)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance.wire import RecordedRequest, Reply, WireServer
from conformance.wire.proxy import Answers, Forward

KEY = {"api-key": "upstream-key-0123456789"}


@pytest.fixture
def upstream():
    with WireServer() as server:
        yield server


def front(forward: Forward) -> WireServer:
    server = WireServer().start()
    server.use(forward)
    return server


def post(server: WireServer, path="/openai/v1/chat/completions") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("POST", path, body=b"{}", headers={"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Together:
    """Answers only when ``parties`` requests are inside it at the same time: if forwarding
    were serialised, the first would wait for the others forever (the barrier breaks)."""

    concurrent = True

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()

    def respond(self, request: RecordedRequest):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return Reply(503, body=b"serialised")
        with self.lock:
            self.inside -= 1
        return Reply(200, [("content-type", "application/json")], b'{"ok":true}')


def test_eight_requests_are_forwarded_at_once(upstream):
    together = Together(8)
    upstream.use(together)
    forward = Forward(upstream.base_url, lambda: KEY)
    server = front(forward)
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: post(server), range(8)))
    finally:
        server.stop()
    assert [status for status, _ in results] == [200] * 8
    assert together.most == 8
    assert forward.sent == 8 and len(forward.interactions) == 8
    assert [e.request.index for e in server.exchanges] == list(range(8))


def test_a_redirect_is_refused_never_followed(upstream):
    with WireServer() as elsewhere:
        elsewhere.use(Together(1))
        location = f"{elsewhere.base_url}chat/completions"
        upstream.use(type("Redirect", (), {"respond": lambda self, r: Reply(
            307, [("location", location)], b"")})())
        forward = Forward(upstream.base_url, lambda: KEY)
        server = front(forward)
        try:
            status, body = post(server)
        finally:
            server.stop()
        assert elsewhere.requests == []
    assert status == 500 and b"wire_fault" in body
    (fault,) = server.faults
    assert f"the upstream answered 307 redirecting to '{location}'" in fault.message
    assert forward.sent == 1 and forward.interactions == []


def test_a_tls_failure_is_a_fault_and_counted(upstream):
    upstream.use(Together(1))
    forward = Forward(f"https://127.0.0.1:{upstream.port}/openai/v1/", lambda: KEY)
    server = front(forward)
    try:
        status, _ = post(server)
    finally:
        server.stop()
    assert status == 500
    (fault,) = server.faults
    assert fault.message.startswith("TLS with the upstream failed: ")
    assert forward.sent == 1 and forward.interactions == []


def _dripping_upstream(stop: threading.Event) -> tuple[socket.socket, threading.Thread]:
    """Sends headers promising 1000 bytes, then one byte at a time until ``stop``: each read
    gets data, so only a deadline for the whole response ends it."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):  # the forwarder hangs up: done
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            while not stop.wait(0.01):
                conn.sendall(b"x")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_an_upstream_that_drips_is_cut_at_the_request_timeout():
    stop = threading.Event()
    listener, thread = _dripping_upstream(stop)
    port = listener.getsockname()[1]
    forward = Forward(f"http://127.0.0.1:{port}/openai/v1/", lambda: KEY, timeout_s=0.3)
    server = front(forward)
    try:
        status, _ = post(server)
    finally:
        stop.set()
        server.stop()
        listener.close()
        thread.join(5)
    assert status == 500
    (fault,) = server.faults
    assert fault.message == ("the upstream did not send its whole response within 0.3 s "
                             "(the request timeout)")
    assert forward.sent == 1


def test_nothing_is_sent_after_the_run_deadline(upstream):
    together = Together(1)
    upstream.use(together)
    forward = Forward(upstream.base_url, lambda: KEY, deadline=time.monotonic() - 1)
    server = front(forward)
    try:
        status, _ = post(server)
    finally:
        server.stop()
    assert status == 500
    assert "the run's deadline has passed" in server.faults[0].message
    assert upstream.requests == []


def test_the_budget_counts_failed_sends(upstream):
    forward = Forward(f"https://127.0.0.1:{upstream.port}/openai/v1/", lambda: KEY,
                      max_requests=1)
    server = front(forward)
    try:
        first, _ = post(server)
        second, body = post(server)
    finally:
        server.stop()
    assert (first, second) == (500, 400) and b"request_budget" in body
    assert forward.sent == 1


class Counting:
    """Answers each request with ``status`` and counts them."""

    concurrent = True

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.count = 0

    def respond(self, request: RecordedRequest):
        self.count += 1
        return Reply(self.status, [("content-type", "application/json")],
                     b'{"n":%d}' % self.count)


@pytest.mark.parametrize(("status", "sends"), [(200, 1), (429, 2)])
def test_an_identical_request_is_answered_once_per_run(upstream, status, sends):
    """A success is reused by later forwarders of the run (other checks, other SDKs); an
    error is not: the next identical request goes upstream again."""
    counting = Counting(status)
    upstream.use(counting)
    answers = Answers()
    seen = []
    for _ in range(2):  # two checks, each with its own forwarder
        forward = Forward(upstream.base_url, lambda: KEY, answers=answers)
        server = front(forward)
        try:
            seen.append(post(server))
        finally:
            server.stop()
    assert counting.count == sends
    assert (seen[0] == seen[1]) is (sends == 1)


class Holding:
    """A :class:`Spending` that allows ``limit`` bytes of request bodies."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.settled: list[tuple[int, bytes]] = []

    def reserve(self, body):
        return (len(body), None) if len(body) <= self.limit else (0, "not sent: too dear")

    def settle(self, held, body, answer, content_type):
        self.settled.append((held, answer))


def test_a_request_spending_refuses_is_not_sent(upstream):
    counting = Counting()
    upstream.use(counting)
    spending = Holding(limit=1)
    forward = Forward(upstream.base_url, lambda: KEY, spending=spending)
    server = front(forward)
    try:
        status, body = post(server)
    finally:
        server.stop()
    assert (status, counting.count, forward.sent) == (400, 0, 0)
    assert b"token_budget" in body and forward.refused == ["not sent: too dear"]
    spending.limit = 10
    server = front(forward)
    try:
        status, body = post(server)
    finally:
        server.stop()
    assert (status, counting.count, spending.settled) == (200, 1, [(2, body)])
