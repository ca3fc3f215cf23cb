"""The user's deployments: mapped from flags, the environment and pyproject.toml, sent
upstream under their names, listed by ``aoai-conformance deployments``, and named in messages."""

from __future__ import annotations

import json

import pytest

from conformance import cli, paths
from conformance.deployments import DeploymentError, DeploymentMap

from .fake_resource import FakeResource, serving

KEY = "live-secret-key-0123456789abcdef"
THEIRS = {"prod-chat": "gpt-4o", "prod-embed": "text-embedding-3-small"}


@pytest.fixture
def resource():
    with serving(FakeResource(KEY, paths.cassette_root(), deployments=THEIRS)) as fake:
        yield fake


def run(pytester, *args):
    report = pytester.path / "report"
    pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", *args)
    return json.loads((report / "results.json").read_text())


def test_sources_in_order_of_strength(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.aoai-conformance.deployments]\n"gpt-4o" = "from-toml"\n"o4-mini" = "toml-o4"\n')
    names = DeploymentMap.load(
        ["gpt-4o=from-flag"], environ={"AOAI_CONFORMANCE_DEPLOYMENTS": "gpt-4o=env, gpt-5=env5"},
        directory=tmp_path)
    assert names.names == {"gpt-4o": "from-flag", "o4-mini": "toml-o4", "gpt-5": "env5"}
    assert names.resolve("gpt-4.1") == "gpt-4.1"  # unmapped: as is
    assert names.describe("gpt-4o") == "'from-flag' (gpt-4o in the doc)"
    sent = names.rewrite("/openai/v1/responses", b'{"model": "gpt-4o", "input": "gpt-4o"}')
    assert json.loads(sent) == {"model": "from-flag", "input": "gpt-4o"}
    assert names.rewrite("/openai/v1/responses", b"not json") == b"not json"


@pytest.mark.parametrize("entry", ["gpt-4o", "=x", "gpt-4o="])
def test_a_malformed_entry_is_refused(entry):
    with pytest.raises(DeploymentError, match="DOC_NAME=YOUR_DEPLOYMENT"):
        DeploymentMap.load([entry], environ={})


def test_an_unknown_doc_name_is_a_usage_error(capsys):
    assert cli.main(["deployments", "--deployment", "gpt-4=mine"]) == 2
    assert "no check uses a deployment named gpt-4" in capsys.readouterr().err


def test_deployments_lists_names_checks_and_mapping(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AOAI_CONFORMANCE_DEPLOYMENTS", "o4-mini=my-o4")
    assert cli.main(["deployments", "--deployment", "gpt-4o=prod-chat"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4o -> prod-chat  (from --deployment)" in out
    assert "o4-mini -> my-o4  (from AOAI_CONFORMANCE_DEPLOYMENTS)" in out
    assert "text-embedding-ada-002 (unmapped: sent as is)" in out
    section = out.split("gpt-4o ->")[1].split("\ngpt-5")[0]
    assert "chat.request-shape" in section and "replay only: auth.entra-token-per-attempt" in (
        section)


def test_a_mapped_live_run_sends_their_names(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    (pytester.path / "pyproject.toml").write_text(
        '[tool.aoai-conformance.deployments]\n"text-embedding-3-small" = "prod-embed"\n')
    data = run(pytester, f"--conformance-endpoint={resource.endpoint}",
               "--conformance-deployment=gpt-4o=prod-chat", "--conformance-feature=chat",
               "--conformance-check=embeddings.usage")
    assert {c["id"]: c["verdict"] for c in data["checks"]} == {
        "chat.request-shape": "pass", "chat.response-contract": "pass",
        "chat.azure-filter-results": "pass", "embeddings.usage": "pass"}
    assert {r.json()["model"] for r in resource.work} == {"prod-chat", "prod-embed"}
    assert data["target"]["deployments"] == {"gpt-4o": "prod-chat",
                                             "text-embedding-3-small": "prod-embed"}


def test_a_missing_deployment_skips_its_checks_with_the_fix(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    data = run(pytester, f"--conformance-endpoint={resource.endpoint}",
               "--conformance-deployment=gpt-4o=typo-chat", "--conformance-feature=chat",
               "--conformance-check=embeddings.usage", "--conformance-check=reasoning.chat-request")
    results = {c["id"]: c for c in data["checks"]}
    assert {i: c["verdict"] for i, c in results.items()} == {
        "chat.request-shape": "skipped", "chat.response-contract": "skipped",
        "chat.azure-filter-results": "skipped", "embeddings.usage": "skipped",
        "reasoning.chat-request": "skipped"}
    assert results["chat.request-shape"]["message"] == (
        "deployment 'typo-chat' (gpt-4o in the doc) does not exist on the resource; map the "
        "doc's name to yours: --deployment gpt-4o=YOUR_DEPLOYMENT")
    assert "deployment 'o4-mini' does not exist" in results["reasoning.chat-request"]["message"]
    assert resource.work == []  # nothing was sent for them
    assert data["target"]["requests_sent"] == 0


def test_a_refused_request_names_the_deployment(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    resource.hostile(["error"])
    data = run(pytester, f"--conformance-endpoint={resource.endpoint}",
               "--conformance-deployment=gpt-4o=prod-chat",
               "--conformance-check=chat.response-contract")
    message = data["checks"][0]["message"]
    assert ("the resource answered 500 to POST /openai/v1/chat/completions for deployment "
            "'prod-chat' (gpt-4o in the doc)") in message
