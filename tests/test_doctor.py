"""``aoai-conformance doctor``: the request a construction produces, Azure's answer, the fix."""

from __future__ import annotations

import io

import pytest

from conformance import doctor
from conformance.cli import main

RESOURCE = "contoso-secret-rg7"
V1 = f"https://{RESOURCE}.openai.azure.com/openai/v1/"
KEY = "0123456789abcdef0123456789abcdef"


def _doctor(capsys, *argv):
    code = main(["doctor", *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    import conformance.sdk

    for name in conformance.sdk.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def test_the_doc_construction_exits_0(capsys):
    code, out = _doctor(capsys, "--base-url", V1)
    assert code == 0
    assert out.count("accepted by the Azure OpenAI v1 API") == 3
    assert "POST /openai/v1/chat/completions" in out


def test_azure_client_with_a_v1_endpoint_is_diagnosed(capsys):
    """openai/openai-python#2584, reproduced offline."""
    code, out = _doctor(capsys, "--client", "azure", "--base-url", V1, "--api-version", "preview",
                        "--operation", "chat")
    assert code == 1
    assert "POST /openai/v1/deployments/gpt-4.1-nano/chat/completions?api-version=preview" in out
    assert "refused: 404" in out
    assert 'fix: use OpenAI(base_url="https://RESOURCE.openai.azure.com/openai/v1/"' in out


def test_a_base_url_without_openai_v1_is_diagnosed(capsys):
    code, out = _doctor(capsys, "--base-url", f"https://{RESOURCE}.cognitiveservices.azure.com/",
                        "--operation", "embeddings")
    assert code == 1
    assert "POST /embeddings" in out and "end the base URL in /openai/v1/" in out


def test_environment_variables_are_read_as_the_sdk_reads_them(capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", V1)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    code, out = _doctor(capsys, "--operation", "responses")
    assert code == 0
    assert "reads from the environment: OPENAI_API_KEY, OPENAI_BASE_URL" in out


def test_no_secret_and_no_resource_name_is_printed(capsys, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", V1)
    monkeypatch.setenv("OPENAI_API_VERSION", "preview")
    code, out = _doctor(capsys, "--client", "azure")
    assert code == 1
    assert KEY not in out and RESOURCE not in out.lower()


def test_the_key_the_sdk_sends_is_a_made_up_one(monkeypatch):
    """The real key never reaches the transport: only its presence is kept."""
    from conformance.suites import _construction

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    seen = []
    original = _construction.judge

    def spy(method, path, query, credential_headers):
        seen.append(credential_headers)
        return original(method, path, query, credential_headers)

    monkeypatch.setattr(_construction, "judge", spy)
    outcome = _construction.run(_construction.Construction(base_url=V1), "chat")
    assert outcome.sent is not None and seen == [{"authorization"}]
    import os

    assert os.environ["OPENAI_API_KEY"] == KEY  # restored afterwards


@pytest.mark.parametrize("argv", [
    ["--base-url", "ftp://x/openai/v1/"],
    ["--base-url", "https://user:pass@x.openai.azure.com/openai/v1/"],
    ["--azure-endpoint", V1],  # AzureOpenAI's argument without --client azure
    ["--api-version", "preview"],
    ["--sdk", "cobol"],
])
def test_unusable_input_exits_2_in_one_line(capsys, argv):
    code, out = _doctor(capsys, *argv)
    assert code == 2
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_a_construction_the_sdk_refuses_is_reported(capsys):
    """AzureOpenAI with no endpoint and no api_version raises before sending."""
    out = io.StringIO()
    options = doctor_options(client="azure")
    assert doctor.run(options, out) == 1
    assert "no request sent: the SDK raised" in out.getvalue()


def doctor_options(**overrides):
    import argparse

    values = {"sdk": "python", "client": "openai", "base_url": None, "azure_endpoint": None,
              "api_version": None, "auth": "key", "operation": ["chat"]}
    values.update(overrides)
    return argparse.Namespace(**values)
