"""The responses checks fail when the server or the SDK misbehaves."""

from __future__ import annotations

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk, rewrite_json
from .responses_support import edit_request

CREATE = "responses/create.yaml"
IDS = ("responses.request-shape", "responses.response-contract",
       "responses.azure-content-filters", "responses.output-text")


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*IDS)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(IDS, Verdict.PASS)


# -- what breaks each check (tests/failures.py) ----------------------------------------------


@broken_sdk
def sdk_adds_store_false(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.update(store=False))
    edit_request(suite, CREATE, lambda body: body.update(store=False))  # so the replay matches


@broken_sdk
def sdk_sends_instructions_as_a_message(suite, monkeypatch):
    def as_message(body):
        body["input"] = [{"role": "developer", "content": body.pop("instructions")},
                         {"role": "user", "content": body["input"]}]

    rewrite_json(monkeypatch, as_message)


def usage_does_not_add_up(suite, monkeypatch):
    suite.edit_json(CREATE, 0, lambda body: body["usage"].update(total_tokens=24))


def reasoning_tokens_above_output_tokens(suite, monkeypatch):
    suite.edit_json(CREATE, 0,
                    lambda body: body["usage"]["output_tokens_details"].update(reasoning_tokens=9))


def float_created_at_and_unknown_status(suite, monkeypatch):
    suite.edit_json(CREATE, 0, lambda body: body.update(created_at=1785164068.5,
                                                         status="finished"))


def snapshot_name_instead_of_the_deployment(suite, monkeypatch):
    suite.edit_json(CREATE, 0, lambda body: body.update(model="gpt-4.1-nano-2025-04-14"))


def malformed_content_filter_entry(suite, monkeypatch):
    suite.edit_json(CREATE, 0, lambda body: body["content_filters"][1].update(blocked="false"))


@broken_sdk
def sdk_aggregates_output_text_wrongly(suite, monkeypatch):
    from openai.types.responses import Response

    def first_part_only(self):
        for item in self.output:
            if item.type == "message":
                return item.content[0].text
        return ""

    monkeypatch.setattr(Response, "output_text", property(first_part_only))


@broken_sdk
def sdk_counts_refusals_as_output_text(suite, monkeypatch):
    from openai.types.responses import Response

    def everything(self):
        return "".join(getattr(p, "text", None) or getattr(p, "refusal", "")
                       for item in self.output if item.type == "message" for p in item.content)

    monkeypatch.setattr(Response, "output_text", property(everything))


@broken_sdk
def sdk_misparses_the_status(suite, monkeypatch):
    import openai

    responses = type(openai.OpenAI(api_key="unused").responses)
    create = responses.create

    def stale_status(self, *args, **kwargs):
        result = create(self, *args, **kwargs)
        result.status = "in_progress"
        return result

    monkeypatch.setattr(responses, "create", stale_status)


@broken_sdk
def sdk_drops_content_filters(suite, monkeypatch):
    from openai.types.responses import Response

    original = Response.model_dump

    def without_filters(self, **kwargs):
        dumped = original(self, **kwargs)
        dumped.pop("content_filters", None)
        return dumped

    monkeypatch.setattr(Response, "model_dump", without_filters)


@broken_sdk
def release_without_client_responses(suite, monkeypatch):
    import openai

    monkeypatch.delattr(openai.OpenAI, "responses")


SHAPE, CONTRACT = "responses.request-shape", "responses.response-contract"
FILTERS, OUTPUT_TEXT = "responses.azure-content-filters", "responses.output-text"
CAUGHT = [
    (sdk_adds_store_false, SHAPE, "python", "added fields"),
    (sdk_sends_instructions_as_a_message, SHAPE, "python", ""),
    (release_without_client_responses, SHAPE, "python", "no client_responses"),
    (usage_does_not_add_up, CONTRACT, "python", "responses.usage.total"),
    (reasoning_tokens_above_output_tokens, CONTRACT, "python", "responses.usage.details"),
    (float_created_at_and_unknown_status, CONTRACT, "python", "responses.created-at"),
    (float_created_at_and_unknown_status, CONTRACT, "python", "responses.status"),
    (snapshot_name_instead_of_the_deployment, CONTRACT, "python", "echo the deployment"),
    (sdk_misparses_the_status, CONTRACT, "python", "status differs from the wire"),
    (malformed_content_filter_entry, FILTERS, "python", "responses.content-filters"),
    (sdk_drops_content_filters, FILTERS, "python", "did not survive python's parsing"),
    (sdk_aggregates_output_text_wrongly, OUTPUT_TEXT, "python", "not the concatenation"),
    (sdk_counts_refusals_as_output_text, OUTPUT_TEXT, "python", ""),
]
test_caught = caught(CAUGHT)


def test_no_content_filters_is_skipped_not_failed(suite):
    suite.edit_json(CREATE, 0, lambda body: body.update(content_filters=None))
    run = suite.run("responses.azure-content-filters")
    assert run.verdict("responses.azure-content-filters") is Verdict.SKIPPED


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
