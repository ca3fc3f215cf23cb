"""auth: API keys and Entra ID token providers, as seen on the wire."""

from __future__ import annotations

import conformance.sdk
from conformance.credentials import COGNITIVE_SERVICES_SCOPE, FakeCredential
from conformance.harness import Wire
from conformance.registry import Observations, check, expect, fail, unsupported
from conformance.sdk import TEST_API_KEY, Sdk
from conformance.secrets import Scrubber
from conformance.wire import RecordedRequest

from ._recorded import call_sdk, request_params
from ._requests import CHAT_MESSAGES, DEPLOYMENT

STRINGIFIED_CALLABLE = ("<function", "<bound method", "functools.partial", "<built-in")


def _chat(client: object, wire: Wire) -> None:
    sample = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "max_tokens": 100}
    call_sdk(client.chat.completions.create,  # type: ignore[attr-defined]
         request_params(wire, sample))


def _bearer(request: RecordedRequest) -> str | None:
    value = request.header("authorization")
    if value is None or not value.startswith("Bearer "):
        return None
    return value.removeprefix("Bearer ")


def _reject_stringified_provider(request: RecordedRequest, observe: Observations) -> None:
    """Before openai 1.106.0 a callable api_key is formatted into the header as is."""
    sent = request.header("authorization") or ""
    if any(marker in sent for marker in STRINGIFIED_CALLABLE):
        observe("authorization_sent", "Bearer <the provider's repr, not a token>")
        message = (
            "the SDK put the token provider's repr on the wire instead of calling it "
            "(Authorization: Bearer <function ...>)"
        )
        if not conformance.sdk.has("callable_api_key"):
            unsupported(f"{message}; callable api_key needs openai>=1.106.0")
        fail(message)


@check(
    "auth.api-key-bearer",
    doc="Python / Authentication (OpenAI client with base_url .../openai/v1/ and api_key)",
    claim="An API key passed as api_key goes out as 'Authorization: Bearer <key>' and in no "
    "other header.",
    cassette="chat/completion.yaml",
    refs=("wire §2.1 ApiKeyAuth_", "sdk-behavior §2.7, §8 #12"),
)
def api_key_bearer(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    _chat(sdk.client(), wire)
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    request = wire.requests[0]
    credential_headers = sorted(
        {n for n in request.header_names() if n in ("authorization", "api-key")}
    )
    observe("credential_headers", credential_headers)
    observe("authorization_scheme", (request.header("authorization") or "").split(" ")[0])
    expect(
        request.header("authorization") == f"Bearer {TEST_API_KEY}",
        "the key did not go out as 'Authorization: Bearer <key>' (headers carrying a "
        f"credential: {credential_headers})",
    )
    expect(
        request.header("api-key") is None,
        "the key also went out in an 'api-key' header, which OpenAI(base_url=...) never sends",
    )


@check(
    "auth.entra-token-provider",
    doc="Python / Authentication (get_bearer_token_provider passed as api_key)",
    claim="A token provider from get_bearer_token_provider(credential, "
    "'https://cognitiveservices.azure.com/.default') passed as api_key is called, asks the "
    "credential for that scope, and its token goes out as 'Authorization: Bearer <token>'.",
    cassette="chat/completion.yaml",
    refs=("wire §2.1 OAuth2Auth", "sdk-behavior §2.7, §8 #11"),
)
def entra_token_provider(
    wire: Wire, sdk: Sdk, observe: Observations, scrubber: Scrubber
) -> None:
    from azure.identity import get_bearer_token_provider

    credential = FakeCredential()
    provider = get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE)
    _chat(sdk.client(api_key=provider), wire)
    for n, token in enumerate(credential.issued, 1):
        scrubber.add(token, f"token#{n}")
    expect(len(wire.requests) == 1, f"expected 1 request, saw {len(wire.requests)}")
    request = wire.requests[0]
    _reject_stringified_provider(request, observe)
    observe("scopes_requested", [list(s) for s in credential.scopes])
    observe("tokens_issued", len(credential.issued))
    sent = _bearer(request)
    observe("token_on_wire", credential.label(sent) if sent else None)
    expect(credential.scopes, "the SDK never called the token provider")
    expect(
        all(scopes == (COGNITIVE_SERVICES_SCOPE,) for scopes in credential.scopes),
        f"the credential was asked for {credential.scopes}, not ({COGNITIVE_SERVICES_SCOPE!r},)",
    )
    expect(
        sent is not None and sent == credential.issued[-1],
        "the Authorization header did not carry the provider's token as 'Bearer <token>'",
    )


@check(
    "auth.entra-token-per-attempt",
    doc="JavaScript / Authentication ('obtain tokens for each request'); Python / "
    "Authentication",
    claim="The token provider is called again before every attempt, retries included, and each "
    "attempt carries the token it was given.",
    refs=("sdk-behavior §2.7 (called in _prepare_options before every attempt)",
          "sdk-behavior §8 #10"),
    live=False,  # needs the cassette's 429
)
def entra_token_per_attempt(
    wire: Wire, sdk: Sdk, observe: Observations, scrubber: Scrubber
) -> None:
    from azure.identity import get_bearer_token_provider

    credential = FakeCredential()
    provider = get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE)
    # The cassette answers 429, then 200: one retry.
    _chat(sdk.client(api_key=provider, max_retries=2), wire)
    for n, token in enumerate(credential.issued, 1):
        scrubber.add(token, f"token#{n}")
    expect(wire.requests, "the SDK sent no request")
    _reject_stringified_provider(wire.requests[0], observe)
    labels = [credential.label(t) if (t := _bearer(r)) else None for r in wire.requests]
    observe("attempts", len(wire.requests))
    observe("token_per_attempt", labels)
    observe("tokens_issued", len(credential.issued))
    expect(len(wire.requests) == 2, f"expected 2 attempts (429, then 200), saw "
           f"{len(wire.requests)}")
    expect(
        labels == ["token#1", "token#2"],
        f"each attempt should carry a freshly provided token (token#1, token#2); the attempts "
        f"carried {labels}",
    )
