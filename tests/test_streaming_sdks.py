"""The streaming claims on every SDK (issue 19): each check of streaming.py, streaming_hostile.py,
streaming_responses.py and ``streaming.async-doc-loop-text`` runs on python, javascript, go and
java, keeps its verdict on the packaged cassettes (the truthful departures listed in
``PACKAGED``), and fails on every SDK against a misbehaving server (``CAUGHT``, a failure table:
one run per SDK with every cassette broken at once, each check failing with its own phrase).

The Python-only depth (release capabilities, SDK mutants) stays in tests/test_suites_streaming*.py.
Tests that start a real driver (node, go, java) are marked ``drivers``; python runs in process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conformance.registry import ALL_SDKS, REGISTRY, Verdict
from conformance.suites import (
    async_client,
    streaming,
    streaming_hostile,
    streaming_responses,
)
from conformance.wire import split_events

from .conftest import Suite
from .failures import caught
from .responses_support import edit_stream

MODULES = (streaming, streaming_hostile, streaming_responses)
CHECKS = sorted([c for c, e in REGISTRY.items() if e.function.__module__ in
                 {m.__name__ for m in MODULES}] + ["streaming.async-doc-loop-text"])
SDKS = ("python", "javascript", "go", "java")
PARAMS = [pytest.param(sdk, marks=() if sdk == "python" else pytest.mark.drivers)
          for sdk in SDKS]

# What each SDK's pinned release gives on the packaged cassettes, where it is not a pass.
PACKAGED: dict[tuple[str, str], tuple[Verdict, str]] = {
    # openai-go has no async client.
    ("streaming.async-doc-loop-text", "go"): (Verdict.UNSUPPORTED, "no async client"),
    # openai-go's SSE reader ends lines at LF only: a CR-only stream has no event for it.
    ("streaming.chat-cr-lines", "go"): (Verdict.FAIL, "go's loop printed ''"),
    # openai-java's typed delta() throws on Azure's annotation chunks (no delta): the doc's loop
    # and the ChatCompletionAccumulator sample both read it.
    ("streaming.chat-async-filter", "java"): (Verdict.FAIL, "`delta` is not set"),
    ("streaming.chat-async-filter-blocked", "java"): (Verdict.FAIL, "`delta` is not set"),
    ("streaming.chat-async-filter-helper", "java"): (Verdict.FAIL, "`delta` is not set"),
    ("streaming.chat-helper-blocked", "java"): (Verdict.FAIL, "`delta` is not set"),
}

INJECTED = {"error": {"message": "injected by a misbehaving server", "code": "conformance"}}


def inject_error(interactions: list[Any]) -> None:
    """The server puts an error payload first in the stream: every SDK raises its stream
    error before any text."""
    event = b"data: " + json.dumps(INJECTED).encode() + b"\n\n"
    interactions[0].body = event + interactions[0].body


def inject_error_second(interactions: list[Any]) -> None:
    """The error payload after the first event (a reader that keeps a leading BOM loses the
    first event, openai-python among them)."""
    body = interactions[0].body
    end = body.index(b"\n\n") + 2
    event = b"data: " + json.dumps(INJECTED).encode() + b"\n\n"
    interactions[0].body = body[:end] + event + body[end:]


def repeat_name(interactions: list[Any]) -> None:
    """The second fragment of tool call 0 repeats the function name."""
    events = split_events(interactions[0].body)
    for n, event in enumerate(events):
        if not event.startswith(b"data: {"):
            continue
        chunk = json.loads(event.decode().removeprefix("data: "))
        calls = ((chunk.get("choices") or [{}])[0].get("delta") or {}).get("tool_calls") or []
        if calls and not (calls[0].get("function") or {}).get("name"):
            calls[0].setdefault("function", {})["name"] = "repeated"
            events[n] = b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"
            break
    interactions[0].body = b"".join(events)


def drop_error_key(interactions: list[Any]) -> None:
    """The server's error event loses its error key: nothing to raise for."""
    events = split_events(interactions[0].body)
    for n, event in enumerate(events):
        text = event.decode()
        data = next((line[6:] for line in text.splitlines() if line.startswith("data: ")), "")
        if data.startswith("{") and '"error"' in data:
            payload = json.loads(data)
            payload.pop("error", None)
            events[n] = text.replace(data, json.dumps(payload)).encode()
    interactions[0].body = b"".join(events)


def sequence_gap(payloads: list[dict[str, Any]]) -> None:
    for payload in payloads[5:]:
        payload["sequence_number"] += 1


def drop_error_event(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in payloads if p.get("type") != "error"]


def failed_without_error(payloads: list[dict[str, Any]]) -> None:
    payloads[-1]["response"]["error"] = None


CASSETTE_EDITS: dict[str, Callable[[list[Any]], None]] = {
    streaming.BUFFERED: inject_error,
    streaming.ASYNC_FILTER: inject_error,
    streaming.BLOCKED: inject_error,
    streaming.TOOL_CALLS: repeat_name,
    streaming.HELPER_TOOL_CALLS: repeat_name,
    streaming_hostile.SEPARATORS: inject_error,
    streaming_hostile.CRLF: inject_error,
    streaming_hostile.CR: inject_error,
    streaming_hostile.BOM_COMMENTS: inject_error_second,
    streaming_hostile.ERROR_PAYLOAD: drop_error_key,
    "streaming/responses-error-payload.yaml": drop_error_key,
}
STREAM_EDITS: dict[str, tuple[Callable[[list[dict[str, Any]]], Any], bool]] = {
    "streaming/responses-events.yaml": (sequence_gap, False),
    "streaming/responses-unknown-events.yaml": (sequence_gap, False),
    "streaming/responses-error-event.yaml": (drop_error_event, True),
    "streaming/responses-failed.yaml": (failed_without_error, True),
}

# (check, phrase in its fail message on every SDK; "{sdk}" is the SDK's name). "{sdk} raised": the
# SDK raised its stream error for the injected payload.
PHRASES: list[tuple[str, str]] = [
    ("streaming.chat-sse-framing", "{sdk} raised"),
    ("streaming.chat-azure-chunk-order", "{sdk} raised"),
    ("streaming.chat-usage-chunk", "{sdk} raised"),
    ("streaming.chat-doc-loop-text", "{sdk} raised"),
    ("streaming.chat-helper-text", "{sdk} raised"),
    ("streaming.async-doc-loop-text", "{sdk} raised"),
    ("streaming.chat-async-filter", "{sdk} raised"),
    ("streaming.chat-async-filter-helper", "{sdk} raised"),
    ("streaming.chat-async-filter-blocked", "{sdk} raised"),
    ("streaming.chat-helper-blocked", "{sdk} raised"),
    ("streaming.chat-tool-call-deltas", "chat-stream.tool-call-fragment"),
    ("streaming.chat-helper-tool-calls", "chat-stream.tool-call-fragment"),
    ("streaming.chat-line-separators", "{sdk} raised"),
    ("streaming.chat-crlf-lines", "{sdk} raised"),
    ("streaming.chat-cr-lines", "{sdk} raised"),
    ("streaming.chat-bom-comments", "{sdk} raised"),
    ("streaming.chat-split-characters", "instead of"),
    ("streaming.chat-error-payload", "raised nothing"),
    ("streaming.responses-event-contract", "responses-stream.sequence"),
    ("streaming.responses-sample-handling", "responses-stream.sequence"),
    ("streaming.responses-unknown-events", "responses-stream.sequence"),
    ("streaming.responses-error-event", "breaks the contract"),
    ("streaming.responses-error-payload", "raised nothing"),
    ("streaming.responses-failed", "responses.error"),
]
# Where an SDK's fail says it otherwise: openai-java raises on the event left without its error
# key (`choices` is not set), so the check finds no error key on the wire to raise for.
OTHER_PHRASES = {
    ("streaming.chat-error-payload", "java"): "no event on the wire has an error key",
}


def _run(suite: Suite, sdk: str) -> Any:
    run = suite.run(*CHECKS, args=(f"--conformance-sdk={sdk}",))
    results = [c for c in run.results.checks if c.sdk == sdk]
    if sdk != "python" and results and all(c.verdict is Verdict.SKIPPED for c in results):
        pytest.skip(f"{sdk} driver unavailable: {results[0].message}")
    return run


def misbehaving_server(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, change in CASSETTE_EDITS.items():
        suite.edit(name, change)
    for name, (edit, renumber) in STREAM_EDITS.items():
        edit_stream(suite, name, edit, renumber=renumber)
    # The split-character server streams other text than the check's (" no" for " ok").
    original = streaming_hostile.split_stream
    monkeypatch.setattr(streaming_hostile, "split_stream",
                        lambda: original().replace(b'" ok"', b'" no"'))


# Every check on every SDK, against the one misbehaving server; where the SDK lacks the API
# (PACKAGED's unsupported: openai-go's async client), the same run shows it unsupported.
CAUGHT = [
    (misbehaving_server, check_id, sdk,
     OTHER_PHRASES.get((check_id, sdk), phrase.format(sdk=sdk)))
    for sdk in SDKS
    for check_id, phrase in PHRASES
    if PACKAGED.get((check_id, sdk), (Verdict.FAIL, ""))[0] is not Verdict.UNSUPPORTED
]
LACKING = [(misbehaving_server, check_id, sdk, reason)
           for (check_id, sdk), (verdict, reason) in PACKAGED.items()
           if verdict is Verdict.UNSUPPORTED]
test_caught = caught(CAUGHT, lacking=LACKING)


def test_every_streaming_claim_is_one_check_on_every_sdk():
    assert len(CHECKS) == 24
    assert {check for check, _ in PHRASES} == set(CHECKS)
    for check_id in CHECKS:
        assert REGISTRY[check_id].sdks == ALL_SDKS, check_id
    assert async_client.async_doc_loop_text.__name__ == "async_doc_loop_text"


@pytest.mark.parametrize("sdk", PARAMS)
def test_each_sdk_on_the_packaged_cassettes(suite: Suite, sdk: str):
    run = _run(suite, sdk)
    verdicts = {c.id: c.verdict for c in run.results.checks if c.sdk == sdk}
    expected = {c: PACKAGED.get((c, sdk), (Verdict.PASS, ""))[0] for c in CHECKS}
    assert verdicts == expected, run.outcome.stdout.str()
    for (check_id, which), (_, said) in PACKAGED.items():
        if which == sdk:
            assert said in run.message(check_id, sdk), run.message(check_id, sdk)
