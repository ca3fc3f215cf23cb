"""The async client (``openai.AsyncOpenAI``): streaming text and retries of connection errors.

Users call the async client as often as the sync one, and its stream reader and retry loop are
separate code (``AsyncStream``, ``AsyncAPIClient``). These checks run the same claims through
it: the doc's streaming loop as ``async for`` (on every SDK with an async client: the
``chat.completions.stream_async`` operation of docs/driver-protocol.md), and the retry policy
of the release (``conformance.policy``) on connection errors. Each check runs its own event
loop.
"""

from __future__ import annotations

from conformance.contract.chat_stream import summarize
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import OK, Options, Step
from conformance.registry import ALL_SDKS, Observations, check, expect
from conformance.wire import parse_events

from ._faults import CONNECTION
from ._retry_runs import RetryRuns
from .streaming import ASYNC, BUFFERED, chunks_of, pieces, printed, same_chunks


@check(
    "streaming.async-doc-loop-text",
    doc="Python / Chat / chat.completions.create() - streaming",
    claim="Through the SDK's async client (openai-python's AsyncOpenAI, 'async for chunk in "
    "completion'; openai-java's client.async() with subscribe(); openai-node's one client, "
    "async already), the doc's loop runs without raising on Azure's empty-choices chunks and "
    "prints exactly the wire's text, and the SDK yields one chunk per JSON event.",
    cassette=BUFFERED,
    refs=("wire §8.1, §8.2, §8.4 #2", "sdk-behavior §2.8"),
    sdks=ALL_SDKS,
)
def async_doc_loop_text(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome, chunks = chunks_of(wire, driver, BUFFERED, ASYNC)
    summary = summarize([(e.name, e.data) for e in parse_events(wire.reply().streamed)])
    text = summary.choice(0).text
    got = observe("printed", printed(outcome))
    observe("sdk_chunks", len(chunks))
    expect(got == text, f"{driver.sdk}'s async loop printed {got!r}; the wire streamed "
           f"{text!r}")
    expect("".join(pieces(chunks)) == text, f"{driver.sdk}'s async chunks carry "
           f"{''.join(pieces(chunks))!r}; the wire streamed {text!r}")
    same_chunks(chunks, summary, driver.sdk)


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
