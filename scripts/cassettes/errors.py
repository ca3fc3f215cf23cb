"""Error cassettes: the seed doc's chat sample answered with each error envelope family.

Every interaction answers the same request (the chat sample), so a check makes one call per
interaction, in order, with retries off. The bodies and headers are the reference examples as
they are (wire §4.2 families A-D); none of them was recorded against /openai/v1.
"""

from __future__ import annotations

from typing import Any

from conformance.wire import Cassette, Interaction, make_interaction

from .chat import chat_request
from .common import BASE, CASSETTES, REQUEST_HEADERS, compact, constructed, example, source

REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           408: "Request Timeout", 429: "Too Many Requests", 500: "Internal Server Error"}

# wire §4.3 quotes this family-D 500 from microsoft/chat-copilot#123; the corpus has no file.
BARE_500: dict[str, Any] = {
    "statusCode": 500,
    "message": "Internal server error",
    "activityId": "00000000-0000-0000-0000-000000000000",
}
BARE_500_SOURCE = {
    "reference": "azure-openai-v1-wire.md §4.3 (500 row, family D)",
    "class": "constructed",
    "note": "body quoted there from microsoft/chat-copilot#123; activityId zeroed",
}


def error_reply(name: str) -> Interaction:
    """The chat sample answered with reference example ``name`` (status, headers, body)."""
    data = example(name)
    return _interaction(data["status"], data["headers"], data["body"])


def _interaction(status: int, headers: dict[str, str], body: Any) -> Interaction:
    return make_interaction(
        method="POST",
        uri=f"{BASE}/chat/completions",
        request_json=chat_request(),
        request_headers=REQUEST_HEADERS,
        status=status,
        reason=REASONS.get(status, ""),
        response_headers=headers,
        body=compact(body),
    )


def _cassette(name: str, what: str, files: list[str], *extra: Interaction,
              extra_sources: tuple[dict[str, str], ...] = ()) -> Cassette:
    return Cassette(
        CASSETTES / "errors" / f"{name}.yaml",
        [*(error_reply(f) for f in files), *extra],
        constructed(what, *(source(f) for f in files), *extra_sources),
    )


def content_filter() -> Cassette:
    return _cassette(
        "content-filter",
        "the chat sample answered with the family B content-filter 400 (innererror with "
        "content_filter_result)",
        ["error-content-filter.json"],
    )


def azure_envelope() -> Cassette:
    return _cassette(
        "azure-envelope",
        "the chat sample answered with the Azure gateway's short family C envelopes (string "
        "codes, no type or param), one per status the references show",
        [
            "error-401-invalid-api-key.json",
            "error-401-permission-denied.json",
            "error-403-key-auth-disabled.json",
            "error-404-deployment-not-found.json",
            "error-404-resource-not-found.json",
            "error-408-timeout.json",
            "error-429-rate-limit.json",
        ],
    )


def bare_envelope() -> Cassette:
    return _cassette(
        "bare-envelope",
        "the chat sample answered with family D bodies, no error wrapper: a 401 for a bad "
        "bearer token, then a gateway 500",
        ["error-401-invalid-token.json"],
        _interaction(500, {"content-type": "application/json"}, BARE_500),
        extra_sources=(BARE_500_SOURCE,),
    )


# errors/openai-envelope.yaml is a real recording (scripts/package_recordings.py).
BUILDERS = [content_filter, azure_envelope, bare_envelope]
