"""The errors checks pass on the installed SDK and the packaged cassettes, and fail for SDKs
that raise the wrong thing and for error bodies that break the contract."""

from __future__ import annotations

import pytest

from conformance.registry import REGISTRY, Verdict
from conformance.suites import errors as _registers_the_checks  # noqa: F401

from . import fault_mutants as mutants

# Every errors check (each runs on every SDK; here on python, the other SDKs in
# tests/test_sdk_claims.py).
ERRORS = sorted(c for c in REGISTRY if c.startswith("errors."))


def test_all_pass_and_report_the_doc_differences(suite):
    run = suite.run(args=("--conformance-feature=errors",))
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ERRORS, Verdict.PASS)
    classes = run.result("errors.status-classes").observations["classes"]
    assert classes["408"] == "APIStatusError"
    assert classes["409"] == "ConflictError"
    assert classes["429"] == "RateLimitError"
    assert {classes[s] for s in ("500", "502", "503", "504")} == {"InternalServerError"}
    shown = {d["id"] for d in run.result("errors.status-classes").observations["doc_vs_sdk"]}
    assert shown == {"python.408-status-error", "python.409-conflict-error"}
    timeout = run.result("errors.timeout").observations
    assert timeout["class"] == "APITimeoutError"
    assert [d["id"] for d in timeout["doc_vs_sdk"]] == ["python.timeout-error"]
    branches = run.result("errors.fine-tuning-example").observations["branches"]
    assert branches == {"unreachable": "APIConnectionError", "timed out": "APIConnectionError",
                        "rate limited": "RateLimitError",
                        "deployment not found": "APIStatusError", "bad request": "APIStatusError",
                        "server error": "APIStatusError", "conflict": "APIStatusError"}
    assert run.result("errors.bare-envelope").observations["families"] == ["D", "D"]


CAUGHT = [
    (mutants.raises_for(429, "InternalServerError"),
     ["errors.status-classes", "errors.azure-envelope", "errors.fine-tuning-example"],
     "status 429: outcome InternalServerError, expected RateLimitError"),
    (mutants.raises_for(404, "BadRequestError"),
     ["errors.status-classes", "errors.azure-envelope", "errors.openai-envelope"],
     "outcome BadRequestError, expected NotFoundError"),
    # errors.openai-envelope replays real recordings: 400s and 404s, no 500.
    (mutants.raises_for(500, "APIStatusError"),
     ["errors.status-classes", "errors.bare-envelope"],
     "expected InternalServerError"),
    (mutants.raises_for(400, "APIError"), ["errors.content-filter", "errors.openai-envelope"],
     "not the SDK's status error"),
    (mutants.whole_body, ["errors.openai-envelope", "errors.azure-envelope",
                          "errors.content-filter"], "the error's code is None"),
    (mutants.drops_request_id, ["errors.status-classes"], "request_id is None"),
    (mutants.unwrapped_transport_errors, ["errors.connection-error", "errors.fine-tuning-example",
                                          "errors.stream-connection-reset"],
     "outcome ReadError, expected APIConnectionError"),
    (mutants.raises_for(502, "APIStatusError"), ["errors.non-json-body"],
     "502 html: outcome APIStatusError, expected InternalServerError"),
    (mutants.timeouts_outside_connection_errors, ["errors.timeout"],
     "does not catch"),
    (mutants.drops_text_bodies, ["errors.non-json-body"],
     "502 html: err.body is None, not the body text"),
]
CAUGHT_IDS = ["429-as-InternalServerError", "404-as-BadRequestError", "500-as-APIStatusError",
              "400-as-APIError", "body-not-unwrapped", "request-id-dropped",
              "transport-errors-unwrapped", "502-html-as-APIStatusError",
              "timeout-not-a-connection-error", "text-body-dropped"]


@pytest.mark.parametrize(("mutant", "failing", "phrase"), CAUGHT, ids=CAUGHT_IDS)
def test_a_broken_sdk_fails(suite, monkeypatch, mutant, failing, phrase):
    mutants.assert_caught(suite, monkeypatch, mutant, failing, phrase)


def test_an_sdk_raising_apiconnectionerror_for_timeouts_follows_the_doc(suite, monkeypatch):
    """The doc's table says N/A -> APIConnectionError; APITimeoutError is a declared, tolerated
    deviation, so an SDK without it passes too."""
    import openai

    monkeypatch.setattr(openai._base_client, "APITimeoutError",
                        lambda request: openai.APIConnectionError(request=request))
    run = suite.run("errors.timeout")
    result = run.result("errors.timeout")
    assert result.verdict is Verdict.PASS
    assert result.observations["class"] == "APIConnectionError"
    assert result.observations["doc_vs_sdk"] == []


@pytest.mark.parametrize(("cassette", "index", "change", "check_id", "phrase"), [
    ("errors/content-filter.yaml", 0,
     lambda b: b["error"]["innererror"]["content_filter_result"]["violence"].update(
         severity="extreme"),
     "errors.content-filter", "content-filter.severity"),
    ("errors/azure-envelope.yaml", 3, lambda b: b["error"].update(message=""),
     "errors.azure-envelope", "error.message"),
    ("errors/bare-envelope.yaml", 0, lambda b: b.update(statusCode=403),
     "errors.bare-envelope", "error.status-member"),
    ("errors/openai-envelope.yaml", 0, lambda b: (b.clear(), b.update(detail="no envelope")),
     "errors.openai-envelope", "error.envelope"),
    ("errors/openai-envelope.yaml", 1, lambda b: (b["error"].pop("type"), b["error"].pop("param")),
     "errors.openai-envelope", "expected a family A envelope, got C"),
], ids=["severity", "empty-message", "status-mismatch", "no-envelope", "wrong-family"])
def test_a_broken_error_body_fails(suite, cassette, index, change, check_id, phrase):
    suite.edit_json(cassette, index, change)
    run = suite.run(check_id)
    assert run.verdict(check_id) is Verdict.FAIL
    assert phrase in run.message(check_id)


def test_a_status_that_differs_from_the_cassette_is_judged_by_the_model(suite):
    """The replayed 408 turned into a 409: ConflictError is a declared deviation, so the check
    still passes and names it."""

    def to_conflict(interactions):
        interactions[5].response["status"]["code"] = 409

    suite.edit("errors/azure-envelope.yaml", to_conflict)
    run = suite.run("errors.azure-envelope")
    result = run.result("errors.azure-envelope")
    assert result.verdict is Verdict.PASS, result.message
    assert "python.409-conflict-error" in {d["id"] for d in result.observations["doc_vs_sdk"]}


def test_the_stream_reset_is_unsupported_before_3_14(suite, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "3.13.0" if name == "openai" else real(name))
    mutants.unwrapped_transport_errors(monkeypatch)
    run = suite.run("errors.stream-connection-reset")
    assert run.verdict("errors.stream-connection-reset") is Verdict.UNSUPPORTED
    assert "3.14.0" in run.message("errors.stream-connection-reset")
