"""Doctored cassettes: check-cassettes reports each defect, replay turns it into an ``error``
naming the cassette, the interaction and the defect, and nothing raw reaches the socket."""

from __future__ import annotations

import gzip
import json
import socket

import pytest
import yaml

from conformance.cli import main
from conformance.registry import Verdict
from conformance.wire import (
    Cassette,
    CassetteDefect,
    Replay,
    Reply,
    WireServer,
    make_interaction,
    safe_yaml,
)

CASSETTE = "chat/completion.yaml"
CHECK = "chat.response-contract"


def doctor(path, change):
    """Edit the raw YAML data of a cassette (what a pull request can do), bypassing every
    object this project builds."""
    data = safe_yaml.load_file(path)
    change(data["interactions"][0]["response"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def _header(name, value):
    return lambda response: response["headers"].update({name: [value]})


def _status(code):
    return lambda response: response["status"].update(code=code)


def _body(raw, encoding="gzip"):
    def change(response):
        response["headers"]["content-encoding"] = [encoding]
        response["body"]["string"] = raw

    return change


DEFECTS = {
    "crlf-in-header-value": (_header("x-note", "a\r\nInjected: 1"), "cassette.header",
                             "holds CR, LF or another control character"),
    "nul-in-header-value": (_header("x-note", "a\x00b"), "cassette.header", "control character"),
    "bad-header-name": (_header("bad name:", "1"), "cassette.header", "is not an HTTP token"),
    "non-latin-1-header": (_header("x-note", "snow \u2603"), "cassette.header",
                           "is not latin-1 text"),
    "crlf-in-reason": (lambda r: r["status"].update(message="OK\r\nInjected: 1"),
                       "cassette.header", "the reason phrase"),
    "status-99": (_status(99), "cassette.status", "99 is not an HTTP status"),
    "status-600": (_status(600), "cassette.status", "600 is not an HTTP status"),
    "status-text": (_status("200"), "cassette.status", "not an integer"),
    "headers-a-list": (lambda r: r.update(headers=["a"]), "cassette.structure",
                       "response.headers is a list"),
    "status-missing": (lambda r: r.pop("status"), "cassette.structure", "response.status is "
                       "missing"),
    "fake-gzip": (_body(b"not gzip at all"), "cassette.undecodable-body",
                  "does not decompress as gzip"),
    "gzip-bomb": (_body(gzip.compress(b"{" + b" " * (17 * 1024 * 1024))),
                  "cassette.undecodable-body", "decompresses to more than 16,777,216 bytes"),
}


@pytest.mark.parametrize("name", DEFECTS)
def test_check_cassettes_reports_the_defect(tmp_path, capsys, suite, name):
    change, rule, text = DEFECTS[name]
    path = suite.cassettes / CASSETTE
    doctor(path, change)
    code = main(["check-cassettes", str(path)])
    out, err = capsys.readouterr()
    assert code == 1, out + err  # every cassette.* defect is a violation (undecodable too)
    assert out.count(f" {rule} ") == 1 and ", 1 violation(s)," in err, out + err
    assert f"{path}:0 {rule} " in out and text in out, out
    assert "Traceback" not in err
    with pytest.raises(CassetteDefect, match="interaction 0: ") as refused:
        Cassette.load(path)
    assert text in str(refused.value)


@pytest.mark.parametrize("name", ["crlf-in-header-value", "status-600", "fake-gzip",
                                  "non-latin-1-header"])
def test_replay_of_a_defective_cassette_is_an_error_naming_it(suite, name):
    change, rule, text = DEFECTS[name]
    path = suite.cassettes / CASSETTE
    doctor(path, change)
    run = suite.run(CHECK)
    assert run.verdict(CHECK) is Verdict.ERROR
    message = run.message(CHECK)
    assert "completion.yaml cannot be replayed: interaction 0: " in message
    assert text in message and rule in message


def test_a_real_gzip_body_passes_check_cassettes_and_the_run(suite, capsys):
    path = suite.cassettes / CASSETTE
    plain = Cassette.load(path).interactions[0].body
    doctor(path, _body(gzip.compress(plain)))
    assert main(["check-cassettes", str(path)]) == 0
    run = suite.run(CHECK, "chat.azure-filter-results")
    assert run.verdict(CHECK) is Verdict.PASS, run.message(CHECK)
    assert run.verdict("chat.azure-filter-results") is Verdict.PASS


def test_violates_cannot_excuse_a_defect(suite, capsys):
    path = suite.cassettes / CASSETTE
    doctor(path, _status(600))
    data = safe_yaml.load_file(path)
    data["metadata"]["violates"] = ["cassette.status"]
    path.write_text(yaml.safe_dump(data))
    assert main(["check-cassettes", str(path)]) == 1
    assert f"{path}:0 cassette.status " in capsys.readouterr().out


# -- the server itself, behind the validator -------------------------------------------------


def _raw_exchange(server: WireServer) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                     b"Connection: close\r\n\r\n{}")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, [("x-note", "a\r\nInjected: 1")], b"{}"),
        Reply(200, [("bad name", "1")], b"{}"),
        Reply(200, [("x-note", "\u2603")], b"{}"),
        Reply(200, [], b"{}", reason="OK\r\nInjected: 1"),
        Reply(600, [], b"{}"),
    ],
    ids=["crlf-value", "bad-name", "non-latin-1", "crlf-reason", "status-600"],
)
def test_the_server_never_writes_what_cannot_go_on_the_wire(reply):
    class Fixed:
        def respond(self, request):
            return reply

    with WireServer() as server:
        server.use(Fixed())
        raw = _raw_exchange(server)
    assert raw.startswith(b"HTTP/1.1 500 ")
    assert b"Injected" not in raw.split(b"\r\n\r\n")[0]
    (fault,) = server.faults
    assert fault.request == 0 and fault.message.startswith("refused to write the reply: ")


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"status": 99}, "refused to write the reply: status 99 is not an HTTP status"),
        ({"status": 600}, "refused to write the reply: status 600 is not an HTTP status"),
        ({"response_headers": {"x-note": "\u2603"}},
         "refused to write the reply: the header 'x-note' '\u2603' is not latin-1 text"),
        ({"response_headers": {"content-encoding": "gzip"}, "body": b"not gzip"},
         "the responder raised Undecodable: the body does not decompress as gzip"),
    ],
    ids=["status-99", "status-600", "non-latin-1", "fake-gzip"],
)
def test_a_miss_caused_by_an_unsendable_reply_says_so(change, cause):
    # Built in memory, so the validator never saw it: the server is the last line.
    interaction = make_interaction(**{"method": "POST", "request_json": {}, "body": b"{}",
                                      "uri": "https://h/openai/v1/chat/completions", **change})
    replay = Replay(Cassette(None, [interaction]))  # type: ignore[arg-type]
    with WireServer() as server:
        server.use(replay)
        first, second = _raw_exchange(server), _raw_exchange(server)
    assert first.startswith(b"HTTP/1.1 500 ") and second.startswith(b"HTTP/1.1 400 ")
    (miss,) = replay.misses
    assert ("because: it matches interaction 0, already played to request #0, which the wire "
            f"server could not send: {cause}") in miss.describe()


@pytest.mark.parametrize(
    ("broken", "cause"),
    [
        (MemoryError(), "the wire server ran out of memory"),
        (ValueError("the body does not decompress as gzip"),
         "the responder raised ValueError: the body does not decompress as gzip"),
    ],
)
def test_a_harness_failure_is_an_error_never_the_sdks_fail(suite, monkeypatch, broken, cause):
    def reply(self, interaction):
        raise broken

    monkeypatch.setattr(Replay, "reply", reply)
    run = suite.run(CHECK)
    assert run.verdict(CHECK) is Verdict.ERROR
    message = run.message(CHECK)
    assert message.startswith(f"the wire server failed (not the SDK): request #0: {cause}")
    assert "the SDK raised" not in message


def test_an_unsendable_reply_in_a_run_is_an_error(suite, monkeypatch):
    original = Replay.reply

    def reply(self, interaction):
        sent = original(self, interaction)
        return Reply(sent.status, [*sent.headers, ("x-note", "a\r\nInjected: 1")], sent.body)

    monkeypatch.setattr(Replay, "reply", reply)
    run = suite.run(CHECK)
    assert run.verdict(CHECK) is Verdict.ERROR
    assert "refused to write the reply: the header 'x-note'" in run.message(CHECK)


def test_a_json_body_under_a_gzip_header_is_served_decoded():
    body = json.dumps({"ok": True}).encode()
    interaction = make_interaction(method="POST", uri="https://h/openai/v1/x", request_json={},
                                   response_headers={"content-encoding": "gzip"}, body=body)
    reply = Replay(Cassette(None, [interaction])).reply(interaction)  # type: ignore[arg-type]
    assert reply.body == body and reply.header("content-encoding") is None
