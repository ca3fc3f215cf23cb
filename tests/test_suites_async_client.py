"""The AsyncOpenAI checks fail against an async client that loses a chunk or does not retry
connection errors as the release says; they pass on the pinned SDK."""

from __future__ import annotations

import openai
import pytest

from conformance.registry import Verdict

STREAM = "streaming.async-doc-loop-text"
RETRIES = "retries.async-connection-errors"


def test_both_pass_on_the_pinned_sdk(suite):
    run = suite.run(STREAM, RETRIES)
    assert run.verdict(STREAM) is Verdict.PASS, run.message(STREAM)
    assert run.verdict(RETRIES) is Verdict.PASS, run.message(RETRIES)
    rows = run.result(RETRIES).observations["scenarios"]
    assert [r["attempts"] for r in rows] == [3, 2, 1]
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
    assert "breaks the doc's claim" in run.message(RETRIES)
    assert run.verdict("retries.default-attempts") is Verdict.PASS  # the sync client
