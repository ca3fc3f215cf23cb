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
    """Passes preflight (the model list, a deployment probe naming only the model), then
    redirects the check's own request."""

    def respond(self, request):
        if request.method == "GET":
            return Reply(200, [("content-type", "application/json")], b'{"data": []}')
        if set(json.loads(request.body)) == {"model"}:
            return Reply(400, [("content-type", "application/json")],
                         b'{"error": {"code": "invalid_request", "message": "probe"}}')
        return Reply(307, [("location", "https://elsewhere.example/openai/v1/chat/completions")])


@pytest.fixture
def upstream():
    with WireServer() as server:
        yield server


def test_a_tls_failure_stops_the_run_as_a_setup_error_not_a_fail(pytester, upstream,
                                                                  monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", LIVE_KEY)
    upstream.use(Redirect())
    outcome, data = run(
        pytester, f"--conformance-endpoint=https://127.0.0.1:{upstream.port}/openai/v1/")
    assert data is None  # preflight met it: no check ran, so none can be blamed
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR  # the CLI's exit 2
    assert "TLS failed with the resource" in outcome.stderr.str()


def test_an_upstream_failure_during_a_check_is_an_error_not_the_sdks_fail():
    from conformance.wire.proxy import Forward, UpstreamError
    from conformance.wire.server import RecordedRequest

    forward = Forward("https://127.0.0.1:9/openai/v1/", lambda: {})
    request = RecordedRequest(0, "POST", "/openai/v1/chat/completions", (), b"{}", 0.0)
    with pytest.raises(UpstreamError, match="the upstream connection failed"):
        forward.respond(request)
    assert forward.sent == 1  # a failed send is counted


def test_a_redirect_is_an_error_naming_its_target(pytester, upstream, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", LIVE_KEY)
    upstream.use(Redirect())
    _, data = run(pytester, f"--conformance-endpoint={upstream.base_url}")
    (result,) = data["checks"]
    assert result["verdict"] == "error"
    assert "the upstream answered 307 redirecting to 'https://elsewhere.example/openai/v1/" in (
        result["message"])
    redirected = [r for r in upstream.requests if r.method == "POST"
                  and set(json.loads(r.body)) != {"model"}]
    assert len(redirected) == 1  # the SDK never followed it


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
