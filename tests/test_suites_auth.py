"""The auth checks fail when the key or token goes out wrong."""

from __future__ import annotations

from conformance.registry import Verdict
from conformance.sdk import TEST_API_KEY

from .failures import caught
from .mutants import broken_sdk, rewrite_requests, wrap_client_init


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run("auth.api-key-bearer", "auth.entra-token-provider",
                    "auth.entra-token-per-attempt")
    assert {c.id: c.verdict for c in run.results.checks} == {
        "auth.api-key-bearer": Verdict.PASS,
        "auth.entra-token-provider": Verdict.PASS,
        "auth.entra-token-per-attempt": Verdict.PASS,
    }


# -- what breaks each check (tests/failures.py) ----------------------------------------------


@broken_sdk
def key_in_the_api_key_header(suite, monkeypatch):
    def move(request):
        request.headers["api-key"] = request.headers.pop("authorization").split(" ", 1)[1]

    rewrite_requests(monkeypatch, move)


@broken_sdk
def key_also_in_the_api_key_header(suite, monkeypatch):
    def both(request):
        request.headers["api-key"] = request.headers["authorization"].split(" ", 1)[1]

    rewrite_requests(monkeypatch, both)


@broken_sdk
def key_under_a_token_scheme(suite, monkeypatch):
    def token_scheme(request):
        request.headers["authorization"] = f"Token {TEST_API_KEY}"

    rewrite_requests(monkeypatch, token_scheme)


@broken_sdk
def sdk_stringifies_the_provider(suite, monkeypatch):
    """An SDK that formats a callable api_key into the header, as openai < 1.106.0 does."""

    def stringify(kwargs):
        if callable(kwargs.get("api_key")):
            kwargs["api_key"] = str(kwargs["api_key"])

    wrap_client_init(monkeypatch, stringify)


@broken_sdk
def provider_called_once_per_call(suite, monkeypatch):
    """An SDK that asks the provider once and reuses the token for retries (as Java does)."""

    def memoize(kwargs):
        provider, cache = kwargs.get("api_key"), []
        if callable(provider):
            kwargs["api_key"] = lambda: cache[0] if cache else cache.append(provider()) or cache[0]

    wrap_client_init(monkeypatch, memoize)


@broken_sdk
def provider_with_the_wrong_scope(suite, monkeypatch):
    import azure.identity

    real = azure.identity.get_bearer_token_provider
    monkeypatch.setattr(azure.identity, "get_bearer_token_provider",
                        lambda cred, scope: real(cred, "https://management.azure.com/.default"))


KEY, PROVIDER, PER_ATTEMPT = ("auth.api-key-bearer", "auth.entra-token-provider",
                              "auth.entra-token-per-attempt")
CAUGHT = [
    (key_in_the_api_key_header, KEY, "python", "Authorization: Bearer"),
    (key_also_in_the_api_key_header, KEY, "python", "api-key"),
    (key_under_a_token_scheme, KEY, "python", ""),
    (sdk_stringifies_the_provider, PROVIDER, "python", "repr"),
    (sdk_stringifies_the_provider, PER_ATTEMPT, "python", ""),
    (provider_called_once_per_call, PER_ATTEMPT, "python", ""),
    (provider_with_the_wrong_scope, PROVIDER, "python", "asked the credential for"),
]
test_caught = caught(CAUGHT)


def test_the_key_never_reaches_the_report(suite, monkeypatch):
    """The check fails on the key sent under another scheme (a row above), naming no key."""
    key_under_a_token_scheme(suite, monkeypatch)
    run = suite.run(KEY)
    assert run.message(KEY)
    assert TEST_API_KEY not in (suite.pytester.path / "report" / "results.json").read_text()


def test_stringified_provider_is_unsupported_below_1_106(suite, monkeypatch):
    import importlib.metadata

    sdk_stringifies_the_provider(suite, monkeypatch)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.105.0" if name == "openai" else real(name))
    run = suite.run("auth.entra-token-provider")
    assert run.verdict("auth.entra-token-provider") is Verdict.UNSUPPORTED
    assert "1.106.0" in run.message("auth.entra-token-provider")
