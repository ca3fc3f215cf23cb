"""What user code can see of an SDK outcome is observed one way, and a change to any of it
shows in ``diff`` on the check that saw it."""

from __future__ import annotations

import httpx2 as httpx
import openai

from conformance.results import compare
from conformance.suites._observe import exception_view, result_view


def _bad_request() -> openai.BadRequestError:
    request = httpx.Request("POST", "http://127.0.0.1/openai/v1/chat/completions")
    body = {"message": "Unsupported parameter: 'max_tokens'", "type": "invalid_request_error",
            "param": "max_tokens", "code": "unsupported_parameter"}
    response = httpx.Response(400, request=request, json={"error": body},
                              headers={"x-request-id": "req-1"})
    return openai.BadRequestError("Error code: 400 - ...", response=response, body=body)


def test_an_exception_is_seen_as_an_except_clause_sees_it():
    view = exception_view(_bad_request())
    assert view is not None
    assert view["class"] == "openai.BadRequestError"
    assert view["bases"][:3] == ["APIStatusError", "APIError", "OpenAIError"]
    assert (view["status_code"], view["code"], view["code_type"], view["param"], view["type"]) \
        == (400, "unsupported_parameter", "str", "max_tokens", "invalid_request_error")
    assert view["request_id"] == "req-1"
    assert view["str"] == "Error code: 400 - ..."
    assert view["body"]["param"] == "max_tokens"
    assert exception_view(ValueError("x"))["status_code"] == "<absent>"  # type: ignore[index]


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
