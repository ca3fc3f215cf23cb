"""The chat checks fail when the server or the SDK breaks the documented behaviour."""

from __future__ import annotations

import json

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk, rewrite_json, rewrite_requests

CASSETTE = "chat/completion.yaml"
ALL = ("chat.request-shape", "chat.response-contract", "chat.azure-filter-results")


def test_all_pass_on_the_packaged_cassette(suite):
    run = suite.run(*ALL)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)


# -- what breaks each check (tests/failures.py) ----------------------------------------------


def body_without_choices(suite, monkeypatch):
    suite.edit_json(CASSETTE, 0, lambda body: body.pop("choices"))


def usage_does_not_add_up(suite, monkeypatch):
    suite.edit_json(CASSETTE, 0, lambda body: body["usage"].update(total_tokens=99))


@broken_sdk
def sdk_loses_content(suite, monkeypatch):
    import openai

    completions = type(openai.OpenAI(api_key="unused").chat.completions)
    original = completions.create

    def hollow(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        for choice in result.choices:
            choice.message.content = ""
        return result

    monkeypatch.setattr(completions, "create", hollow)


def no_prompt_filter_results(suite, monkeypatch):
    suite.edit_json(CASSETTE, 0, lambda body: body.pop("prompt_filter_results"))


def malformed_filter_category(suite, monkeypatch):
    def break_it(body):
        body["choices"][0]["content_filter_results"]["violence"] = {"filtered": "no"}

    suite.edit_json(CASSETTE, 0, break_it)


@broken_sdk
def sdk_drops_azure_extras(suite, monkeypatch):
    from openai.types.chat import ChatCompletion

    original = ChatCompletion.to_json

    def without_extras(self, **kwargs):  # what model_dump_json prints, without the extras
        dumped = json.loads(original(self, **kwargs))
        dumped.pop("prompt_filter_results", None)
        return json.dumps(dumped)

    monkeypatch.setattr(ChatCompletion, "to_json", without_extras)


@broken_sdk
def sdk_adds_an_api_version_query(suite, monkeypatch):
    def add_query(request):
        request.url = request.url.copy_add_param("api-version", "preview")

    rewrite_requests(monkeypatch, add_query)


@broken_sdk
def sdk_adds_body_fields(suite, monkeypatch):
    # The broken SDK sends n=1 the caller never passed; the cassette is what recording that SDK
    # would have captured (its request carries n, its sdk_calls do not), so the replay matches
    # and the check judges the body on the wire.
    def recorded_with_n(interactions):
        request = interactions[0].request
        request.body = json.dumps({**json.loads(request.body), "n": 1}).encode()

    suite.edit(CASSETTE, recorded_with_n)
    rewrite_json(monkeypatch, lambda body: body.update(n=1))


@broken_sdk
def sdk_adds_a_deployment_segment_to_the_path(suite, monkeypatch):
    def deployment_path(request):
        request.url = request.url.copy_with(
            path=request.url.path.replace("/openai/v1/", "/openai/deployments/gpt-4o/"))

    rewrite_requests(monkeypatch, deployment_path)


SHAPE, CONTRACT, FILTERS = ALL
CAUGHT = [
    (body_without_choices, CONTRACT, "python", "chat.choices"),
    (usage_does_not_add_up, CONTRACT, "python", "usage.total"),
    (sdk_loses_content, CONTRACT, "python", ""),
    (no_prompt_filter_results, FILTERS, "python", "no prompt_filter_results"),
    (malformed_filter_category, FILTERS, "python", "content-filter.severity"),
    (sdk_drops_azure_extras, FILTERS, "python", "did not survive python's parsing"),
    # The cassette has no query: the replay misses before the check body can judge.
    (sdk_adds_an_api_version_query, SHAPE, "python", "differs in query"),
    (sdk_adds_body_fields, SHAPE, "python",
     "the SDK added fields the caller did not pass: ['n']"),
    (sdk_adds_a_deployment_segment_to_the_path, SHAPE, "python", "differs in path"),
]
test_caught = caught(CAUGHT)
