"""The request-id checks fail when the header is missing or the SDK reads the wrong one."""

from __future__ import annotations

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk

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


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*ALL)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)
    observations = run.result("request-ids.parsed-object").observations
    assert observations["apim_request_id"] == "8a3ae7c6-2eb5-45ea-947e-b4218c7ca1a5"
    assert observations["sdk_request_id"] == observations["x_request_id"]


# -- what breaks each check (tests/failures.py) ----------------------------------------------


def no_x_request_id(suite, monkeypatch):
    suite.edit("request-ids/chat-completion.yaml", drop_header("x-request-id"))


@broken_sdk
def sdk_reads_apim_request_id(suite, monkeypatch):
    """An SDK that takes the request id from apim-request-id, as Azure's own SDKs might."""
    from openai._response import APIResponse

    monkeypatch.setattr(APIResponse, "request_id", property(
        lambda self: self.http_response.headers.get("apim-request-id")))


@broken_sdk
def sdk_falls_back_to_apim_request_id(suite, monkeypatch):
    from openai._response import APIResponse

    monkeypatch.setattr(APIResponse, "request_id", property(
        lambda self: self.http_response.headers.get("x-request-id")
        or self.http_response.headers.get("apim-request-id")))


def no_x_request_id_on_a_stream(suite, monkeypatch):
    suite.edit("request-ids/chat-stream.yaml", drop_header("x-request-id"))


@broken_sdk
def chunks_with_a_foreign_request_id(suite, monkeypatch):
    import openai

    original = openai.Stream.__iter__

    def iterate(self):
        for chunk in original(self):
            chunk._request_id = self.response.headers.get("apim-request-id")
            yield chunk

    monkeypatch.setattr(openai.Stream, "__iter__", iterate)


@broken_sdk
def stream_response_without_the_header(suite, monkeypatch):
    """An SDK whose stream.response is not the HTTP response (headers lost)."""
    import openai

    original = openai.Stream.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.response = type(self.response)(self.response.status_code,
                                            headers={"content-type": "text/event-stream"},
                                            content=b"", request=self.response.request)

    monkeypatch.setattr(openai.Stream, "__init__", init)


@broken_sdk
def sdk_loses_the_request_id_accessor(suite, monkeypatch):
    import openai._response

    monkeypatch.setattr(openai._response, "add_request_id", lambda parsed, request_id: None)


PARSED, STREAM, NOT_FROM_APIM = ALL
CAUGHT = [
    (no_x_request_id, PARSED, "python", "no x-request-id"),
    (sdk_reads_apim_request_id, PARSED, "python", "(that is apim-request-id)"),
    (sdk_reads_apim_request_id, NOT_FROM_APIM, "python", "the SDK took apim-request-id"),
    (sdk_falls_back_to_apim_request_id, NOT_FROM_APIM, "python", ""),
    (sdk_loses_the_request_id_accessor, PARSED, "python", "request_id is None"),
    (no_x_request_id_on_a_stream, STREAM, "python", "no x-request-id"),
    (chunks_with_a_foreign_request_id, STREAM, "python", "chunks carry _request_id"),
    (stream_response_without_the_header, STREAM, "python", "python's stream request id is None"),
]
test_caught = caught(CAUGHT)


def test_an_sdk_falling_back_to_apim_request_id_passes_while_x_request_id_is_there(
    suite, monkeypatch
):
    """It fails only without x-request-id (not-from-apim, a row above)."""
    sdk_falls_back_to_apim_request_id(suite, monkeypatch)
    run = suite.run("request-ids.parsed-object")
    assert run.verdict("request-ids.parsed-object") is Verdict.PASS


def test_not_from_apim_is_skipped_when_x_request_id_is_present(suite):
    suite.edit("request-ids/apim-only.yaml", add_header("x-request-id", "req-0001"))
    run = suite.run("request-ids.not-from-apim")
    assert run.verdict("request-ids.not-from-apim") is Verdict.SKIPPED
    assert "needs a response with apim-request-id and no x-request-id" in run.message(
        "request-ids.not-from-apim")


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
