"""The chat stream contract: the reference streams pass, every rule fires on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.contract import RULES
from conformance.contract import chat_stream as contract
from conformance.wire import Cassette, parse_events

REFERENCE = Path(__file__).parent / "corpus" / "reference"
CASSETTES = Path(__file__).parent.parent / "cassettes" / "streaming"

BUFFERED = "chat-stream.azure.sse"
ASYNC = "chat-stream-async-filter.azure.sse"
BLOCKED = "chat-stream-async-filter-blocked.azure.sse"
TOOLS = "tool-calls"  # the constructed stream in cassettes/streaming/chat-tool-calls.yaml

INCLUDE_USAGE = {BUFFERED: True, ASYNC: False, BLOCKED: False, TOOLS: False}


def events(name):
    if name == TOOLS:
        body = Cassette.load(CASSETTES / "chat-tool-calls.yaml").interactions[0].body
    else:
        body = (REFERENCE / name).read_bytes()
    return [(e.name, e.data) for e in parse_events(body)]


def rules(found):
    return {v.rule for v in found}


@pytest.mark.parametrize("name", [BUFFERED, ASYNC, BLOCKED, TOOLS])
def test_the_reference_streams_pass(name):
    assert contract.validate_chat_stream(events(name), include_usage=INCLUDE_USAGE[name]) == []


def test_unknown_fields_are_tolerated():
    stream = events(BUFFERED)
    chunk = json.loads(stream[2][1])
    chunk["obfuscation"] = "xyz"
    chunk["choices"][0]["delta"]["reasoning_content"] = None
    chunk["choices"][0]["brand_new"] = {"a": 1}
    stream[2] = (None, json.dumps(chunk))
    assert contract.validate_chat_stream(stream, include_usage=True) == []


def test_summary_accumulates_text_tool_calls_and_usage():
    buffered = contract.summarize(events(BUFFERED))
    assert buffered.choice(0).text == "The capital of France is **Paris**."
    assert buffered.choice(0).finish_reason == "stop"
    assert buffered.kinds[0] == contract.PROMPT_ANNOTATION_KIND
    assert buffered.kinds[-2:] == [contract.USAGE_KIND, "done"]
    assert buffered.usages[0]["total_tokens"] == 23

    tools = contract.summarize(events(TOOLS)).choice(0)
    assert {i: (c.id, c.name, c.arguments) for i, c in tools.tool_calls.items()} == {
        0: ("call_CONSTRUCTED0000000000000001", "get_weather", '{"city": "Zürich"}'),
        1: ("call_CONSTRUCTED0000000000000002", "get_weather", '{"city": "Paris"}'),
    }
    assert tools.text == ""

    blocked = contract.summarize(events(BLOCKED))
    assert blocked.choice(0).blocked
    assert blocked.choice(0).finish_reason is None
    assert blocked.annotations == 2


# -- one violating stream per rule ----------------------------------------------------------


def edit(stream, n, change):
    """Apply ``change`` to the JSON of event ``n``."""
    chunk = json.loads(stream[n][1])
    change(chunk)
    stream[n] = (stream[n][0], json.dumps(chunk, separators=(",", ":")))
    return stream


def drop(*keys):
    def change(mapping):
        for key in keys:
            del mapping[key]
    return change


def choice0(change):
    return lambda chunk: change(chunk["choices"][0])


def delta0(change):
    return lambda chunk: change(chunk["choices"][0]["delta"])


def offsets0(change):
    return lambda chunk: change(chunk["choices"][0]["content_filter_offsets"])


def with_event_name(stream):
    stream[2] = ("message", stream[2][1])
    return stream


def multi_line(stream):
    stream[2] = (None, json.dumps(json.loads(stream[2][1]), indent=1))
    return stream


def not_json(stream):
    stream[3] = (None, "{not json")
    return stream


def without_done(stream):
    assert stream.pop() == (None, "[DONE]")
    return stream


def after_done(stream):
    stream.append(stream[3])
    return stream


def content_after_finish(stream):
    stream.insert(10, stream[3])  # event 9 is the finish chunk, 10 the usage chunk
    return stream


def prompt_annotation_late(stream):
    stream.insert(2, stream.pop(0))
    return stream


def usage_before_finish(stream):
    stream.insert(9, stream.pop(10))
    return stream


def usage_on_finish_chunk(stream):
    usage = json.loads(stream.pop(10)[1])["usage"]
    return edit(stream, 9, lambda c: c.update(usage=usage))


def renumber(value):
    def change(chunk):
        chunk["choices"][0]["content_filter_offsets"]["check_offset"] = value
    return change


CASES = [
    # (rule, stream, include_usage, mutation)
    (contract.DATA_ONLY, BUFFERED, True, with_event_name),
    (contract.SINGLE_LINE, BUFFERED, True, multi_line),
    (contract.JSON_EVENT, BUFFERED, True, not_json),
    (contract.END, BUFFERED, True, without_done),
    (contract.AFTER_DONE, BUFFERED, True, after_done),
    (contract.CHUNK, BUFFERED, True,
     lambda s: edit(s, 3, lambda c: c.update(object="chat.completion"))),
    (contract.CHUNK, BUFFERED, True, lambda s: edit(s, 3, lambda c: c.update(created="now"))),
    (contract.SAME_ID, BUFFERED, True,
     lambda s: edit(s, 4, lambda c: c.update(id="chatcmpl-other"))),
    (contract.CHOICE, BUFFERED, True,
     lambda s: edit(s, 3, choice0(lambda c: c.update(finish_reason="done")))),
    (contract.CHOICE, BUFFERED, True,
     lambda s: edit(s, 3, choice0(drop("delta", "content_filter_results")))),
    (contract.DELTA, BUFFERED, True,
     lambda s: edit(s, 1, delta0(lambda d: d.update(role="user")))),
    (contract.DELTA, BUFFERED, True,
     lambda s: edit(s, 3, delta0(lambda d: d.update(content=["The"])))),
    (contract.ROLE_FIRST, BUFFERED, True, lambda s: edit(s, 1, delta0(drop("role")))),
    (contract.ROLE, BUFFERED, True,
     lambda s: edit(s, 4, delta0(lambda d: d.update(role="assistant")))),
    (contract.FINISH, BUFFERED, True,
     lambda s: edit(s, 9, choice0(lambda c: c.update(finish_reason=None)))),
    (contract.FINISH, BUFFERED, True, content_after_finish),
    (contract.FINISH, ASYNC, False,
     lambda s: edit(s, 9, choice0(lambda c: c.update(finish_reason="length")))),
    (contract.TOOL_CALL_FIRST, TOOLS, False,
     lambda s: edit(s, 2, delta0(lambda d: d["tool_calls"][0].pop("id")))),
    (contract.TOOL_CALL_FIRST, TOOLS, False,
     lambda s: edit(s, 6, delta0(lambda d: d["tool_calls"][0]["function"].pop("name")))),
    (contract.TOOL_CALL_FRAGMENT, TOOLS, False,
     lambda s: edit(s, 3, delta0(lambda d: d["tool_calls"][0]["function"].update(
         name="get_weather")))),
    (contract.TOOL_CALL_FRAGMENT, TOOLS, False,
     lambda s: edit(s, 4, delta0(lambda d: d["tool_calls"][0].update(id="call_again")))),
    (contract.TOOL_CALL_FRAGMENT, TOOLS, False,
     lambda s: edit(s, 4, delta0(lambda d: d["tool_calls"][0]["function"].update(
         arguments={"city": "Zürich"})))),
    (contract.PROMPT_ANNOTATION, BUFFERED, True,
     lambda s: edit(s, 0, lambda c: c.update(created=1761000000))),
    (contract.PROMPT_ANNOTATION, BUFFERED, True,
     lambda s: edit(s, 0, drop("prompt_filter_results"))),
    (contract.PROMPT_ANNOTATION, BUFFERED, True, prompt_annotation_late),
    (contract.ANNOTATION, ASYNC, False, lambda s: edit(s, 6, choice0(
        lambda c: c.update(delta={})))),
    (contract.ANNOTATION, ASYNC, False, lambda s: edit(s, 6, lambda c: c.update(id="x"))),
    (contract.ANNOTATION, ASYNC, False, lambda s: edit(s, 6, offsets0(
        lambda o: o.update(start_offset=200)))),
    (contract.ANNOTATION, ASYNC, False, lambda s: edit(s, 11, choice0(
        lambda c: c.update(finish_reason="stop")))),
    (contract.CHECK_OFFSET, ASYNC, False, lambda s: edit(s, 11, renumber(20))),
    (contract.CHECK_OFFSET, ASYNC, False, lambda s: edit(s, 11, offsets0(
        lambda o: o.update(end_offset=36)))),
    (contract.BLOCKED, BLOCKED, False, lambda s: edit(s, 7, choice0(
        lambda c: c["content_filter_results"]["protected_material_text"].update(
            filtered=False)))),
    # an annotation, then a completion chunk, after the block
    (contract.BLOCKED, BLOCKED, False, lambda s: [*s[:-1], s[6], s[-1]]),
    (contract.BLOCKED, BLOCKED, False, lambda s: [*s[:-1], s[5], s[-1]]),
    (contract.USAGE_ONCE, ASYNC, True, lambda s: s),
    (contract.USAGE_ONCE, BUFFERED, False, lambda s: s),
    (contract.USAGE_LAST, BUFFERED, True, usage_before_finish),
    (contract.USAGE_LAST, BUFFERED, True, usage_on_finish_chunk),
]


@pytest.mark.parametrize(("rule", "name", "include_usage", "mutation"), CASES,
                         ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)])
def test_each_rule_fires_alone(rule, name, include_usage, mutation):
    stream = mutation(events(name))
    assert rules(contract.validate_chat_stream(stream, include_usage=include_usage)) == {rule}


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    fired = set()
    for rule, name, include_usage, mutation in CASES:
        found = contract.validate_chat_stream(mutation(events(name)), include_usage=include_usage)
        fired |= {rule} & rules(found)
    return fired


def test_every_chat_stream_rule_has_a_violating_stream():
    declared = {r for r in RULES if r.startswith("chat-stream.")}
    assert {case[0] for case in CASES} == declared


def test_azure_filter_only_choices_and_chunks_after_usage_are_accepted():
    # Shapes from real recordings (tests/corpus/real/azure/dd-trace-py/chat-stream.yaml and
    # openai/pydantic-ai/chat-stream-moderation.yaml), grafted onto the reference stream.
    stream = events(BUFFERED)
    filter_only = json.loads(stream[1][1])
    filter_only["choices"] = [{"content_filter_results": {}, "finish_reason": None,
                               "index": 0, "logprobs": None}]
    moderation = {**json.loads(stream[10][1]), "usage": None, "moderation": {"input": {}}}
    stream = [*stream[:1], (None, json.dumps(filter_only)), *stream[1:-1],
              (None, json.dumps(moderation)), stream[-1]]
    assert contract.validate_chat_stream(stream, include_usage=True) == []


def test_two_usage_chunks():
    stream = events(BUFFERED)
    stream = edit(stream, 9, lambda c: c.update(usage=json.loads(stream[10][1])["usage"]))
    found = contract.validate_chat_stream(stream)
    assert rules(found) == {contract.USAGE_ONCE, contract.USAGE_LAST}
    assert [v.path for v in found if v.rule == contract.USAGE_LAST] == ["event[9]"]


def test_shared_rules_fire_through_the_stream_validator():
    """Usage counts and filter results inside chunks are judged by the chat/filter rules."""
    usage = edit(events(BUFFERED), 10, lambda c: c["usage"].update(total_tokens=99))
    assert rules(contract.validate_chat_stream(usage, include_usage=True)) == {"usage.total"}
    severity = edit(events(BUFFERED), 3, choice0(
        lambda c: c["content_filter_results"]["hate"].update(severity="extreme")))
    assert rules(contract.validate_chat_stream(severity, include_usage=True)) == {
        "content-filter.severity"}
    prompt = edit(events(BUFFERED), 0, lambda c: c["prompt_filter_results"][0].pop("prompt_index"))
    assert rules(contract.validate_chat_stream(prompt, include_usage=True)) == {
        "content-filter.prompt-results"}


def test_violations_name_the_event():
    found = contract.validate_chat_stream(after_done(events(BUFFERED)), include_usage=True)
    assert [str(v) for v in found] == [
        "chat-stream.after-done event[12]: "
        + found[0].message
    ]
    assert "after data: [DONE] at event[11]" in found[0].message


@pytest.mark.parametrize(("data", "expected"), [
    ('{"object":"","id":"","created":0,"choices":[]}', contract.PROMPT_ANNOTATION_KIND),
    ('{"object":"","choices":[{"index":0}]}', contract.ANNOTATION_KIND),
    ('{"object":"chat.completion.chunk","choices":[],"usage":{}}', contract.USAGE_KIND),
    ('{"choices":[{"delta":{"role":"assistant","content":""}}]}', "role"),
    ('{"choices":[{"delta":{"content":"x"}}]}', "content"),
    ('{"choices":[{"delta":{"content":""}}]}', "empty"),
    ('{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}', "tool-call"),
    ('{"choices":[{"delta":{},"finish_reason":"stop"}]}', "finish"),
])
def test_kinds(data, expected):
    assert contract.kind(json.loads(data)) == expected
