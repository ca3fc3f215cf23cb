"""The stand-in judged by the suite itself: a live run (``--endpoint``) pointed at it passes
every check a live run can make, for openai-python and for the JavaScript, Go and Java
drivers; a stand-in that answers wrong fails the check that judges that answer."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict
from conformance.standin import library as standin_library
from conformance.standin import serving

from .known_failures import known_failures

SDKS = ("javascript", "go", "java")
ROOMY = ("--conformance-budget=400", "--conformance-max-tokens=100000")


@pytest.fixture
def live(monkeypatch):
    with serving() as running:
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", running.key)
        yield running


def endpoint(live):
    return (f"--conformance-endpoint={live.base_url}", *ROOMY)


@pytest.mark.slow
def test_every_live_check_passes_against_the_standin(suite, live):
    run = suite.run(args=endpoint(live))
    verdicts = {c.id: c.verdict for c in run.results.checks}
    skipped = [c for c in run.results.checks if c.verdict is Verdict.SKIPPED]
    assert all(c.message.startswith("replay only") for c in skipped), [
        (c.id, c.message) for c in skipped]
    assert {v for v in verdicts.values() if v is not Verdict.SKIPPED} == {Verdict.PASS}, {
        c.id: c.message[:200] for c in run.results.checks
        if c.verdict not in (Verdict.PASS, Verdict.SKIPPED)}
    assert len(verdicts) - len(skipped) >= 50
    # the SDK's requests, through the run's forwarder (identical requests go upstream once)
    assert len(live.requests) > 30


# Hand-written, not a row: a live run against the stand-in (--conformance-endpoint), which a
# row's run does not take.
def test_a_standin_that_answers_wrong_fails_the_check(suite, live, monkeypatch):
    # Responses answers that name the model behind the deployment, not the deployment.
    monkeypatch.setattr(standin_library, "_fit_responses", lambda body: lambda data: False)
    run = suite.run("responses.response-contract", args=endpoint(live))
    assert run.verdict("responses.response-contract") is Verdict.FAIL
    assert "should echo the deployment name" in run.message("responses.response-contract")


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", SDKS)
def test_each_driver_passes_its_live_checks_against_the_standin(suite, live, sdk):
    run = suite.run(args=(*endpoint(live), f"--conformance-sdk={sdk}"))
    mine = [c for c in run.results.checks if c.sdk == sdk]
    if mine and all(c.verdict is Verdict.SKIPPED for c in mine):
        pytest.skip(f"{sdk} driver unavailable: {mine[0].message}")
    # What the pinned SDK does offline, it does live: its known failures (scripts/
    # known_failures.py) fail here too, what it lacks is unsupported, and the checks a live
    # resource cannot be made to answer are skipped as in the python run above.
    known = known_failures()
    unexpected = {c.id: (c.verdict.value, c.message[:200]) for c in mine if not (
        c.verdict is Verdict.PASS or c.verdict is Verdict.UNSUPPORTED
        or (c.verdict is Verdict.SKIPPED and c.message.startswith("replay only"))
        or (c.verdict is Verdict.FAIL and (c.id, sdk) in known))}
    assert not unexpected, unexpected
    assert sum(c.verdict is Verdict.PASS for c in mine) >= 40

