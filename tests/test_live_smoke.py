"""A full live smoke against a stand-in resource whose deployments are named its own way:
with a deployment map, every live-safe check passes within the default budgets, and what it
spent is counted from the stand-in's usage fields (which honour the output cap)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import paths, usage
from conformance.wire import Cassette, WireServer

from .conftest import DRIVER_CACHE
from .fake_resource import FakeResource
from .known_failures import known_failures

KEY = "live-secret-key-0123456789abcdef"
# The stand-in's names for the doc's deployments.
THEIRS = {
    "gpt-4o": "chat-prod", "gpt-4.1": "g41", "gpt-4.1-nano": "g41-nano", "gpt-5": "g5",
    "gpt-5-mini": "g5-mini", "gpt-5.1": "g51", "gpt-5.1-codex-max": "g51-codex",
    "o4-mini": "reasoner", "text-embedding-3-small": "emb-small",
    "text-embedding-3-large": "emb-large", "text-embedding-ada-002": "emb-ada",
}


@pytest.mark.slow
def test_a_mapped_full_live_smoke_passes_within_the_default_budgets(pytester, monkeypatch):
    fake = FakeResource(KEY, paths.cassette_root(),
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AOAI_CONFORMANCE_DEPLOYMENTS",
                       ",".join(f"{doc}={theirs}" for doc, theirs in THEIRS.items()))
    with WireServer() as server:
        server.use(fake)
        outcome = pytester.runpytest_inprocess(
            "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
            f"--conformance-report-dir={pytester.path / 'report'}",
            f"--conformance-endpoint={server.base_url}")
    data = json.loads((pytester.path / "report" / "results.json").read_text())
    checks = {c["id"]: c for c in data["checks"]}
    not_live = {i for i, c in checks.items() if c["verdict"] == "skipped"}
    assert all("replay only" in checks[i]["message"] for i in not_live)
    assert {c["verdict"] for i, c in checks.items() if i not in not_live} == {"pass"}, [
        (i, c["message"][:200]) for i, c in checks.items() if c["verdict"] not in (
            "pass", "skipped")]
    target = data["target"]
    spent = sum(c["observations"].get("live_usage", {}).get("input_tokens", 0)
                + c["observations"].get("live_usage", {}).get("output_tokens", 0)
                for c in checks.values())
    assert target["tokens_used"] == spent > 0
    assert target["requests_sent"] <= target["request_budget"]
    assert target["tokens_used"] <= target["token_budget"]
    announced = [line for line in outcome.stdout.lines if line.startswith("live: preflight")]
    assert len(announced) == 1 and "37 check(s) go upstream: about " in announced[0]
    outcome.stdout.fnmatch_lines([f"live: {target['requests_sent']} request(s) of 60, "
                                  f"{spent} token(s) of *"])
    print(f"\nfull live smoke: {target['requests_sent']} requests, {spent} tokens")


def test_the_echoed_model_is_judged_against_the_deployment_sent(pytester, monkeypatch):
    """The service echoes the deployment it was sent; an echo of anything else (here the
    doc's name, which never went upstream) fails responses.response-contract."""

    def echo_doc_name(data):
        if data.get("object") == "response":
            data["model"] = "gpt-4.1-nano"

    fake = FakeResource(KEY, paths.cassette_root(), edit=echo_doc_name,
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    with WireServer() as server:
        server.use(fake)
        outcome = pytester.runpytest_inprocess(
            "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
            f"--conformance-report-dir={pytester.path / 'report'}",
            f"--conformance-endpoint={server.base_url}",
            "--conformance-check=responses.response-contract",
            "--conformance-deployment=gpt-4.1-nano=g41-nano")
    data = json.loads((pytester.path / "report" / "results.json").read_text())
    [row] = data["checks"]
    assert row["verdict"] == "fail"
    assert "echo the deployment name 'g41-nano'" in row["message"]
    # The terminal shows the reason in one paragraph; the traceback is in the report.
    printed = outcome.stdout.str()
    assert "Traceback" not in printed and "def response_contract" not in printed
    assert "expect(body[" not in printed
    outcome.stdout.fnmatch_lines(["responses.response-contract: model should echo the "
                                  "deployment name 'g41-nano' (wire §11.3), got 'gpt-4.1-nano'"])
    assert "def response_contract" in row["observations"]["traceback"]


def test_a_failing_record_says_what_it_did_not_write_and_why(pytester, monkeypatch):
    def echo_doc_name(data):
        if data.get("object") == "response":
            data["model"] = "gpt-4.1-nano"

    fake = FakeResource(KEY, paths.cassette_root(), edit=echo_doc_name,
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    recorded = pytester.path / "recorded"
    outcome = _record_response_contract(pytester, fake, recorded)
    assert not recorded.exists()
    outcome.stdout.fnmatch_lines([
        "record: responses/create.yaml: not written: responses.response-contract fail (model "
        "should echo the deployment name 'g41-nano'*",
        "record: 0 cassette(s) written, 1 not written",
        "Azure OpenAI v1 conformance: *, record http://<resource-host>/openai/v1/: nothing "
        "written into *recorded"])
    data = json.loads((pytester.path / "report" / "results.json").read_text())
    assert data["target"]["written"] == [] and list(data["target"]["not_written"]) == [
        "responses/create.yaml"]


REASONING = frozenset({"o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.1", "gpt-5.1-codex-max"})


def _reasoning_run(pytester, monkeypatch, edit=None):
    fake = FakeResource(KEY, paths.cassette_root(), edit=edit, spends_cap_on_reasoning=REASONING,
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AOAI_CONFORMANCE_DEPLOYMENTS",
                       ",".join(f"{doc}={theirs}" for doc, theirs in THEIRS.items()))
    with WireServer() as server:
        server.use(fake)
        outcome = pytester.runpytest_inprocess(
            "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
            f"--conformance-report-dir={pytester.path / 'report'}",
            f"--conformance-endpoint={server.base_url}", "--conformance-feature=reasoning",
            "--conformance-feature=mcp")
    data = json.loads((pytester.path / "report" / "results.json").read_text())
    return outcome, {c["id"]: c for c in data["checks"]}, fake


def test_reasoning_deployments_that_spend_the_cap_on_reasoning_pass(pytester, monkeypatch):
    """A real reasoning deployment can spend 32 output tokens on reasoning alone: chat
    answers '' with finish_reason length, a Response is incomplete with no message. The
    checks hold for that answer; the MCP checks, which need the tool call, ask for more."""
    outcome, checks, fake = _reasoning_run(pytester, monkeypatch)
    assert outcome.ret == 0, {i: c["message"][:200] for i, c in checks.items()
                              if c["verdict"] not in ("pass", "skipped")}
    assert checks["reasoning.responses-items"]["observations"]["message"].startswith(
        "none: the output cap went on reasoning")
    capped = {json.dumps(r.json().get("tools", [{}])[0].get("type")): r.json().get(
        "max_output_tokens", r.json().get("max_completion_tokens")) for r in fake.work}
    assert capped['"mcp"'] == usage.MCP_OUTPUT_CAP and capped["null"] == usage.OUTPUT_CAP


def test_an_incomplete_answer_that_claims_completion_still_fails(pytester, monkeypatch):
    def completed(data):
        if data.get("object") == "response" and data.get("status") == "incomplete":
            data["status"], data["incomplete_details"] = "completed", None

    _, checks, _ = _reasoning_run(pytester, monkeypatch, edit=completed)
    assert checks["reasoning.responses-items"]["verdict"] == "fail"
    assert "does not precede the message" in checks["reasoning.responses-items"]["message"]


def test_a_recording_with_a_renamed_deployment_replays(pytester, monkeypatch):
    """record keeps the deployment names it sent (metadata.deployments); the recording
    replays, its echoed model judged against them; a cassette that never names them is
    judged against the doc's name."""
    fake = FakeResource(KEY, paths.cassette_root(),
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    recorded = pytester.path / "recorded"
    outcome = _record_response_contract(pytester, fake, recorded)
    outcome.stdout.fnmatch_lines([
        "record: responses/create.yaml: written (replayed by *responses.response-contract*",
        "record: 1 cassette(s) written, 0 not written",
        "Azure OpenAI v1 conformance: *: 1 cassette(s) written into *recorded"])
    cassette = Cassette.load(recorded / "responses" / "create.yaml")
    assert cassette.metadata["deployments"] == {"gpt-4.1-nano": "g41-nano"}
    assert cassette.interactions[0].response_json()["model"] == "g41-nano"
    # The same recording without the names it was sent under: the echo no longer matches.
    Cassette(cassette.path, cassette.interactions,
             {k: v for k, v in cassette.metadata.items() if k != "deployments"}).save()
    pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={pytester.path / 'again'}",
        f"--conformance-cassettes={recorded}", "--conformance-check=responses.response-contract")
    [row] = json.loads((pytester.path / "again" / "results.json").read_text())["checks"]
    assert row["verdict"] == "fail" and "'gpt-4.1-nano'" in row["message"]


@pytest.mark.slow
def test_every_sdk_live_against_renamed_deployments_stays_within_the_budgets(pytester,
                                                                             monkeypatch):
    """--sdk all, every deployment renamed and mapped: no SDK's judgement compares with a doc
    name, and the four SDKs together spend hardly more than Python alone (their identical
    requests reuse its answers)."""
    fake = FakeResource(KEY, paths.cassette_root(),
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AOAI_CONFORMANCE_CACHE", str(DRIVER_CACHE))  # the drivers built once
    monkeypatch.setenv("AOAI_CONFORMANCE_DEPLOYMENTS",
                       ",".join(f"{doc}={theirs}" for doc, theirs in THEIRS.items()))
    with WireServer() as server:  # the run in its own process, as users run it
        server.use(fake)
        done = subprocess.run([sys.executable, "-m", "conformance", "run", "--sdk=all",
                               f"--report-dir={pytester.path / 'report'}",
                               f"--endpoint={server.base_url}"],
                              capture_output=True, text=True, timeout=900, check=False)
    written = pytester.path / "report" / "results.json"
    assert written.exists(), (done.returncode, done.stdout[-3000:], done.stderr[-3000:])
    data = json.loads(written.read_text())
    broken = [(c["id"], c["sdk"], c["message"][:200]) for c in data["checks"]
              if c["verdict"] in ("fail", "error")
              and (c["id"], c["sdk"]) not in KNOWN]  # the doc's Go Entra sample fails
    assert not broken
    target = data["target"]
    assert target["tokens_used"] <= target["token_budget"] == 8000
    assert target["requests_sent"] <= target["request_budget"] == 60
    assert target["live"]["reached"] > target["live"]["planned"] / 2
    print(f"\n--sdk all live smoke: {target['requests_sent']} requests, "
          f"{target['tokens_used']} tokens")


KNOWN = known_failures()


def _record_response_contract(pytester: pytest.Pytester, fake: FakeResource,
                              recorded: Path) -> pytest.RunResult:
    """Record responses.response-contract from ``fake`` with gpt-4.1-nano renamed."""
    with WireServer() as server:
        server.use(fake)
        return pytester.runpytest_inprocess(
            "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
            f"--conformance-report-dir={pytester.path / 'report'}",
            f"--conformance-endpoint={server.base_url}", "--conformance-record",
            f"--conformance-cassettes={recorded}",
            "--conformance-check=responses.response-contract",
            "--conformance-deployment=gpt-4.1-nano=g41-nano")
