"""The Responses streaming checks hold under any chunking, and fail when the server or the SDK
misbehaves."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk
from .responses_support import edit_stream, filter_stream, find, rewrite_sse_json

EVENTS = "streaming/responses-events.yaml"
IDS = (
    "streaming.responses-event-contract",
    "streaming.responses-sample-handling",
    "streaming.responses-unknown-events",
    "streaming.responses-error-event",
    "streaming.responses-error-payload",
    "streaming.responses-failed",
)


@pytest.mark.parametrize("chunking", ["event", "whole", "fixed:1", "random:1", "random:7",
                                      "random:2026"])
def test_all_pass_under_any_chunking(suite, chunking):
    run = suite.run(*IDS, args=(f"--sse-chunking={chunking}",))
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(IDS, Verdict.PASS)


def sequence_number_gap(suite, monkeypatch):
    def gap(payloads):
        for payload in payloads[5:]:
            payload["sequence_number"] += 1

    edit_stream(suite, EVENTS, gap, renumber=False)


def two_terminal_events(suite, monkeypatch):
    edit_stream(suite, EVENTS, lambda payloads: payloads.append(dict(payloads[-1])))


def done_text_that_is_not_its_deltas(suite, monkeypatch):
    def change(payloads):
        payloads[find(payloads, "response.output_text.done")]["text"] = "Paris."

    edit_stream(suite, EVENTS, change)


@broken_sdk
def sdk_drops_in_progress_events(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: event.type != "response.in_progress")


@broken_sdk
def sdk_loses_text_deltas(suite, monkeypatch):
    seen = []

    def every_other_delta(event):  # the first, third, ... are lost
        if event.type != "response.output_text.delta":
            return True
        seen.append(event)
        return len(seen) % 2 == 0

    filter_stream(monkeypatch, every_other_delta)


def stream_without_a_reasoning_item(suite, monkeypatch):
    def drop_reasoning(payloads):
        kept = [p for p in payloads if p.get("output_index") != 0
                and p["type"] != "response.completed"]
        for payload in kept:
            if "output_index" in payload:
                payload["output_index"] -= 1
        completed = payloads[-1]
        completed["response"]["output"] = completed["response"]["output"][1:]
        return [*kept, completed]

    edit_stream(suite, EVENTS, drop_reasoning)


@broken_sdk
def sdk_drops_unknown_events(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: not event.type.startswith(
        ("response.reasoning_summary.", "response.conformance_unknown.")))


@broken_sdk
def sdk_mangles_unknown_events(suite, monkeypatch):
    def mangle(data):
        if isinstance(data, dict) and data.get("type") == "response.conformance_unknown.event":
            data.pop("note")
        return data

    rewrite_sse_json(monkeypatch, mangle)


@broken_sdk
def sdk_raises_on_an_error_event(suite, monkeypatch):
    def nest(data):
        if isinstance(data, dict) and data.get("type") == "error":
            return {**data, "error": {"message": data["message"]}}
        return data

    rewrite_sse_json(monkeypatch, nest)


@broken_sdk
def sdk_swallows_the_error_event(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: event.type != "error")


def test_the_error_event_below_1_98_is_unsupported(suite, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.97.0" if name == "openai" else real(name))
    run = suite.run("streaming.responses-error-event", "streaming.responses-event-contract")
    # probed: this SDK yields the error event as 1.97.2 does, whatever it calls itself
    assert run.verdict("streaming.responses-error-event") is Verdict.PASS
    assert run.verdict("streaming.responses-event-contract") is Verdict.PASS
    # a release that swallows it (as 1.97.x misread it) is observed, then unsupported
    filter_stream(monkeypatch, lambda event: event.type != "error")
    run = suite.run("streaming.responses-error-event")
    assert run.verdict("streaming.responses-error-event") is Verdict.UNSUPPORTED
    assert "1.97.2" in run.message("streaming.responses-error-event")
    observed = run.result("streaming.responses-error-event").observations
    assert observed["last_event"]["type"] != "error" and "error" in observed


@broken_sdk
def sdk_does_not_raise_for_an_error_payload(suite, monkeypatch):
    rewrite_sse_json(monkeypatch, lambda data: {k: v for k, v in data.items() if k != "error"})


def stream_without_the_error_payload(suite, monkeypatch):
    edit_stream(suite, "streaming/responses-error-payload.yaml", lambda payloads: payloads[:-1])


def failed_response_without_an_error(suite, monkeypatch):
    edit_stream(suite, "streaming/responses-failed.yaml",
                lambda payloads: payloads[-1]["response"].update(error=None))


@broken_sdk
def sdk_raises_on_response_failed(suite, monkeypatch):
    def hoist(data):
        if isinstance(data, dict) and data.get("type") == "response.failed":
            return {**data, "error": data["response"]["error"]}
        return data

    rewrite_sse_json(monkeypatch, hoist)


CONTRACT, SAMPLE, UNKNOWN, ERROR_EVENT, ERROR_PAYLOAD, FAILED = IDS

CAUGHT = [
    (sequence_number_gap, CONTRACT, "python", "responses-stream.sequence"),
    (two_terminal_events, CONTRACT, "python", "responses-stream.terminal"),
    (done_text_that_is_not_its_deltas, CONTRACT, "python", "responses-stream.delta-text"),
    (sdk_drops_in_progress_events, CONTRACT, "python", "yielded 339 events for 340"),
    (sdk_loses_text_deltas, SAMPLE, "python", "not the final answer"),
    (stream_without_a_reasoning_item, SAMPLE, "python", "no reasoning item"),
    (sdk_drops_unknown_events, UNKNOWN, "python", ""),
    (sdk_mangles_unknown_events, UNKNOWN, "python", "changed or dropped note"),
    (sdk_raises_on_an_error_event, ERROR_EVENT, "python", "python raised APIError"),
    (sdk_swallows_the_error_event, ERROR_EVENT, "python", ""),
    (sdk_does_not_raise_for_an_error_payload, ERROR_PAYLOAD, "python", "raised nothing"),
    (stream_without_the_error_payload, ERROR_PAYLOAD, "python", ""),
    (failed_response_without_an_error, FAILED, "python", "responses.error"),
    (sdk_raises_on_response_failed, FAILED, "python", "python raised APIError"),
]
test_caught = caught(CAUGHT)
