"""The Responses stream contract: the reference streams pass; every rule fires on a violation;
what the contract must tolerate (unknown events, obfuscation, framing variants) passes."""

from __future__ import annotations

import json

import pytest

from conformance.contract import RULES
from conformance.contract.responses_stream import payloads, validate_responses_stream
from conformance.wire import parse_events

from .responses_support import find, sse_body, sse_payloads

STREAMS = ["responses-stream.azure.sse", "responses-mcp-stream.sse"]


@pytest.fixture
def stream(reference):
    return _stream(reference)


def _stream(reference):
    return sse_payloads((reference / "responses-stream.azure.sse").read_bytes())


def as_events(items, renumber=True):
    return [(e.name, e.data) for e in parse_events(sse_body(items, renumber=renumber))]


def rules(items, renumber=True):
    return {v.rule for v in validate_responses_stream(as_events(items, renumber))}


@pytest.mark.parametrize("name", STREAMS)
def test_reference_streams_pass(reference, name):
    events = [(e.name, e.data) for e in parse_events((reference / name).read_bytes())]
    assert validate_responses_stream(events) == []
    assert len(payloads(events)) == len(events)


def test_obfuscation_unknown_events_and_framing_variants_are_tolerated(stream):
    for payload in stream:
        if "obfuscation" in payload:
            payload["obfuscation"] = "" if payload["sequence_number"] % 2 else "x" * 40
    stream[4:4] = [{"type": "response.reasoning_summary.delta", "sequence_number": 0,
                    "output_index": 0, "summary_index": 0, "delta": "?"},
                   {"type": "response.some_future.event", "sequence_number": 0}]
    unnamed = [(None, data) for _, data in as_events(stream)]  # no `event:` lines
    assert validate_responses_stream(unnamed) == []
    assert validate_responses_stream([*as_events(stream), (None, "[DONE]")]) == []


def test_error_and_failed_terminals_pass(stream):
    cut = stream[: find(stream, "response.output_text.delta") + 1]
    error = {"type": "error", "sequence_number": 0, "code": None, "message": "boom",
             "param": None}
    assert rules([*cut, error]) == set()
    failed = {"type": "response.failed", "sequence_number": 0,
              "response": {**stream[0]["response"], "status": "failed",
                           "error": {"code": "server_error", "message": "boom"}}}
    assert rules([*cut, failed]) == set()


def _payload(stream, kind, nth=0):
    return stream[find(stream, kind, nth)]


def two_terminals(stream):
    stream.append(dict(stream[-1]))


def terminal_not_last(stream):
    stream[-1], stream[-2] = stream[-2], stream[-1]


def no_terminal(stream):
    stream.pop()


CASES = [
    ("responses-stream.event", lambda s: s.insert(3, {"sequence_number": 3, "delta": "x"})),
    ("responses-stream.first", lambda s: s.pop(0)),
    ("responses-stream.terminal", two_terminals),
    ("responses-stream.terminal", terminal_not_last),
    ("responses-stream.terminal", no_terminal),
    ("responses-stream.event-fields",
     lambda s: _payload(s, "response.content_part.added").pop("part")),
    ("responses-stream.event-fields",
     lambda s: _payload(s, "response.output_text.delta").update(content_index="0")),
    ("responses-stream.event-fields",
     lambda s: _payload(s, "response.reasoning_summary_text.done").pop("item_id")),
    ("responses-stream.event-fields",
     lambda s: _payload(s, "response.output_item.added").update(item=None)),
    ("responses-stream.lifecycle",
     lambda s: _payload(s, "response.completed")["response"].update(status="in_progress")),
    ("responses-stream.lifecycle", lambda s: _payload(s, "response.in_progress").pop("response")),
    ("responses-stream.error-event", lambda s: s.__setitem__(-1, {
        "type": "error", "sequence_number": 0,
        "error": {"code": "server_error", "message": "boom"}})),
    ("responses-stream.error-event", lambda s: s.__setitem__(-1, {
        "type": "error", "sequence_number": 0, "code": 500, "message": "boom"})),
    ("responses-stream.item-order", lambda s: s.pop(find(s, "response.output_item.added", 1))),
    ("responses-stream.item-order", lambda s: s.insert(find(s, "response.completed"),
                                                       _payload(s, "response.output_text.delta"))),
    ("responses-stream.item-order", lambda s: s.insert(
        find(s, "response.output_item.done", 1), dict(_payload(s, "response.output_item.added")))),
    ("responses-stream.part-order", lambda s: s.pop(find(s, "response.content_part.added"))),
    ("responses-stream.part-order",
     lambda s: s.pop(find(s, "response.reasoning_summary_part.added"))),
    ("responses-stream.delta-text",
     lambda s: _payload(s, "response.output_text.delta", 2).update(delta=" a")),
    ("responses-stream.delta-text",
     lambda s: _payload(s, "response.reasoning_summary_text.delta").update(delta=None)),
    ("responses-stream.delta-text", lambda s: s.pop(find(s, "response.output_text.delta", 4))),
    ("responses-stream.completed-output",
     lambda s: _payload(s, "response.completed")["response"]["output"][1]["content"][0].update(
         text="Paris is the capital of France.")),
    ("responses-stream.completed-output",
     lambda s: _payload(s, "response.completed")["response"]["output"].pop()),
    ("responses-stream.done-without-deltas", lambda s: s.__setitem__(slice(None), [
        e for e in s if e["type"] != "response.output_text.delta"])),
    ("responses-stream.item-done", lambda s: s.pop(find(s, "response.output_item.done", 0))),
    ("responses-stream.usage", lambda s: _payload(s, "response.in_progress")["response"].update(
        usage={"input_tokens": 1, "output_tokens": 0, "total_tokens": 1})),
    ("responses.usage.total",
     lambda s: _payload(s, "response.completed")["response"]["usage"].update(total_tokens=1)),
    ("responses.reasoning",
     lambda s: _payload(s, "response.output_item.done")["item"].update(summary="none")),
]


@pytest.mark.parametrize(("rule", "change"), CASES,
                         ids=[f"{rule}-{n}" for n, (rule, _) in enumerate(CASES)])
def test_each_rule_fires(stream, rule, change):
    change(stream)
    assert rule in rules(stream)


def _misnamed(stream):
    events = as_events(stream)
    events[5] = ("response.output_text.delta", events[5][1])
    return events


def test_event_name_must_match_the_type(stream):
    assert "responses-stream.event-name" in {
        v.rule for v in validate_responses_stream(_misnamed(stream))}


# A stream that starts past 0 (resumed) or carries no numbers (recorded before the field
# existed) is only a warning: real recordings do both (tests/corpus/real-manifest.yaml).
SEQUENCE = {"gap": "responses-stream.sequence", "repeat": "responses-stream.sequence",
            "from-one": "responses-stream.sequence-start",
            "missing": "responses-stream.sequence", "none": "responses-stream.sequence-start"}


def _break_sequence(stream, change):
    if change == "gap":
        for payload in stream[7:]:
            payload["sequence_number"] += 1
    elif change == "repeat":
        stream[7]["sequence_number"] = 6
    elif change == "from-one":
        for payload in stream:
            payload["sequence_number"] += 1
    elif change == "missing":
        del stream[7]["sequence_number"]
    else:
        for payload in stream:
            del payload["sequence_number"]
    return as_events(stream, renumber=False)


@pytest.mark.parametrize("change", SEQUENCE)
def test_sequence_numbers_run_from_zero_by_one(stream, change):
    found = validate_responses_stream(_break_sequence(stream, change))
    start = SEQUENCE[change] == "responses-stream.sequence-start"
    assert [v.rule for v in found] == [SEQUENCE[change]]
    assert {v.severity for v in found} == {"warning" if start else "violation"}


def test_completed_output_ignores_re_encrypted_reasoning(stream):
    # Real streams encrypt a reasoning item's content anew for each event that carries it
    # (tests/corpus/real/openai/pydantic-ai/responses-stream-mcp.yaml).
    done = _payload(stream, "response.output_item.done")["item"]
    final = _payload(stream, "response.completed")["response"]["output"][0]
    assert done["type"] == final["type"] == "reasoning"
    done["encrypted_content"], final["encrypted_content"] = "gAAAA-one", "gAAAA-two"
    assert "responses-stream.completed-output" not in rules(stream)


def test_a_difference_is_shown_at_its_leaf(stream):
    final = _payload(stream, "response.completed")["response"]["output"][1]
    final["content"][0]["text"] = "Paris is the capital of France."
    message = next(v.message for v in validate_responses_stream(as_events(stream))
                   if v.rule == "responses-stream.completed-output")
    assert ".content[0].text" in message
    assert "'Paris is the capital of France.'" in message


def test_an_empty_stream_fails():
    assert {v.rule for v in validate_responses_stream([])} == {"responses-stream.first"}


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    fired = set()
    for rule, change in CASES:
        stream = _stream(reference)
        change(stream)
        fired |= {rule} & rules(stream)
    for change, rule in SEQUENCE.items():
        found = validate_responses_stream(_break_sequence(_stream(reference), change))
        fired |= {rule} & {v.rule for v in found}
    found = validate_responses_stream(_misnamed(_stream(reference)))
    return fired | {"responses-stream.event-name"} & {v.rule for v in found}


def test_every_stream_rule_has_a_case():
    covered = {rule for rule, _ in CASES} | {"responses-stream.event-name",
                                             "responses-stream.sequence",
                                             "responses-stream.sequence-start"}
    assert {r for r in RULES if r.startswith("responses-stream.")} <= covered


def test_payloads_skip_what_is_not_json():
    assert payloads([(None, json.dumps({"type": "x"})), (None, "[DONE]"), (None, "{")]) == [
        {"type": "x"}
    ]


def test_long_texts_differ_where_they_part():
    from conformance.contract import describe_difference

    done = "The capital of France is Paris, a city on the Seine."
    deltas = "The capital of France is Paris, a city on the Loire."
    message = describe_difference(done, deltas, ("done", "deltas"))
    assert "character 46" in message
    assert "Seine" in message and "Loire" in message
