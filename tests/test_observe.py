"""What user code can see of an SDK outcome is observed one way, and a change to any of it
shows in ``diff`` on the check that saw it."""

from __future__ import annotations

import httpx2 as httpx
import openai

from conformance.drivers.python import error_of
from conformance.results import compare
from conformance.suites._observe import result_view


def _bad_request() -> openai.BadRequestError:
    request = httpx.Request("POST", "http://127.0.0.1/openai/v1/chat/completions")
    body = {"message": "Unsupported parameter: 'max_tokens'", "type": "invalid_request_error",
            "param": "max_tokens", "code": "unsupported_parameter"}
    response = httpx.Response(400, request=request, json={"error": body},
                              headers={"x-request-id": "req-1"})
    return openai.BadRequestError("Error code: 400 - ...", response=response, body=body)


def test_an_exception_is_seen_as_an_except_clause_sees_it():
    # The one exception view: the driver protocol's error object, plus what only Python has.
    view = error_of(_bad_request())
    assert view.class_name == "BadRequestError" and view.module == "openai"
    assert view.kind == "status"
    assert view.bases[:3] == ["APIStatusError", "APIError", "OpenAIError"]
    assert (view.status, view.code, view.code_type, view.param, view.type) \
        == (400, "unsupported_parameter", "string", "max_tokens", "invalid_request_error")
    assert view.request_id == "req-1"
    assert view.message == view.str_form == "Error code: 400 - ..."
    assert view.body["param"] == "max_tokens"
    assert view.response_status == 400 and view.cause is None
    other = error_of(ValueError("x"))
    assert (other.kind, other.status, other.code_type) == ("other", None, "null")
    assert not other.has("body") and "body" not in other.to_json()


def test_a_result_is_seen_field_by_field_with_types():
    from openai.types import CreateEmbeddingResponse

    result = CreateEmbeddingResponse.construct(
        object="list", model="m", data=[], usage={"prompt_tokens": 1, "total_tokens": 1})
    view = result_view(result, ("model", "data.0", "missing"))
    assert view["model"] == {"value": "m", "type": "str"}
    assert view["data.0"]["value"] == "<absent>"
    assert view["missing"]["type"] is None


def test_an_sdk_that_changes_what_str_prints_shows_in_diff(suite, monkeypatch):
    """No judgement reads str(exc), yet the doc's samples print it: an SDK release that
    changed it must show in ``diff`` on errors.openai-envelope, as a behaviour change."""
    before = suite.run("errors.openai-envelope")
    monkeypatch.setattr(openai.APIStatusError, "__str__", lambda self: "something else")
    after = suite.run("errors.openai-envelope")
    assert after.verdict("errors.openai-envelope") == before.verdict("errors.openai-envelope")
    changes = [c for c in compare(before.results, after.results)
               if c.id == "errors.openai-envelope"]
    assert [c.kind for c in changes] == ["observations"]
