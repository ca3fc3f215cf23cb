"""The hostile-stream checks fail against an SDK that reads an event stream as no standard
reader would (lines split at U+2028, LF-only line ends, a kept BOM, comments read as data,
characters decoded per read), and the chat error-payload check fails against an SDK that
swallows the error or loses its message; each passes on the pinned SDK, on any chunking."""

from __future__ import annotations

from types import SimpleNamespace

import openai._streaming
import pytest

# Imported here, before any in-process run: pytester drops modules a run imported first, and
# the client would keep using a copy the tests' monkeypatches cannot reach.
from openai.lib.streaming.chat import _completions
from openai.resources.chat.completions import Completions

from conformance.drivers.python import stream_helper
from conformance.registry import REGISTRY, Verdict
from conformance.suites import streaming_hostile

from .failures import caught
from .mutants import broken_sdk, pretend_release

LOOP = ("streaming.chat-line-separators", "streaming.chat-crlf-lines", "streaming.chat-cr-lines",
        "streaming.chat-bom-comments")
ALL = (*LOOP, "streaming.chat-split-characters", "streaming.chat-error-payload")


def test_every_check_of_the_module_is_listed_here():
    assert {c for c, e in REGISTRY.items()
            if e.function.__module__ == streaming_hostile.__name__} == set(ALL)


def test_all_pass_on_the_pinned_sdk(suite):
    run = suite.run(*ALL)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)


@pytest.mark.parametrize("chunking", ["random:7", "fixed:1"])
def test_all_pass_cut_anywhere(suite, chunking):
    run = suite.run(*ALL, args=(f"--sse-chunking={chunking}",))
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)


# -- SDKs that read an event stream wrongly ---------------------------------------------------


def reader(monkeypatch, *, lines=None, keep_bom=False, comments_as_data=False,
           per_read=False):
    """An SDK whose SSE reader splits the decoded text with ``lines`` (default: CR, LF, CRLF),
    keeps a leading BOM, reads comment lines as data, or (``per_read``) decodes each read on
    its own, replacing a character cut between reads."""
    import re

    streaming = openai._streaming
    split = lines or (lambda text: re.split(r"\r\n|\r|\n", text))

    def iter_bytes(self, iterator):
        if per_read:
            text = "".join(piece.decode("utf-8", "replace") for piece in iterator)
        else:
            text = b"".join(iterator).decode("utf-8")
        if not keep_bom:
            text = text.removeprefix("\ufeff")
        for line in split(text):
            if comments_as_data and line.startswith(":"):
                self._data.append(line)
                continue
            sse = self.decode(line)
            if sse:
                yield sse

    monkeypatch.setattr(streaming.SSEDecoder, "iter_bytes", iter_bytes)


@broken_sdk
def reader_that_splits_lines_at_unicode_separators(suite, monkeypatch):
    reader(monkeypatch, lines=str.splitlines)


def test_before_1_16_2_splitting_at_separators_is_observed_and_unsupported(suite, monkeypatch):
    pretend_release(monkeypatch, "1.16.1")
    reader(monkeypatch, lines=str.splitlines)
    run = suite.run("streaming.chat-line-separators")
    assert run.verdict("streaming.chat-line-separators") is Verdict.UNSUPPORTED
    assert "openai>=1.16.2" in run.message("streaming.chat-line-separators")
    observed = run.result("streaming.chat-line-separators").observations
    assert "raised JSONDecodeError" in observed["error"]


@broken_sdk
def reader_that_ends_lines_at_lf_only(suite, monkeypatch):
    reader(monkeypatch, lines=lambda text: text.split("\n"))


def test_a_reader_that_keeps_the_bom_loses_the_first_event_observed(suite, monkeypatch):
    """openai-python 3.57.0 does this itself: the lost event is Azure's prompt annotation, so
    the text is right and the loss is an observation, not a verdict."""
    reader(monkeypatch, keep_bom=True)
    run = suite.run("streaming.chat-bom-comments")
    assert run.verdict("streaming.chat-bom-comments") is Verdict.PASS
    assert run.result("streaming.chat-bom-comments").observations["events_lost"] == 1
    reader(monkeypatch)  # a reader that drops the BOM loses nothing
    run = suite.run("streaming.chat-bom-comments")
    assert run.result("streaming.chat-bom-comments").observations["events_lost"] == 0


@broken_sdk
def reader_that_reads_comments_as_data(suite, monkeypatch):
    reader(monkeypatch, comments_as_data=True)


@broken_sdk
def reader_that_decodes_each_read_alone(suite, monkeypatch):
    reader(monkeypatch, per_read=True)


def test_the_split_check_cuts_inside_every_character():
    body = streaming_hostile.split_stream()
    cuts = streaming_hostile.character_cuts(body)
    # ü: 1 cut, €: 2, 😀: 3, once each
    assert len(cuts) == 6
    for cut in cuts:
        with pytest.raises(UnicodeDecodeError):
            body[:cut].decode("utf-8")


# -- the helper, wherever it lives ------------------------------------------------------------


def test_the_helper_is_found_under_beta_where_a_release_has_it_there():
    def helper():
        return None

    old = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace()),
                          beta=SimpleNamespace(chat=SimpleNamespace(
                              completions=SimpleNamespace(stream=helper))))
    assert stream_helper(old) == ("client.beta.chat.completions.stream", helper)
    new = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(stream=helper)))
    assert stream_helper(new) == ("client.chat.completions.stream", helper)


@broken_sdk
def lost_helper(suite, monkeypatch):
    monkeypatch.delattr(Completions, "stream")


def test_a_release_before_the_helper_judges_the_loop_alone(suite, monkeypatch):
    """A lost helper fails (the lost_helper rows); a release before it has none to lose."""
    lost_helper(suite, monkeypatch)
    check_id = "streaming.chat-cr-lines"
    pretend_release(monkeypatch, "1.39.0")
    run = suite.run(check_id, "streaming.chat-helper-text")
    assert run.verdict(check_id) is Verdict.PASS
    assert run.result(check_id).observations["helper"] is None
    assert run.verdict("streaming.chat-helper-text") is Verdict.UNSUPPORTED
    assert "openai>=1.40.0" in run.message("streaming.chat-helper-text")


@broken_sdk
def helper_that_loses_a_delta(suite, monkeypatch):
    original = _completions.ChatCompletionStream.__iter__

    def iterate(self):
        deltas = 0
        for event in original(self):
            if event.type == "content.delta":
                deltas += 1
                if deltas == 2:
                    continue
            yield event

    monkeypatch.setattr(_completions.ChatCompletionStream, "__iter__", iterate)


def test_a_helper_that_breaks_on_azure_chunks(suite, monkeypatch):
    """As the helper did before 1.74.0: observed and unsupported there, a fail after (the
    helper_keeps_azure_chunks row of tests/test_suites_streaming.py)."""
    monkeypatch.setattr(_completions, "_is_valid_chat_completion_chunk_weak", lambda chunk: True)
    check_id = "streaming.chat-async-filter-helper"
    pretend_release(monkeypatch, "1.73.0")
    run = suite.run(check_id)
    assert run.verdict(check_id) is Verdict.UNSUPPORTED
    assert "openai>=1.74.0" in run.message(check_id)
    assert run.result(check_id).observations["helper_error"]


# -- an error payload inside a chat stream ----------------------------------------------------

PAYLOAD = "streaming.chat-error-payload"


def streaming_error_says(monkeypatch, message):
    """An SDK whose stream error is APIError(``message``), whatever the error said."""
    import openai

    streaming = openai._streaming

    def error(*, request, body, **_):
        return openai.APIError(message, request, body=body)

    monkeypatch.setattr(streaming, "APIError", error)


@broken_sdk
def sdk_that_swallows_the_error_payload(suite, monkeypatch):
    import openai

    original = openai.Stream.__iter__

    def iterate(self):
        try:
            yield from original(self)
        except openai.APIError:
            return

    monkeypatch.setattr(openai.Stream, "__iter__", iterate)


@broken_sdk
def sdk_that_drops_the_error_message(suite, monkeypatch):
    streaming_error_says(monkeypatch, "An error occurred during streaming")


@pytest.mark.parametrize(("release", "message"), [
    ("1.13.3", "An error occurred during streaming"),
    ("1.5.0", "An error ocurred during streaming"),
])
def test_before_1_13_4_the_fixed_message_is_unsupported(suite, monkeypatch, release, message):
    pretend_release(monkeypatch, release)
    streaming_error_says(monkeypatch, message)
    run = suite.run(PAYLOAD)
    assert run.verdict(PAYLOAD) is Verdict.UNSUPPORTED
    assert "openai>=1.13.4" in run.message(PAYLOAD)
    assert run.result(PAYLOAD).observations["message"] == message


@broken_sdk
def old_release_with_another_message(suite, monkeypatch):
    pretend_release(monkeypatch, "1.5.0")
    streaming_error_says(monkeypatch, "An error occurred during streaming")  # 1.6.0's spelling


CAUGHT = [
    (reader_that_splits_lines_at_unicode_separators, "streaming.chat-line-separators", "python",
     "JSONDecodeError"),
    (reader_that_ends_lines_at_lf_only, "streaming.chat-crlf-lines", "python", ""),
    (reader_that_ends_lines_at_lf_only, "streaming.chat-cr-lines", "python", ""),
    (reader_that_reads_comments_as_data, "streaming.chat-bom-comments", "python", ""),
    # the character the reader could not decode whole
    (reader_that_decodes_each_read_alone, "streaming.chat-split-characters", "python", "\ufffd"),
    (lost_helper, "streaming.chat-cr-lines", "python", "helper is gone"),
    (lost_helper, "streaming.chat-helper-text", "python", ""),
    *[(helper_that_loses_a_delta, check_id, "python", "stream helper's content.delta events")
      for check_id in LOOP],
    (sdk_that_swallows_the_error_payload, PAYLOAD, "python", "raised nothing"),
    (sdk_that_drops_the_error_message, PAYLOAD, "python", "not the error's message"),
    (old_release_with_another_message, PAYLOAD, "python", "neither the error's message"),
]
test_caught = caught(CAUGHT)
