"""The async client (``openai.AsyncOpenAI``): streaming text and retries of connection errors.

Users call the async client as often as the sync one, and its stream reader and retry loop are
separate code (``AsyncStream``, ``AsyncAPIClient``). These checks run the same claims through
it: the doc's streaming loop as ``async for`` (on every SDK with an async client: the
``chat.completions.stream_async`` operation of docs/driver-protocol.md), and the retry policy
of the release (``conformance.policy``) on connection errors. Each check runs its own event
loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conformance.clock import VirtualClock
from conformance.contract.chat_stream import summarize
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import OK, Observed, Options, Step
from conformance.registry import ALL_SDKS, Observations, check, expect
from conformance.sdk import Sdk
from conformance.wire import Script, parse_events

from ._faults import CONNECTION, action, classes_of, python_policies
from ._requests import CHAT_MESSAGES, DEPLOYMENT
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


async def _chat(client: Any) -> BaseException | None:
    try:
        await client.chat.completions.create(model=DEPLOYMENT, messages=CHAT_MESSAGES,
                                             max_tokens=100)
    except Exception as exc:  # the outcome is judged against the release's policy
        return exc
    finally:
        await client.close()
    return None


SCENARIOS: tuple[tuple[str, tuple[Step, ...], Options], ...] = (
    ("reset, reset, then success", (CONNECTION, CONNECTION, OK), Options()),
    ("persistent reset", (CONNECTION,), Options()),
    ("max_retries=0, reset", (CONNECTION,), Options(max_retries=0)),
)


@check(
    "retries.async-connection-errors",
    doc="Python / Retries (connection errors are retried, 2 retries by default, max_retries)",
    claim="AsyncOpenAI retries connection errors as the sync client does: 2 retries by "
    "default with this release's backoff, max_retries=0 none, and after the last attempt it "
    "raises openai.APIConnectionError.",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.2",),
)
def async_connection_errors(wire: Wire, sdk: Sdk, observe: Observations,
                            clock: VirtualClock) -> None:
    policy = python_policies()
    seen = []
    for name, script, options in SCENARIOS:
        wire.use(Script([action(step) for step in script]))
        before = len(wire.requests)
        extra = {} if options.max_retries is None else {"max_retries": options.max_retries}
        delays = len(clock.delays)
        exc = asyncio.run(_chat(sdk.async_client(**extra)))
        attempts = len(wire.requests) - before
        observed = Observed(attempts, tuple(clock.delays[delays:]), classes_of(exc))
        seen.append((name, script, options, observed))
    _judge(policy, seen, observe)


def _judge(policy: Any, seen: list[Any], observe: Observations) -> None:
    from conformance.policy import judge

    rows = []
    problems = []
    shown: dict[str, Any] = {}
    for name, script, options, observed in seen:
        verdict = judge(policy, script, options, observed)
        shown.update((d.id, d) for d in verdict.deviations)
        rows.append({"scenario": name, "attempts": observed.attempts,
                     "delays_s": [round(d, 4) for d in observed.delays],
                     "outcome": observed.outcome[0],
                     "predicted": verdict.actual.describe(),
                     "matched": verdict.matched})
        if verdict.matched is None:
            problems.append(f"{name}: {'; '.join(verdict.problems)} (predicted "
                            f"{verdict.actual.describe()})")
    observe("scenarios", rows)
    observe("doc_vs_sdk", [d.as_observation() for d in shown.values()])
    observe("matches_release_policy", not problems)
    expect(not problems, "AsyncOpenAI did not retry as this release's policy says: "
           + " | ".join(problems))
