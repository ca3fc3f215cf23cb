"""The async client (``openai.AsyncOpenAI``): streaming text and retries of connection errors.

Users call the async client as often as the sync one, and its stream reader and retry loop are
separate code (``AsyncStream``, ``AsyncAPIClient``). These checks run the same claims through
it: the doc's streaming loop as ``async for``, and the retry policy of the release
(``conformance.policy``) on connection errors. Each check runs its own event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conformance.clock import VirtualClock
from conformance.harness import Wire
from conformance.policy import OK, Observed, Options, Step
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk
from conformance.wire import Script

from ._faults import CONNECTION, action, classes_of, python_policies
from ._requests import CHAT_MESSAGES, DEPLOYMENT
from .streaming import _same_chunks
from .streaming_hostile import REQUEST, SEPARATORS, _wire_summary


async def _read_stream(client: Any) -> list[Any]:
    try:
        stream = await client.chat.completions.create(**REQUEST)
        return [chunk async for chunk in stream]
    finally:
        await client.close()


@check(
    "streaming.async-doc-loop-text",
    doc="Python / Chat / chat.completions.create() - streaming",
    claim="Through AsyncOpenAI, the doc's loop as 'async for chunk in completion' prints "
    "exactly the wire's text (raw U+2028, U+2029, U+0085 and multi-byte characters included) "
    "and the SDK yields one chunk per JSON event.",
    cassette=SEPARATORS,
    refs=("wire §8.1", "sdk-behavior §2.8"),
    live=False,
)
def async_doc_loop_text(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    from .streaming_hostile import known_misreading

    with known_misreading("stream_byte_lines", observe):
        chunks = asyncio.run(_read_stream(sdk.async_client()))
    summary = _wire_summary(wire)
    text = summary.choice(0).text
    printed = "".join(c.choices[0].delta.content for c in chunks
                      if c.choices and c.choices[0].delta.content is not None)
    observe("printed", printed)
    observe("sdk_chunks", len(chunks))
    expect(printed == text, f"the async loop printed {printed!r}; the wire streamed {text!r}")
    _same_chunks(chunks, summary)


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
    for name, script, options, observed in seen:
        verdict = judge(policy, script, options, observed)
        rows.append({"scenario": name, "attempts": observed.attempts,
                     "delays_s": [round(d, 4) for d in observed.delays],
                     "outcome": observed.outcome[0],
                     "predicted": verdict.actual.describe(),
                     "matched": verdict.matched})
        if verdict.matched is None:
            problems.append(f"{name}: {'; '.join(verdict.problems)} (predicted "
                            f"{verdict.actual.describe()})")
    observe("scenarios", rows)
    expect(not problems, "AsyncOpenAI did not retry as this release's policy says: "
           + " | ".join(problems))
