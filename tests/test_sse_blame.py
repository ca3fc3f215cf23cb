"""The harness reads event streams as the SDKs do (wire/sse, WHATWG), so it blames precisely:

- a stream whose last event lacks its closing blank line is a stream without that event, for
  every SDK and for the harness alike: the chat check passes, and the Responses check blames
  the stream (it lacks its terminal event), not the SDK, which yielded every event sent;
- a cassette whose event stream is not UTF-8, or whose chat or responses events hold data that
  is not JSON (``[DONE]`` aside), is refused when loaded for replay: an ``error`` naming the
  cassette on every SDK, never a ``fail``; ``check-cassettes`` reports the same defect.

Tests that start a real driver (node, go, java) are marked ``drivers``; python runs in process.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.cli import main
from conformance.registry import Verdict
from conformance.wire import Cassette, Interaction, make_interaction, validation

from .conftest import Suite
from .failures import caught

CHAT = ("streaming.chat-doc-loop-text", "streaming/chat-buffered.yaml")
RESPONSES = ("streaming.responses-sample-handling", "streaming/responses-events.yaml")
SDKS = ("python", "javascript", "go", "java")
PARAMS = [pytest.param(sdk, marks=() if sdk == "python" else pytest.mark.drivers)
          for sdk in SDKS]


def _run(suite: Suite, sdk: str) -> Any:
    run = suite.run(CHAT[0], RESPONSES[0], args=(f"--conformance-sdk={sdk}",))
    results = [c for c in run.results.checks if c.sdk == sdk]
    if sdk != "python" and results and all(c.verdict is Verdict.SKIPPED for c in results):
        pytest.skip(f"{sdk} driver unavailable: {results[0].message}")
    return run


def unfinished(interactions: list[Interaction]) -> None:
    """The stream ends right after its last JSON event's data line: no blank line closes it
    (a chat stream's [DONE] is cut first, so the unfinished event is a chunk)."""
    body = interactions[0].body.removesuffix(b"data: [DONE]\n\n")
    assert body.endswith(b"}\n\n")
    interactions[0].body = body[:-1]


def not_utf8(interactions: list[Interaction]) -> None:
    body = interactions[0].body
    interactions[0].body = body.replace(b'"', b'"\xff', 1)  # inside the first event's JSON


def not_json(interactions: list[Interaction]) -> None:
    interactions[0].body = interactions[0].body.replace(b"data: {", b"data: {{", 1)


def unfinished_last_event(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chat and the Responses stream each end without their last event's blank line."""
    for _, cassette in (CHAT, RESPONSES):
        suite.edit(cassette, unfinished)


# The Responses stream lost its terminal event: the check blames the stream, on every SDK.
CAUGHT = [(unfinished_last_event, RESPONSES[0], sdk, "responses-stream.terminal")
          for sdk in SDKS]
test_caught = caught(CAUGHT)


@pytest.mark.parametrize("sdk", PARAMS)
def test_an_unfinished_last_event_is_dropped_by_the_sdks_and_the_harness(
        suite: Suite, monkeypatch: pytest.MonkeyPatch, sdk):
    """The Responses check's fail is a CAUGHT row; here, the same stream: the chat check
    passes, and each stream lost its last JSON event while the SDK yielded what was sent."""
    unfinished_last_event(suite, monkeypatch)
    run = _run(suite, sdk)
    assert run.verdict(CHAT[0], sdk) is Verdict.PASS, run.message(CHAT[0], sdk)
    [chat] = [c for c in run.results.checks if c.id == CHAT[0] and c.sdk == sdk]
    assert chat.observations["chunks"]["sent"] == chat.observations["chunks"]["yielded"] > 0
    [result] = [c for c in run.results.checks if c.id == RESPONSES[0] and c.sdk == sdk]
    assert result.observations["event_types"] == result.observations["wire_event_types"]
    assert result.observations["event_types"][-1] != "response.completed"


@pytest.mark.parametrize("sdk", PARAMS)
@pytest.mark.parametrize(("defect", "said"), [
    (not_utf8, "cassette.undecodable-body"),
    (not_json, "cassette.event-data"),
])
def test_a_stream_the_sdks_cannot_read_is_an_error_naming_the_cassette(suite: Suite, sdk,
                                                                        defect, said):
    for _, cassette in (CHAT, RESPONSES):
        suite.edit(cassette, defect)
    run = _run(suite, sdk)
    for check, cassette in (CHAT, RESPONSES):
        assert run.verdict(check, sdk) is Verdict.ERROR, run.message(check, sdk)
        message = run.message(check, sdk)
        assert f"{cassette} cannot be replayed: interaction 0: " in message, message
        assert said in message and "the SDK raised" not in message, message


@pytest.mark.parametrize(("defect", "rule", "text", "code"), [
    # one rule, one count: an undecodable body is a counted cassette.* violation (exit 1)
    (not_utf8, "cassette.undecodable-body",
     "the event stream is not UTF-8: event 0 is not UTF-8 (byte ", 1),
    (not_json, "cassette.event-data", "event 0's data '{{", 1),
])
def test_check_cassettes_reports_the_same_defect(suite: Suite, capsys, defect, rule, text, code):
    for _, cassette in (CHAT, RESPONSES):
        suite.edit(cassette, defect)
        path = suite.cassettes / cassette
        assert main(["check-cassettes", str(path)]) == code
        out = capsys.readouterr().out
        assert f"{path}:0 {rule} {text}" in out, out
        # and nothing else: the contract's own rules never see a refused interaction
        assert "chat-stream.json" not in out and "responses-stream.event " not in out


def _stream(uri: str, body: bytes, status: int = 200, method: str = "POST") -> Any:
    interaction = make_interaction(method=method, uri=uri, request_json={"stream": True},
                                   status=status, body=body,
                                   response_headers={"content-type": "text/event-stream"})
    return {"request": {"method": interaction.request.method, "uri": interaction.request.uri,
                        "body": interaction.request.body, "headers": {}},
            "response": interaction.response}


@pytest.mark.parametrize(("uri", "body", "status", "method", "defects"), [
    # [DONE] ends a chat stream and is tolerated last in a Responses stream
    ("https://h/openai/v1/chat/completions", b"data: {}\n\ndata: [DONE]\n\n", 200, "POST", []),
    ("https://h/openai/v1/responses", b"data: {}\n\ndata: [DONE]\n\n", 200, "POST", []),
    # a resumed background stream is read as JSON too
    ("https://h/openai/v1/responses/resp_1?stream=true", b"data: nope\n\n", 200, "GET",
     [validation.EVENT_DATA]),
    ("https://h/openai/v1/chat/completions", b"data: nope\n\n", 200, "POST",
     [validation.EVENT_DATA]),
    # an unfinished last event is no event: no SDK reads it
    ("https://h/openai/v1/chat/completions", b"data: {}\n\ndata: {", 200, "POST", []),
    # other routes and error statuses are not read as JSON events
    ("https://h/other/stream", b"data: nope\n\n", 200, "POST", []),
    ("https://h/openai/v1/chat/completions", b"data: nope\n\n", 500, "POST", []),
    # but every event stream must be UTF-8
    ("https://h/other/stream", b"data: \xff\n\n", 200, "POST", [validation.UNDECODABLE]),
])
def test_which_event_streams_are_defects(uri, body, status, method, defects):
    found = validation.interaction_defects(0, _stream(uri, body, status, method))
    assert [d.kind for d in found] == defects, found


def test_a_packaged_cassette_still_loads(suite: Suite):
    for _, cassette in (CHAT, RESPONSES):
        assert Cassette.load(suite.cassettes / cassette).interactions
