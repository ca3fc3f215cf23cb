"""The retries checks pass on the installed SDK and fail for SDKs that retry wrongly."""

from __future__ import annotations

import pytest

from conformance.registry import REGISTRY, Verdict
from conformance.suites import async_client as _registers_the_async_check  # noqa: F401
from conformance.suites import retries as _registers_the_checks  # noqa: F401

from . import fault_mutants as mutants
from .failures import Case, caught
from .mutants import broken_sdk

# Every retries check runs on every SDK; here on python (the drivers: tests/test_retries_sdks.py).
RETRIES = sorted(c for c in REGISTRY if c.startswith("retries."))


def test_all_pass_and_name_the_deviations(suite):
    run = suite.run(args=("--conformance-feature=retries", "--conformance-sdk=python"))
    verdicts = {c.id: c.verdict for c in run.results.checks}
    assert verdicts == dict.fromkeys(RETRIES, Verdict.PASS)
    shown = {d["id"] for c in run.results.checks for d in c.observations["doc_vs_sdk"]}
    assert {"python.409-retried", "python.retry-after-too-long", "python.x-should-retry",
            "python.timeouts-retried"} <= shown
    limits = run.result("retries.retry-after-limits").observations["scenarios"]
    refused = next(s for s in limits if s["scenario"] == "retry-after 300")
    assert (refused["attempts"], refused["outcome"]) == (1, "RateLimitError")
    # The virtual clock: a run whose delays add up to minutes takes about a second (each
    # scenario builds its client: tens of milliseconds).
    hinted = run.result("retries.retry-after").observations["scenarios"]
    assert sum(d for s in hinted for d in s["delays_s"]) > 60
    slow = [(c.id, c.duration_s) for c in run.results.checks if c.duration_s > 10.0]
    assert not slow


# (mutant, the checks that must fail, a phrase of the first one's message)
BROKEN = [
    (mutants.retries_by_default(3), ["retries.default-attempts"], "4 attempt(s), expected 3"),
    (mutants.never_retries(429), ["retries.retryable-set", "retries.default-attempts"],
     "429, then success: 1 attempt(s), expected 2"),
    (mutants.never_retries(503), ["retries.retryable-set", "retries.client-max-retries"],
     "503, then success"),
    (mutants.retries_everything, ["retries.retryable-set", "retries.x-should-retry"],
     "400: 2 attempt(s), expected 1"),
    (mutants.ignores_retry_after, ["retries.retry-after"], "expected 0.05 s"),
    (mutants.long_retry_after_cap, ["retries.retry-after-limits"], "retry-after 300"),
    (mutants.no_jitter, ["retries.backoff"], "no jitter"),
    (mutants.flat_backoff, ["retries.backoff", "retries.default-attempts"], "expected [0.75, 1]"),
    (mutants.frozen_retry_count, ["retries.retry-count-header"], "x-stainless-retry-count"),
    (mutants.with_options_ignores_max_retries, ["retries.per-request-override"],
     "3 attempt(s), expected 6"),
    (mutants.token_once_per_call, ["retries.token-per-attempt"],
     "the token provider was called 1 time(s)"),
    (mutants.unwrapped_transport_errors,
     ["retries.default-attempts", "retries.retryable-set", "retries.max-retries-zero"],
     "outcome ReadError"),
]
CAUGHT_IDS = ["3-retries-by-default", "429-not-retried", "503-not-retried", "400-retried",
              "retry-after-ignored", "retry-after-cap-600s", "no-jitter", "flat-backoff",
              "retry-count-frozen", "with-options-ignored", "token-once-per-call",
              "transport-errors-unwrapped"]


def _broken(name: str, mutant: mutants.Mutant) -> Case:
    """A case: openai-python patched by ``mutant``."""

    @broken_sdk
    def case(suite: object, monkeypatch: pytest.MonkeyPatch) -> None:
        mutant(monkeypatch)

    case.__name__ = name
    return case


# One run per mutant: each of its checks fails, the first with the phrase.
CAUGHT = [
    (case, check_id, "python", phrase if n == 0 else "")
    for (mutant, failing, phrase), name in zip(BROKEN, CAUGHT_IDS, strict=True)
    for case in [_broken(name, mutant)]
    for n, check_id in enumerate(failing)
]
test_a_broken_sdk_fails = caught(CAUGHT)


def test_an_sdk_that_follows_the_doc_on_409_passes(suite, monkeypatch):
    """A declared deviation is allowed, not required: no 409 retry is what the doc says."""
    mutants.conflict_not_retried(monkeypatch)
    run = suite.run("retries.retryable-set")
    result = run.result("retries.retryable-set")
    assert result.verdict is Verdict.PASS
    assert result.observations["follows_doc_despite_declared_deviation"] == ["409, then success"]
    assert "python.409-retried" not in {d["id"] for d in result.observations["doc_vs_sdk"]}


def test_a_timeout_scenario_gives_the_request_the_errors_second(suite, monkeypatch):
    """Seen on a busy machine (openai 1.97.1 and 1.61.0 in gates): a 200 ms client timeout ran
    out before the stand-in had read the request ("0 attempts", or the late request taking
    the next reply): the timeout scenarios give it a second, as errors.timeout does."""
    from conformance.drivers.python import PythonDriver
    from conformance.suites.errors import TIMEOUT_MS

    original = PythonDriver.run
    seen: list[int] = []

    def run(self, scenario):
        if scenario["client"].get("timeout_ms"):
            seen.append(scenario["client"]["timeout_ms"])
        return original(self, scenario)

    monkeypatch.setattr(PythonDriver, "run", run)
    run = suite.run("retries.max-retries-zero")
    assert run.verdict("retries.max-retries-zero") is Verdict.PASS
    assert seen == [TIMEOUT_MS] == [1000]
