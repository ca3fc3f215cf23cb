"""The errors checks pass on the installed SDK and the packaged cassettes, and fail for SDKs
that raise the wrong thing and for error bodies that break the contract."""

from __future__ import annotations

from conformance.registry import REGISTRY, Verdict
from conformance.suites import errors as _registers_the_checks  # noqa: F401

from . import fault_mutants as mutants
from .failures import caught
from .mutants import broken_sdk

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


# -- what breaks each check (tests/failures.py) ----------------------------------------------


def _sdk(name, mutant):
    """A case: openai-python broken by ``mutant`` (tests/fault_mutants.py)."""

    @broken_sdk
    def case(suite, monkeypatch):
        mutant(monkeypatch)

    case.__name__ = name
    return case


def _error_body(name, cassette, index, change):
    """A case: the error body of interaction ``index`` of ``cassette`` broken by ``change``."""

    def case(suite, monkeypatch):
        suite.edit_json(cassette, index, change)

    case.__name__ = name
    return case


raises_internal_server_error_for_429 = _sdk("raises_internal_server_error_for_429",
                                            mutants.raises_for(429, "InternalServerError"))
raises_bad_request_for_404 = _sdk("raises_bad_request_for_404",
                                  mutants.raises_for(404, "BadRequestError"))
raises_status_error_for_500 = _sdk("raises_status_error_for_500",
                                   mutants.raises_for(500, "APIStatusError"))
raises_api_error_for_400 = _sdk("raises_api_error_for_400", mutants.raises_for(400, "APIError"))
body_not_unwrapped = _sdk("body_not_unwrapped", mutants.whole_body)
request_id_dropped = _sdk("request_id_dropped", mutants.drops_request_id)
transport_errors_unwrapped = _sdk("transport_errors_unwrapped",
                                  mutants.unwrapped_transport_errors)
raises_status_error_for_502_html = _sdk("raises_status_error_for_502_html",
                                        mutants.raises_for(502, "APIStatusError"))
timeout_not_a_connection_error = _sdk("timeout_not_a_connection_error",
                                      mutants.timeouts_outside_connection_errors)
text_body_dropped = _sdk("text_body_dropped", mutants.drops_text_bodies)

severity_out_of_range = _error_body(
    "severity_out_of_range", "errors/content-filter.yaml", 0,
    lambda b: b["error"]["innererror"]["content_filter_result"]["violence"].update(
        severity="extreme"))
empty_message = _error_body("empty_message", "errors/azure-envelope.yaml", 3,
                            lambda b: b["error"].update(message=""))
status_member_mismatch = _error_body("status_member_mismatch", "errors/bare-envelope.yaml", 0,
                                     lambda b: b.update(statusCode=403))
no_envelope = _error_body("no_envelope", "errors/openai-envelope.yaml", 0,
                          lambda b: (b.clear(), b.update(detail="no envelope")))
envelope_of_another_family = _error_body(
    "envelope_of_another_family", "errors/openai-envelope.yaml", 1,
    lambda b: (b["error"].pop("type"), b["error"].pop("param")))

CAUGHT = [
    (raises_internal_server_error_for_429, "errors.status-classes", "python",
     "status 429: outcome InternalServerError, expected RateLimitError"),
    (raises_internal_server_error_for_429, "errors.azure-envelope", "python", ""),
    (raises_internal_server_error_for_429, "errors.fine-tuning-example", "python", ""),
    (raises_bad_request_for_404, "errors.status-classes", "python",
     "outcome BadRequestError, expected NotFoundError"),
    (raises_bad_request_for_404, "errors.azure-envelope", "python", ""),
    (raises_bad_request_for_404, "errors.openai-envelope", "python", ""),
    # errors.openai-envelope replays real recordings: 400s and 404s, no 500.
    (raises_status_error_for_500, "errors.status-classes", "python",
     "expected InternalServerError"),
    (raises_status_error_for_500, "errors.bare-envelope", "python", ""),
    (raises_api_error_for_400, "errors.content-filter", "python", "not the SDK's status error"),
    (raises_api_error_for_400, "errors.openai-envelope", "python", ""),
    (body_not_unwrapped, "errors.openai-envelope", "python", "the error's code is None"),
    (body_not_unwrapped, "errors.azure-envelope", "python", ""),
    (body_not_unwrapped, "errors.content-filter", "python", ""),
    (request_id_dropped, "errors.status-classes", "python", "request_id is None"),
    (transport_errors_unwrapped, "errors.connection-error", "python",
     "outcome ReadError, expected APIConnectionError"),
    (transport_errors_unwrapped, "errors.fine-tuning-example", "python", ""),
    (transport_errors_unwrapped, "errors.stream-connection-reset", "python", ""),
    (raises_status_error_for_502_html, "errors.non-json-body", "python",
     "502 html: outcome APIStatusError, expected InternalServerError"),
    (timeout_not_a_connection_error, "errors.timeout", "python", "does not catch"),
    (text_body_dropped, "errors.non-json-body", "python",
     "502 html: err.body is None, not the body text"),
    (severity_out_of_range, "errors.content-filter", "python", "content-filter.severity"),
    (empty_message, "errors.azure-envelope", "python", "error.message"),
    (status_member_mismatch, "errors.bare-envelope", "python", "error.status-member"),
    (no_envelope, "errors.openai-envelope", "python", "error.envelope"),
    (envelope_of_another_family, "errors.openai-envelope", "python",
     "expected a family A envelope, got C"),
]
test_caught = caught(CAUGHT)


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
