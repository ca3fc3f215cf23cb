"""Preflight: a live run's setup problems stop it before any check, in one paragraph, with
nothing spent; Entra credentials chosen by name, fed offline (a stand-in ``az`` on PATH, or
azure-identity's own EnvironmentCredential with nothing in the environment)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import paths
from conformance.entra import CREDENTIALS
from conformance.preflight import Preflight
from conformance.secrets import Scrubber
from conformance.target import Target
from conformance.wire import Reply

from .fake_resource import FakeResource, serving
from .fake_resource import live_run as run

KEY = "live-secret-key-0123456789abcdef"
TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJjb2duaXRpdmUifQ.az-cli-issued-signature"
SETUP = "ERROR: setup error, no check ran and nothing was spent: "


@pytest.fixture
def resource():
    with serving(FakeResource(KEY, paths.cassette_root(), tokens={TOKEN})) as fake:
        yield fake


def stopped(outcome, data, *fragments):
    """The run stopped at setup: exit code, one paragraph with these fragments, no report."""
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR and data is None
    lines = [line for line in outcome.stderr.lines if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(SETUP), lines
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in outcome.stdout.str() + outcome.stderr.str()
    return lines[0]


def test_a_wrong_key_stops_the_run_before_any_check(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "wrong-key-00000000")
    outcome, data = run(pytester, resource.endpoint, "--conformance-feature=chat")
    stopped(outcome, data, "refused the credential (401: Access denied",
            "check that AZURE_OPENAI_API_KEY holds a key of this resource")
    assert [r.method for r in resource.seen] == ["GET"]  # GET models, and nothing else
    assert resource.work == []


@pytest.mark.parametrize(
    ("answer", "fragments"),
    [
        ((403, {"error": {"code": "AuthenticationTypeDisabled",
                          "message": "Key based authentication is disabled for this resource."}}),
         ["denied access (403 AuthenticationTypeDisabled", "use --auth entra"]),
        ((404, {"error": {"code": "404", "message": "Resource not found"}}),
         ["GET models answered 404 (404: Resource not found) and POST chat/completions "
          "answered 404", "no route of the v1 API", "https://RESOURCE.openai.azure.com/openai/v1/"]),
        ((503, {"statusCode": 503, "message": "Service Unavailable"}),
         ["not available (HTTP 503", "Try again later"]),
    ],
    ids=["key-auth-disabled", "not-the-v1-route", "unavailable"],
)
def test_a_refusing_resource_stops_the_run(pytester, resource, monkeypatch, answer, fragments):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    status, body = answer
    resource.refuse = Reply(status, [("content-type", "application/json")],
                            json.dumps(body).encode())
    outcome, data = run(pytester, resource.endpoint, "--conformance-feature=auth")
    stopped(outcome, data, *fragments)
    # A 404 to GET models asks one inference route whether the v1 API is there at all.
    assert len(resource.seen) == (2 if status == 404 else 1)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_resource_stops_the_run(pytester, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    port = _closed_port()
    outcome, data = run(pytester, f"http://127.0.0.1:{port}/openai/v1/",
                        "--conformance-feature=auth")
    line = stopped(outcome, data, "could not be reached (", "ConnectionRefusedError")
    assert f":{port}" not in line  # the host is a secret too


def test_a_tls_failure_stops_the_run(pytester, resource, monkeypatch):
    # https to a server that speaks plain HTTP: the handshake fails, as with a bad certificate.
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome, data = run(pytester, resource.endpoint.replace("http://", "https://"),
                        "--conformance-feature=auth")
    stopped(outcome, data, "TLS failed with the resource", "trusts its certificate")
    assert resource.seen == []


def test_a_name_that_does_not_resolve_is_explained():
    preflight = Preflight(Target(), Scrubber())
    text = preflight._explain(502, {"code": "upstream_unreachable", "type": "gaierror",
                                    "message": "[Errno -2] Name or service not known"})
    assert text.startswith("the resource's host name does not resolve")


# -- Entra ID --------------------------------------------------------------------------------


@pytest.fixture
def az(tmp_path, monkeypatch):
    """A stand-in Azure CLI on PATH: ``az account get-access-token`` prints TOKEN (or fails
    like a signed-out CLI) and counts its calls; azure-identity's AzureCliCredential runs it."""
    bin_dir = tmp_path / "az-bin"
    bin_dir.mkdir()
    calls = tmp_path / "az-calls"
    script = bin_dir / "az"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"if {str(tmp_path / 'signed-out')!r} and __import__('os').path.exists("
        f"{str(tmp_path / 'signed-out')!r}):\n"
        "    sys.stderr.write(\"ERROR: Please run 'az login' to setup account.\\n\")\n"
        "    sys.exit(1)\n"
        f"print(json.dumps({{'accessToken': {TOKEN!r}, 'expires_on': 4102444800,"
        " 'tokenType': 'Bearer'}))\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)

    class Az:
        def calls(self) -> list[str]:
            return calls.read_text().splitlines() if calls.exists() else []

        def sign_out(self) -> None:
            (tmp_path / "signed-out").touch()

    return Az()


def test_entra_with_the_azure_cli_runs_live_on_one_token(pytester, resource, az):
    outcome, data = run(pytester, resource.endpoint, "--conformance-auth=entra",
                        "--conformance-credential=cli", "--conformance-feature=chat",
                        "--conformance-check=embeddings.usage")
    assert {c["verdict"] for c in data["checks"]} == {"pass"}, outcome.stdout.str()
    assert data["target"]["auth"] == "entra" and data["target"]["credential"] == "cli"
    # The token was obtained once (in preflight), for the doc's scope, and used throughout.
    assert len(az.calls()) == 1
    assert "--resource https://cognitiveservices.azure.com" in az.calls()[0]
    assert {r.header("authorization") for r in resource.seen} == {f"Bearer {TOKEN}"}
    assert len(resource.work) == 2  # the three chat checks share one exchange
    assert TOKEN not in outcome.stdout.str() + (pytester.path / "report/results.json").read_text()


def test_a_signed_out_azure_cli_stops_the_run_once(pytester, resource, az):
    az.sign_out()
    outcome, data = run(pytester, resource.endpoint, "--conformance-auth=entra",
                        "--conformance-credential=cli", "--conformance-feature=chat")
    stopped(outcome, data, "--credential cli (AzureCliCredential) gave no token",
            "CredentialUnavailableError", "az login",
            "'Cognitive Services OpenAI User' role")
    assert len(az.calls()) == 1 and resource.seen == []


def test_an_environment_credential_with_nothing_set_stops_the_run(pytester, resource, az,
                                                                   monkeypatch):
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                 "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    outcome, data = run(pytester, resource.endpoint, "--conformance-auth=entra",
                        "--conformance-credential=environment", "--conformance-feature=auth")
    stopped(outcome, data, "--credential environment (EnvironmentCredential) gave no token",
            "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")
    assert resource.seen == []


def test_every_credential_name_is_an_azure_identity_class():
    import azure.identity

    assert set(CREDENTIALS) == {"default", "cli", "environment", "managed-identity",
                                "workload-identity"}
    for cls, _ in CREDENTIALS.values():
        assert isinstance(getattr(azure.identity, cls), type)  # never constructed here


@pytest.mark.slow
def test_the_cli_exits_2_on_a_setup_error(resource, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AZURE_OPENAI_API_KEY": "wrong-key-00000000"}
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--endpoint", resource.endpoint,
         "--feature", "auth", "--report-dir", str(tmp_path / "r")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().count("\n") == 0 and "setup error" in done.stderr
    assert not Path(tmp_path / "r" / "results.json").exists()


def test_a_credential_that_fails_mid_run_is_not_asked_again(pytester, resource, az,
                                                             monkeypatch):
    # The token serves preflight (its own call, GET models, one deployment probe), then
    # "expires": asking again finds the CLI signed out.
    import conformance.entra

    real_build = conformance.entra.EntraToken._build

    def build(self):
        provider = real_build(self)
        calls = []

        def once():
            calls.append(1)
            if len(calls) > 3:
                az.sign_out()
                raise RuntimeError("the cached token expired")
            return provider()

        return once

    monkeypatch.setattr(conformance.entra.EntraToken, "_build", build)
    _, data = run(pytester, resource.endpoint, "--conformance-auth=entra",
                  "--conformance-credential=cli", "--conformance-feature=chat")
    by_verdict = {}
    for check in data["checks"]:
        by_verdict.setdefault(check["verdict"], []).append(check["message"])
    assert sorted(by_verdict) == ["error", "skipped"] and len(by_verdict["skipped"]) == 2
    assert by_verdict["error"][0].startswith(
        "setup error: the Entra ID credential --credential cli (AzureCliCredential) gave no "
        "token")
    assert all(m.startswith("not sent: the Entra ID credential") for m in by_verdict["skipped"])
    assert resource.work == []


def test_a_gateway_without_get_models_is_a_warning_and_the_checks_run(pytester, resource,
                                                                      monkeypatch):
    """A front (APIM, a proxy) that forwards only inference routes answers 404 to GET models;
    the deployment probes show the v1 API is there, so the run goes on, saying what it saw."""
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    resource.gateway = True
    outcome, data = run(pytester, resource.endpoint, "--conformance-feature=chat")
    assert outcome.ret == 0, outcome.stdout.str()[-2000:]
    assert {c["verdict"] for c in data["checks"]} == {"pass"}
    outcome.stdout.fnmatch_lines([
        "live: preflight warning: GET models answered 404 (Resource not found), but POST "
        "chat/completions answered 400 as the service does: going on*--no-preflight*"])


def test_no_preflight_sends_no_probe(pytester, resource, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome, data = run(pytester, resource.endpoint, "--conformance-feature=chat",
                        "--conformance-no-preflight")
    assert {c["verdict"] for c in data["checks"]} == {"pass"}
    assert len(resource.seen) == len(resource.work) == 1
    outcome.stdout.fnmatch_lines(["live: no preflight (--no-preflight); 3 check(s) go upstream*"])
