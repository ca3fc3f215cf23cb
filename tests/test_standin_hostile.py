"""The stand-in under the wire server's hostile-input tests (the same tests, imported from
test_wire_hardening, run against a stand-in server), and what only the stand-in parses: JSON
bodies, credentials, scenario names, deployment names. Nothing a client sends makes it fault,
write what cannot go on the wire, keep a secret in its log, or listen beyond loopback."""

from __future__ import annotations

import json
import socket

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conformance import paths
from conformance.standin import Library, NotLoopback, Standin, StandinServer, loopback, serving
from conformance.standin.auth import token

from .test_wire_hardening import (  # the wire server's own hostile-input tests
    exchange,
    test_a_chunked_body_over_the_limit_is_413,
    test_a_half_sent_body_is_cut_too,
    test_a_half_sent_request_is_cut_at_the_header_timeout,
    test_a_request_body_over_the_limit_is_413_and_a_fault,
    test_an_invalid_chunk_size_is_400,
    test_an_invalid_content_length_is_400,
    test_an_invalid_request_line_is_400,
)

__all__ = [
    "test_a_chunked_body_over_the_limit_is_413",
    "test_a_half_sent_body_is_cut_too",
    "test_a_half_sent_request_is_cut_at_the_header_timeout",
    "test_a_request_body_over_the_limit_is_413_and_a_fault",
    "test_an_invalid_chunk_size_is_400",
    "test_an_invalid_content_length_is_400",
    "test_an_invalid_request_line_is_400",
]

KEY = "standin-hostile-key-0123456789"


@pytest.fixture(scope="module")
def library():
    return Library(paths.cassette_root())


@pytest.fixture
def server(library):
    """What the imported tests call ``server``: here, a stand-in."""
    with StandinServer(max_request_body=1024, header_timeout_s=0.2) as server:
        server.use(Standin(library, KEY))
        yield server


def test_an_idle_keep_alive_connection_is_not_a_fault(server):
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /openai/v1/models HTTP/1.1\r\nHost: x\r\napi-key: " + KEY.encode()
                     + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    assert server.faults == []


@pytest.fixture
def roomy(library):
    """A stand-in that takes bodies the size of these tests'."""
    with StandinServer(max_request_body=1 << 20, header_timeout_s=5) as server:
        server.use(Standin(library, KEY))
        yield server


def post(server, body: bytes, *headers: bytes, target=b"/openai/v1/chat/completions"):
    head = b"\r\n".join([b"POST " + target + b" HTTP/1.1", b"Host: x", b"Connection: close",
                         b"api-key: " + KEY.encode(), b"Content-Type: application/json",
                         b"Content-Length: " + str(len(body)).encode(), *headers])
    return exchange(server, head + b"\r\n\r\n" + body)


@pytest.mark.parametrize(("body", "status"), [
    (b"[" * 100_000 + b"]" * 100_000, b"400"),  # nesting deeper than the JSON reader recurses
    (b"\xff\xfe{}", b"400"),  # not UTF-8
    (b'{"model": "x", "messages": [], "stream": true', b"400"),  # cut short
    (b'{"model": 7}', b"400"),
    (b'{"model": "scenario-\\u0000--x", "messages": []}', b"404"),
    (b'{"model": "d\\r\\nx-injected: 1", "messages": [{"role": "user", "content": "hi"}]}',
     b"200"),
    (b'{"model": "\\u00e9\\u2603", "messages": [{"role": "user", "content": "hi"}]}', b"200"),
])
def test_hostile_json_is_refused_or_answered_never_a_fault(roomy, body, status):
    server = roomy
    raw = post(server, body)
    assert raw.startswith(b"HTTP/1.1 " + status + b" "), raw[:200]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"x-injected" not in head.lower()
    assert server.faults == []


@pytest.mark.parametrize("header", [
    b"x-aoai-standin-scenario: " + b"\xc3\xa9" * 40,
    b"x-aoai-standin-scenario: " + b"a" * 8000,
    b"Authorization: Bearer " + b"x." * 20000 + b"y",
    b"Authorization: Bearer " + token(expires=1e400).encode(),
    b"x-stainless-retry-count: 99999999999999999999",
])
def test_hostile_headers_are_refused_or_answered_never_a_fault(roomy, header):
    server = roomy
    raw = post(server, b'{"model": "scenario-throttled--x", "messages": []}', header)
    assert raw.startswith((b"HTTP/1.1 2", b"HTTP/1.1 4")), raw[:200]
    assert server.faults == []


def test_a_query_with_too_many_fields_is_refused(roomy):
    server = roomy
    raw = post(server, b'{"model": "x"}', target=b"/openai/v1/chat/completions?" + b"&".join(
        b"a=%d" % n for n in range(500)))
    assert raw.startswith(b"HTTP/1.1 400 ") and server.faults == []


@settings(max_examples=150)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
       path=st.sampled_from(["chat/completions", "responses", "embeddings", "models",
                             "models/x", "x"]),
       query=st.sampled_from(["", "?standin-scenario=throttled", "?standin-scenario=%FF",
                              "?api-key=" + KEY]),
       body=st.one_of(st.binary(max_size=200), st.recursive(
           st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
               st.sampled_from(["model", "stream", "input", "messages", "dimensions",
                                "encoding_format", "tools", "max_tokens", "reasoning"]),
               inner, max_size=5), max_leaves=20).map(lambda v: json.dumps(v).encode())),
       headers=st.lists(st.tuples(
           st.sampled_from(["api-key", "authorization", "x-aoai-standin-scenario",
                            "x-stainless-retry-count", "content-type"]),
           st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)),
           max_size=3))
@example(method="POST", path="embeddings", query="",
         body=b'{"model": "e", "input": ["a"], "dimensions": 1e400}', headers=[])
def test_no_request_makes_the_standin_fault_or_leak_its_key(library, method, path, query,
                                                            body, headers):
    standin = Standin(library, KEY)
    server = StandinServer()
    server.use(standin)
    authorised = [("api-key", KEY)] if not any(k == "api-key" for k, _ in headers) else []
    action = server.dispatch(method, f"/openai/v1/{path}{query}", [*authorised, *headers], body)
    assert server.faults == [], server.faults
    assert getattr(action, "status", 0) < 500 or action.status in (500, 503)
    assert KEY not in repr(standin.requests)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "::1", "example.com", "::", ""])
def test_only_a_loopback_host_is_accepted(host):
    with pytest.raises(NotLoopback):
        loopback(host)
    with pytest.raises(NotLoopback), serving(host=host):
        pass


def test_loopback_hosts_are_accepted():
    assert loopback("localhost") == "127.0.0.1"
    with serving(host="127.0.0.2") as live:
        assert live.base_url.startswith("http://127.0.0.2:")
