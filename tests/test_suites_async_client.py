"""The AsyncOpenAI checks fail against an async client that loses a chunk, splits lines at
U+2028 in its own reader, or does not retry connection errors; they pass on the pinned SDK."""

from __future__ import annotations

import openai
import openai._streaming
import pytest

from conformance.registry import Verdict

from .mutants import pretend_release

STREAM = "streaming.async-doc-loop-text"
RETRIES = "retries.async-connection-errors"


def test_both_pass_on_the_pinned_sdk(suite):
    run = suite.run(STREAM, RETRIES)
    assert run.verdict(STREAM) is Verdict.PASS, run.message(STREAM)
    assert run.verdict(RETRIES) is Verdict.PASS, run.message(RETRIES)
    rows = run.result(RETRIES).observations["scenarios"]
    assert [r["attempts"] for r in rows] == [3, 3, 1]
    assert all(r["matched"] == "sdk" for r in rows)


def test_an_async_stream_that_loses_a_chunk_fails(suite, monkeypatch):
    original = openai.AsyncStream.__aiter__

    async def iterate(self):
        n = 0
        async for chunk in original(self):
            n += 1
            if n != 3:
                yield chunk

    monkeypatch.setattr(openai.AsyncStream, "__aiter__", iterate)
    run = suite.run(STREAM)
    assert run.verdict(STREAM) is Verdict.FAIL


def splits_lines_at_separators(monkeypatch):
    """An async reader that decodes first and splits with str.splitlines()."""

    async def aiter_bytes(self, iterator):
        data = b"".join([piece async for piece in iterator])
        for line in data.decode("utf-8").splitlines():
            sse = self.decode(line)
            if sse:
                yield sse

    monkeypatch.setattr(openai._streaming.SSEDecoder, "aiter_bytes", aiter_bytes)


def test_an_async_reader_that_splits_at_separators_fails(suite, monkeypatch):
    splits_lines_at_separators(monkeypatch)
    run = suite.run(STREAM, "streaming.chat-line-separators")
    assert run.verdict(STREAM) is Verdict.FAIL
    assert run.verdict("streaming.chat-line-separators") is Verdict.PASS  # the sync reader
    pretend_release(monkeypatch, "1.16.1")
    run = suite.run(STREAM)
    assert run.verdict(STREAM) is Verdict.UNSUPPORTED
    assert "openai>=1.16.2" in run.message(STREAM)


@pytest.mark.parametrize("retries", [0, 5])
def test_an_async_client_that_retries_connection_errors_wrongly_fails(suite, monkeypatch,
                                                                     retries):
    original = openai.AsyncOpenAI.__init__

    def init(self, *args, **kwargs):
        kwargs["max_retries"] = retries
        original(self, *args, **kwargs)

    monkeypatch.setattr(openai.AsyncOpenAI, "__init__", init)
    run = suite.run(RETRIES, "retries.default-attempts")
    assert run.verdict(RETRIES) is Verdict.FAIL
    assert "did not retry as this release's policy says" in run.message(RETRIES)
    assert run.verdict("retries.default-attempts") is Verdict.PASS  # the sync client
