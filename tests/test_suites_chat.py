"""The chat checks fail when the server or the SDK breaks the documented behaviour."""

from __future__ import annotations

import json

from conformance.registry import Verdict

from .mutants import rewrite_json, rewrite_requests

CASSETTE = "chat/completion.yaml"
ALL = ("chat.request-shape", "chat.response-contract", "chat.azure-filter-results")


def test_all_pass_on_the_packaged_cassette(suite):
    run = suite.run(*ALL)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)


def test_a_body_without_choices_fails_the_contract(suite):
    suite.edit_json(CASSETTE, 0, lambda body: body.pop("choices"))
    run = suite.run("chat.response-contract")
    assert run.verdict("chat.response-contract") is Verdict.FAIL
    assert "chat.choices" in run.message("chat.response-contract")


def test_usage_that_does_not_add_up_fails(suite):
    suite.edit_json(CASSETTE, 0, lambda body: body["usage"].update(total_tokens=99))
    run = suite.run("chat.response-contract")
    assert run.verdict("chat.response-contract") is Verdict.FAIL
    assert "usage.total" in run.message("chat.response-contract")


def test_an_sdk_that_loses_content_fails(suite, monkeypatch):
    import openai

    completions = type(openai.OpenAI(api_key="unused").chat.completions)
    original = completions.create

    def hollow(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        for choice in result.choices:
            choice.message.content = ""
        return result

    monkeypatch.setattr(completions, "create", hollow)
    run = suite.run("chat.response-contract")
    assert run.verdict("chat.response-contract") is Verdict.FAIL


def test_missing_prompt_filter_results_fails(suite):
    suite.edit_json(CASSETTE, 0, lambda body: body.pop("prompt_filter_results"))
    run = suite.run("chat.azure-filter-results")
    assert run.verdict("chat.azure-filter-results") is Verdict.FAIL
    assert "no prompt_filter_results" in run.message("chat.azure-filter-results")


def test_a_malformed_filter_category_fails(suite):
    def break_it(body):
        body["choices"][0]["content_filter_results"]["violence"] = {"filtered": "no"}

    suite.edit_json(CASSETTE, 0, break_it)
    run = suite.run("chat.azure-filter-results")
    assert run.verdict("chat.azure-filter-results") is Verdict.FAIL
    assert "content-filter.severity" in run.message("chat.azure-filter-results")


def test_an_sdk_that_drops_azure_extras_fails(suite, monkeypatch):
    import json

    from openai.types.chat import ChatCompletion

    original = ChatCompletion.to_json

    def without_extras(self, **kwargs):  # what model_dump_json prints, without the extras
        dumped = json.loads(original(self, **kwargs))
        dumped.pop("prompt_filter_results", None)
        return json.dumps(dumped)

    monkeypatch.setattr(ChatCompletion, "to_json", without_extras)
    run = suite.run("chat.azure-filter-results")
    assert run.verdict("chat.azure-filter-results") is Verdict.FAIL
    assert "did not survive python's parsing" in run.message("chat.azure-filter-results")


def test_an_sdk_that_adds_an_api_version_query_fails(suite, monkeypatch):
    def add_query(request):
        request.url = request.url.copy_add_param("api-version", "preview")

    rewrite_requests(monkeypatch, add_query)
    run = suite.run("chat.request-shape")
    assert run.verdict("chat.request-shape") is Verdict.FAIL
    # The cassette has no query: the replay misses before the check body can judge.
    assert "differs in query" in run.message("chat.request-shape")


def test_an_sdk_that_adds_body_fields_fails(suite, monkeypatch):
    # The broken SDK sends n=1 the caller never passed; the cassette is what recording that SDK
    # would have captured (its request carries n, its sdk_calls do not), so the replay matches
    # and the check judges the body on the wire.
    def recorded_with_n(interactions):
        request = interactions[0].request
        request.body = json.dumps({**json.loads(request.body), "n": 1}).encode()

    suite.edit(CASSETTE, recorded_with_n)
    rewrite_json(monkeypatch, lambda body: body.update(n=1))
    run = suite.run("chat.request-shape")
    assert run.verdict("chat.request-shape") is Verdict.FAIL
    assert "the SDK added fields the caller did not pass: ['n']" in run.message(
        "chat.request-shape")


def test_a_deployment_segment_in_the_path_fails(suite, monkeypatch):
    def deployment_path(request):
        request.url = request.url.copy_with(
            path=request.url.path.replace("/openai/v1/", "/openai/deployments/gpt-4o/"))

    rewrite_requests(monkeypatch, deployment_path)
    run = suite.run("chat.request-shape")
    assert run.verdict("chat.request-shape") is Verdict.FAIL
    assert "differs in path" in run.message("chat.request-shape")
