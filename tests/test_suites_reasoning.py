"""The reasoning checks fail when the server or the SDK misbehaves."""

from __future__ import annotations

from conformance.registry import Verdict

from . import fault_mutants
from .failures import caught
from .mutants import broken_sdk, rewrite_json
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


# -- a misbehaving server ----------------------------------------------------------------------


def reasoning_tokens_above_completion_tokens(suite, monkeypatch):
    suite.edit_json(CHAT_USAGE, 0, lambda body: body["usage"]["completion_tokens_details"].update(
        reasoning_tokens=10_000))


def missing_reasoning_tokens(suite, monkeypatch):
    suite.edit_json(CHAT_USAGE, 0, lambda body: body["usage"].pop("completion_tokens_details"))


def a_completion_that_breaks_the_contract(suite, monkeypatch):
    suite.edit_json(EFFORTS, 4, lambda body: body["usage"].update(total_tokens=1))


def a_deployment_that_accepts_max_tokens(suite, monkeypatch):
    def accept(interactions):
        interactions[0].response["status"] = {"code": 200, "message": "OK"}
        interactions[0].body = (suite.cassette(CHAT).interactions[0].body)

    suite.edit(REJECTED, accept)


def a_different_error_code(suite, monkeypatch):
    suite.edit_json(REJECTED, 0, lambda body: body["error"].update(code="invalid_request_error"))


def a_different_error_param(suite, monkeypatch):
    suite.edit_json(REJECTED, 0, lambda body: body["error"].update(
        param="max_completion_tokens"))


def a_retried_400(suite, monkeypatch):
    def retry(interactions):
        interactions[0].response["headers"]["x-should-retry"] = ["true"]

    suite.edit(REJECTED, retry)


def no_encrypted_content(suite, monkeypatch):
    suite.edit_json(RESPONSES, 0, lambda body: body["output"][0].pop("encrypted_content"))


def reasoning_after_the_message(suite, monkeypatch):
    suite.edit_json(RESPONSES, 0, lambda body: body["output"].reverse())


def a_summary_part_of_another_type(suite, monkeypatch):
    suite.edit_json(RESPONSES, 0, lambda body: body["output"][0]["summary"][0].update(
        type="text"))


def another_effort_echoed(suite, monkeypatch):
    suite.edit_json(RESPONSES, 0, lambda body: body["reasoning"].update(effort="medium"))


# -- a misbehaving SDK -------------------------------------------------------------------------


@broken_sdk
def turns_developer_into_system(suite, monkeypatch):
    def demote(body):
        for message in body.get("messages", []):
            if message["role"] == "developer":
                message["role"] = "system"

    rewrite_json(monkeypatch, demote)
    edit_request(suite, CHAT, demote)


@broken_sdk
def adds_a_sampling_parameter(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.update(temperature=1))
    edit_request(suite, CHAT, lambda body: body.update(temperature=1))


@broken_sdk
def clamps_effort_values(suite, monkeypatch):
    """An SDK that only lets through the spec's low|medium|high (wire §17 #9)."""

    def clamp(body):
        if body.get("reasoning_effort") not in (None, "low", "medium", "high"):
            body["reasoning_effort"] = "medium"

    rewrite_json(monkeypatch, clamp)
    for index in (3, 4, 5):
        edit_request(suite, EFFORTS, clamp, index=index)


@broken_sdk
def drops_the_summary_request(suite, monkeypatch):
    def drop(body):
        if isinstance(body.get("reasoning"), dict):
            body["reasoning"].pop("summary", None)

    rewrite_json(monkeypatch, drop)
    edit_request(suite, RESPONSES, drop)


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


@broken_sdk
def loses_reasoning_tokens(suite, monkeypatch):
    _tamper(monkeypatch, lambda client: client.chat.completions,
            lambda result: setattr(result.usage.completion_tokens_details, "reasoning_tokens", 0))


@broken_sdk
def loses_the_error_code(suite, monkeypatch):
    fault_mutants.whole_body(monkeypatch)


@broken_sdk
def garbles_the_summary(suite, monkeypatch):
    def garble(response):
        for item in response.output:
            if item.type == "reasoning":
                for part in item.summary:
                    part.text = part.text.upper()

    _tamper(monkeypatch, lambda client: client.responses, garble)


CAUGHT = [
    (reasoning_tokens_above_completion_tokens, "reasoning.chat-usage", "python", "usage.details"),
    (missing_reasoning_tokens, "reasoning.chat-usage", "python", "reasoning_tokens is missing"),
    (a_completion_that_breaks_the_contract, "reasoning.effort-values", "python",
     "gpt-5.1 (none)"),
    (a_deployment_that_accepts_max_tokens, "reasoning.max-tokens-rejected", "python",
     "returned a completion"),
    (a_different_error_code, "reasoning.max-tokens-rejected", "python", "error code is"),
    (a_different_error_param, "reasoning.max-tokens-rejected", "python", "error param is"),
    (a_retried_400, "reasoning.max-tokens-rejected", "python", ""),
    (no_encrypted_content, "reasoning.responses-items", "python", "no encrypted_content"),
    (reasoning_after_the_message, "reasoning.responses-items", "python", "does not precede"),
    (a_summary_part_of_another_type, "reasoning.responses-items", "python",
     "responses.reasoning"),
    (another_effort_echoed, "reasoning.responses-items", "python", "echoes effort"),
    (turns_developer_into_system, "reasoning.chat-request", "python", "developer role"),
    (adds_a_sampling_parameter, "reasoning.chat-request", "python", "temperature"),
    (clamps_effort_values, "reasoning.effort-values", "python",
     "'minimal' went out as 'medium'"),
    (drops_the_summary_request, "reasoning.responses-request", "python",
     "reasoning went out as"),
    (loses_reasoning_tokens, "reasoning.chat-usage", "python",
     "python's reasoning_tokens 0 differ"),
    (loses_the_error_code, "reasoning.max-tokens-rejected", "python", "error code is None"),
    (garbles_the_summary, "reasoning.responses-items", "python", "python's summary of"),
]
test_caught = caught(CAUGHT)


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
