"""Verdicts on older openai releases: a missing feature is ``unsupported`` naming the release
that added it, a ``fail`` cites either the doc's claim or the release's own declared
behaviour (conformance.policy, per release range), and doc-conformant old behaviour passes.

The installed SDK stands in for an older release (``mutants.pretend_release``), with a fault
mutant where the code must behave as that release did. ``python3 dev.py conformance
openai==1.0.0`` (CI) and ``nox -s sweep`` run the real releases.
"""

from __future__ import annotations

import pytest

from conformance.registry import Verdict

from . import fault_mutants
from .failures import caught
from .mutants import broken_sdk, hide_keyword, pretend_release

# (check, the release it is judged as, the release its message must name)
ABSENT = [
    ("errors.status-classes", "1.18.0", "openai>=1.19.0"),  # err.request_id
    ("errors.openai-envelope", "1.3.7", "openai>=1.3.8"),  # err.body
    ("reasoning.max-tokens-rejected", "1.2.1", "openai>=1.2.2"),  # err.code from the error
    ("streaming.chat-usage-chunk", "1.25.0", "openai>=1.26.0"),  # stream_options=
    ("streaming.chat-tool-call-deltas", "1.0.0", "openai>=1.1.0"),  # tools=
    ("embeddings.dimensions", "1.9.0", "openai>=1.10.0"),  # dimensions=
    ("retries.retry-count-header", "1.46.1", "openai>=1.47.0"),  # x-stainless-retry-count
]


# The create() keyword each of those releases lacks (conformance.suites._capability.KEYWORDS).
HIDDEN = {
    "streaming.chat-usage-chunk": ("openai.resources.chat", "Completions", "stream_options"),
    "embeddings.dimensions": ("openai.resources", "Embeddings", "dimensions"),
}


@pytest.mark.parametrize(("check_id", "release", "needed"), ABSENT,
                         ids=[f"{c}@{r}" for c, r, _ in ABSENT])
def test_a_feature_the_release_lacks_is_unsupported_naming_the_release(
        suite, monkeypatch, check_id, release, needed):
    pretend_release(monkeypatch, release)
    if check_id in HIDDEN:  # a keyword is probed in the wheel: this one lacks it
        hide_keyword(monkeypatch, *HIDDEN[check_id])
    if check_id.startswith("retries."):
        fault_mutants.backoff_one_retry_ahead(monkeypatch)  # as releases before 1.47.0 wait
    run = suite.run(check_id)
    assert run.verdict(check_id) is Verdict.UNSUPPORTED, run.message(check_id)
    message = run.message(check_id)
    assert needed.removeprefix("openai>=") in message, message  # the release that added it


@broken_sdk
def wrong_status_class_on_a_release_without_err_request_id(suite, monkeypatch):
    """An attribute the release lacks is not judged; what it has still is."""
    pretend_release(monkeypatch, "1.18.0")
    fault_mutants.raises_for(404, "BadRequestError")(monkeypatch)


@broken_sdk
def err_request_id_lost(suite, monkeypatch):
    """err.request_id is the SDK's own (from 1.19.0), not the doc's: losing it fails the check,
    naming the attribute (the doc's error table carries the request id through it)."""
    fault_mutants.drops_request_id(monkeypatch)


CAUGHT = [
    (wrong_status_class_on_a_release_without_err_request_id, "errors.status-classes", "python",
     "404"),
    (err_request_id_lost, "errors.status-classes", "python", "request_id"),
    (err_request_id_lost, "errors.status-classes", "python", "x-request-id"),
]
test_caught = caught(CAUGHT)


def test_an_old_release_is_judged_by_its_own_numbers(suite, monkeypatch):
    """openai 1.45.1 waits 0.75-1 s before its first retry where today's SDK waits 0.375-0.5
    s: "a brief exponential backoff" either way, and what 1.45.1 declares, so it passes."""
    pretend_release(monkeypatch, "1.45.1")
    fault_mutants.backoff_one_retry_ahead(monkeypatch)
    fault_mutants.no_retry_count_header(monkeypatch)  # 1.47.0 added it
    checks = ["retries.default-attempts", "retries.backoff", "retries.client-max-retries"]
    run = suite.run(*checks)
    for check_id in checks:
        result = run.result(check_id)
        assert result.verdict is Verdict.PASS, (check_id, result.message)
        assert result.observations["conforms_to_doc"] is True
        assert result.labels["matches_release_policy"] is True
        assert "python.backoff-one-ahead" in result.labels["release_policy"]["refinements"]


# Hand-written, not a row: it tests what the fail cites (its first line, the observations).
def test_breaking_the_doc_fails_citing_the_doc(suite, monkeypatch):
    pretend_release(monkeypatch, "1.45.1")
    fault_mutants.backoff_one_retry_ahead(monkeypatch)
    fault_mutants.no_retry_count_header(monkeypatch)  # 1.47.0 added it
    fault_mutants.retries_by_default(3)(monkeypatch)
    run = suite.run("retries.default-attempts")
    result = run.result("retries.default-attempts")
    assert result.verdict is Verdict.FAIL
    assert "breaks the doc's claim" in result.message.split("\n")[0]
    assert "4 attempt(s), expected 3" in result.message
    assert result.observations["conforms_to_doc"] is False


# Hand-written, not rows: it tests the release policy the fail cites (labels, observations).
@pytest.mark.parametrize(("release", "mutant", "cited"), [
    # today's numbers on a release that declares the older ones
    ("1.45.1", None, "python.backoff-one-ahead (openai<1.47.0)"),
    # the older numbers on a release that declares today's
    ("3.57.0", fault_mutants.backoff_one_retry_ahead, "python.backoff (openai>=1.47.0)"),
], ids=["1.45.1-with-todays-backoff", "3.57.0-with-the-old-backoff"])
def test_breaking_the_release_policy_fails_citing_it(suite, monkeypatch, release, mutant,
                                                     cited):
    pretend_release(monkeypatch, release)
    if release < "1.47.0":  # the releases here compare as strings
        fault_mutants.no_retry_count_header(monkeypatch)  # 1.47.0 added it
    if mutant is not None:
        mutant(monkeypatch)
    run = suite.run("retries.default-attempts")
    result = run.result("retries.default-attempts")
    assert result.verdict is Verdict.FAIL
    assert "did not retry as its release does" in result.message
    # the release's declared refinement, cited in the labels beside the verdict
    assert cited.split(" ")[0] in result.labels["release_policy"]["refinements"] or (
        cited in result.message), (cited, result.labels)
    assert result.observations["conforms_to_doc"] is True
    assert result.labels["matches_release_policy"] is False


def test_before_default_httpx_client_the_harness_uses_the_http_librarys_client(
        suite, monkeypatch):
    """openai < 1.17.0 has no DefaultHttpxClient: the in-process checks still run."""
    pretend_release(monkeypatch, "1.16.2")
    run = suite.run("errors.timeout", "retries.max-retries-zero")
    assert run.verdict("errors.timeout") is Verdict.PASS, run.message("errors.timeout")
    assert run.verdict("retries.max-retries-zero") is Verdict.PASS


# Hand-written, not rows: one release passes, another fails, against the capability table.
@pytest.mark.parametrize("check_id", sorted(HIDDEN))
def test_a_keyword_is_probed_in_the_wheel_not_read_from_the_table(suite, monkeypatch,
                                                                  check_id):
    """Judged as the old release but taking the keyword: it has it (observed); a release the
    table says has it but whose create() lacks it fails (the doc's call raises TypeError)."""
    keyword = HIDDEN[check_id][2]
    pretend_release(monkeypatch, dict((c, r) for c, r, _ in ABSENT)[check_id])
    run = suite.run(check_id)
    assert run.verdict(check_id) is Verdict.PASS, run.message(check_id)
    assert run.result(check_id).observations[f"keyword_{keyword}"] is True
    pretend_release(monkeypatch, "3.57.0")
    hide_keyword(monkeypatch, *HIDDEN[check_id])
    run = suite.run(check_id)
    assert run.verdict(check_id) is Verdict.FAIL
    assert f"takes no {keyword}= keyword" in run.message(check_id)
    assert run.result(check_id).observations[f"keyword_{keyword}"] is False
