"""One typed outcome for every SDK: a driver's protocol JSON is parsed once into
:class:`DriverOutcome`; what does not fit is a harness problem (a ``DriverError``), never a
``fail``; openai-python's driver builds the same types directly."""

from __future__ import annotations

import pytest

from conformance.drivers.outcome import (
    DriverOutcome,
    ErrorView,
    OutcomeMalformed,
    parse_outcome,
)
from conformance.drivers.python import error_of

BASE = {"result": None, "read": {}, "events": [], "error": None, "request_id": None,
        "token_calls": [], "sdk_retry_count": None, "elapsed_ms": 3}
ERROR = {"kind": "status", "class": "NotFoundError", "bases": ["APIError", "OpenAIError"],
         "status": 404, "code": "DeploymentNotFound", "code_type": "string", "param": None,
         "type": None, "message": "404 no deployment", "request_id": "req-404",
         "from_a_newer_driver": True}


def test_an_outcome_is_parsed_into_typed_fields():
    outcome = parse_outcome({
        **BASE, "result": {"id": "x"}, "error": ERROR, "request_id": "req-1",
        "token_calls": [{"scopes": ["s"]}], "provider_calls": 2,
        "calls": [{"provider_tokens": ["t1"]}, {"provider_tokens": []}],
        "read": {"content": "Paris", "deltas": ["Pa", "ris"], "usage": {"total_tokens": 3},
                 "id": {"accessor_error": "OpenAIInvalidDataException: id"},
                 "response_request_id": None, "unknown": 1}})
    assert isinstance(outcome, DriverOutcome)
    assert outcome.result == {"id": "x"} and outcome.request_id == "req-1"
    assert outcome.read.content == "Paris" and outcome.read.deltas == ["Pa", "ris"]
    assert outcome.read.usage == {"total_tokens": 3}
    assert outcome.read.id == {"accessor_error": "OpenAIInvalidDataException: id"}
    assert outcome.read.has("response_request_id") and not outcome.read.has("output_text")
    assert outcome.token_calls == [["s"]] and outcome.provider_call_count == 2
    assert outcome.calls == [["t1"], []]
    error = outcome.error
    assert error is not None
    assert (error.kind, error.class_name, error.status, error.code) == (
        "status", "NotFoundError", 404, "DeploymentNotFound")
    assert error.classes == ("NotFoundError", "APIError", "OpenAIError")
    assert not error.has("cause") and not error.has("body")
    # What a report records is what the driver sent, unknown fields and all.
    assert error.to_json() == ERROR
    assert outcome.virtual_delays_s is None  # the SDK slept: its delays are timed at the wire


def test_a_virtual_clock_s_delays_are_the_sdk_s_own_numbers():
    """The Java driver's sleeper (and openai-python's clock) keep the delays the SDK asked for."""
    assert parse_outcome({**BASE, "virtual_delays_s": [0.42, 8]}).virtual_delays_s == (0.42, 8.0)
    assert parse_outcome({**BASE, "virtual_delays_s": []}).virtual_delays_s == ()


def test_without_provider_calls_the_credential_is_the_provider():
    outcome = parse_outcome({**BASE, "token_calls": [{"scopes": ["s"]}] * 3})
    assert outcome.provider_calls is None and outcome.provider_call_count == 3


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"result": ["not", "an", "object"]}, "result must be an object"),
        ({"read": {"chunks": "3"}}, "read.chunks must be an integer"),
        ({"read": {"usage": [1]}}, "read.usage must be an object"),
        ({"read": {"output_items": ["x"]}}, "read.output_items must be a list of objects"),
        ({"error": {**ERROR, "status": "404"}}, "error.status must be an integer"),
        ({"error": {**ERROR, "bases": "APIError"}}, "error.bases must be a list of strings"),
        ({"error": {**ERROR, "code": {"c": 1}}}, "error.code must be a string, a number"),
        ({"provider_calls": "2"}, "provider_calls must be an integer"),
        ({"calls": [{"provider_tokens": [1]}]}, "calls must be a list"),
        ({"elapsed_ms": True}, "elapsed_ms must be an integer"),
        ({"virtual_delays_s": [0.5, "8"]}, "virtual_delays_s must be a list of seconds"),
        ({"virtual_delays_s": [-1]}, "virtual_delays_s must be a list of seconds"),
        ({"virtual_delays_s": 0.5}, "virtual_delays_s must be a list of seconds"),
    ],
)
def test_an_outcome_that_does_not_fit_its_types_is_malformed(change, problem):
    with pytest.raises(OutcomeMalformed) as caught:
        parse_outcome({**BASE, **change})
    assert any(problem in p for p in caught.value.problems)


def test_the_python_view_is_the_same_type_and_json():
    import httpx2 as httpx
    import openai

    request = httpx.Request("POST", "http://127.0.0.1/openai/v1/chat/completions")
    body = {"message": "m", "type": "t", "param": "p", "code": "c"}
    response = httpx.Response(400, request=request, json={"error": body})
    view = error_of(openai.BadRequestError("Error code: 400", response=response, body=body))
    assert isinstance(view, ErrorView)
    assert view.has("body") and view.has("cause") and view.has("response_status")
    data = view.to_json()
    assert list(data) == ["kind", "class", "bases", "status", "code", "code_type", "message",
                          "request_id", "param", "type", "module", "str", "cause", "body",
                          "response_status"]
    assert parse_outcome({**BASE, "error": data}).error == view
