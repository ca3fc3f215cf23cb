"""Live and record runs, against a local fake resource (never a real host)."""

from __future__ import annotations

import json

import pytest

from conformance import paths
from conformance.wire import Cassette

from .fake_resource import FakeResource, serving

LIVE_KEY = "live-secret-key-0123456789"


@pytest.fixture
def resource():
    with serving(FakeResource(LIVE_KEY, paths.cassette_root())) as fake:
        yield fake


def run(pytester, *args):
    report = pytester.path / "report"
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", *args)
    path = report / "results.json"
    return outcome, (json.loads(path.read_text()) if path.exists() else None)


def verdicts(data):
    return {c["id"]: c["verdict"] for c in data["checks"]}


def test_record_saves_a_scrubbed_cassette_that_then_replays(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", LIVE_KEY)
    recorded = pytester.path / "recorded"
    _, data = run(pytester, f"--conformance-endpoint={resource.endpoint}",
                  "--conformance-record", f"--conformance-cassettes={recorded}",
                  "--conformance-check=chat.request-shape")
    assert verdicts(data) == {"chat.request-shape": "pass"}
    assert data["target"]["mode"] == "record"
    # The resource got the real key; the SDK under test only ever had the made-up one.
    assert [r.header("authorization") for r in resource.work] == [f"Bearer {LIVE_KEY}"]
    path = recorded / "chat" / "completion.yaml"
    text = path.read_text()
    assert LIVE_KEY not in text and "127.0.0.1" not in text
    assert "x-stainless" not in text and "user-agent" not in text.lower()
    assert "set-cookie" not in text
    cassette = Cassette.load(path)
    assert cassette.provenance == "recorded"
    assert cassette.metadata["endpoint"] == "https://RESOURCE.openai.azure.com/openai/v1/"
    assert cassette.interactions[0].request.uri == (
        "https://RESOURCE.openai.azure.com/openai/v1/chat/completions")
    # Request ids become stable fakes of the same shape.
    assert cassette.interactions[0].header("x-request-id") == (
        "00000000-0000-0000-0000-000000000002")

    _, replayed = run(pytester, f"--conformance-cassettes={recorded}",
                      "--conformance-check=chat.request-shape")
    assert verdicts(replayed) == {"chat.request-shape": "pass"}


def test_live_run_reports_the_target_and_skips_replay_only_checks(pytester, resource,
                                                                   monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", LIVE_KEY)
    _, data = run(pytester, f"--conformance-endpoint={resource.endpoint}",
                  "--conformance-feature=auth")
    assert verdicts(data) == {"auth.api-key-bearer": "pass", "auth.entra-token-provider": "pass",
                              "auth.entra-token-per-attempt": "skipped",
                              "auth.entra-token-concurrent": "pass"}  # scripted, never sent
    # The two checks send the same request: the resource's answer serves both.
    assert data["target"]["mode"] == "live" and data["target"]["requests_sent"] == 1
    assert LIVE_KEY not in json.dumps(data)
    assert not (pytester.path / "cassettes").exists()


def test_a_wrong_key_fails_live(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "not-the-key-000000")
    outcome, data = run(pytester, f"--conformance-endpoint={resource.endpoint}",
                        "--conformance-check=chat.response-contract")
    assert data is None and outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["ERROR: setup error, no check ran*401*AZURE_OPENAI_API_KEY*"])


def test_the_budget_bounds_what_a_live_run_sends(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", LIVE_KEY)
    _, data = run(pytester, f"--conformance-endpoint={resource.endpoint}",
                  "--conformance-budget=1", "--conformance-feature=chat")
    assert sorted(verdicts(data).values()) == ["pass", "skipped", "skipped"]
    assert len(resource.work) == 1


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--conformance-endpoint=http://example.com/openai/v1/"], LIVE_KEY,
         "refusing plain http to the resource"),
        (["--conformance-endpoint=https://x.openai.azure.com/"], LIVE_KEY,
         "must end with /openai/v1/"),
        (["--conformance-endpoint=https://x.openai.azure.com/openai/v1/"], None,
         "AZURE_OPENAI_API_KEY, which is not set"),
        (["--conformance-record"], LIVE_KEY, "recording needs --conformance-endpoint"),
    ],
)
def test_bad_live_options_are_usage_errors(pytester, monkeypatch, args, env, message):
    if env is None:
        monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", env)
    outcome, _ = run(pytester, *args)
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines([f"*{message}*"])
