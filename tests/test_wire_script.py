"""Scripted faults: the Script responder, the new server actions (cut bodies, stalls) and the
in-process transport, which must make the SDK behave exactly as the socket does."""

from __future__ import annotations

import http.client
import importlib
import json
import select
import socket
import threading

import openai
import pytest

from conformance.clock import virtual_clock
from conformance.sdk import installed
from conformance.suites._faults import COMPLETION, classes_of
from conformance.wire import RecordedRequest, Reply, Reset, Script, Stall, WireServer
from conformance.wire import script as actions
from conformance.wire.inprocess import transport

HTTP = importlib.import_module(installed().http_library)


def request(n: int = 0) -> RecordedRequest:
    return RecordedRequest(n, "POST", "/openai/v1/chat/completions", (), b"{}", 0.0)


@pytest.fixture
def server():
    with WireServer() as server:
        yield server


def test_a_script_plays_its_actions_in_order_then_repeats_the_last():
    first, last = actions.reply(500, {"error": {}}), actions.reply(200, COMPLETION)
    script = Script([first, last])
    assert [script.respond(request(n)) for n in range(4)] == [first, last, last, last]
    assert script.attempts == 4
    assert script.problems() == []


def test_a_script_that_runs_out_answers_exhausted_and_says_so():
    script = Script([actions.reset()], repeat_last=False)
    assert script.respond(request()) == Reset()
    assert script.respond(request(1)) is actions.EXHAUSTED
    assert script.overruns == 1
    assert script.problems() == ["the script has 1 action(s) but received 2 request(s)"]
    assert actions.EXHAUSTED.header("x-should-retry") == "false"


def test_a_script_needs_an_action():
    with pytest.raises(ValueError, match="at least one action"):
        Script([])


def test_reply_builder_encodes_json_and_keeps_given_content_types():
    built = actions.reply(429, {"error": {"code": "429"}}, headers=[("retry-after", "2")])
    assert built.status == 429
    assert json.loads(built.body) == {"error": {"code": "429"}}
    assert built.header("content-type") == "application/json"
    assert built.header("retry-after") == "2"
    html = actions.reply(502, "<html/>", content_type="text/html",
                         headers=[("Content-Type", "text/html; charset=utf-8")])
    assert [v for k, v in html.headers if k.lower() == "content-type"] == [
        "text/html; charset=utf-8"]
    assert actions.reply(503).headers == ()


def test_event_stream_sends_one_event_per_chunk_and_raw_bytes_as_given():
    built = actions.event_stream([{"a": 1}, "data: [DONE]\n\n", b"data: {broken\n\n"],
                                 reset_after=2)
    assert built.chunks == [b'data: {"a":1}\n\n', b"data: [DONE]\n\n", b"data: {broken\n\n"]
    assert built.reset_after_chunks == 2
    assert built.header("content-type") == "text/event-stream"


def test_cut_refuses_a_chunked_reply():
    with pytest.raises(ValueError, match="reset_mid_body"):
        actions.cut(actions.event_stream([{"a": 1}]), after_bytes=3)


def test_cut_sends_fewer_bytes_than_the_content_length_then_closes(server):
    server.use(Script([actions.cut(actions.reply(200, b"0123456789"), after_bytes=4)]))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/openai/v1/models")
    response = conn.getresponse()
    assert response.getheader("content-length") == "10"
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert cut.value.partial == b"0123"
    conn.close()


def test_reset_mid_body_sends_the_first_chunks_then_resets(server):
    server.use(Script([actions.reset_mid_body(actions.reply(200, b"a" * 40), after_chunks=2,
                                              chunk_size=16)]))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/openai/v1/models")
    response = conn.getresponse()
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
        response.read()
    conn.close()


class Signalling:
    """Stalls, and says when it has been asked (so the test waits on the server, not a clock)."""

    def __init__(self) -> None:
        self.asked = threading.Event()

    def respond(self, request: RecordedRequest) -> Stall:
        self.asked.set()
        return Stall(60)


def test_a_stall_sends_nothing_until_the_responder_changes(server):
    responder = Signalling()
    server.use(responder)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /openai/v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        assert responder.asked.wait(5)
        readable, _, _ = select.select([sock], [], [], 0)
        assert readable == []  # the stall sent nothing
        server.use(Script([actions.reply(200)]))  # lets the stalled connection go: a reset
        try:
            data = sock.recv(1024)
        except ConnectionResetError:
            data = b""
        assert data == b""
    assert isinstance(server.exchanges, list)


def test_dispatch_logs_without_a_socket():
    server = WireServer()  # never started
    server.use(Script([actions.reply(204)]))
    action = server.dispatch("DELETE", "/openai/v1/files/f?x=1", [("a", "b")], b"")
    assert action == Reply(204)
    (exchange,) = server.exchanges
    assert exchange.request.describe() == "DELETE /openai/v1/files/f?x=1"
    assert exchange.request.header("A") == "b"


def chat(client):
    return client.chat.completions.create(model="gpt-4o",
                                          messages=[{"role": "user", "content": "x"}])


def outcome(server: WireServer, client) -> tuple[tuple[str, ...], int, list[str | None]]:
    try:
        chat(client)
        error = None
    except Exception as exc:
        error = exc
    return (classes_of(error), len(server.exchanges),
            [e.request.header("x-stainless-retry-count") for e in server.exchanges])


COMPLETION_REPLY = actions.reply(200, COMPLETION)
FAULTS = {
    "reset": [actions.reset()],
    "reset mid-body": [actions.reset_mid_body(COMPLETION_REPLY, after_chunks=1)],
    "cut": [actions.cut(COMPLETION_REPLY, after_bytes=10)],
    "500 then success": [actions.reply(500, {"error": {"message": "x"}}), COMPLETION_REPLY],
    "malformed success": [actions.malformed_json(200)],
    "stream reset": [actions.event_stream([{"a": 1}], reset_after=0)],
}


@pytest.mark.parametrize("name", FAULTS)
def test_in_process_actions_match_the_socket(server, name):
    with virtual_clock():
        server.use(Script(FAULTS[name]))
        over_socket = outcome(server, openai.OpenAI(api_key="k", base_url=server.base_url))
        server.use(Script(FAULTS[name]))
        in_process = outcome(server, openai.OpenAI(
            api_key="k", base_url=server.base_url,
            http_client=openai.DefaultHttpxClient(transport=transport(server.dispatch, HTTP))))
    assert in_process == over_socket


def test_an_in_process_stall_is_an_sdk_timeout_without_waiting():
    server = WireServer()
    server.use(Script([actions.stall(3600)]))
    client = openai.OpenAI(api_key="k", base_url="http://wire.invalid/openai/v1/",
                           http_client=openai.DefaultHttpxClient(
                               transport=transport(server.dispatch, HTTP)))
    with virtual_clock() as clock, pytest.raises(openai.APITimeoutError) as raised:
        chat(client)
    assert isinstance(raised.value.__cause__, HTTP.ReadTimeout)
    assert len(server.exchanges) == 3
    assert len(clock.delays) == 2


@pytest.mark.skipif(installed().http_library != "httpx2", reason="respx via httpcore2")
def test_the_in_process_stall_matches_a_timeout_raised_inside_httpcore2():
    """respx with pytest-httpx2's httpcore2 mocker raises the timeout below httpx2's own
    exception mapping, where a real socket timeout starts (ecosystem §b); the SDK must end the
    same way as with the in-process stall."""
    import httpcore2
    import pytest_httpx2  # noqa: F401  # registers the "httpcore2" respx mocker
    import respx

    with virtual_clock() as clock, respx.mock(using="httpcore2",
                                              assert_all_called=True) as router:
        route = router.post("http://wire.invalid/openai/v1/chat/completions").mock(
            side_effect=httpcore2.ReadTimeout("read timed out"))
        client = openai.OpenAI(api_key="k", base_url="http://wire.invalid/openai/v1/")
        with pytest.raises(openai.APITimeoutError) as raised:
            chat(client)
    assert type(raised.value.__cause__).__module__.startswith("httpx2")
    assert route.call_count == 3
    assert [c.request.headers["x-stainless-retry-count"] for c in route.calls] == ["0", "1", "2"]
    assert len(clock.delays) == 2
