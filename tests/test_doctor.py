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
    ["--sdk", "dotnet"],  # registered, but no driver here yet
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


# The other SDKs: the construction built by their drivers (docs/driver-protocol.md), each
# public report diagnosed as the pinned release routes it. (sdk, argv, what the request line
# holds, exit code, a phrase of the verdict or fix)
DRIVER_REPORTS = [
    # openai/openai-node#1607: AzureOpenAI({baseURL: ".../openai", apiVersion: "preview"});
    # openai-node 6.49.0 sends Responses to /openai/responses (the report, on 5.12.0:
    # /openai/deployments/responses), still a 404.
    ("javascript", ("--client", "azure", "--base-url", f"https://{RESOURCE}.openai.azure.com/openai",
                    "--api-version", "preview", "--operation", "responses"),
     "POST /openai/responses?api-version=preview", 1, "fix: end the base URL in /openai/v1/"),
    # openai-python#2584's shape in openai-node: the v1 endpoint given to AzureOpenAI.
    ("javascript", ("--client", "azure", "--azure-endpoint", V1, "--api-version", "preview",
                    "--operation", "chat"),
     "POST /openai/v1/openai/deployments/gpt-4.1-nano/chat/completions?api-version=preview", 1,
     "fix: use new OpenAI({baseURL:"),
    ("javascript", ("--base-url", V1), "POST /openai/v1/responses", 0,
     "accepted by the Azure OpenAI v1 API"),
    # azure.WithEndpoint given a v1 URL: /openai/v1/openai/deployments/...
    ("go", ("--client", "azure", "--azure-endpoint", V1, "--api-version", "preview",
            "--operation", "embeddings"),
     "POST /openai/v1/openai/deployments/text-embedding-3-small/embeddings?api-version=preview",
     1, "fix: use openai.NewClient(option.WithBaseURL("),
    # the doc's Go Entra sample: refused by openai-go v3.100.0 before any request
    ("go", ("--base-url", V1, "--auth", "token", "--operation", "chat"),
     "no request sent", 1, "requires azure.WithEndpoint"),
    ("go", ("--base-url", V1), "POST /openai/v1/embeddings", 0,
     "accepted by the Azure OpenAI v1 API"),
    # openai/openai-java#586, #469: an Azure host without /openai/v1 routed as legacy; the
    # pinned 4.105.0 puts the deployment name (not ResponsesModel{string=...}) in the path.
    ("java", ("--client", "azure", "--base-url", f"https://{RESOURCE}.openai.azure.com",
              "--api-version", "2024-10-21", "--operation", "responses"),
     "POST /openai/deployments/gpt-4.1-nano/responses?api-version=2024-10-21", 1,
     "refused: 404"),
    # the cognitiveservices host is Azure to openai-java 4.105.0 too
    ("java", ("--base-url", f"https://{RESOURCE}.cognitiveservices.azure.com/openai/v1",
              "--operation", "chat"),
     "POST /openai/v1/chat/completions", 0, "host: cognitiveservices.azure.com"),
]


@pytest.mark.drivers
@pytest.mark.parametrize(("sdk", "argv", "request_line", "code", "phrase"), DRIVER_REPORTS)
def test_a_report_is_diagnosed_through_the_driver(capsys, monkeypatch, sdk, argv, request_line,
                                                  code, phrase):
    got, out = _doctor(capsys, "--sdk", sdk, *argv)
    if got == 2 and "cannot run here" in out:
        pytest.skip(out)
    assert got == code, out
    assert request_line in out and phrase in out, out
    assert RESOURCE not in out and KEY not in out


@pytest.mark.drivers
def test_the_environment_is_read_as_the_driver_sdk_reads_it(capsys, monkeypatch):
    """openai-node reads AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION; the key's value never
    reaches the driver (a made-up one does)."""
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", V1)
    monkeypatch.setenv("OPENAI_API_VERSION", "preview")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    got, out = _doctor(capsys, "--sdk", "javascript", "--client", "azure", "--operation", "chat")
    if got == 2 and "cannot run here" in out:
        pytest.skip(out)
    assert got == 1, out
    assert "reads from the environment: AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT" in out
    assert "/openai/v1/openai/deployments/" in out and KEY not in out


def test_a_construction_url_that_would_leave_loopback_is_unusable(capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://gateway.example.invalid/openai/v1/")
    from conformance.drivers.construction import refuse_outside
    from conformance.drivers.process import ScenarioRejected

    with pytest.raises(ScenarioRejected, match="must be https"):
        refuse_outside({"client": {"construction": {
            "environment": {"OPENAI_BASE_URL": "http://gateway.example.invalid/openai/v1/"}}}})
    with pytest.raises(ScenarioRejected, match="not an SDK variable"):
        refuse_outside({"client": {"construction": {"environment": {"HTTPS_PROXY": "x"}}}})


@pytest.mark.parametrize("sdk", ["javascript", "go", "java"])
def test_a_host_that_is_not_azure_is_unusable_for_the_driver_sdks(capsys, monkeypatch, sdk):
    """The drivers reach Azure's host names only (the loopback proxy refuses the rest): a
    gateway URL is unusable input, said without its host, before any driver starts."""
    from conformance.drivers import pool

    def no_driver(*args, **kwargs):
        raise AssertionError("no driver may start for a host doctor cannot serve")

    monkeypatch.setattr(pool, "start", no_driver)
    got, out = _doctor(capsys, "--sdk", sdk, "--base-url",
                       f"https://{RESOURCE}.example.com/openai/v1/")
    assert got == 2 and "reaches Azure's host names only" in out
    assert RESOURCE not in out


def test_an_sdk_error_naming_the_resource_is_scrubbed():
    from conformance.doctor import _scrubbed
    from conformance.suites._routing import Cell

    one = Cell("chat", None, f'Post "https://{RESOURCE}.openai.azure.com/openai/v1/": EOF')
    assert RESOURCE not in (_scrubbed(one, {f"{RESOURCE}.openai.azure.com"}).error or "")


def test_a_release_is_taken_for_the_driver_sdks_only(capsys):
    got, out = _doctor(capsys, "--sdk", "python@1.0.0", "--base-url", V1)
    assert got == 2 and "javascript|go|java@VERSION" in out
