"""The auth checks fail when the key or token goes out wrong."""

from __future__ import annotations

import pytest

from conformance.registry import Verdict
from conformance.sdk import TEST_API_KEY

from .mutants import rewrite_requests, wrap_client_init


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run("auth.api-key-bearer", "auth.entra-token-provider",
                    "auth.entra-token-per-attempt")
    assert {c.id: c.verdict for c in run.results.checks} == {
        "auth.api-key-bearer": Verdict.PASS,
        "auth.entra-token-provider": Verdict.PASS,
        "auth.entra-token-per-attempt": Verdict.PASS,
    }


def test_key_in_the_wrong_header_fails(suite, monkeypatch):
    def move(request):
        request.headers["api-key"] = request.headers.pop("authorization").split(" ", 1)[1]

    rewrite_requests(monkeypatch, move)
    run = suite.run("auth.api-key-bearer")
    assert run.verdict("auth.api-key-bearer") is Verdict.FAIL
    assert "Authorization: Bearer" in run.message("auth.api-key-bearer")


def test_key_also_in_api_key_header_fails(suite, monkeypatch):
    def both(request):
        request.headers["api-key"] = request.headers["authorization"].split(" ", 1)[1]

    rewrite_requests(monkeypatch, both)
    run = suite.run("auth.api-key-bearer")
    assert run.verdict("auth.api-key-bearer") is Verdict.FAIL
    assert "api-key" in run.message("auth.api-key-bearer")


def test_the_key_never_reaches_the_report(suite, monkeypatch):
    def token_scheme(request):
        request.headers["authorization"] = f"Token {TEST_API_KEY}"

    rewrite_requests(monkeypatch, token_scheme)
    run = suite.run("auth.api-key-bearer")
    assert run.verdict("auth.api-key-bearer") is Verdict.FAIL
    assert TEST_API_KEY not in (suite.pytester.path / "report" / "results.json").read_text()


@pytest.fixture
def stringifying_sdk(monkeypatch):
    """An SDK that formats a callable api_key into the header, as openai < 1.106.0 does."""

    def stringify(kwargs):
        if callable(kwargs.get("api_key")):
            kwargs["api_key"] = str(kwargs["api_key"])

    wrap_client_init(monkeypatch, stringify)


def test_stringified_provider_is_a_fail_on_a_new_sdk(suite, stringifying_sdk):
    run = suite.run("auth.entra-token-provider", "auth.entra-token-per-attempt")
    assert run.verdict("auth.entra-token-provider") is Verdict.FAIL
    assert run.verdict("auth.entra-token-per-attempt") is Verdict.FAIL
    assert "repr" in run.message("auth.entra-token-provider")


def test_stringified_provider_is_unsupported_below_1_106(suite, stringifying_sdk, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.105.0" if name == "openai" else real(name))
    run = suite.run("auth.entra-token-provider")
    assert run.verdict("auth.entra-token-provider") is Verdict.UNSUPPORTED
    assert "1.106.0" in run.message("auth.entra-token-provider")


def test_provider_called_once_per_call_fails_per_attempt_check(suite, monkeypatch):
    """An SDK that asks the provider once and reuses the token for retries (as Java does)."""

    def memoize(kwargs):
        provider, cache = kwargs.get("api_key"), []
        if callable(provider):
            kwargs["api_key"] = lambda: cache[0] if cache else cache.append(provider()) or cache[0]

    wrap_client_init(monkeypatch, memoize)
    run = suite.run("auth.entra-token-per-attempt")
    assert run.verdict("auth.entra-token-per-attempt") is Verdict.FAIL


def test_wrong_scope_fails(suite, monkeypatch):
    import azure.identity

    real = azure.identity.get_bearer_token_provider
    monkeypatch.setattr(azure.identity, "get_bearer_token_provider",
                        lambda cred, scope: real(cred, "https://management.azure.com/.default"))
    run = suite.run("auth.entra-token-provider")
    assert run.verdict("auth.entra-token-provider") is Verdict.FAIL
    assert "asked the credential for" in run.message("auth.entra-token-provider")
