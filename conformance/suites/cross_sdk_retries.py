"""Realistic retries on every SDK: backoff and Azure-sized wait hints, judged by the retry model
(``conformance.policy``: ``predict``/``judge``) under the policy of the release each driver
loaded (its profile in ``conformance.sdks``).

Azure answers throttling with hints in seconds, in both ``retry-after-ms`` and ``retry-after``.
A build without backoff, or one that gives up on any hint of 5 s or more, passes a scenario of
10 ms hints; these scenarios catch both. Delays are timed at the wire for the SDKs that really
sleep (within :data:`conformance.policy.WIRE_HINT_SLACK_S`) and read from the virtual clock for
Python. Every scenario is bounded by its ``deadline_ms``; the hint past a release's cap is only
played where the release has a cap (openai-node 6.x waits any hint in full).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from conformance import sdks
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import (
    WIRE_HINT_SLACK_S,
    Answer,
    Judgement,
    Observed,
    Options,
    Policies,
    Step,
    judge,
)
from conformance.registry import ALL_SDKS, Observations, check, fail, unsupported
from conformance.wire import Script
from conformance.wire import script as actions

from ._requests import CHAT_MESSAGES, DEPLOYMENT
from ._scenario import arrival_gaps, scenario

CHAT_SAMPLE = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "max_tokens": 100}
# The throttling hint Azure sends (seconds; both headers, as a 429 from Azure OpenAI carries).
AZURE_HINT_S = 5.0
DOC_RETRY = ("Python / Retries; JavaScript / Retries (\"a brief exponential backoff\"); each "
             "SDK's own retry policy where the doc is silent (Go, Java)")
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-cross-sdk-retries", "object": "chat.completion", "created": 1700000000,
    "model": "gpt-4o-2024-11-20",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "Paris."}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}


def _policy(driver: Driver) -> Policies:
    return sdks.get(driver.sdk).policies(driver.version)


def _envelope(status: int) -> dict[str, Any]:
    return {"error": {"code": f"code-{status}", "message": f"status {status} from the wire",
                      "param": None, "type": None}}


def _play(wire: Wire, steps: Sequence[Answer]) -> None:
    """Script the server: each step an error reply with its headers, or 200 with the
    completion."""
    wire.use(Script([
        actions.reply(200, COMPLETION, headers=[("x-request-id", "req-200")])
        if step.status == 200 else
        actions.reply(step.status, _envelope(step.status),
                      headers=[("x-request-id", f"req-{step.status}"), *step.headers])
        for step in steps]))


def _observed(wire: Wire, outcome: Mapping[str, Any]) -> tuple[Observed, tuple[float, float]]:
    """What the SDK did, and the slack its delays are judged with (none on the virtual
    clock)."""
    error = outcome.get("error")
    classes = (("success",) if error is None
               else (str(error.get("class")), *map(str, error.get("bases") or [])))
    if "virtual_delays_s" in outcome:  # python: the delays it computed (the virtual clock)
        delays = tuple(float(d) for d in outcome["virtual_delays_s"])
        return Observed(len(wire.requests), delays, classes), (0.0, 0.0)
    return Observed(len(wire.requests), tuple(arrival_gaps(wire)), classes), WIRE_HINT_SLACK_S


def _judge(wire: Wire, driver: Driver, observe: Observations, steps: Sequence[Step],
           deadline_ms: int, max_retries: int | None = None) -> Judgement:
    policy = _policy(driver)
    outcome = driver.run(scenario(wire, "chat.completions.create", CHAT_SAMPLE,
                                  max_retries=max_retries, deadline_ms=deadline_ms))
    observed, slack = _observed(wire, outcome)
    observe("attempts", observed.attempts)
    observe("delays_s", list(observed.delays))
    observe("timed_by", "virtual clock" if slack == (0.0, 0.0) else "wire arrival times")
    observe("outcome", observed.outcome[0])
    judged = judge(policy, steps, Options(max_retries=max_retries), observed, slack=slack)
    observe("release_policy", {"version": driver.version,
                               "predicted": judged.actual.describe(),
                               "refinements": [r.id for r in policy.refinements]})
    if judged.deviations:
        observe("doc_vs_sdk", [d.as_observation() for d in judged.deviations])
    if judged.matched is None:
        fail(f"{driver.sdk} {driver.version} did not retry as its release does "
             f"({sdks.get(driver.sdk).policy_source}): " + "; ".join(judged.problems)
             + f" (expected {judged.actual.describe()})")
    return judged


def _azure_hint() -> tuple[tuple[str, str], ...]:
    return (("retry-after-ms", f"{AZURE_HINT_S * 1000:g}"), ("retry-after", f"{AZURE_HINT_S:g}"))


@check(
    "retries.sdks-backoff-and-azure-hint",
    doc=DOC_RETRY,
    claim="Two 503s without a hint are retried after the release's exponential backoff (0.5 "
    "s, then 1 s, jittered), then a 429 carrying Azure's 5 s hint (retry-after-ms: 5000, "
    "retry-after: 5) is retried after 5 s, and the fourth attempt succeeds (max retries 3): "
    "what that SDK release's own retry policy predicts.",
    cassette=None,
    refs=("sdk-behavior §1 (backoff, Retry-After), §3, §4, §5, §9",
          "conformance/sdks/ (each release's policy)"),
    sdks=ALL_SDKS,
)
def sdks_backoff_and_azure_hint(wire: Wire, driver: Driver, observe: Observations) -> None:
    # Two backoffs, so a backoff that does not grow shows (the second waits 0.75-1 s).
    steps = [Answer(503), Answer(503), Answer(429, _azure_hint()), Answer(200)]
    _play(wire, steps)
    _judge(wire, driver, observe, steps, deadline_ms=int(AZURE_HINT_S * 1000) + 15_000,
           max_retries=3)


@check(
    "retries.sdks-hint-past-cap",
    doc=DOC_RETRY,
    claim="A 429 whose hint is one second past the release's Retry-After cap is handled as "
    "that release says: refused (openai-go >= 3.67.0, openai-python: the 429 is raised at "
    "once), clamped (openai-java >= 4.71.0: 8 s) or replaced by the backoff (openai-node >= "
    "7.5.0). A release without a cap is unsupported here (it would wait the hint in full).",
    cassette=None,
    refs=("sdk-behavior §1, §9 (Retry-After caps per release)",),
    sdks=ALL_SDKS,
)
def sdks_hint_past_cap(wire: Wire, driver: Driver, observe: Observations) -> None:
    rule = _policy(driver).actual.retry_after
    if rule is None or not math.isfinite(rule.maximum):
        unsupported(f"{driver.sdk} {driver.version} has no Retry-After cap: it waits any hint "
                    "in full")
    hint = observe("hint_s", rule.maximum + 1)
    steps = [Answer(429, (("retry-after", f"{hint:g}"),)), Answer(200)]
    _play(wire, steps)
    _judge(wire, driver, observe, steps, deadline_ms=int(min(hint, 60) * 1000) + 15_000)
