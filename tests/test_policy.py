"""The policy model: the doc's numbers per SDK, the declared deviations, and the predictions
and judgements the errors and retries checks rely on."""

from __future__ import annotations

import email.utils
import math
import re
import time
from dataclasses import replace
from typing import Any

import pytest

from conformance import policy as model
from conformance import sdks
from conformance.policy import (
    DEVIATIONS,
    DOCUMENTED,
    OK,
    Ambiguous,
    Answer,
    Bound,
    Fault,
    Observed,
    Options,
    Outcome,
    judge,
    policies,
    predict,
)
from conformance.sdk import CAPABILITIES

CONNECTION, TIMEOUT = Fault("connection"), Fault("timeout")
NOW = 1_800_000_000.0


def only(*features):
    return lambda feature: feature in features


PY = policies("python")  # the newest SDK: every feature


def attempts(policy, script, options=None):
    options = options or Options()
    return predict(policy, script, options, now=NOW).attempts


# -- the doc, SDK by SDK ------------------------------------------------------------------------


def test_the_doc_numbers_per_sdk():
    assert DOCUMENTED["python"].default_max_retries == 2
    assert DOCUMENTED["javascript"].default_max_retries == 2
    assert DOCUMENTED["dotnet"].default_max_retries == 3
    for sdk in ("python", "javascript"):
        doc = DOCUMENTED[sdk]
        assert doc.retry_statuses == {408, 429} and doc.retry_from == 500
        assert doc.retry_connection_errors
    dotnet = DOCUMENTED["dotnet"]
    assert dotnet.retry_statuses == {408, 429, 500, 502, 503, 504} and dotnet.retry_from is None
    assert DOCUMENTED["python"].classes[429] == "RateLimitError"
    assert DOCUMENTED["python"].class_from == (500, "InternalServerError")
    assert DOCUMENTED["javascript"].classes[503] == "Service Unavailable"
    assert 502 not in DOCUMENTED["dotnet"].classes  # sdk-behavior §8 #2


def test_persistent_failures_per_doc():
    assert attempts(DOCUMENTED["python"], [Answer(500)]) == 3
    assert attempts(DOCUMENTED["javascript"], [Answer(429)]) == 3
    assert attempts(DOCUMENTED["dotnet"], [Answer(503)]) == 4
    assert attempts(DOCUMENTED["dotnet"], [Answer(501)]) == 1
    assert attempts(DOCUMENTED["python"], [Answer(409)]) == 1


def test_every_deviation_is_sourced_and_gated_by_a_known_feature():
    ids = [d.id for d in DEVIATIONS]
    assert len(ids) == len(set(ids))
    for deviation in DEVIATIONS:
        assert deviation.sdk in DOCUMENTED
        assert deviation.id.startswith(deviation.sdk + ".")
        assert re.search(r"(sdk-behavior|wire) §\d", deviation.source), deviation.id
        assert deviation.verdict in ("tolerated", "fail")
        assert deviation.capability is None or deviation.capability in CAPABILITIES, deviation.id


def test_the_deviations_the_brief_names_are_declared():
    declared = {d.id for d in DEVIATIONS}
    assert {"python.409-retried", "python.408-status-error", "python.409-conflict-error",
            "python.retry-after-too-long", "python.timeout-error"} <= declared


# -- the actual Python model --------------------------------------------------------------------


@pytest.mark.parametrize(("script", "expected"), [
    ([Answer(500)], (3, "InternalServerError")),
    ([Answer(429)], (3, "RateLimitError")),
    ([Answer(409)], (3, "ConflictError")),
    ([Answer(408)], (3, "APIStatusError")),
    ([Answer(400)], (1, "BadRequestError")),
    ([Answer(413)], (1, "APIStatusError")),
    ([CONNECTION], (3, "APIConnectionError")),
    ([TIMEOUT], (3, "APITimeoutError")),
    ([Answer(503), CONNECTION, OK], (3, "success")),
    ([Answer(400, (("x-should-retry", "true"),)), OK], (2, "success")),
    ([Answer(503, (("x-should-retry", "false"),))], (1, "InternalServerError")),
    ([Answer(400, (("x-should-retry", "True"),))], (1, "BadRequestError")),
    ([Answer(429, (("retry-after", "300"), ("x-should-retry", "true")))], (1, "RateLimitError")),
])
def test_python_predictions(script, expected):
    prediction = predict(PY.actual, script, now=NOW)
    assert (prediction.attempts, prediction.outcome.name) == expected


def test_backoff_bounds():
    prediction = predict(PY.actual, [Answer(500)], Options(max_retries=6), now=NOW)
    assert prediction.delays == tuple(Bound(0.75 * b, b) for b in (0.5, 1, 2, 4, 8, 8))


@pytest.mark.parametrize(("headers", "delay"), [
    ((("retry-after-ms", "1500"),), Bound(1.5, 1.5)),
    ((("retry-after", "3"),), Bound(3.0, 3.0)),
    ((("retry-after-ms", "junk"), ("retry-after", "2")), Bound(2.0, 2.0)),
    ((("retry-after-ms", "250"), ("retry-after", "7")), Bound(0.25, 0.25)),
    ((("retry-after", "0"),), Bound(0.375, 0.5)),
    ((("retry-after", "-1"),), Bound(0.375, 0.5)),
    ((("retry-after", "nan"),), Bound(0.375, 0.5)),
    ((("retry-after", "inf"),), Bound(0.375, 0.5)),  # a literal infinity is not an overflow
    ((("retry-after", "soon"),), Bound(0.375, 0.5)),
    ((("retry-after", "120"),), Bound(120.0, 120.0)),
])
def test_retry_after_is_used_inside_the_window(headers, delay):
    prediction = predict(PY.actual, [Answer(429, headers), OK], now=NOW)
    assert prediction.attempts == 2
    assert prediction.delays == (delay,)


@pytest.mark.parametrize("value", ["120.5", "300", "86400", "1e400"])
def test_a_hint_beyond_120_s_stops_the_retries(value):
    assert attempts(PY.actual, [Answer(429, (("retry-after", value),)), OK]) == 1


def test_http_dates_are_read_against_the_clock():
    ahead = email.utils.formatdate(NOW + 30, usegmt=True)
    prediction = predict(PY.actual, [Answer(429, (("retry-after", ahead),)), OK], now=NOW)
    assert prediction.delays == (Bound(29.0, 30.0),)
    far = email.utils.formatdate(NOW + 3600, usegmt=True)
    assert attempts(PY.actual, [Answer(429, (("retry-after", far),)), OK]) == 1
    past = email.utils.formatdate(NOW - 60, usegmt=True)
    assert predict(PY.actual, [Answer(429, (("retry-after", past),)), OK],
                   now=NOW).delays == (Bound(0.375, 0.5),)


@pytest.mark.parametrize("offset", [0.5, 120.5])
def test_http_dates_next_to_a_threshold_are_ambiguous(offset):
    date = email.utils.formatdate(NOW + offset, usegmt=True)
    with pytest.raises(Ambiguous):
        predict(PY.actual, [Answer(429, (("retry-after", date),))], now=math.floor(NOW))


def test_overrides():
    assert attempts(PY.actual, [Answer(500)], Options(max_retries=0)) == 1
    assert attempts(PY.actual, [Answer(500)], Options(max_retries=4)) == 5
    assert attempts(PY.actual, [Answer(500)], Options(per_request=5)) == 6
    assert attempts(PY.actual, [Answer(500)], Options(max_retries=3, per_request=0)) == 1


# openai 1.47.0 .. 2.51.x: the retry loop as today, the 60 s Retry-After window.
BEFORE_REFUSAL = ("backoff_from_half_second", "retry_after_ms", "retry_after_float",
                  "retry_count_header")


def test_older_sdks_use_a_60_s_window_and_retry_longer_hints():
    old = policies("python", only(*BEFORE_REFUSAL))
    assert old.actual.retry_after is not None and old.actual.retry_after.maximum == 60
    assert "python.retry-after-too-long" not in {d.id for d in old.deviations}
    prediction = predict(old.actual, [Answer(429, (("retry-after", "90"),)), OK], now=NOW)
    assert (prediction.attempts, prediction.delays) == (2, (Bound(0.375, 0.5),))
    middle = policies("python", only("retry_after_refusal"))
    assert attempts(middle.actual, [Answer(429, (("retry-after", "1e400"),)), OK]) == 2
    assert attempts(PY.actual, [Answer(429, (("retry-after", "1e400"),)), OK]) == 1


# -- per release range: what each release promised ---------------------------------------------


def test_before_1_47_the_backoff_runs_one_retry_ahead():
    old = policies("python", only("retry_after_ms", "retry_after_float"))  # 1.9.0 .. 1.46.x
    assert [d.id for d in old.refinements] == ["python.backoff-one-ahead", "python.retry-after"]
    prediction = predict(old.actual, [Answer(500)], Options(max_retries=5), now=NOW)
    assert prediction.delays == tuple(Bound(0.75 * b, b) for b in (1, 2, 4, 8, 8))
    assert old.actual.retry_count_header is None
    assert PY.actual.retry_count_header == "x-stainless-retry-count"


@pytest.mark.parametrize(("features", "headers", "delay"), [
    # 1.0.0 .. 1.3.6: retry-after as an integer only, no retry-after-ms
    ((), (("retry-after", "3"),), Bound(3.0, 3.0)),
    ((), (("retry-after", "0.25"),), Bound(0.75, 1.0)),
    ((), (("retry-after-ms", "1500"),), Bound(0.75, 1.0)),
    ((), (("retry-after", "90"),), Bound(0.75, 1.0)),
    # 1.3.7 .. 1.8.x: float seconds, still no retry-after-ms
    (("retry_after_float",), (("retry-after", "0.25"),), Bound(0.25, 0.25)),
    (("retry_after_float",), (("retry-after-ms", "250"), ("retry-after", "7")), Bound(7.0, 7.0)),
    # 1.9.0 on: retry-after-ms first
    (("retry_after_float", "retry_after_ms"), (("retry-after-ms", "250"), ("retry-after", "7")),
     Bound(0.25, 0.25)),
])
def test_retry_after_per_release_range(features, headers, delay):
    release = policies("python", only(*features))
    assert predict(release.actual, [Answer(429, headers), OK], now=NOW).delays == (delay,)


def test_a_truncated_http_date_is_within_the_older_slack():
    release = policies("python", only())
    ahead = email.utils.formatdate(NOW + 30, usegmt=True)
    (bound,) = predict(release.actual, [Answer(429, (("retry-after", ahead),)), OK],
                       now=NOW).delays
    assert bound.contains(28.5) and bound.contains(30.0)


def test_error_attributes_per_release():
    assert all(PY.exposes(a.name) for a in PY.attributes)
    old = policies("python", only("error_fields"))  # 1.2.2 .. 1.3.7
    assert old.exposes("status_code") and old.exposes("code")
    assert not old.exposes("body") and not old.exposes("request_id")
    assert {a.capability for a in PY.attributes} <= set(CAPABILITIES) | {None}


def test_every_refinement_range_is_a_known_feature():
    for deviation in DEVIATIONS:
        assert deviation.until is None or deviation.until in CAPABILITIES, deviation.id
    # each Python refinement is declared for disjoint ranges: one of each kind applies
    for features in [(), ("retry_after_float",), BEFORE_REFUSAL, tuple(CAPABILITIES)]:
        ids = [d.id for d in policies("python", only(*features)).refinements]
        assert sum(i.startswith("python.backoff") for i in ids) == 1, ids
        assert sum(i.startswith("python.retry-after") for i in ids) == 1, ids


def test_js_and_dotnet_models():
    js = sdks.get("javascript").policies("7.57.0").actual
    assert predict(js, [Answer(429, (("retry-after", "90"),)), OK], now=NOW).delays == (
        Bound(0.375, 0.5),)
    assert predict(js, [Answer(429, (("retry-after", "0"),)), OK], now=NOW).delays == (
        Bound(0.0, 0.0),)
    assert predict(js, [Answer(503)], now=NOW).outcome == Outcome("InternalServerError")
    assert predict(js, [TIMEOUT], now=NOW).outcome == Outcome("APIConnectionTimeoutError")
    dotnet = sdks.get("dotnet").policies("2.13.0").actual
    prediction = predict(dotnet, [Answer(503)], now=NOW)
    assert prediction.attempts == 4
    assert prediction.delays == (Bound(0.8, 0.8), Bound(1.6, 1.6), Bound(3.2, 3.2))
    assert prediction.outcome == Outcome("ClientResultException")
    assert attempts(dotnet, [Answer(409)]) == 1  # no 409 retry in .NET
    assert attempts(dotnet, [CONNECTION]) == 4
    hinted = predict(dotnet, [Answer(429, (("retry-after", "5"),)), OK], now=NOW)
    assert hinted.delays == (Bound(5.0, 5.0),)  # longer than the 0.8 s backoff: used
    short = predict(dotnet, [Answer(429, (("retry-after-ms", "100"),)), OK], now=NOW)
    assert short.delays == (Bound(0.8, 0.8),)


# -- judging ------------------------------------------------------------------------------------


def observed(attempts, delays, *classes):
    return Observed(attempts, tuple(delays), tuple(classes))


def test_matching_the_sdk_model_names_the_deviations_shown():
    verdict = judge(PY, [Answer(409)], Options(),
                    observed(3, [0.4, 0.9], "ConflictError", "APIStatusError"), now=NOW)
    assert verdict.matched == "sdk"
    assert {d.id for d in verdict.deviations} == {"python.409-retried",
                                                 "python.409-conflict-error"}
    assert verdict.failing == ()


def test_following_the_doc_where_a_deviation_is_declared_passes():
    verdict = judge(PY, [Answer(409)], Options(),
                    observed(1, [], "ConflictError", "APIStatusError"), now=NOW)
    assert verdict.matched == "doc"


@pytest.mark.parametrize(("script", "seen"), [
    ([Answer(500)], observed(4, [0.4, 0.9, 1.9], "InternalServerError")),  # 3 retries
    ([Answer(429)], observed(1, [], "RateLimitError")),  # 429 not retried
    ([Answer(429)], observed(3, [0.4, 0.9], "APIStatusError")),  # wrong class
    ([Answer(429, (("retry-after", "2"),)), OK], observed(2, [0.4], "success")),  # ignored
    ([Answer(500)], observed(3, [0.5, 0.5], "InternalServerError")),  # no exponential growth
])
def test_what_matches_neither_model_is_a_problem(script, seen):
    verdict = judge(PY, script, Options(), seen, now=NOW)
    assert verdict.matched is None
    assert verdict.problems


def test_doc_conformant_numbers_of_another_release_break_only_the_release_policy():
    """openai 1.45.1's delays (0.75-1 s first) under today's policy: the doc holds ("a brief
    exponential backoff"), today's numbers do not."""
    verdict = judge(PY, [Answer(500)], Options(),
                    observed(3, [0.9, 1.8], "InternalServerError"), now=NOW)
    assert verdict.matched is None and verdict.conforms_to_doc
    assert [r.id for r in verdict.broken] == ["python.backoff"]
    old = policies("python", only("retry_after_ms", "retry_after_float"))
    assert judge(old, [Answer(500)], Options(),
                 observed(3, [0.9, 1.8], "InternalServerError"), now=NOW).matched == "sdk"


def test_breaking_the_doc_is_not_blamed_on_the_release_policy():
    verdict = judge(PY, [Answer(500)], Options(),
                    observed(4, [0.4, 0.9, 1.9], "InternalServerError"), now=NOW)
    assert not verdict.conforms_to_doc and verdict.broken == ()


def test_a_deviation_declared_as_fail_fails_the_claim():
    strict = tuple(replace(d, verdict="fail") if d.id == "python.409-retried" else d
                   for d in PY.deviations)
    harsh = replace(PY, deviations=strict)
    verdict = judge(harsh, [Answer(409)], Options(),
                    observed(3, [0.4, 0.9], "ConflictError"), now=NOW)
    assert [d.id for d in verdict.failing] == ["python.409-retried"]


def test_outcomes_and_bounds():
    assert Outcome("APIStatusError", exact=False).matches(("RateLimitError", "APIStatusError"))
    assert not Outcome("APIStatusError").matches(("RateLimitError", "APIStatusError"))
    assert not Outcome("x").matches(())
    assert str(Bound(0, math.inf)) == ">= 0 s"
    assert Bound(1, 2).contains(2.0) and not Bound(1, 2).contains(2.1)


def test_a_script_needs_a_step():
    with pytest.raises(ValueError, match="at least one step"):
        predict(PY.actual, [])


def test_the_model_clock_defaults_to_now():
    ahead = email.utils.formatdate(time.time() + 30, usegmt=True)
    (bound,) = predict(PY.actual, [Answer(429, (("retry-after", ahead),)), OK]).delays
    assert 28 <= bound.low <= bound.high <= 30


def test_model_exports():
    assert set(model.__all__) <= set(dir(model))


# -- the driver SDKs' own policies, per release (conformance/sdks/) --------------------------


def _hinted(sdk: str, version: str, header: tuple[str, str]) -> Any:
    return predict(sdks.get(sdk).policies(version).actual, [Answer(429, (header,)), OK],
                   now=NOW)


@pytest.mark.parametrize(("sdk", "version", "hint", "attempts", "delays"), [
    # openai-node: 6.x waits any hint in full; from 7.5.0 hints over 60 s fall back to backoff
    ("javascript", "6.49.0", "150", 2, (Bound(150.0, 150.0),)),
    ("javascript", "6.49.0", "5", 2, (Bound(5.0, 5.0),)),
    ("javascript", "7.5.0", "150", 2, (Bound(0.375, 0.5),)),
    ("javascript", "7.5.0", "60", 2, (Bound(60.0, 60.0),)),
    # openai-go: v3.67.0 on refuses hints over 2 min; v3.53-v3.66 clamp to 8 s; v3.25-v3.52 wait
    ("go", "3.100.0", "121", 1, ()),
    ("go", "3.100.0", "120", 2, (Bound(120.0, 120.0),)),
    ("go", "3.60.0", "121", 2, (Bound(8.0, 8.0),)),
    ("go", "3.30.0", "121", 2, (Bound(121.0, 121.0),)),
    ("go", "3.20.0", "61", 2, (Bound(0.375, 0.5),)),
    # openai-java: from 4.71.0 hints are clamped to [0, 8 s]; 4.25-4.70 wait them in full
    ("java", "4.105.0", "9", 2, (Bound(8.0, 8.0),)),
    ("java", "4.105.0", "-3", 2, (Bound(0.0, 0.0),)),
    # toFloatOrNull("1e400") is Infinity, toLong() the largest Long: clamped like any long hint
    ("java", "4.105.0", "1e400", 2, (Bound(8.0, 8.0),)),
    ("java", "4.70.0", "9", 2, (Bound(9.0, 9.0),)),
    ("java", "4.20.0", "61", 2, (Bound(0.375, 0.5),)),
])
def test_each_driver_release_is_judged_by_its_own_retry_after_rule(sdk, version, hint,
                                                                    attempts, delays):
    prediction = _hinted(sdk, version, ("retry-after", hint))
    assert (prediction.attempts, prediction.delays) == (attempts, delays)


def test_driver_policies_hold_the_token_and_option_facts_of_their_release():
    assert sdks.get("java").policies("4.105.0").actual.token_provider_called == "request"
    assert not sdks.get("java").policies("4.105.0").actual.per_request_max_retries
    for sdk, version in (("javascript", "6.49.0"), ("go", "3.100.0")):
        actual = sdks.get(sdk).policies(version).actual
        assert actual.token_provider_called == "attempt" and actual.per_request_max_retries
    go = sdks.get("go").policies("3.100.0")
    assert go.documented is None  # the doc's Go section is silent: its own policy judges
    assert predict(go.actual, [Answer(404)], now=NOW).outcome == Outcome("*openai.Error")
    assert predict(go.actual, [Answer(503)], now=NOW).delays == (Bound(0.375, 0.5),
                                                                 Bound(0.75, 1.0))


def test_wire_slack_widens_the_delays_judged():
    policy = sdks.get("javascript").policies("6.49.0")
    script = [Answer(429, (("retry-after", "5"),)), OK]
    late = Observed(2, (5.1,), ("success",))
    assert judge(policy, script, Options(), late, now=NOW).matched is None
    assert judge(policy, script, Options(), late, now=NOW, slack=(0.02, 0.25)).matched == "sdk"
    gave_up = Observed(1, (), ("RateLimitError",))
    judged = judge(policy, script, Options(), gave_up, now=NOW, slack=(0.02, 0.25))
    assert judged.matched is None and "1 attempt(s), expected 2" in judged.problems[0]
