"""The reasoning checks fail when the server or the SDK misbehaves."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict

from . import fault_mutants
from .mutants import rewrite_json
from .responses_support import edit_request

CHAT = "reasoning/chat.yaml"
CHAT_USAGE = "reasoning/chat-usage.yaml"  # a real recording
EFFORTS = "reasoning/effort-values.yaml"
REJECTED = "reasoning/max-tokens-rejected.yaml"
RESPONSES = "reasoning/responses.yaml"
IDS = ("reasoning.chat-request", "reasoning.chat-usage", "reasoning.effort-values",
       "reasoning.max-tokens-rejected", "reasoning.responses-request",
       "reasoning.responses-items")


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*IDS)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(IDS, Verdict.PASS)


def test_an_sdk_that_turns_developer_into_system_fails(suite, monkeypatch):
    def demote(body):
        for message in body.get("messages", []):
            if message["role"] == "developer":
                message["role"] = "system"

    rewrite_json(monkeypatch, demote)
    edit_request(suite, CHAT, demote)
    run = suite.run("reasoning.chat-request")
    assert run.verdict("reasoning.chat-request") is Verdict.FAIL
    assert "developer role" in run.message("reasoning.chat-request")


def test_an_sdk_that_adds_a_sampling_parameter_fails(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.update(temperature=1))
    edit_request(suite, CHAT, lambda body: body.update(temperature=1))
    run = suite.run("reasoning.chat-request")
    assert run.verdict("reasoning.chat-request") is Verdict.FAIL
    assert "temperature" in run.message("reasoning.chat-request")


def test_reasoning_tokens_above_completion_tokens_fail(suite):
    suite.edit_json(CHAT_USAGE, 0, lambda body: body["usage"]["completion_tokens_details"].update(
        reasoning_tokens=10_000))
    run = suite.run("reasoning.chat-usage")
    assert run.verdict("reasoning.chat-usage") is Verdict.FAIL
    assert "usage.details" in run.message("reasoning.chat-usage")


def test_missing_reasoning_tokens_fail(suite):
    suite.edit_json(CHAT_USAGE, 0, lambda body: body["usage"].pop("completion_tokens_details"))
    run = suite.run("reasoning.chat-usage")
    assert run.verdict("reasoning.chat-usage") is Verdict.FAIL
    assert "reasoning_tokens is missing" in run.message("reasoning.chat-usage")


def test_an_sdk_that_clamps_effort_values_fails(suite, monkeypatch):
    """An SDK that only lets through the spec's low|medium|high (wire §17 #9)."""

    def clamp(body):
        if body.get("reasoning_effort") not in (None, "low", "medium", "high"):
            body["reasoning_effort"] = "medium"

    rewrite_json(monkeypatch, clamp)
    for index in (3, 4, 5):
        edit_request(suite, EFFORTS, clamp, index=index)
    run = suite.run("reasoning.effort-values")
    assert run.verdict("reasoning.effort-values") is Verdict.FAIL
    assert "'minimal' went out as 'medium'" in run.message("reasoning.effort-values")


def test_a_completion_that_breaks_the_contract_fails_the_effort_check(suite):
    suite.edit_json(EFFORTS, 4, lambda body: body["usage"].update(total_tokens=1))
    run = suite.run("reasoning.effort-values")
    assert run.verdict("reasoning.effort-values") is Verdict.FAIL
    assert "gpt-5.1 (none)" in run.message("reasoning.effort-values")


def test_a_deployment_that_accepts_max_tokens_fails(suite):
    def accept(interactions):
        interactions[0].response["status"] = {"code": 200, "message": "OK"}
        interactions[0].body = (suite.cassette(CHAT).interactions[0].body)

    suite.edit(REJECTED, accept)
    run = suite.run("reasoning.max-tokens-rejected")
    assert run.verdict("reasoning.max-tokens-rejected") is Verdict.FAIL
    assert "returned a completion" in run.message("reasoning.max-tokens-rejected")


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("code", "invalid_request_error", "error code is"),
    ("param", "max_completion_tokens", "error param is"),
])
def test_a_different_error_fails(suite, field, value, expected):
    suite.edit_json(REJECTED, 0, lambda body: body["error"].update({field: value}))
    run = suite.run("reasoning.max-tokens-rejected")
    assert run.verdict("reasoning.max-tokens-rejected") is Verdict.FAIL
    assert expected in run.message("reasoning.max-tokens-rejected")


def test_a_retried_400_fails(suite):
    def retry(interactions):
        interactions[0].response["headers"]["x-should-retry"] = ["true"]

    suite.edit(REJECTED, retry)
    run = suite.run("reasoning.max-tokens-rejected")
    assert run.verdict("reasoning.max-tokens-rejected") is Verdict.FAIL


def test_an_sdk_that_drops_the_summary_request_fails(suite, monkeypatch):
    def drop(body):
        if isinstance(body.get("reasoning"), dict):
            body["reasoning"].pop("summary", None)

    rewrite_json(monkeypatch, drop)
    edit_request(suite, RESPONSES, drop)
    run = suite.run("reasoning.responses-request")
    assert run.verdict("reasoning.responses-request") is Verdict.FAIL
    assert "reasoning went out as" in run.message("reasoning.responses-request")


@pytest.mark.parametrize(("change", "expected"), [
    (lambda body: body["output"][0].pop("encrypted_content"), "no encrypted_content"),
    (lambda body: body["output"].reverse(), "does not precede"),
    (lambda body: body["output"][0]["summary"][0].update(type="text"), "responses.reasoning"),
    (lambda body: body["reasoning"].update(effort="medium"), "echoes effort"),
], ids=["no-encrypted-content", "reasoning-after-message", "summary-type", "effort-echo"])
def test_a_broken_reasoning_item_fails(suite, change, expected):
    suite.edit_json(RESPONSES, 0, change)
    run = suite.run("reasoning.responses-items")
    assert run.verdict("reasoning.responses-items") is Verdict.FAIL
    assert expected in run.message("reasoning.responses-items")


def test_reasoning_effort_below_1_58_is_unsupported(suite, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.57.4" if name == "openai" else real(name))
    from .mutants import hide_keyword

    hide_keyword(monkeypatch, "openai.resources.chat", "Completions", "reasoning_effort")
    run = suite.run(*IDS)
    verdicts = {c.id: c.verdict for c in run.results.checks}
    assert verdicts.pop("reasoning.max-tokens-rejected") is Verdict.PASS
    # client.responses is probed in the wheel, not read from the table: this one has it
    assert verdicts.pop("reasoning.responses-request") is Verdict.PASS
    assert set(verdicts.values()) == {Verdict.UNSUPPORTED}


def _tamper(monkeypatch, resource, change):
    """An SDK whose ``resource(client).create`` hands its result to ``change`` first."""
    import openai

    cls = type(resource(openai.OpenAI(api_key="unused")))
    create = cls.create

    def tampered(self, *args, **kwargs):
        result = create(self, *args, **kwargs)
        change(result)
        return result

    monkeypatch.setattr(cls, "create", tampered)


def test_an_sdk_that_loses_reasoning_tokens_fails(suite, monkeypatch):
    _tamper(monkeypatch, lambda client: client.chat.completions,
            lambda result: setattr(result.usage.completion_tokens_details, "reasoning_tokens", 0))
    run = suite.run("reasoning.chat-usage")
    assert run.verdict("reasoning.chat-usage") is Verdict.FAIL
    assert "python's reasoning_tokens 0 differ" in run.message("reasoning.chat-usage")


def test_an_sdk_that_loses_the_error_code_fails(suite, monkeypatch):
    fault_mutants.whole_body(monkeypatch)
    run = suite.run("reasoning.max-tokens-rejected")
    assert run.verdict("reasoning.max-tokens-rejected") is Verdict.FAIL
    assert "error code is None" in run.message("reasoning.max-tokens-rejected")


def test_an_sdk_that_garbles_the_summary_fails(suite, monkeypatch):
    def garble(response):
        for item in response.output:
            if item.type == "reasoning":
                for part in item.summary:
                    part.text = part.text.upper()

    _tamper(monkeypatch, lambda client: client.responses, garble)
    run = suite.run("reasoning.responses-items")
    assert run.verdict("reasoning.responses-items") is Verdict.FAIL
    assert "python's summary of" in run.message("reasoning.responses-items")
