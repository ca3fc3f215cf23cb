"""The responses checks fail when the server or the SDK misbehaves."""

from __future__ import annotations

from conformance.registry import Verdict

from .mutants import rewrite_json
from .responses_support import edit_request

CREATE = "responses/create.yaml"
IDS = ("responses.request-shape", "responses.response-contract",
       "responses.azure-content-filters", "responses.output-text")


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*IDS)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(IDS, Verdict.PASS)


def test_a_field_the_caller_did_not_pass_fails_the_request_shape(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.update(store=False))
    edit_request(suite, CREATE, lambda body: body.update(store=False))  # so the replay matches
    run = suite.run("responses.request-shape")
    assert run.verdict("responses.request-shape") is Verdict.FAIL
    assert "added fields" in run.message("responses.request-shape")


def test_instructions_sent_differently_fail_the_request_shape(suite, monkeypatch):
    def as_message(body):
        body["input"] = [{"role": "developer", "content": body.pop("instructions")},
                         {"role": "user", "content": body["input"]}]

    rewrite_json(monkeypatch, as_message)
    run = suite.run("responses.request-shape")
    assert run.verdict("responses.request-shape") is Verdict.FAIL


def test_usage_that_does_not_add_up_fails(suite):
    suite.edit_json(CREATE, 0, lambda body: body["usage"].update(total_tokens=24))
    run = suite.run("responses.response-contract")
    assert run.verdict("responses.response-contract") is Verdict.FAIL
    assert "responses.usage.total" in run.message("responses.response-contract")


def test_reasoning_tokens_above_output_tokens_fail(suite):
    suite.edit_json(CREATE, 0,
                    lambda body: body["usage"]["output_tokens_details"].update(reasoning_tokens=9))
    run = suite.run("responses.response-contract")
    assert run.verdict("responses.response-contract") is Verdict.FAIL
    assert "responses.usage.details" in run.message("responses.response-contract")


def test_a_float_created_at_or_an_unknown_status_fails(suite):
    suite.edit_json(CREATE, 0, lambda body: body.update(created_at=1785164068.5,
                                                         status="finished"))
    message = suite.run("responses.response-contract").message("responses.response-contract")
    assert "responses.created-at" in message
    assert "responses.status" in message


def test_a_snapshot_name_instead_of_the_deployment_fails(suite):
    suite.edit_json(CREATE, 0, lambda body: body.update(model="gpt-4.1-nano-2025-04-14"))
    run = suite.run("responses.response-contract")
    assert run.verdict("responses.response-contract") is Verdict.FAIL
    assert "echo the deployment" in run.message("responses.response-contract")


def test_a_malformed_content_filter_entry_fails(suite):
    suite.edit_json(CREATE, 0, lambda body: body["content_filters"][1].update(blocked="false"))
    run = suite.run("responses.azure-content-filters")
    assert run.verdict("responses.azure-content-filters") is Verdict.FAIL
    assert "responses.content-filters" in run.message("responses.azure-content-filters")


def test_no_content_filters_is_skipped_not_failed(suite):
    suite.edit_json(CREATE, 0, lambda body: body.update(content_filters=None))
    run = suite.run("responses.azure-content-filters")
    assert run.verdict("responses.azure-content-filters") is Verdict.SKIPPED


def test_an_sdk_that_aggregates_output_text_wrongly_fails(suite, monkeypatch):
    from openai.types.responses import Response

    def first_part_only(self):
        for item in self.output:
            if item.type == "message":
                return item.content[0].text
        return ""

    monkeypatch.setattr(Response, "output_text", property(first_part_only))
    run = suite.run("responses.output-text")
    assert run.verdict("responses.output-text") is Verdict.FAIL
    assert "not the concatenation" in run.message("responses.output-text")


def test_an_sdk_that_counts_refusals_as_output_text_fails(suite, monkeypatch):
    from openai.types.responses import Response

    def everything(self):
        return "".join(getattr(p, "text", None) or getattr(p, "refusal", "")
                       for item in self.output if item.type == "message" for p in item.content)

    monkeypatch.setattr(Response, "output_text", property(everything))
    assert suite.run("responses.output-text").verdict("responses.output-text") is Verdict.FAIL


def test_an_sdk_that_misparses_the_status_fails(suite, monkeypatch):
    import openai

    responses = type(openai.OpenAI(api_key="unused").responses)
    create = responses.create

    def stale_status(self, *args, **kwargs):
        result = create(self, *args, **kwargs)
        result.status = "in_progress"
        return result

    monkeypatch.setattr(responses, "create", stale_status)
    run = suite.run("responses.response-contract")
    assert run.verdict("responses.response-contract") is Verdict.FAIL
    assert "status differs from the wire" in run.message("responses.response-contract")


def test_an_sdk_that_drops_content_filters_fails(suite, monkeypatch):
    from openai.types.responses import Response

    original = Response.model_dump

    def without_filters(self, **kwargs):
        dumped = original(self, **kwargs)
        dumped.pop("content_filters", None)
        return dumped

    monkeypatch.setattr(Response, "model_dump", without_filters)
    run = suite.run("responses.azure-content-filters")
    assert run.verdict("responses.azure-content-filters") is Verdict.FAIL
    assert "did not survive python's parsing" in run.message("responses.azure-content-filters")


def test_an_old_sdk_is_unsupported(suite, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.65.0" if name == "openai" else real(name))
    import openai

    # probed, not read from the table: a client without .responses, as before 1.66.0
    monkeypatch.delattr(openai.OpenAI, "responses")
    run = suite.run(*IDS)
    assert {c.verdict for c in run.results.checks} == {Verdict.UNSUPPORTED}
    assert "1.66.0" in run.message("responses.request-shape")
    assert run.result("responses.request-shape").observations["client_responses"] is False


def test_a_release_that_loses_client_responses_fails(suite, monkeypatch):
    import openai

    monkeypatch.delattr(openai.OpenAI, "responses")
    run = suite.run("responses.request-shape")
    assert run.verdict("responses.request-shape") is Verdict.FAIL
    assert "no client_responses" in run.message("responses.request-shape")
