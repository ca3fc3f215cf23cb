"""The cross-SDK checks (conformance/suites/cross_sdk.py): each passes for every SDK on the
packaged cassettes, fails against a misbehaving server (a broken cassette, or the scripted
server monkeypatched to misbehave), and catches a misbehaving SDK build (the drivers'
AOAI_CONFORMANCE_DRIVER_MUTANT=max_retries:N). The harness side: a driver that breaks the
protocol is an ``error`` carrying its scrubbed stderr, a missing toolchain a ``skipped`` with
the install hint.

Tests that start a real driver (node, go, java) are marked ``drivers``; python runs in process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import sdks
from conformance.drivers import DriverProcess, DriverUnavailable
from conformance.drivers import build as builder
from conformance.drivers import pool as driver_pool
from conformance.registry import ALL_SDKS, PYTHON_ONLY, REGISTRY, Verdict
from conformance.sdk import TEST_API_KEY
from conformance.suites import (  # noqa: F401 (registers checks)
    async_client,
    auth,
    chat,
    cross_sdk,
    errors,
    image_input,
    request_ids,
    streaming,
    streaming_hostile,
    streaming_responses,
    embeddings,
    mcp,
    reasoning,
    responses,
)
from conformance.wire import Interaction

from . import driver_mutants, fault_mutants
from .conftest import Suite
from .failures import caught

# Every check on every SDK (the claims already converted included), and the sdks- twins that
# are still here (cross_sdk*.py), which -k sdks selects.
EVERY_SDK = sorted(c.id for c in REGISTRY.values() if c.sdks != PYTHON_ONLY)
CROSS = sorted(c.id for c in REGISTRY.values() if c.sdks != PYTHON_ONLY
               and c.function.__module__.rsplit(".", 1)[-1].startswith("cross_sdk"))
TWINS = [c for c in EVERY_SDK if ".sdks-" in c]
FEATURES = ("auth", "chat", "streaming", "responses", "mcp", "embeddings", "image-input",
            "errors", "request-ids")


def _sdk_args(sdk: str, check_ids: list[str] = CROSS) -> tuple[str, ...]:
    """Run the cross-SDK checks (chosen from the registry, never by a name substring)."""
    return (f"--conformance-sdk={sdk}", *(f"--conformance-check={c}" for c in check_ids))


def _verdicts(run: Any, sdk: str) -> dict[str, Verdict]:
    return {c.id: c.verdict for c in run.results.checks if c.sdk == sdk}


def _skip_if_unavailable(run: Any, sdk: str) -> None:
    skipped = [c for c in run.results.checks if c.sdk == sdk and c.verdict is Verdict.SKIPPED]
    if skipped and all(c.verdict is Verdict.SKIPPED for c in run.results.checks
                       if c.sdk == sdk):
        pytest.skip(f"{sdk} driver unavailable: {skipped[0].message}")


def test_the_cross_sdk_checks_cover_every_feature_the_issue_names():
    assert {c.split(".")[0] for c in EVERY_SDK} >= set(FEATURES)
    for check_id in EVERY_SDK:
        assert REGISTRY[check_id].sdks == ALL_SDKS


def _misbehave(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """One misbehaving server per feature: cassettes broken, the scripted server changed."""

    def status(code: int) -> Any:
        def apply(interactions: list[Interaction]) -> None:
            interactions[0].response["status"] = {"code": code, "message": "Broken"}
        return apply

    def another_data_url(interactions: list[Interaction]) -> None:
        # The recording holds another data URL than the one given (a space after "base64,"):
        # an SDK that sends the URL as given misses the replay.
        request = interactions[0].request
        request.body = request.body.replace(b"base64,iVBOR", b"base64, iVBOR", 1)

    suite.edit("responses/create.yaml", status(500))
    suite.edit("mcp/tool-config.yaml", mcp_call_elsewhere)
    # The scripted server: embeddings answer another vector, errors lose their code,
    # retryable errors say x-should-retry: false.
    monkeypatch.setattr(cross_sdk._Embeddings, "vector", [0.5, -0.25, 1.0, -4.0])
    original_envelope = cross_sdk._envelope
    monkeypatch.setattr(cross_sdk, "_envelope",
                        lambda code: {"error": {**original_envelope(code)["error"],
                                                "code": None}})
    original_error = cross_sdk._error

    def no_retry(code: int, request_id: str = "", hint_ms: str | None = "10") -> Any:
        reply = original_error(code, request_id, hint_ms)
        return type(reply)(reply.status, (*reply.headers, ("x-should-retry", "false")),
                           reply.body)

    monkeypatch.setattr(cross_sdk, "_error", no_retry)


# The streaming checks are not here: tests/test_streaming_sdks.py breaks their streams for each
# SDK (a stream the SDKs cannot read at all is the cassette's fault, an error:
# tests/test_sse_blame.py); an SDK that loses an event fails them too
# (test_a_misbehaving_openai_python_is_caught).
# The errors, request-id, chat, auth and image-input claims: tests/test_sdk_claims.py.
EXPECTED_FAILURES = {
    "responses.sdks-create", "embeddings.sdks-default-encoding", "mcp.sdks-tool-config",
}


def test_a_run_without_sdk_options_leaves_the_twins_out(suite: Suite):
    # A claim's one check runs for python; a retired twin still here only with --sdk.
    run = suite.run(args=("-k", "sdks or parsed_object"))
    assert [(c.id, c.sdk) for c in run.results.checks] == [
        ("request-ids.parsed-object", "python")]


def test_python_passes_every_cross_sdk_check(suite: Suite):
    run = suite.run(args=_sdk_args("python"))
    assert _verdicts(run, "python") == dict.fromkeys(CROSS, Verdict.PASS), run.outcome.stdout.str()
    [result] = [c for c in run.results.checks if c.id == "responses.sdks-create"]
    assert result.sdk == "python" and result.sdk_version


def test_python_fails_against_a_misbehaving_server(suite: Suite, monkeypatch):
    _misbehave(suite, monkeypatch)
    run = suite.run(args=_sdk_args("python"))
    verdicts = _verdicts(run, "python")
    assert {c for c, v in verdicts.items() if v is Verdict.FAIL} >= EXPECTED_FAILURES, verdicts


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", sdks.driver_names())
def test_each_driver_passes_every_cross_sdk_check(suite: Suite, sdk: str):
    run = suite.run(args=_sdk_args(sdk))
    _skip_if_unavailable(run, sdk)
    verdicts = _verdicts(run, sdk)
    expected = dict.fromkeys(TWINS, Verdict.PASS)
    assert verdicts == expected, run.outcome.stdout.str()
    assert {c.sdk_version for c in run.results.checks if c.sdk == sdk} == {
        builder.pinned_version(sdk)}


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", sdks.driver_names())
def test_each_driver_fails_against_a_misbehaving_server(suite: Suite, monkeypatch, sdk: str):
    _misbehave(suite, monkeypatch)
    run = suite.run(args=_sdk_args(sdk))
    _skip_if_unavailable(run, sdk)
    verdicts = _verdicts(run, sdk)
    assert {c for c, v in verdicts.items() if v is Verdict.FAIL} >= EXPECTED_FAILURES, verdicts
    assert Verdict.ERROR not in verdicts.values(), verdicts


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", sdks.driver_names())
def test_a_driver_build_that_retries_more_is_caught(suite: Suite, monkeypatch, sdk: str):
    monkeypatch.setenv("AOAI_CONFORMANCE_DRIVER_MUTANT", "max_retries:5")
    run = suite.run(args=(f"--conformance-sdk={sdk}", "-k",
                          "default_attempts or client_max_retries"))
    _skip_if_unavailable(run, sdk)
    assert run.verdict("retries.default-attempts", sdk) is Verdict.FAIL
    assert "6 attempt(s), expected 3" in run.message("retries.default-attempts", sdk)
    assert run.verdict("retries.client-max-retries", sdk) is Verdict.FAIL


# Broken builds of the other SDKs (tests/driver_mutants): one behaviour changed in the installed
# SDK, not in the driver. Each is caught by at least one fail; each runs only its checks.
DRIVER_MUTANTS = {
    "javascript-stream-text-emptied": (
        "javascript",
        lambda d: driver_mutants.javascript(d, driver_mutants.JS_STREAM_DELTA_EMPTIED),
        "sample_handling", ["streaming.responses-sample-handling"]),
    "go-content-and-delta-not-decoded": (
        "go", lambda d: driver_mutants.go(d, driver_mutants.GO_CONTENT_AND_DELTA_NOT_DECODED),
        "sample_handling", ["streaming.responses-sample-handling"]),
}
# The mutants the errors, request-id, chat, auth and image-input claims catch:
# tests/test_sdk_claims.py.


@pytest.mark.drivers
@pytest.mark.parametrize("name", sorted(DRIVER_MUTANTS))
def test_a_broken_sdk_build_is_caught(suite: Suite, monkeypatch, tmp_path: Path, name: str):
    sdk, make, failing = DRIVER_MUTANTS[name]
    try:
        mutant = make(tmp_path / "mutant")
    except DriverUnavailable as exc:
        pytest.skip(f"{sdk} driver unavailable: {exc}")
    monkeypatch.setattr(driver_pool, "start", driver_mutants.pool_start(mutant))
    run = suite.run(args=_sdk_args(sdk, failing))
    verdicts = _verdicts(run, sdk)
    assert {c: verdicts.get(c) for c in failing} == dict.fromkeys(failing, Verdict.FAIL), (
        run.outcome.stdout.str())
    assert Verdict.ERROR not in verdicts.values(), verdicts


@pytest.mark.parametrize(("mutant", "failing"), [
    (fault_mutants.loses_a_stream_event,
     ["streaming.chat-doc-loop-text", "streaming.responses-sample-handling"]),
])
def test_a_misbehaving_openai_python_is_caught(suite: Suite, monkeypatch, mutant, failing):
    mutant(monkeypatch)
    run = suite.run(args=(*_sdk_args("python")[:-1], "sdks or chat_doc_loop_text or "
                          "sample_handling"))
    verdicts = _verdicts(run, "python")
    assert {c: verdicts[c] for c in failing} == dict.fromkeys(failing, Verdict.FAIL), verdicts


# -- the harness side, with stand-ins for the driver (no toolchain needed) -------------------------


def test_a_missing_toolchain_skips_that_sdks_checks_with_the_hint(suite: Suite, monkeypatch):
    def unavailable(sdk: str, **kwargs: Any) -> Any:
        raise DriverUnavailable(sdk, "node not found on PATH", "Install Node.js 20 or newer.")

    monkeypatch.setattr(driver_pool, "start", unavailable)
    run = suite.run(args=("--conformance-sdk=javascript", "-k",
                          "api_key_bearer or response_contract"))
    for check_id in ("auth.api-key-bearer", "chat.response-contract"):
        assert run.verdict(check_id, "javascript") is Verdict.SKIPPED
        assert "Install Node.js 20" in run.message(check_id, "javascript")
    assert run.results.ok


class _Junk:
    """A 'built driver' that says hello, then answers a run with junk and logs a key."""

    def __init__(self, directory: Path) -> None:
        self.script = directory / "junk_driver.py"
        self.script.write_text(
            "import json, sys\n"
            "print(json.dumps({'type': 'hello', 'protocol': 2, 'sdk': 'go', "
            "'sdk_version': '9.9.9', 'runtime': 'stand-in'}), flush=True)\n"
            "sys.stdin.readline()\n"
            f"print('request failed with key {TEST_API_KEY}', file=sys.stderr, flush=True)\n"
            "print('this is not JSON', flush=True)\n"
            "sys.stdin.readline()\n")

    def process(self, **kwargs: Any) -> DriverProcess:
        return DriverProcess("go", [sys.executable, str(self.script)])

    def start(self, sdk: str, **kwargs: Any) -> tuple[_Junk, DriverProcess]:
        """What the pool asks for: the driver built and started (it says hello, at a
        version of its own: the harness takes it at its word here)."""
        process = self.process()
        process.start()
        return self, process


def test_a_driver_that_breaks_the_protocol_is_an_error_with_its_scrubbed_stderr(
        suite: Suite, monkeypatch, tmp_path: Path):
    junk = _Junk(tmp_path)
    monkeypatch.setattr(driver_pool, "start", junk.start)
    run = suite.run(args=("--conformance-sdk=go", "-k", "api_key_bearer"))
    result = run.result("auth.api-key-bearer", "go")
    assert result.verdict is Verdict.ERROR
    assert result.sdk_version == "9.9.9"
    assert "malformed output" in result.message
    assert "request failed with key" in result.message  # the stderr tail
    assert TEST_API_KEY not in result.message
    assert TEST_API_KEY not in run.outcome.stdout.str()


def test_sdk_and_feature_options_are_checked_before_anything_runs(pytester: pytest.Pytester):
    for args, said in ((("--conformance-sdk=rust",), "unknown SDK 'rust'"),
                       (("--conformance-sdk=python@3.0.0",), "installed openai wheel"),
                       (("--conformance-feature=chats",), "unknown feature(s): chats")):
        outcome = pytester.runpytest_inprocess("--pyargs", "conformance.suites",
                                               "-p", "no:cacheprovider", *args)
        assert outcome.ret == pytest.ExitCode.USAGE_ERROR
        assert said in outcome.stderr.str()


def test_results_from_before_the_sdk_dimension_read_as_python(tmp_path: Path):
    import json

    from conformance.results import Results, compare

    old = {"schema": 1, "tool": {"name": "azure-openai-conformance", "version": "0.1.0"},
           "sdk": {"name": "openai-python", "version": "3.57.0"}, "target": {"mode": "replay"},
           "summary": {}, "checks": [{"id": "chat.completion", "feature": "chat",
                                      "verdict": "pass", "message": "", "observations": {}}]}
    (tmp_path / "results.json").write_text(json.dumps(old))
    loaded = Results.load(tmp_path / "results.json")
    assert [(c.id, c.sdk) for c in loaded.checks] == [("chat.completion", "python")]
    # A javascript verdict of the same check is another result, not a change of python's.
    both = Results.load(tmp_path / "results.json")
    both.checks.append(type(both.checks[0])(id="chat.completion", feature="chat",
                                            verdict=Verdict.FAIL, sdk="javascript"))
    [change] = compare(loaded, both)
    assert (change.id, change.kind) == ("chat.completion[javascript]", "regression")


# -- failure tables (tests/failures.py) ------------------------------------------------------


def no_retry_after_the_hint(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that hints a wait on its 429 and says x-should-retry: false beside it."""
    original = cross_sdk.actions.reply

    def reply(status: int, *args: Any, headers: Any = (), **kwargs: Any) -> Any:
        if status == 429:
            headers = [*headers, ("x-should-retry", "false")]
        return original(status, *args, headers=headers, **kwargs)

    monkeypatch.setattr(cross_sdk, "actions", type(sys)("actions"))
    cross_sdk.actions.reply = reply  # type: ignore[attr-defined]


def retryable_errors_say_no_retry(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server whose retryable errors (408, 429, 5xx) say x-should-retry: false."""
    original = cross_sdk._error

    def no_retry(code: int, request_id: str = "", hint_ms: str | None = "10") -> Any:
        reply = original(code, request_id, hint_ms)
        return type(reply)(reply.status, (*reply.headers, ("x-should-retry", "false")),
                           reply.body)

    monkeypatch.setattr(cross_sdk, "_error", no_retry)


def chunks_after_done(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chat stream that goes on after ``data: [DONE]``: no SDK reads past it, so the loop
    yields fewer chunks than the server sent."""
    def apply(interactions: list[Interaction]) -> None:
        response = interactions[0].response
        body = response["body"]["string"]
        text = body.decode() if isinstance(body, bytes) else body
        first = next(line for line in text.split("\n") if line.startswith("data: {"))
        extra = f"{first}\n\n"
        response["body"]["string"] = (text + extra).encode() if isinstance(body, bytes) else (
            text + extra)

    suite.edit("request-ids/chat-stream.yaml", apply)


CAUGHT = [
    *[(no_retry_after_the_hint, check_id, sdk, "raised")
      for check_id in ("retries.sdks-retry-after-ms", "retries.sdks-retry-after-seconds")
      for sdk in sdks.names()],
    *[(retryable_errors_say_no_retry, "retries.sdks-retryable-statuses", sdk, "was not retried")
      for sdk in sdks.names()],
    *[(chunks_after_done, "streaming.sdks-chat-stream", sdk, "the server sent")
      for sdk in sdks.names()],
]
test_caught = caught(CAUGHT)
