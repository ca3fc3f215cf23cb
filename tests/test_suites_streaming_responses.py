"""The Responses streaming checks hold under any chunking, and fail when the server or the SDK
misbehaves."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict

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


def test_a_sequence_number_gap_fails(suite):
    def gap(payloads):
        for payload in payloads[5:]:
            payload["sequence_number"] += 1

    edit_stream(suite, EVENTS, gap, renumber=False)
    run = suite.run("streaming.responses-event-contract")
    assert run.verdict("streaming.responses-event-contract") is Verdict.FAIL
    assert "responses-stream.sequence" in run.message("streaming.responses-event-contract")


def test_two_terminal_events_fail(suite):
    edit_stream(suite, EVENTS, lambda payloads: payloads.append(dict(payloads[-1])))
    run = suite.run("streaming.responses-event-contract")
    assert run.verdict("streaming.responses-event-contract") is Verdict.FAIL
    assert "responses-stream.terminal" in run.message("streaming.responses-event-contract")


def test_a_done_text_that_is_not_its_deltas_fails(suite):
    def change(payloads):
        payloads[find(payloads, "response.output_text.done")]["text"] = "Paris."

    edit_stream(suite, EVENTS, change)
    run = suite.run("streaming.responses-event-contract")
    assert "responses-stream.delta-text" in run.message("streaming.responses-event-contract")


def test_an_sdk_that_drops_events_fails(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: event.type != "response.in_progress")
    run = suite.run("streaming.responses-event-contract")
    assert run.verdict("streaming.responses-event-contract") is Verdict.FAIL
    assert "yielded 339 events for 340" in run.message("streaming.responses-event-contract")


def test_an_sdk_that_loses_text_deltas_fails_the_sample(suite, monkeypatch):
    seen = []

    def every_other_delta(event):  # the first, third, ... are lost
        if event.type != "response.output_text.delta":
            return True
        seen.append(event)
        return len(seen) % 2 == 0

    filter_stream(monkeypatch, every_other_delta)
    run = suite.run("streaming.responses-sample-handling")
    assert run.verdict("streaming.responses-sample-handling") is Verdict.FAIL
    assert "not the final answer" in run.message("streaming.responses-sample-handling")


def test_a_stream_without_a_reasoning_item_fails_the_sample(suite):
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
    run = suite.run("streaming.responses-sample-handling")
    assert run.verdict("streaming.responses-sample-handling") is Verdict.FAIL
    assert "no reasoning item" in run.message("streaming.responses-sample-handling")


def test_an_sdk_that_drops_unknown_events_fails(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: not event.type.startswith(
        ("response.reasoning_summary.", "response.conformance_unknown.")))
    run = suite.run("streaming.responses-unknown-events")
    assert run.verdict("streaming.responses-unknown-events") is Verdict.FAIL


def test_an_sdk_that_mangles_unknown_events_fails(suite, monkeypatch):
    def mangle(data):
        if isinstance(data, dict) and data.get("type") == "response.conformance_unknown.event":
            data.pop("note")
        return data

    rewrite_sse_json(monkeypatch, mangle)
    run = suite.run("streaming.responses-unknown-events")
    assert run.verdict("streaming.responses-unknown-events") is Verdict.FAIL
    assert "changed or dropped note" in run.message("streaming.responses-unknown-events")


def test_an_sdk_that_raises_on_an_error_event_fails(suite, monkeypatch):
    def nest(data):
        if isinstance(data, dict) and data.get("type") == "error":
            return {**data, "error": {"message": data["message"]}}
        return data

    rewrite_sse_json(monkeypatch, nest)
    run = suite.run("streaming.responses-error-event")
    assert run.verdict("streaming.responses-error-event") is Verdict.FAIL
    assert "python raised APIError" in run.message("streaming.responses-error-event")


def test_an_sdk_that_swallows_the_error_event_fails(suite, monkeypatch):
    filter_stream(monkeypatch, lambda event: event.type != "error")
    run = suite.run("streaming.responses-error-event")
    assert run.verdict("streaming.responses-error-event") is Verdict.FAIL


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


def test_an_sdk_that_does_not_raise_for_an_error_payload_fails(suite, monkeypatch):
    rewrite_sse_json(monkeypatch, lambda data: {k: v for k, v in data.items() if k != "error"})
    run = suite.run("streaming.responses-error-payload")
    assert run.verdict("streaming.responses-error-payload") is Verdict.FAIL
    assert "raised nothing" in run.message("streaming.responses-error-payload")


def test_a_stream_without_the_error_payload_fails(suite):
    edit_stream(suite, "streaming/responses-error-payload.yaml", lambda payloads: payloads[:-1])
    run = suite.run("streaming.responses-error-payload")
    assert run.verdict("streaming.responses-error-payload") is Verdict.FAIL


def test_a_failed_response_without_an_error_fails(suite):
    edit_stream(suite, "streaming/responses-failed.yaml",
                lambda payloads: payloads[-1]["response"].update(error=None))
    run = suite.run("streaming.responses-failed")
    assert run.verdict("streaming.responses-failed") is Verdict.FAIL
    assert "responses.error" in run.message("streaming.responses-failed")


def test_an_sdk_that_raises_on_response_failed_fails(suite, monkeypatch):
    def hoist(data):
        if isinstance(data, dict) and data.get("type") == "response.failed":
            return {**data, "error": data["response"]["error"]}
        return data

    rewrite_sse_json(monkeypatch, hoist)
    run = suite.run("streaming.responses-failed")
    assert run.verdict("streaming.responses-failed") is Verdict.FAIL
    assert "python raised APIError" in run.message("streaming.responses-failed")
