"""The async client (``openai.AsyncOpenAI``): streaming text and retries of connection errors.

Users call the async client as often as the sync one, and its stream reader and retry loop are
separate code (``AsyncStream``, ``AsyncAPIClient``). These checks run the same claims through
it: the doc's streaming loop as ``async for``, and the retry policy of the release
(``conformance.policy``) on connection errors. Each check runs its own event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conformance.contract.chat_stream import summarize
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import OK, Options, Step
from conformance.registry import ALL_SDKS, Observations, check, expect
from conformance.sdk import Sdk
from conformance.wire import parse_events

from ._faults import CONNECTION
from ._recorded import call_sdk
from ._retry_runs import RetryRuns
from .streaming import BUFFERED, _params, _same_chunks, doc_loop


async def _read_stream(client: Any, params: dict[str, Any]) -> list[Any]:
    try:
        stream = await call_sdk(client.chat.completions.create, params)
        return [chunk async for chunk in stream]
    finally:
        await client.close()


@check(
    "streaming.async-doc-loop-text",
    doc="Python / Chat / chat.completions.create() - streaming",
    claim="Through AsyncOpenAI, the doc's loop as 'async for chunk in completion' runs "
    "without raising on Azure's empty-choices chunks and prints exactly the wire's text, and "
    "the SDK yields one chunk per JSON event.",
    cassette=BUFFERED,
    refs=("wire §8.1, §8.2, §8.4 #2", "sdk-behavior §2.8"),
)
def async_doc_loop_text(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    chunks = asyncio.run(_read_stream(sdk.async_client(), _params(wire, BUFFERED)))
    summary = summarize([(e.name, e.data) for e in parse_events(wire.reply().streamed)])
    text = summary.choice(0).text
    printed = "".join(doc_loop(chunks))
    observe("printed", printed)
    observe("sdk_chunks", len(chunks))
    expect(printed == text, f"the async loop printed {printed!r}; the wire streamed {text!r}")
    _same_chunks(chunks, summary)


SCENARIOS: tuple[tuple[str, tuple[Step, ...], Options], ...] = (
    ("reset, reset, then success", (CONNECTION, CONNECTION, OK), Options()),
    ("max retries 1, persistent reset", (CONNECTION,), Options(max_retries=1)),
    ("max retries 0, reset", (CONNECTION,), Options(max_retries=0)),
)


@check(
    "retries.async-connection-errors",
    doc="Python / Retries (connection errors are retried, 2 retries by default, max_retries); "
    "JavaScript / Retries",
    claim="The SDK's async client (AsyncOpenAI; openai-java's client.async(); openai-node's "
    "only client) retries connection errors as the sync client does: 2 retries by default "
    "with this release's backoff, max retries 0 none, and after the last attempt it raises "
    "the SDK's connection error. An SDK without an async client is unsupported.",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.2, §3, §5",),
    sdks=ALL_SDKS,
)
def async_connection_errors(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    for name, script, options in SCENARIOS:
        runs.play(name, script, options, client={"async": True})
    runs.close(observe)
