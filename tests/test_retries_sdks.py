"""The retries checks (conformance/suites/retries.py, async_client.py) on the driver SDKs: each
check passes on javascript, go and java as pinned (tests/test_suites_retries.py runs python),
and fails on each against a misbehaving server: one that says ``x-should-retry: false`` on every
error and answers a 400 where the scenario resets the connection, so no SDK retries anything.

Broken SDK builds (no backoff, Azure-sized hints refused, a release's cap removed) are caught
in tests/test_sdks.py (a stand-in driver speaking for each SDK, and a patched openai-node).
Tests that start a real driver are marked ``drivers``.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import sdks
from conformance.policy import Answer, Fault, Step
from conformance.registry import REGISTRY, Verdict
from conformance.suites import _retry_runs
from conformance.suites import async_client as _registers_the_async_check  # noqa: F401
from conformance.suites import retries as _registers_the_checks  # noqa: F401

from .conftest import Suite
from .failures import caught

RETRIES = sorted(c for c in REGISTRY if c.startswith("retries."))
SELECTION = "retries or async_connection"
# What each release lacks (the verdict names the reason): (check id, sdk) -> phrase.
UNSUPPORTED = {
    ("retries.per-request-override", "java"): "no per-request max retries",
    ("retries.async-connection-errors", "go"): "no async client",
}
# The doc's Go Entra sample fails against openai-go v3.100.0 before sending anything
# (scripts/known_failures.py).
KNOWN_FAILURES = {("retries.token-per-attempt", "go"): "azure.WithEndpoint"}

def _verdicts(run: Any, sdk: str) -> dict[str, Verdict]:
    return {c.id: c.verdict for c in run.results.checks if c.sdk == sdk}


def _skip_if_unavailable(run: Any, sdk: str) -> None:
    verdicts = _verdicts(run, sdk)
    if verdicts and set(verdicts.values()) == {Verdict.SKIPPED}:
        pytest.skip(f"{sdk} driver unavailable")


def no_retries(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """The misbehaving server: every error says x-should-retry: false (only that), a reset
    is a 400."""
    original = _retry_runs.action

    def action(step: Step) -> Any:
        if isinstance(step, Fault):
            step = Answer(400)
        reply = original(step)
        if step.status < 400:
            return reply
        kept = tuple(h for h in reply.headers if h[0].lower() != "x-should-retry")
        return type(reply)(reply.status, (*kept, ("x-should-retry", "false")), reply.body)

    monkeypatch.setattr(_retry_runs, "action", action)


# (case, check id, sdk, a phrase of the failure) under the misbehaving server: one run per SDK
# (python too, whose broken builds tests/test_suites_retries.py runs). max-retries-zero retries
# nothing anyway: its resets, answered with a 400, raise another class. The doc's Go Entra
# sample fails there as everywhere; what a release lacks is unsupported in the same run.
PHRASES = {"retries.max-retries-zero": "connection reset: outcome"}
CAUGHT = [
    (no_retries, check_id, sdk,
     KNOWN_FAILURES.get((check_id, sdk), PHRASES.get(check_id, "attempt(s), expected")))
    for sdk in ("python", *sdks.driver_names()) for check_id in RETRIES
    if (check_id, sdk) not in UNSUPPORTED
]
LACKING = [(no_retries, check_id, sdk, reason) for (check_id, sdk), reason in UNSUPPORTED.items()]
test_caught = caught(CAUGHT, lacking=LACKING)


def test_the_table_covers_every_retries_check_on_every_sdk():
    assert len(RETRIES) == 12
    covered = {(check_id, sdk) for _, check_id, sdk, _ in [*CAUGHT, *LACKING]}
    assert covered == {(check_id, sdk) for sdk in ("python", *sdks.driver_names())
                       for check_id in RETRIES}


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", sdks.driver_names())
def test_each_driver_passes_the_retries_checks(suite: Suite, sdk: str):
    run = suite.run(args=(f"--conformance-sdk={sdk}", "-k", SELECTION))
    _skip_if_unavailable(run, sdk)
    verdicts = _verdicts(run, sdk)
    expected = dict.fromkeys(RETRIES, Verdict.PASS)
    for (check_id, unsupported_on), _ in UNSUPPORTED.items():
        if unsupported_on == sdk:
            expected[check_id] = Verdict.UNSUPPORTED
    for (check_id, failing_on), _ in KNOWN_FAILURES.items():
        if failing_on == sdk:
            expected[check_id] = Verdict.FAIL
    assert verdicts == expected, run.outcome.stdout.str()
    for (check_id, on), phrase in {**UNSUPPORTED, **KNOWN_FAILURES}.items():
        if on == sdk:
            assert phrase in run.message(check_id, sdk)


def test_a_long_wait_is_judged_up_to_its_deadline():
    from conformance.policy import Bound, Outcome, Prediction

    waits = Prediction(3, (Bound(0.375, 0.5), Bound(5.0, 5.0)), Outcome("success"))
    assert _retry_runs.until_deadline(waits, 1.2) == Prediction(
        2, (Bound(0.375, 0.5),), _retry_runs.DEADLINE)
    assert _retry_runs.until_deadline(waits, 9.0) == waits
    with pytest.raises(ValueError, match="too close"):
        _retry_runs.until_deadline(waits, 0.7)


def test_delays_timed_at_the_wire_are_compared_by_their_window_not_to_the_millisecond():
    from conformance.results import normalise

    def row(delay: float, matched: str = "sdk") -> dict[str, Any]:
        return {"scenario": "persistent 500", "delays_s": [delay], "matched": matched,
                "timed_by": "wire arrival times",
                "allowed_delays": ["at the wire [0.355, 0.75] s"]}

    assert normalise(row(0.41)) == normalise(row(0.47))
    assert normalise(row(0.41, "neither")) != normalise(row(0.02, "neither"))
