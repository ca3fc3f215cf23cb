"""The streaming checks fail when the server or the SDK breaks a documented stream behaviour,
and pass whatever the HTTP chunk boundaries."""

from __future__ import annotations

import json

import pytest

# Imported here, before any in-process run: pytester drops modules a run imported first, and
# the client would keep using a copy the tests' monkeypatches cannot reach.
from openai.lib.streaming.chat import _completions

from conformance.registry import REGISTRY, Verdict
from conformance.suites import streaming
from conformance.wire import split_events

from .failures import caught
from .mutants import broken_sdk

BUFFERED = "streaming/chat-buffered.yaml"
ASYNC = "streaming/chat-async-filter.yaml"
BLOCKED = "streaming/chat-async-filter-blocked.yaml"
TOOLS = "streaming/chat-tool-calls.yaml"
HELPER_TOOLS = "streaming/chat-helper-tool-calls.yaml"  # a real recording

ALL = (
    "streaming.chat-sse-framing",
    "streaming.chat-azure-chunk-order",
    "streaming.chat-usage-chunk",
    "streaming.chat-doc-loop-text",
    "streaming.chat-helper-text",
    "streaming.chat-async-filter",
    "streaming.chat-async-filter-helper",
    "streaming.chat-async-filter-blocked",
    "streaming.chat-helper-blocked",
    "streaming.chat-tool-call-deltas",
    "streaming.chat-helper-tool-calls",
)
HELPER = ("streaming.chat-helper-text", "streaming.chat-async-filter-helper",
          "streaming.chat-helper-blocked", "streaming.chat-helper-tool-calls")


# -- breaking the server: editing the recorded event stream ----------------------------------


def edit_events(suite, cassette, change):
    """Let ``change`` edit the list of raw events (bytes, terminators included) of a cassette
    copy; untouched events keep their exact bytes."""

    def apply(interactions):
        events = split_events(interactions[0].body)
        changed = change(events)
        interactions[0].body = b"".join(events if changed is None else changed)

    suite.edit(cassette, apply)


def load(event):
    return json.loads(event.decode().removeprefix("data: "))


def dump(chunk):
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def edit_chunk(n, change):
    """An events change: edit the JSON of event ``n``."""

    def apply(events):
        chunk = load(events[n])
        change(chunk)
        events[n] = dump(chunk)

    return apply


# -- breaking the SDK: what create(stream=True) yields -----------------------------------------


def map_stream(monkeypatch, change):
    """Let ``change(n, chunk)`` replace (or drop, returning None) each chunk the SDK's raw
    stream yields; the stream helper reads the same iterator."""
    import openai

    original = openai.Stream.__iter__

    def iterate(self):
        for n, chunk in enumerate(original(self)):
            changed = change(n, chunk)
            if changed is not None:
                yield changed

    monkeypatch.setattr(openai.Stream, "__iter__", iterate)


def drop_chunk(monkeypatch, wanted):
    map_stream(monkeypatch, lambda n, chunk: None if wanted(n, chunk) else chunk)


def sdk_loses_chunk(n):
    """A case: an SDK whose raw stream loses chunk ``n`` of every stream."""

    def case(suite, monkeypatch):
        drop_chunk(monkeypatch, lambda m, chunk: m == n)

    case.__name__ = f"sdk_loses_chunk_{n}"
    return broken_sdk(case)


# -- everything passes, on any chunking --------------------------------------------------------


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*ALL)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)


def test_every_chat_streaming_check_is_listed_here():
    chat_checks = {c for c, entry in REGISTRY.items()
                   if entry.function.__module__ == streaming.__name__}
    assert chat_checks == set(ALL)


@pytest.mark.parametrize("chunking", ["random:1", "random:2", "random:3", "random:1234",
                                      "fixed:1", "whole"])
def test_all_pass_split_across_arbitrary_chunk_boundaries(suite, chunking):
    checks = (*ALL, "request-ids.stream-response-header")
    run = suite.run(*checks, args=(f"--sse-chunking={chunking}",))
    assert run.results.target["sse_chunking"] == chunking
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(checks, Verdict.PASS)


def test_helper_checks_run_before_1_92_where_the_helper_is(suite, monkeypatch):
    """The helper left client.beta at 1.92.0; a release before it is not unsupported for that:
    the checks probe for the helper (tests/test_suites_streaming_hostile.py has it under beta),
    and unsupported is only for a release before 1.40.0, which has none."""
    from .mutants import pretend_release

    pretend_release(monkeypatch, "1.91.0")
    run = suite.run(*HELPER)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(HELPER, Verdict.PASS)
    assert run.result("streaming.chat-helper-text").observations["helper"] == (
        "client.chat.completions.stream")


# -- framing -------------------------------------------------------------------------------


def stream_without_done(suite, monkeypatch):
    edit_events(suite, BUFFERED, lambda events: events[:-1])


def content_after_done(suite, monkeypatch):
    edit_events(suite, BUFFERED, lambda events: [*events, events[3]])


def named_events(suite, monkeypatch):
    edit_events(suite, BUFFERED, lambda events: [
        b"event: chunk\n" + e if e.startswith(b"data: {") else e for e in events])


def json_content_type(suite, monkeypatch):
    def retype(interactions):
        interactions[0].response["headers"]["content-type"] = ["application/json"]

    suite.edit(BUFFERED, retype)


# Chunk 4: a text chunk of the chat stream, a fragment of the tool-call stream.
sdk_loses_chunk_4 = sdk_loses_chunk(4)


# -- Azure's chunk order and the usage chunk --------------------------------------------------


def stream_without_the_prompt_annotation_chunk(suite, monkeypatch):
    edit_events(suite, BUFFERED, lambda events: events[1:])


def prompt_annotation_chunk_with_an_id(suite, monkeypatch):
    edit_events(suite, BUFFERED, edit_chunk(0, lambda chunk: chunk.update(id="chatcmpl-x")))


@broken_sdk
def sdk_hides_azure_chunks_from_the_raw_stream(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: chunk.object == "")


def two_usage_chunks(suite, monkeypatch):
    edit_events(suite, BUFFERED, lambda events: [*events[:-1], events[-2], events[-1]])


def usage_chunk_before_the_finish_chunk(suite, monkeypatch):
    edit_events(suite, BUFFERED, lambda events: [*events[:11], events[12], events[11], events[13]])


@broken_sdk
def sdk_loses_the_usage_chunk(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: chunk.usage is not None)


# -- the text, read the doc's way and the helper's way ----------------------------------------


# Chunk 5: " can" of the chat stream.
sdk_loses_chunk_5 = sdk_loses_chunk(5)


@broken_sdk
def release_before_the_stream_options_keyword_loses_text(suite, monkeypatch):
    """openai before 1.26.0 (no stream_options keyword), losing " can"."""
    from .mutants import hide_keyword, pretend_release

    pretend_release(monkeypatch, "1.25.0")
    hide_keyword(monkeypatch, "openai.resources.chat", "Completions", "stream_options")
    drop_chunk(monkeypatch, lambda n, chunk: n == 5)


def test_a_release_before_the_stream_options_keyword_is_still_judged(suite, monkeypatch):
    """openai before 1.26.0 has no stream_options keyword: the recorded request reaches the
    wire through extra_body, so the decoder claims are judged (a text it drops fails: the
    release_before_the_stream_options_keyword_loses_text row) and only the usage chunk's
    claim, the keyword's own, is unsupported."""
    from .mutants import pretend_release

    pretend_release(monkeypatch, "1.25.0")
    run = suite.run("streaming.chat-doc-loop-text", "streaming.chat-sse-framing",
                    "request-ids.stream-response-header", "streaming.chat-usage-chunk")
    for check in ("streaming.chat-doc-loop-text", "streaming.chat-sse-framing",
                  "request-ids.stream-response-header"):
        assert run.verdict(check) is Verdict.PASS, run.message(check)
    assert run.verdict("streaming.chat-usage-chunk") is Verdict.PASS  # the keyword: probed
    from .mutants import hide_keyword

    hide_keyword(monkeypatch, "openai.resources.chat", "Completions", "stream_options")
    run = suite.run("streaming.chat-doc-loop-text", "streaming.chat-usage-chunk")
    assert run.verdict("streaming.chat-doc-loop-text") is Verdict.PASS
    assert run.verdict("streaming.chat-usage-chunk") is Verdict.UNSUPPORTED


@broken_sdk
def sdk_turns_empty_content_into_none(suite, monkeypatch):
    def none_for_empty(n, chunk):
        if chunk.choices and chunk.choices[0].delta.content == "":
            chunk.choices[0].delta.content = None
        return chunk

    map_stream(monkeypatch, none_for_empty)


@broken_sdk
def helper_drops_text(suite, monkeypatch):
    monkeypatch.setattr(_completions, "_is_valid_chat_completion_chunk_weak",
                        lambda chunk: chunk.object == "chat.completion.chunk"
                        and not (chunk.choices and chunk.choices[0].delta.content == " can"))


def stream_without_the_usage_chunk(suite, monkeypatch):
    edit_events(suite, BUFFERED, lambda events: [*events[:12], events[13]])


# -- asynchronous filter mode -------------------------------------------------------------------


def decreasing_check_offset(suite, monkeypatch):
    edit_events(suite, ASYNC, edit_chunk(11, lambda chunk: chunk["choices"][0][
        "content_filter_offsets"].update(check_offset=10)))


def annotation_chunk_with_a_delta(suite, monkeypatch):
    edit_events(suite, ASYNC, edit_chunk(6, lambda chunk: chunk["choices"][0].update(delta={})))


def stream_without_annotations(suite, monkeypatch):
    """Not an async filter stream."""
    edit_events(suite, ASYNC, lambda events: [events[n] for n in range(len(events))
                                              if n not in (6, 11)])


@broken_sdk
def sdk_loses_annotation_results(suite, monkeypatch):
    def strip(n, chunk):
        if chunk.object == "" and chunk.choices:
            chunk.choices[0].content_filter_offsets = None
        return chunk

    map_stream(monkeypatch, strip)


def test_the_annotation_chunks_without_a_delta_are_observed(suite):
    # The doc's Python loop dereferences choices[0].delta, which these chunks lack.
    run = suite.run("streaming.chat-async-filter")
    observations = run.result("streaming.chat-async-filter").observations
    assert observations["annotation_deltas"] == ["None"]


@broken_sdk
def helper_keeps_azure_chunks(suite, monkeypatch):
    """The stream helper before openai 1.74.0: Azure's object "" chunks reach its accumulator,
    which raises."""
    monkeypatch.setattr(_completions, "_is_valid_chat_completion_chunk_weak", lambda chunk: True)


# Chunk 3: text of the async filter streams.
sdk_loses_chunk_3 = sdk_loses_chunk(3)


def test_the_helper_losing_the_block_is_observed(suite):
    run = suite.run("streaming.chat-helper-blocked")
    observations = run.result("streaming.chat-helper-blocked").observations
    assert observations["blocked_on_wire"] is True
    assert observations["final_finish_reason"] is None


def block_without_finish_reason(suite, monkeypatch):
    edit_events(suite, BLOCKED, edit_chunk(7, lambda chunk: chunk["choices"][0].update(
        finish_reason=None)))


def block_that_filters_nothing(suite, monkeypatch):
    edit_events(suite, BLOCKED, edit_chunk(7, lambda chunk: chunk["choices"][0][
        "content_filter_results"]["protected_material_text"].update(filtered=False)))


@broken_sdk
def sdk_swallows_the_block(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: n == 7)


# -- tool calls -------------------------------------------------------------------------------


def repeat_name(events):
    """The second fragment of tool call 0 repeats the function name."""
    chunk = load(events[3])
    chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] = "get_weather"
    events[3] = dump(chunk)


def repeated_tool_call_name(suite, monkeypatch):
    for cassette in (TOOLS, HELPER_TOOLS):
        edit_events(suite, cassette, repeat_name)


def test_the_helper_concatenates_a_repeated_tool_call_name(suite, monkeypatch):
    """The helper concatenates what it is sent twice (the repeated_tool_call_name row: the
    contract rule is why it fails)."""
    repeated_tool_call_name(suite, monkeypatch)
    run = suite.run("streaming.chat-helper-tool-calls")
    result = run.result("streaming.chat-helper-tool-calls")
    assert result.observations["final_tool_calls"]["0"][1] == (
        "get_current_temperatureget_weather")


# Chunk 6: an arguments fragment of the helper's tool-call stream.
sdk_loses_chunk_6 = sdk_loses_chunk(6)


@broken_sdk
def sdk_garbles_arguments(suite, monkeypatch):
    def garble(n, chunk):
        for choice in chunk.choices:
            for call in (choice.delta.tool_calls if choice.delta else None) or []:
                if call.function and call.function.arguments:
                    call.function.arguments = call.function.arguments.replace("ü", "u")
        return chunk

    map_stream(monkeypatch, garble)


FRAMING = "streaming.chat-sse-framing"
ORDER = "streaming.chat-azure-chunk-order"
USAGE = "streaming.chat-usage-chunk"
DOC_LOOP = "streaming.chat-doc-loop-text"
HELPER_TEXT = "streaming.chat-helper-text"
FILTER = "streaming.chat-async-filter"
FILTER_HELPER = "streaming.chat-async-filter-helper"
BLOCK = "streaming.chat-async-filter-blocked"
HELPER_BLOCK = "streaming.chat-helper-blocked"
DELTAS = "streaming.chat-tool-call-deltas"
HELPER_CALLS = "streaming.chat-helper-tool-calls"

CAUGHT = [
    # framing
    (stream_without_done, FRAMING, "python", "chat-stream.done"),
    (content_after_done, FRAMING, "python", "chat-stream.after-done"),
    (named_events, FRAMING, "python", "chat-stream.data-only"),
    (json_content_type, FRAMING, "python", "not text/event-stream"),
    (sdk_loses_chunk_4, FRAMING, "python", "yielded 12 chunk(s) for 13 JSON event(s)"),
    (sdk_loses_chunk_4, DELTAS, "python", "yielded 9 chunk(s) for 10"),
    # Azure's chunk order and the usage chunk
    (stream_without_the_prompt_annotation_chunk, ORDER, "python", "prompt-annotation chunk"),
    (prompt_annotation_chunk_with_an_id, ORDER, "python", "chat-stream.prompt-annotation"),
    (sdk_hides_azure_chunks_from_the_raw_stream, ORDER, "python", "yielded 12 chunk(s) for 13"),
    (two_usage_chunks, USAGE, "python", "chat-stream.usage-once"),
    (usage_chunk_before_the_finish_chunk, USAGE, "python", "chat-stream.usage-last"),
    (sdk_loses_the_usage_chunk, USAGE, "python", "last chunk is not the usage chunk"),
    # the text, read the doc's way and the helper's way
    (sdk_loses_chunk_5, DOC_LOOP, "python", "printed 'Hello! How I assist you today?'"),
    (release_before_the_stream_options_keyword_loses_text, DOC_LOOP, "python",
     "printed 'Hello! How I assist you today?'"),
    (sdk_turns_empty_content_into_none, DOC_LOOP, "python", "the wire had ['', 'Hello'"),
    (helper_drops_text, HELPER_TEXT, "python", "add up to 'Hello! How I assist you today?'"),
    (stream_without_the_usage_chunk, HELPER_TEXT, "python", "usage"),
    # asynchronous filter mode
    (decreasing_check_offset, FILTER, "python", "chat-stream.check-offset"),
    (annotation_chunk_with_a_delta, FILTER, "python", "chat-stream.annotation"),
    (stream_without_annotations, FILTER, "python", "no annotation-only chunk"),
    (sdk_loses_annotation_results, FILTER, "python",
     "content_filter_offsets of an annotation chunk did not survive"),
    (helper_keeps_azure_chunks, FILTER_HELPER, "python", "python raised AttributeError"),
    (helper_keeps_azure_chunks, HELPER_BLOCK, "python", "python raised AttributeError"),
    (sdk_loses_chunk_3, FILTER_HELPER, "python", ""),
    (sdk_loses_chunk_3, HELPER_BLOCK, "python", "add up to 'Verse:"),
    (block_without_finish_reason, BLOCK, "python", "chat-stream.finish-reason"),
    (block_that_filters_nothing, BLOCK, "python", "chat-stream.blocked"),
    (sdk_swallows_the_block, BLOCK, "python", "yielded 7 chunk(s) for 8"),
    # tool calls
    (repeated_tool_call_name, DELTAS, "python", "chat-stream.tool-call-fragment"),
    (repeated_tool_call_name, HELPER_CALLS, "python", "chat-stream.tool-call-fragment"),
    (sdk_loses_chunk_6, HELPER_CALLS, "python", "differ from the wire's"),
    (sdk_garbles_arguments, DELTAS, "python", "tool-call fragments differ"),
]
test_caught = caught(CAUGHT)
