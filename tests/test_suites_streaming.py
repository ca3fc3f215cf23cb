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


def helper_keeps_every_chunk(monkeypatch):
    """The stream helper before openai 1.74.0: Azure's object "" chunks reach its accumulator."""

    monkeypatch.setattr(_completions, "_is_valid_chat_completion_chunk_weak", lambda chunk: True)


def run_one(suite, check_id):
    run = suite.run(check_id)
    return run.verdict(check_id), run.message(check_id)


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


def test_a_stream_without_done_fails_framing(suite):
    edit_events(suite, BUFFERED, lambda events: events[:-1])
    verdict, message = run_one(suite, "streaming.chat-sse-framing")
    assert verdict is Verdict.FAIL
    assert "chat-stream.done" in message


def test_content_after_done_fails_framing(suite):
    edit_events(suite, BUFFERED, lambda events: [*events, events[3]])
    verdict, message = run_one(suite, "streaming.chat-sse-framing")
    assert verdict is Verdict.FAIL
    assert "chat-stream.after-done" in message


def test_named_events_fail_framing(suite):
    edit_events(suite, BUFFERED, lambda events: [
        b"event: chunk\n" + e if e.startswith(b"data: {") else e for e in events])
    verdict, message = run_one(suite, "streaming.chat-sse-framing")
    assert verdict is Verdict.FAIL
    assert "chat-stream.data-only" in message


def test_a_json_content_type_fails_framing(suite):
    def retype(interactions):
        interactions[0].response["headers"]["content-type"] = ["application/json"]

    suite.edit(BUFFERED, retype)
    verdict, message = run_one(suite, "streaming.chat-sse-framing")
    assert verdict is Verdict.FAIL
    assert "not text/event-stream" in message


def test_an_sdk_that_loses_a_chunk_fails_framing(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: n == 4)
    verdict, message = run_one(suite, "streaming.chat-sse-framing")
    assert verdict is Verdict.FAIL
    assert "yielded 12 chunk(s) for 13 JSON event(s)" in message


# -- Azure's chunk order and the usage chunk --------------------------------------------------


def test_a_stream_without_the_prompt_annotation_chunk_fails(suite):
    edit_events(suite, BUFFERED, lambda events: events[1:])
    verdict, message = run_one(suite, "streaming.chat-azure-chunk-order")
    assert verdict is Verdict.FAIL
    assert "prompt-annotation chunk" in message


def test_a_prompt_annotation_chunk_with_an_id_fails(suite):
    edit_events(suite, BUFFERED, edit_chunk(0, lambda chunk: chunk.update(id="chatcmpl-x")))
    verdict, message = run_one(suite, "streaming.chat-azure-chunk-order")
    assert verdict is Verdict.FAIL
    assert "chat-stream.prompt-annotation" in message


def test_an_sdk_that_hides_azure_chunks_from_the_raw_stream_fails(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: chunk.object == "")
    verdict, message = run_one(suite, "streaming.chat-azure-chunk-order")
    assert verdict is Verdict.FAIL
    assert "yielded 12 chunk(s) for 13" in message


def test_two_usage_chunks_fail(suite):
    edit_events(suite, BUFFERED, lambda events: [*events[:-1], events[-2], events[-1]])
    verdict, message = run_one(suite, "streaming.chat-usage-chunk")
    assert verdict is Verdict.FAIL
    assert "chat-stream.usage-once" in message


def test_a_usage_chunk_before_the_finish_chunk_fails(suite):
    edit_events(suite, BUFFERED, lambda events: [*events[:11], events[12], events[11], events[13]])
    verdict, message = run_one(suite, "streaming.chat-usage-chunk")
    assert verdict is Verdict.FAIL
    assert "chat-stream.usage-last" in message


def test_an_sdk_that_loses_the_usage_chunk_fails(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: chunk.usage is not None)
    verdict, message = run_one(suite, "streaming.chat-usage-chunk")
    assert verdict is Verdict.FAIL
    assert "last chunk is not the usage chunk" in message


# -- the text, read the doc's way and the helper's way ----------------------------------------


def test_an_sdk_that_drops_text_fails_the_doc_loop(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: n == 5)
    verdict, message = run_one(suite, "streaming.chat-doc-loop-text")
    assert verdict is Verdict.FAIL
    assert "printed 'Hello! How I assist you today?'" in message


def test_a_release_before_the_stream_options_keyword_is_still_judged(suite, monkeypatch):
    """openai before 1.26.0 has no stream_options keyword: the recorded request reaches the
    wire through extra_body, so the decoder claims are judged (a text it drops fails) and
    only the usage chunk's claim, the keyword's own, is unsupported."""
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
    drop_chunk(monkeypatch, lambda n, chunk: n == 5)
    verdict, message = run_one(suite, "streaming.chat-doc-loop-text")
    assert verdict is Verdict.FAIL
    assert "printed 'Hello! How I assist you today?'" in message


def test_an_sdk_that_turns_empty_content_into_none_fails_the_doc_loop(suite, monkeypatch):
    def none_for_empty(n, chunk):
        if chunk.choices and chunk.choices[0].delta.content == "":
            chunk.choices[0].delta.content = None
        return chunk

    map_stream(monkeypatch, none_for_empty)
    verdict, message = run_one(suite, "streaming.chat-doc-loop-text")
    assert verdict is Verdict.FAIL
    assert "the wire had ['', 'Hello'" in message


def test_a_helper_that_drops_text_fails(suite, monkeypatch):

    monkeypatch.setattr(_completions, "_is_valid_chat_completion_chunk_weak",
                        lambda chunk: chunk.object == "chat.completion.chunk"
                        and not (chunk.choices and chunk.choices[0].delta.content == " can"))
    verdict, message = run_one(suite, "streaming.chat-helper-text")
    assert verdict is Verdict.FAIL
    assert "add up to 'Hello! How I assist you today?'" in message


def test_a_helper_without_the_usage_chunk_fails(suite):
    edit_events(suite, BUFFERED, lambda events: [*events[:12], events[13]])
    verdict, message = run_one(suite, "streaming.chat-helper-text")
    assert verdict is Verdict.FAIL
    assert "usage" in message


# -- asynchronous filter mode -------------------------------------------------------------------


def test_a_decreasing_check_offset_fails(suite):
    edit_events(suite, ASYNC, edit_chunk(11, lambda chunk: chunk["choices"][0][
        "content_filter_offsets"].update(check_offset=10)))
    verdict, message = run_one(suite, "streaming.chat-async-filter")
    assert verdict is Verdict.FAIL
    assert "chat-stream.check-offset" in message


def test_an_annotation_chunk_with_a_delta_fails(suite):
    edit_events(suite, ASYNC, edit_chunk(6, lambda chunk: chunk["choices"][0].update(delta={})))
    verdict, message = run_one(suite, "streaming.chat-async-filter")
    assert verdict is Verdict.FAIL
    assert "chat-stream.annotation" in message


def test_a_stream_without_annotations_is_not_an_async_filter_stream(suite):
    edit_events(suite, ASYNC, lambda events: [events[n] for n in range(len(events))
                                              if n not in (6, 11)])
    verdict, message = run_one(suite, "streaming.chat-async-filter")
    assert verdict is Verdict.FAIL
    assert "no annotation-only chunk" in message


def test_an_sdk_that_loses_annotation_results_fails(suite, monkeypatch):
    def strip(n, chunk):
        if chunk.object == "" and chunk.choices:
            chunk.choices[0].content_filter_offsets = None
        return chunk

    map_stream(monkeypatch, strip)
    verdict, message = run_one(suite, "streaming.chat-async-filter")
    assert verdict is Verdict.FAIL
    assert "content_filter_offsets of an annotation chunk did not survive" in message


def test_the_annotation_chunks_without_a_delta_are_observed(suite):
    # The doc's Python loop dereferences choices[0].delta, which these chunks lack.
    run = suite.run("streaming.chat-async-filter")
    observations = run.result("streaming.chat-async-filter").observations
    assert observations["annotation_deltas"] == ["None"]


def test_a_helper_that_keeps_azure_chunks_raises_and_fails(suite, monkeypatch):
    helper_keeps_every_chunk(monkeypatch)
    run = suite.run("streaming.chat-async-filter-helper", "streaming.chat-helper-blocked")
    for check_id in ("streaming.chat-async-filter-helper", "streaming.chat-helper-blocked"):
        assert run.verdict(check_id) is Verdict.FAIL
        assert run.message(check_id).startswith("python raised AttributeError")


def test_a_helper_that_drops_text_fails_on_async_filter_streams(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: n == 3)
    run = suite.run("streaming.chat-async-filter-helper", "streaming.chat-helper-blocked")
    assert run.verdict("streaming.chat-async-filter-helper") is Verdict.FAIL
    assert run.verdict("streaming.chat-helper-blocked") is Verdict.FAIL
    assert "add up to 'Verse:" in run.message("streaming.chat-helper-blocked")


def test_the_helper_losing_the_block_is_observed(suite):
    run = suite.run("streaming.chat-helper-blocked")
    observations = run.result("streaming.chat-helper-blocked").observations
    assert observations["blocked_on_wire"] is True
    assert observations["final_finish_reason"] is None


def test_a_block_without_finish_reason_fails(suite):
    edit_events(suite, BLOCKED, edit_chunk(7, lambda chunk: chunk["choices"][0].update(
        finish_reason=None)))
    verdict, message = run_one(suite, "streaming.chat-async-filter-blocked")
    assert verdict is Verdict.FAIL
    assert "chat-stream.finish-reason" in message


def test_a_block_that_filters_nothing_fails(suite):
    edit_events(suite, BLOCKED, edit_chunk(7, lambda chunk: chunk["choices"][0][
        "content_filter_results"]["protected_material_text"].update(filtered=False)))
    verdict, message = run_one(suite, "streaming.chat-async-filter-blocked")
    assert verdict is Verdict.FAIL
    assert "chat-stream.blocked" in message


def test_an_sdk_that_swallows_the_block_fails(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: n == 7)
    verdict, message = run_one(suite, "streaming.chat-async-filter-blocked")
    assert verdict is Verdict.FAIL
    assert "yielded 7 chunk(s) for 8" in message


# -- tool calls -------------------------------------------------------------------------------


def repeat_name(events):
    """The second fragment of tool call 0 repeats the function name."""
    chunk = load(events[3])
    chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] = "get_weather"
    events[3] = dump(chunk)


def test_a_repeated_tool_call_name_fails_the_deltas_check(suite):
    edit_events(suite, TOOLS, repeat_name)
    verdict, message = run_one(suite, "streaming.chat-tool-call-deltas")
    assert verdict is Verdict.FAIL
    assert "chat-stream.tool-call-fragment" in message


def test_a_repeated_tool_call_name_fails_the_helper_check(suite):
    """The helper concatenates what it is sent twice: the contract rule is why."""
    edit_events(suite, HELPER_TOOLS, repeat_name)
    run = suite.run("streaming.chat-helper-tool-calls")
    result = run.result("streaming.chat-helper-tool-calls")
    assert result.verdict is Verdict.FAIL
    assert "chat-stream.tool-call-fragment" in result.message
    assert result.observations["final_tool_calls"]["0"][1] == (
        "get_current_temperatureget_weather")


def test_a_helper_that_loses_an_arguments_fragment_fails(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: n == 6)  # an arguments fragment
    verdict, message = run_one(suite, "streaming.chat-helper-tool-calls")
    assert verdict is Verdict.FAIL
    assert "differ from the wire's" in message


def test_an_sdk_that_loses_a_fragment_fails(suite, monkeypatch):
    drop_chunk(monkeypatch, lambda n, chunk: n == 4)
    verdict, message = run_one(suite, "streaming.chat-tool-call-deltas")
    assert verdict is Verdict.FAIL
    assert "yielded 9 chunk(s) for 10" in message


def test_an_sdk_that_garbles_arguments_fails(suite, monkeypatch):
    def garble(n, chunk):
        for choice in chunk.choices:
            for call in (choice.delta.tool_calls if choice.delta else None) or []:
                if call.function and call.function.arguments:
                    call.function.arguments = call.function.arguments.replace("ü", "u")
        return chunk

    map_stream(monkeypatch, garble)
    verdict, message = run_one(suite, "streaming.chat-tool-call-deltas")
    assert verdict is Verdict.FAIL
    assert "tool-call fragments differ" in message
