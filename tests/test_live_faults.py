"""Live runs against a misbehaving upstream: TLS failures, redirects and timeouts are the
harness's ``error``, never the SDK's ``fail``; bad timeout options are usage errors."""

from __future__ import annotations

import json

import pytest

from conformance.wire import Reply, WireServer

LIVE_KEY = "live-secret-key-0123456789"


def run(pytester, *args):
    report = pytester.path / "report"
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", "--conformance-check=chat.response-contract",
        *args)
    path = report / "results.json"
    return outcome, (json.loads(path.read_text()) if path.exists() else None)


class Redirect:
    def respond(self, request):
        return Reply(307, [("location", "https://elsewhere.example/openai/v1/chat/completions")])


@pytest.fixture
def upstream():
    with WireServer() as server:
        yield server


def test_a_tls_failure_is_an_error_not_the_sdks_fail(pytester, upstream, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", LIVE_KEY)
    upstream.use(Redirect())
    _, data = run(pytester, f"--conformance-endpoint=https://127.0.0.1:{upstream.port}/openai/v1/")
    (result,) = data["checks"]
    assert result["verdict"] == "error"
    assert result["message"].startswith(
        "the wire server failed (not the SDK): request #0: TLS with the upstream failed")
    assert "the SDK raised" not in result["message"]


def test_a_redirect_is_an_error_naming_its_target(pytester, upstream, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", LIVE_KEY)
    upstream.use(Redirect())
    _, data = run(pytester, f"--conformance-endpoint={upstream.base_url}")
    (result,) = data["checks"]
    assert result["verdict"] == "error"
    assert "the upstream answered 307 redirecting to 'https://elsewhere.example/openai/v1/" in (
        result["message"])
    assert len(upstream.requests) == 1


@pytest.mark.parametrize("option", ["--conformance-request-timeout=0",
                                    "--conformance-run-timeout=-1"])
def test_a_timeout_that_is_not_positive_is_a_usage_error(pytester, option):
    outcome, data = run(pytester, option)
    assert data is None
    assert "must be a positive number of seconds" in outcome.stderr.str()


def test_the_cli_passes_the_timeouts_to_the_run(monkeypatch):
    from conformance import cli

    args = cli._parser().parse_args(["run", "--endpoint", "https://x.openai.azure.com/openai/v1/",
                                     "--request-timeout", "7", "--run-timeout", "60"])
    assert {"--conformance-request-timeout=7.0", "--conformance-run-timeout=60.0"} <= set(
        cli._live_args(args))
