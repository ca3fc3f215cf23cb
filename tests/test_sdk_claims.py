"""The errors, request-id, chat, auth and image-input claims are one check each, run on every
SDK (issue 19): each passes for every SDK on the packaged cassettes (the doc's Go Entra sample
excepted: it fails, truthfully) and each fails, on every SDK, against a misbehaving server.

One run per SDK serves every misbehaving server at once (cassettes broken, the scripted server's
actions changed): ``CAUGHT`` says which check fails and why. Tests that start a real driver
(node, go, java) are marked ``drivers``; python runs in process.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import aliases, sdks
from conformance.registry import ALL_SDKS, REGISTRY, Verdict
from conformance.suites import (  # noqa: F401 (registers the checks)
    auth,
    auth_concurrency,
    chat,
    errors,
    image_input,
    request_ids,
)
from conformance.wire import Interaction
from conformance.wire import script as actions

from . import driver_mutants, fault_mutants
from .conftest import Suite
from .failures import caught
from .known_failures import known_failures
from .mutants import broken_sdk
from .test_cross_sdk import built_with, go_content_and_delta_not_decoded

MODULES = ("errors", "request_ids", "chat", "auth", "auth_concurrency", "image_input")
CHECKS = sorted(c.id for c in REGISTRY.values()
                if c.function.__module__.rsplit(".", 1)[-1] in MODULES and c.sdks == ALL_SDKS)
SELECTION = ("--conformance-feature=errors", "--conformance-feature=request-ids",
             "--conformance-feature=chat", "--conformance-feature=auth",
             "--conformance-feature=image-input")
# The doc's Go Entra sample (WithBaseURL + azure.WithTokenCredential) fails against openai-go
# v3.100.0 before sending anything: scripts/known_failures.py lists exactly these.
GO_ENTRA = ("auth.entra-token-provider", "auth.entra-token-per-attempt",
            "auth.entra-token-concurrent")
GO_ENTRA_ERROR = "azure: authentication requires azure.WithEndpoint"


def _run(suite: Suite, sdk: str) -> Any:
    run = suite.run(args=(f"--conformance-sdk={sdk}", *SELECTION))
    checks = [c for c in run.results.checks if c.sdk == sdk]
    if checks and all(c.verdict is Verdict.SKIPPED for c in checks):
        pytest.skip(f"{sdk} driver unavailable: {checks[0].message}")
    return run


def _verdicts(run: Any, sdk: str) -> dict[str, Verdict]:
    return {c.id: c.verdict for c in run.results.checks if c.sdk == sdk and c.id in CHECKS}


def test_every_claim_is_one_check_on_every_sdk_and_its_twins_are_retired():
    assert len(CHECKS) == 22  # errors 10, request-ids 3, chat 3, auth 3 + 1, image-input 2
    retired = {old for old, new in aliases.RETIRED.items() if new in CHECKS}
    assert retired == {"errors.sdks-status-classes", "request-ids.sdks-accessor",
                       "chat.sdks-completion", "auth.sdks-api-key", "auth.sdks-token-provider",
                       "image-input.sdks-doc-sample", "image-input.sdks-url-and-data-url"}
    assert not retired & set(REGISTRY)


# The truthful failures on the pinned SDKs (scripts/known_failures.py, which CI reads).
KNOWN = set(known_failures())


def test_known_failures_lists_what_the_converted_checks_report():
    mine = {(c, s) for c, s in KNOWN if c in CHECKS}  # the other features list their own
    assert {(c, "go") for c in GO_ENTRA} | {
        ("errors.connection-error", sdk) for sdk in ("javascript", "go", "java")} | {
        ("errors.stream-connection-reset", sdk) for sdk in ("javascript", "go")} == mine


def test_a_run_without_sdk_options_judges_python_on_every_claim(suite: Suite):
    run = suite.run(args=SELECTION)
    assert _verdicts(run, "python") == dict.fromkeys(CHECKS, Verdict.PASS), (
        run.outcome.stdout.str())


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", sdks.driver_names())
def test_each_driver_passes_every_claim(suite: Suite, sdk: str):
    run = _run(suite, sdk)
    expected = {c: Verdict.FAIL if (c, sdk) in KNOWN else Verdict.PASS for c in CHECKS}
    assert _verdicts(run, sdk) == expected, run.outcome.stdout.str()
    if sdk == "go":
        for check_id in GO_ENTRA:
            assert GO_ENTRA_ERROR in run.message(check_id, "go")


def _misbehave(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every misbehaving server of CAUGHT at once."""

    def status(code: int) -> Any:
        def apply(interactions: list[Interaction]) -> None:
            interactions[0].response["status"] = {"code": code, "message": "Broken"}
        return apply

    def drop_header(name: str) -> Any:
        def apply(interactions: list[Interaction]) -> None:
            interactions[0].response["headers"].pop(name)
        return apply

    def another_data_url(interactions: list[Interaction]) -> None:
        # The recording holds another data URL than the one given: an SDK that sends the URL
        # as given misses the replay.
        request = interactions[0].request
        request.body = request.body.replace(b"base64,iVBOR", b"base64, iVBOR", 1)

    suite.edit("chat/completion.yaml", status(401))
    suite.edit("auth/entra-token-per-attempt.yaml", status(403))  # no retry, no completion
    suite.edit("image-input/chat-doc-sample.yaml", status(400))
    suite.edit("image-input/chat-url-and-data-url.yaml", another_data_url)
    suite.edit("request-ids/chat-completion.yaml", drop_header("x-request-id"))
    suite.edit("request-ids/chat-stream.yaml", drop_header("x-request-id"))
    # An SDK reading apim-request-id would pass a reply carrying both: a reply with x-request-id
    # taken from apim-request-id is what not-from-apim cannot tell, so it is skipped, not here.
    suite.edit_json("errors/content-filter.yaml", 0,
                    lambda b: b["error"]["innererror"]["content_filter_result"]["violence"]
                    .update(severity="extreme"))
    suite.edit_json("errors/azure-envelope.yaml", 3, lambda b: b["error"].update(message=""))
    suite.edit_json("errors/bare-envelope.yaml", 0, lambda b: b.update(statusCode=403))
    suite.edit_json("errors/openai-envelope.yaml", 1,
                    lambda b: (b["error"].pop("type"), b["error"].pop("param")))
    # The scripted server: errors lose their code; a reset, a stall and a cut stream answer
    # in full; truncated JSON comes with a 400.
    original = errors._envelope
    monkeypatch.setattr(errors, "_envelope",
                        lambda code: {"error": {**original(code)["error"], "code": None}})
    whole = actions.reply(200, errors.COMPLETION)
    monkeypatch.setattr(actions, "reset", lambda: whole)
    monkeypatch.setattr(actions, "stall", lambda seconds=30.0: whole)
    stream = actions.event_stream
    monkeypatch.setattr(actions, "event_stream",
                        lambda events, **kw: stream(events, **{**kw, "reset_after": None}))
    monkeypatch.setattr(auth_concurrency.Overlap, "respond",
                        lambda self, request: actions.reply(401, errors._envelope(401)))
    monkeypatch.setattr(actions, "malformed_json",
                        lambda status=200, **kw: actions.reply(400, {"error": {"code": "x"}}))


# (check, phrase in its fail message): every SDK (python and each driver) fails each check
# against the misbehaving servers of _misbehave.
PHRASES = [
    ("errors.status-classes", "the envelope's is 'code-400'"),
    ("errors.connection-error", "reset before headers"),
    ("errors.timeout", "a timeout raised success"),
    ("errors.openai-envelope", "expected a family A envelope, got C"),
    ("errors.content-filter", "content-filter.severity"),
    ("errors.azure-envelope", "error.message"),
    ("errors.bare-envelope", "error.status-member"),
    ("errors.non-json-body", "500 truncated json"),
    ("errors.stream-connection-reset", "chunk(s) reached the caller before the reset, not 2"),
    ("request-ids.parsed-object", "no x-request-id"),
    ("request-ids.stream-response-header", "no x-request-id"),
    ("chat.request-shape", "401"),
    ("chat.response-contract", "401"),
    ("chat.azure-filter-results", "401"),
    ("auth.api-key-bearer", "401"),
    ("auth.entra-token-provider", "401"),
    ("auth.entra-token-per-attempt", "403"),
    ("auth.entra-token-concurrent", "401"),
    ("errors.fine-tuning-example", "unreachable: the example took its no error branch"),
    ("image-input.chat-doc-sample", "400"),
    ("image-input.chat-url-and-data-url", "data:image/png;base64"),
]
# The checks of the features no server here makes fail: each run judges them too, and they
# may not err.
JUDGED_TOO = sorted(set(CHECKS) - {check_id for check_id, _ in PHRASES})
# One run per SDK judges every claim of the features: each row's check fails with its phrase,
# the doc's Go Entra sample with its own (it fails before sending anything), and no check errs.
CAUGHT = [
    (_misbehave, check_id, sdk, GO_ENTRA_ERROR if sdk == "go" and check_id in GO_ENTRA else phrase)
    for sdk in ("python", *sdks.driver_names())
    for check_id, phrase in PHRASES
]
test_every_sdk_fails_against_a_misbehaving_server = caught(CAUGHT, judged_too=JUDGED_TOO)


def test_the_misbehaving_runs_judge_every_claim():
    assert JUDGED_TOO == ["request-ids.not-from-apim"]  # no server here makes it fail
    assert len(PHRASES) + len(JUDGED_TOO) == len(CHECKS)


# Broken SDK builds (tests/driver_mutants): one behaviour changed in the installed SDK.
js_request_id_dropped = built_with(
    "js_request_id_dropped", "javascript",
    lambda d: driver_mutants.javascript(d, driver_mutants.JS_REQUEST_ID_DROPPED))
go_max_tokens_dropped = built_with(
    "go_max_tokens_dropped", "go",
    lambda d: driver_mutants.go(d, driver_mutants.GO_MAX_TOKENS_DROPPED))
java_content_empty = built_with(
    "java_content_empty", "java",
    lambda d: driver_mutants.java(d, driver_mutants.JAVA_CONTENT_EMPTY))
java_azure_routed_as_legacy = built_with(
    "java_azure_routed_as_legacy", "java",
    lambda d: driver_mutants.java(d, driver_mutants.JAVA_AZURE_ROUTED_AS_LEGACY))

BROKEN_BUILDS = [
    (js_request_id_dropped, "request-ids.parsed-object", "javascript", ""),
    (go_content_and_delta_not_decoded, "chat.response-contract", "go", ""),
    (go_content_and_delta_not_decoded, "image-input.chat-doc-sample", "go", ""),
    (go_max_tokens_dropped, "image-input.chat-doc-sample", "go", ""),
    (java_content_empty, "chat.response-contract", "java", ""),
    (java_content_empty, "image-input.chat-doc-sample", "java", ""),
    # the wire server saw the rewritten URL
    (java_azure_routed_as_legacy, "auth.api-key-bearer", "java", "/openai/deployments/"),
    (java_azure_routed_as_legacy, "chat.response-contract", "java", ""),
]
test_a_broken_sdk_build_is_caught = caught(BROKEN_BUILDS)


# openai-python builds that misbehave (tests/fault_mutants), judged through its driver.
@broken_sdk
def token_once_per_call(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    fault_mutants.token_once_per_call(monkeypatch)


@broken_sdk
def request_id_dropped(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    fault_mutants.drops_request_id(monkeypatch)


CAUGHT_ON_PYTHON = [
    (token_once_per_call, "auth.entra-token-per-attempt", "python",
     "called its token provider 1 time(s)"),
    (request_id_dropped, "errors.status-classes", "python", "request_id is None"),
]
test_a_misbehaving_openai_python_is_caught = caught(CAUGHT_ON_PYTHON)
