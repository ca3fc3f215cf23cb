"""The AsyncOpenAI checks fail against an async client that loses a chunk or does not retry
connection errors as the release says; they pass on the pinned SDK."""

from __future__ import annotations

import openai
import pytest

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk

STREAM = "streaming.async-doc-loop-text"
RETRIES = "retries.async-connection-errors"


def test_both_pass_on_the_pinned_sdk(suite):
    run = suite.run(STREAM, RETRIES)
    assert run.verdict(STREAM) is Verdict.PASS, run.message(STREAM)
    assert run.verdict(RETRIES) is Verdict.PASS, run.message(RETRIES)
    rows = run.result(RETRIES).observations["scenarios"]
    assert [r["attempts"] for r in rows] == [3, 2, 1]
    assert all(r["matched"] == "sdk" for r in rows)


# -- what breaks each check (tests/failures.py) ----------------------------------------------


@broken_sdk
def async_stream_loses_a_chunk(suite, monkeypatch):
    original = openai.AsyncStream.__aiter__

    async def iterate(self):
        n = 0
        async for chunk in original(self):
            n += 1
            if n != 3:
                yield chunk

    monkeypatch.setattr(openai.AsyncStream, "__aiter__", iterate)


def _async_client_retrying(retries):
    @broken_sdk
    def case(suite, monkeypatch):
        original = openai.AsyncOpenAI.__init__

        def init(self, *args, **kwargs):
            kwargs["max_retries"] = retries
            original(self, *args, **kwargs)

        monkeypatch.setattr(openai.AsyncOpenAI, "__init__", init)

    case.__name__ = f"async_client_with_max_retries_{retries}"
    return case


async_client_never_retrying = _async_client_retrying(0)
async_client_retrying_five_times = _async_client_retrying(5)
CAUGHT = [
    (async_stream_loses_a_chunk, STREAM, "python", ""),
    (async_client_never_retrying, RETRIES, "python", "breaks the doc's claim"),
    (async_client_retrying_five_times, RETRIES, "python", "breaks the doc's claim"),
]
test_caught = caught(CAUGHT)


@pytest.mark.parametrize("case", [async_client_never_retrying, async_client_retrying_five_times],
                         ids=["0", "5"])
def test_an_async_client_that_retries_wrongly_leaves_the_sync_client_passing(suite, monkeypatch,
                                                                             case):
    """It fails the async check (rows above), not the sync client's."""
    case(suite, monkeypatch)
    run = suite.run("retries.default-attempts")
    assert run.verdict("retries.default-attempts") is Verdict.PASS
