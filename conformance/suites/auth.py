"""auth: API keys and Entra ID token providers, as seen on the wire, on every SDK.

Each check performs the doc's authentication sample for the SDK it runs against
(docs/driver-protocol.md, auth): the API-key option, or the documented Entra path fed by a fake
credential that hands out the scenario's tokens and records the scopes it was asked for. The
Go sample (``option.WithBaseURL`` + ``azure.WithTokenCredential``) runs as written: openai-go
v3.100.0 refuses it before sending anything, and the Entra checks fail for Go with that error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance import sdks
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import DOC_SCOPE, DOC_TOKEN_CLAIM, doc_vs_sdk
from conformance.registry import ALL_SDKS, Observations, check, expect, fail
from conformance.sdk import TEST_API_KEY, has, require_capability
from conformance.secrets import Scrubber
from conformance.wire import RecordedRequest

from ._requests import CHAT_REQUEST
from ._scenario import key_auth, no_error, recorded, scenario, token_auth

STRINGIFIED_CALLABLE = ("<function", "<bound method", "functools.partial", "<built-in")
# The fake credential's tokens, in the order it hands them out. They expire 60 s after they
# are issued: inside every caching provider's refresh window, so a provider asked again asks
# its credential again (a provider asked once hands one token to every attempt).
TOKENS = tuple(f"entra-token-{n}" for n in range(1, 9))
TOKEN_LIFETIME_S = 60


def _bearer(request: RecordedRequest) -> str | None:
    value = request.header("authorization")
    if value is None or not value.startswith("Bearer "):
        return None
    return value.removeprefix("Bearer ")


def _labels(requests: Sequence[RecordedRequest]) -> list[str]:
    """``token#N`` for the N-th token the credential hands out, per request, else ``other``."""
    return [f"token#{TOKENS.index(t) + 1}" if (t := _bearer(r)) in TOKENS else "other"
            for r in requests]


def _entra(wire: Wire, driver: Driver, scrubber: Scrubber, **operation: Any
           ) -> DriverOutcome:
    for n, token in enumerate(TOKENS, 1):
        scrubber.add(token, f"token#{n}")
    performed = scenario(wire, "chat.completions.create", recorded(wire, CHAT_REQUEST),
                         auth=token_auth(*TOKENS, expires_in_s=TOKEN_LIFETIME_S))
    performed["operation"].update(operation)
    return driver.run(performed)


def _reject_stringified_provider(request: RecordedRequest, observe: Observations,
                                 sdk: str = "python") -> None:
    """Before openai 1.106.0 a callable api_key is formatted into the header as is: observed
    (the driver hands every release the doc's provider), then ``unsupported`` for an
    openai-python release the table says predates callable keys, a fail for any other."""
    sent = request.header("authorization") or ""
    if any(marker in sent for marker in STRINGIFIED_CALLABLE):
        observe("authorization_sent", "Bearer <the provider's repr, not a token>")
        if sdk == "python" and not has("callable_api_key"):
            require_capability("callable_api_key")
        fail("the SDK put the token provider's repr on the wire instead of calling it "
             "(Authorization: Bearer <function ...>)")


def _scopes(outcome: DriverOutcome, sdk: str, observe: Observations) -> None:
    calls = outcome.token_calls
    observe("scopes_requested", calls)
    expect(calls, f"{sdk} never asked the credential for a token")
    expect(all(scopes == [DOC_SCOPE] for scopes in calls),
           f"{sdk} asked the credential for {calls}, not "
           f"[{DOC_SCOPE!r}]")


@check(
    "auth.api-key-bearer",
    doc="Python / Authentication (api_key); JavaScript / Authentication (apiKey); Go / "
    "Authentication (option.WithAPIKey); Java / Authentication (apiKey)",
    claim="An API key passed to the client's key option goes out on /openai/v1/ as "
    "'Authorization: Bearer <key>' and in no other header, and asks no credential for a "
    "token.",
    cassette="chat/completion.yaml",
    refs=("wire §2.1 ApiKeyAuth_", "sdk-behavior §2.7, §8 #12", "docs/driver-protocol.md (auth)"),
    sdks=ALL_SDKS,
)
def api_key_bearer(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = driver.run(scenario(wire, "chat.completions.create", recorded(wire, CHAT_REQUEST),
                                  auth=key_auth()))
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    request = wire.requests[0]
    credential_headers = sorted(
        {n for n in request.header_names() if n in ("authorization", "api-key")}
    )
    observe("path", request.path)
    observe("host", request.header("host"))  # the doc's Azure host for the process drivers
    observe("credential_headers", credential_headers)
    observe("authorization_scheme", (request.header("authorization") or "").split(" ")[0])
    expect(request.path == "/openai/v1/chat/completions",
           f"{driver.sdk} sent {request.target}, not /openai/v1/chat/completions")
    expect(
        request.header("authorization") == f"Bearer {TEST_API_KEY}",
        f"{driver.sdk} did not send the key as 'Authorization: Bearer <key>' (headers "
        f"carrying a credential: {credential_headers})",
    )
    expect(
        request.header("api-key") is None,
        f"{driver.sdk} also sent the key in an 'api-key' header, which the doc's key sample "
        "never sends",
    )
    expect(outcome.token_calls == [], "key auth asked a credential for a token")
    no_error(outcome, driver.sdk)


@check(
    "auth.entra-token-provider",
    doc="Python / Authentication (get_bearer_token_provider passed as api_key); JavaScript / "
    "Authentication (getBearerTokenProvider); Go / Authentication (azure.WithTokenCredential); "
    "Java / Authentication (BearerTokenCredential)",
    claim="The doc's Entra sample (a token provider for the scope "
    "'https://cognitiveservices.azure.com/.default') is called, asks the credential for that "
    "scope, and a token it issued goes out as 'Authorization: Bearer <token>'.",
    cassette="chat/completion.yaml",
    refs=("wire §2.1 OAuth2Auth", "sdk-behavior §2.7, §8 #11", "docs/driver-protocol.md (auth)"),
    sdks=ALL_SDKS,
)
def entra_token_provider(wire: Wire, driver: Driver, observe: Observations,
                         scrubber: Scrubber) -> None:
    outcome = _entra(wire, driver, scrubber)
    if wire.requests:
        _reject_stringified_provider(wire.requests[0], observe, driver.sdk)
    no_error(outcome, driver.sdk)
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    _scopes(outcome, driver.sdk, observe)
    issued = len(outcome.token_calls)
    observe("tokens_issued", issued)
    [label] = observe("token_on_wire", _labels(wire.requests))
    expect(label != "other" and TOKENS.index(_bearer(wire.requests[0]) or "") < issued,
           f"{driver.sdk}'s Authorization header did not carry a token the credential issued "
           "as 'Bearer <token>'")


@check(
    "auth.entra-token-per-attempt",
    doc="JavaScript / Authentication ('obtain tokens for each request'); Python / "
    "Authentication; Java / Authentication (BearerTokenCredential)",
    claim="The SDK calls the token provider of the doc's Entra sample as often as its own "
    "policy says (before every attempt, retries included, or once per request; the same "
    "number of times each time), so two requests on one client, the first retried, each "
    "carry a token the provider gave; whether a retry gets a fresh token (the doc: 'obtain "
    "tokens for each request') is recorded in doc_vs_sdk where the SDK reuses it.",
    refs=("sdk-behavior §2.7 (called in _prepare_options before every attempt)",
          "sdk-behavior §1, §3, §4, §5, §8 #10", "docs/driver-protocol.md (repeat, "
          "provider_calls)"),
    live=False,  # needs the cassette's 429
    sdks=ALL_SDKS,
)
def entra_token_per_attempt(wire: Wire, driver: Driver, observe: Observations,
                            scrubber: Scrubber) -> None:
    # The cassette answers 429 (retry-after-ms: 10), then 200, then 200: two requests on one
    # client, the first retried once.
    outcome = _entra(wire, driver, scrubber, repeat=2)
    if wire.requests:
        _reject_stringified_provider(wire.requests[0], observe, driver.sdk)
    no_error(outcome, driver.sdk)
    attempts = observe("attempts", len(wire.requests))
    expect(attempts == 3, f"expected 3 attempts (429 then 200, then 200), saw {attempts}")
    _scopes(outcome, driver.sdk, observe)
    labels = observe("token_per_attempt", _labels(wire.requests))
    expect("other" not in labels, f"{driver.sdk} sent an Authorization the credential did not "
           f"issue: {labels}")
    # How often the SDK calls the provider it was given (the JavaScript apiKey function, the
    # Java supplier, Python's api_key callable), apart from how often the credential issued a
    # token (a caching provider hands back a still-valid one): without provider_calls the
    # driver's provider is the credential itself.
    profile = sdks.get(driver.sdk)
    policy = profile.policies(driver.version).actual
    called = policy.token_provider_called
    provider_calls = observe("provider_calls", outcome.provider_call_count)
    expected = (attempts if called == "attempt" else 2) * policy.token_provider_calls
    expect(provider_calls == expected,
           f"{driver.sdk} called its token provider {provider_calls} time(s) for two requests "
           f"of {attempts} attempts; its release calls it {policy.token_provider_calls} "
           f"time(s) per {called} ({profile.policy_source})")
    fresh = len(set(labels)) == len(labels)
    observe("token_reused", not fresh)
    if not fresh:
        observe("doc_vs_sdk", [doc_vs_sdk(driver.sdk, "token per attempt", DOC_TOKEN_CLAIM,
                                          f"a still-valid token is reused ({labels})",
                                          profile.policy_source)])
