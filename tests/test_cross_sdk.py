"""The SDK dimension: every claim is one check, run on every SDK (conformance/registry.py
``ALL_SDKS``), and what the harness does around the drivers. A driver build that retries more
(the drivers' AOAI_CONFORMANCE_DRIVER_MUTANT=max_retries:N) and broken SDK builds
(tests/driver_mutants) are caught; a driver that breaks the protocol is an ``error`` carrying its
scrubbed stderr, a missing toolchain a ``skipped`` with the install hint. Each feature's own
tests break its checks per SDK (tests/test_streaming_sdks.py, test_sdk_claims.py,
test_retries_sdks.py, test_sdks_responses.py).

Tests that start a real driver (node, go, java) are marked ``drivers``; python runs in process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance import aliases
from conformance.cli import load_suites
from conformance.drivers import DriverProcess, DriverUnavailable
from conformance.drivers import pool as driver_pool
from conformance.registry import ALL_SDKS, FEATURES, REGISTRY, Verdict
from conformance.sdk import TEST_API_KEY

from . import driver_mutants, fault_mutants
from .conftest import Suite
from .failures import BROKEN_BUILD, caught

# Every check runs on every SDK (issue 22 carried client construction to the drivers).
PYTHON_ONLY_CHECKS: set[str] = set()


def _sdk_args(sdk: str, check_ids: list[str]) -> tuple[str, ...]:
    """Run these checks (chosen from the registry, never by a name substring) on ``sdk``."""
    return (f"--conformance-sdk={sdk}", *(f"--conformance-check={c}" for c in check_ids))


def test_every_claim_is_one_check_run_on_every_sdk():
    load_suites()
    assert {c.feature for c in REGISTRY.values()} == set(FEATURES)
    for check in REGISTRY.values():
        if check.id not in PYTHON_ONLY_CHECKS:
            assert check.sdks == ALL_SDKS, check.id
    # A retired twin is gone for good: no claim has two ids.
    assert not set(aliases.RETIRED) & set(REGISTRY)
    assert set(aliases.RETIRED.values()) <= set(REGISTRY)


def test_a_run_without_sdk_options_judges_python_on_every_claim(suite: Suite):
    run = suite.run(args=("--conformance-feature=request-ids",))
    assert {(c.id, c.sdk) for c in run.results.checks} == {
        (c.id, "python") for c in REGISTRY.values() if c.feature == "request-ids"}


def driver_built_to_retry_five_times(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each driver builds its client with max retries 5 (the drivers' mutant variable)."""
    monkeypatch.setenv("AOAI_CONFORMANCE_DRIVER_MUTANT", "max_retries:5")


def built_with(name: str, sdk: str, make: Callable[[Path], Any]) -> Any:
    """A case: the checks run on the broken build of ``sdk``'s SDK that ``make`` builds in a
    folder (tests/driver_mutants): one behaviour changed in the installed SDK, not in the
    driver."""

    def case(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
        try:
            mutant = make(suite.pytester.path / "mutant")
        except DriverUnavailable as exc:
            pytest.skip(f"{sdk} driver unavailable: {exc}")
        monkeypatch.setattr(driver_pool, "start", driver_mutants.pool_start(mutant))

    case.__name__ = name
    setattr(case, BROKEN_BUILD, True)
    return case


js_stream_text_emptied = built_with(
    "js_stream_text_emptied", "javascript",
    lambda d: driver_mutants.javascript(d, driver_mutants.JS_STREAM_DELTA_EMPTIED))
go_content_and_delta_not_decoded = built_with(
    "go_content_and_delta_not_decoded", "go",
    lambda d: driver_mutants.go(d, driver_mutants.GO_CONTENT_AND_DELTA_NOT_DECODED))


def python_loses_a_stream_event(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    fault_mutants.loses_a_stream_event(monkeypatch)


for _case in (driver_built_to_retry_five_times, python_loses_a_stream_event):
    setattr(_case, BROKEN_BUILD, True)

# The mutants the errors, request-id, chat, auth and image-input claims catch:
# tests/test_sdk_claims.py.
CAUGHT = [
    *[(driver_built_to_retry_five_times, check_id, sdk, "")
      for sdk in ("javascript", "go", "java")
      for check_id in ("retries.default-attempts", "retries.client-max-retries")],
    (js_stream_text_emptied, "streaming.responses-sample-handling", "javascript", ""),
    (go_content_and_delta_not_decoded, "streaming.responses-sample-handling", "go", ""),
    (python_loses_a_stream_event, "streaming.chat-doc-loop-text", "python", ""),
    (python_loses_a_stream_event, "streaming.responses-sample-handling", "python", ""),
]
test_caught = caught(CAUGHT)


# -- the harness side, with stand-ins for the driver (no toolchain needed) -------------------------


def test_a_missing_toolchain_skips_that_sdks_checks_with_the_hint(suite: Suite, monkeypatch):
    def unavailable(sdk: str, **kwargs: Any) -> Any:
        raise DriverUnavailable(sdk, "node not found on PATH", "Install Node.js 20 or newer.")

    monkeypatch.setattr(driver_pool, "start", unavailable)
    run = suite.run(args=_sdk_args("javascript", ["auth.api-key-bearer",
                                                  "chat.response-contract"]))
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
    run = suite.run(args=_sdk_args("go", ["auth.api-key-bearer"]))
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
