"""The request-id checks fail when the header is missing or the SDK reads the wrong one."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict

ALL = ("request-ids.parsed-object", "request-ids.stream-response-header",
       "request-ids.not-from-apim")


def drop_header(name):
    def change(interactions):
        interactions[0].response["headers"].pop(name)

    return change


def add_header(name, value):
    def change(interactions):
        interactions[0].response["headers"][name] = [value]

    return change


@pytest.fixture
def apim_reading_sdk(monkeypatch):
    """An SDK that takes the request id from apim-request-id, as Azure's own SDKs might."""
    from openai._response import APIResponse

    monkeypatch.setattr(APIResponse, "request_id", property(
        lambda self: self.http_response.headers.get("apim-request-id")))


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*ALL)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)
    observations = run.result("request-ids.parsed-object").observations
    assert observations["apim_request_id"] == "8a3ae7c6-2eb5-45ea-947e-b4218c7ca1a5"
    assert observations["sdk_request_id"] == observations["x_request_id"]


def test_no_x_request_id_fails_the_parsed_object_check(suite):
    suite.edit("request-ids/chat-completion.yaml", drop_header("x-request-id"))
    run = suite.run("request-ids.parsed-object")
    assert run.verdict("request-ids.parsed-object") is Verdict.FAIL
    assert "no x-request-id" in run.message("request-ids.parsed-object")


def test_an_sdk_reading_apim_request_id_fails(suite, apim_reading_sdk):
    run = suite.run("request-ids.parsed-object", "request-ids.not-from-apim")
    assert run.verdict("request-ids.parsed-object") is Verdict.FAIL
    assert "(that is apim-request-id)" in run.message("request-ids.parsed-object")
    assert run.verdict("request-ids.not-from-apim") is Verdict.FAIL
    assert "the SDK took apim-request-id" in run.message("request-ids.not-from-apim")


def test_an_sdk_falling_back_to_apim_request_id_fails_only_without_x_request_id(
    suite, monkeypatch
):
    from openai._response import APIResponse

    monkeypatch.setattr(APIResponse, "request_id", property(
        lambda self: self.http_response.headers.get("x-request-id")
        or self.http_response.headers.get("apim-request-id")))
    run = suite.run("request-ids.parsed-object", "request-ids.not-from-apim")
    assert run.verdict("request-ids.parsed-object") is Verdict.PASS
    assert run.verdict("request-ids.not-from-apim") is Verdict.FAIL


def test_not_from_apim_is_skipped_when_x_request_id_is_present(suite):
    suite.edit("request-ids/apim-only.yaml", add_header("x-request-id", "req-0001"))
    run = suite.run("request-ids.not-from-apim")
    assert run.verdict("request-ids.not-from-apim") is Verdict.SKIPPED
    assert "needs a response with apim-request-id and no x-request-id" in run.message(
        "request-ids.not-from-apim")


def test_no_x_request_id_on_a_stream_fails(suite):
    suite.edit("request-ids/chat-stream.yaml", drop_header("x-request-id"))
    run = suite.run("request-ids.stream-response-header")
    assert run.verdict("request-ids.stream-response-header") is Verdict.FAIL
    assert "no x-request-id" in run.message("request-ids.stream-response-header")


def test_chunks_with_a_foreign_request_id_fail(suite, monkeypatch):
    import openai

    original = openai.Stream.__iter__

    def iterate(self):
        for chunk in original(self):
            chunk._request_id = self.response.headers.get("apim-request-id")
            yield chunk

    monkeypatch.setattr(openai.Stream, "__iter__", iterate)
    run = suite.run("request-ids.stream-response-header")
    assert run.verdict("request-ids.stream-response-header") is Verdict.FAIL
    assert "chunks carry _request_id" in run.message("request-ids.stream-response-header")


def test_a_stream_response_without_the_header_fails(suite, monkeypatch):
    """An SDK whose stream.response is not the HTTP response (headers lost)."""
    import openai

    original = openai.Stream.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.response = type(self.response)(self.response.status_code,
                                            headers={"content-type": "text/event-stream"},
                                            content=b"", request=self.response.request)

    monkeypatch.setattr(openai.Stream, "__init__", init)
    run = suite.run("request-ids.stream-response-header")
    assert run.verdict("request-ids.stream-response-header") is Verdict.FAIL
    assert "python's stream request id is None" in run.message(
        "request-ids.stream-response-header")


def test_below_1_46_the_parsed_object_checks_are_unsupported(suite, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.45.0" if name == "openai" else real(name))
    run = suite.run("request-ids.parsed-object", "request-ids.not-from-apim")
    # probed: this SDK's object carries _request_id whatever release it calls itself
    assert run.verdict("request-ids.parsed-object") is Verdict.PASS
    assert run.verdict("request-ids.not-from-apim") is Verdict.UNSUPPORTED
    import openai._response

    monkeypatch.setattr(openai._response, "add_request_id", lambda parsed, request_id: None)
    run = suite.run("request-ids.parsed-object")
    assert run.verdict("request-ids.parsed-object") is Verdict.UNSUPPORTED
    assert run.result("request-ids.parsed-object").observations["sdk_request_id"] is None


def test_an_sdk_that_loses_the_request_id_accessor_fails(suite, monkeypatch):
    import openai._response

    monkeypatch.setattr(openai._response, "add_request_id", lambda parsed, request_id: None)
    run = suite.run("request-ids.parsed-object")
    assert run.verdict("request-ids.parsed-object") is Verdict.FAIL
    assert "_request_id" in run.message("request-ids.parsed-object") or "None" in run.message(
        "request-ids.parsed-object")
