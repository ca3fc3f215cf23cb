"""The error contract: the reference envelopes pass, every rule fires on its own violation."""

from __future__ import annotations

import copy
import json

import pytest

from conformance.contract import RULES
from conformance.contract.errors import family, validate_error


@pytest.fixture
def examples(reference):
    found = {}
    for path in sorted(reference.glob("error-*.json")):
        data = json.loads(path.read_text())
        found[path.stem] = (data["status"] if isinstance(data["status"], int) else 500,
                            data["body"])
    return found


def rules(status, body):
    return {v.rule for v in validate_error(status, body)}


def test_every_reference_envelope_conforms(examples):
    assert len(examples) >= 12
    for name, (status, body) in examples.items():
        assert validate_error(status, body) == [], name


@pytest.mark.parametrize(("name", "expected"), [
    ("error-400-unsupported-parameter", "A"),
    ("error-500-server-error", "A"),
    ("error-spec-envelope", "A"),
    ("error-content-filter", "B"),
    ("error-401-invalid-api-key", "C"),
    ("error-401-permission-denied", "C"),
    ("error-403-key-auth-disabled", "C"),
    ("error-404-deployment-not-found", "C"),
    ("error-408-timeout", "C"),
    ("error-429-rate-limit", "C"),
    ("error-401-invalid-token", "D"),
])
def test_families(examples, name, expected):
    assert family(examples[name][1]) == expected


def test_numeric_codes_and_unknown_members_are_tolerated():
    body = {"error": {"code": 429, "message": "Rate limit", "details": [], "x": {"y": 1}}}
    assert validate_error(429, body) == []
    assert validate_error(500, {"statusCode": 500, "message": "boom", "extra": True}) == []


def test_innererror_may_be_absent_from_a_content_filter_error():
    body = {"error": {"message": "filtered", "type": None, "param": "prompt",
                      "code": "content_filter", "status": 400}}
    assert family(body) == "B"
    assert validate_error(400, body) == []


CONTENT_FILTER = {
    "error": {
        "message": "The response was filtered", "type": None, "param": "prompt",
        "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation",
                       "content_filter_result": {"hate": {"filtered": False,
                                                          "severity": "safe"}}},
    }
}
OPENAI = {"error": {"message": "Unsupported parameter", "type": "invalid_request_error",
                    "param": "max_tokens", "code": "unsupported_parameter"}}
BARE = {"statusCode": 401, "message": "Unauthorized.", "activityId": "00000000"}


def _set(body, path, value):
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


# (rule, status, base body, path to change, new value)
VIOLATIONS = [
    ("error.status", 200, OPENAI, None, None),
    ("error.envelope", 400, "<html>Bad Request</html>", None, None),
    ("error.message", 400, OPENAI, ["error", "message"], ""),
    ("error.code", 400, OPENAI, ["error", "code"], ["unsupported_parameter"]),
    ("error.param", 400, OPENAI, ["error", "param"], 7),
    ("error.type", 400, OPENAI, ["error", "type"], {"kind": "invalid"}),
    ("error.status-member", 400, CONTENT_FILTER, ["error", "status"], 403),
    ("error.innererror", 400, CONTENT_FILTER, ["error", "innererror", "code"], 42),
    ("error.content-filter", 400, CONTENT_FILTER,
     ["error", "innererror", "content_filter_result"], "violence"),
    ("error.bare", 401, BARE, ["activityId"], 12345),
]


@pytest.mark.parametrize(("rule", "status", "base", "path", "value"), VIOLATIONS,
                         ids=[v[0] for v in VIOLATIONS])
def test_each_rule_fires_on_its_violation(rule, status, base, path, value):
    body = copy.deepcopy(base)
    if path is not None:
        _set(body, path, value)
    assert rules(status, body) == {rule}


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    fired = set()
    for rule, status, base, path, value in VIOLATIONS:
        body = copy.deepcopy(base)
        if path is not None:
            _set(body, path, value)
        fired |= {rule} & rules(status, body)
    return fired


def test_every_error_rule_has_a_violation():
    assert {r for r in RULES if r.startswith("error.")} == {v[0] for v in VIOLATIONS}


def test_more_violations_of_the_same_rules():
    # A content_filter error that is not a 400.
    assert rules(500, _set(copy.deepcopy(CONTENT_FILTER), ["error", "status"], 500)) == {
        "error.content-filter"}
    # A results object breaking the shared content-filter rules.
    broken = _set(copy.deepcopy(CONTENT_FILTER),
                  ["error", "innererror", "content_filter_result", "hate", "severity"], "extreme")
    assert rules(400, broken) == {"content-filter.severity"}
    # The spec's spelling inner_error is checked the same way.
    spec = {"error": {"code": "x", "message": "m", "inner_error": []}}
    assert rules(400, spec) == {"error.innererror"}
    # Family D: statusCode that disagrees, not an integer, or no message.
    assert rules(401, dict(BARE, statusCode=500)) == {"error.status-member"}
    assert rules(401, dict(BARE, statusCode="401")) == {"error.bare"}
    assert rules(401, {"statusCode": 401}) == {"error.message"}
    # A null error member, or a list, is no envelope.
    assert rules(400, {"error": None, "message": "x"}) == {"error.envelope"}
    assert rules(400, [OPENAI]) == {"error.envelope"}
