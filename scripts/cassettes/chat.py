"""Chat completion cassettes (also replayed by the auth checks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.suites._requests import CHAT_REQUEST
from conformance.wire import Cassette, Interaction, make_interaction

from .common import (
    BASE,
    REQUEST_HEADERS,
    compact,
    example,
    recorded_headers,
    source,
)

COMPLETION_SOURCES = (
    source("chat-completion.azure.json", "recorded on the legacy /openai/deployments path; the "
           "body schema is the one v1 defines"),
    source("chat-completion.azure.response-headers.json", "that recorder dropped x-* headers"),
)


def chat_request() -> dict[str, Any]:
    """The doc's chat sample: system + user message, deployment as model, max_tokens 100."""
    return dict(CHAT_REQUEST)


def completion_ok() -> Interaction:
    return make_interaction(
        method="POST",
        uri=f"{BASE}/chat/completions",
        request_json=chat_request(),
        request_headers=REQUEST_HEADERS,
        status=200,
        response_headers=recorded_headers("chat-completion.azure.response-headers.json"),
        body=compact(example("chat-completion.azure.json")),
    )


# chat/completion.yaml is a real recording: scripts/package_recordings.py packages it.
BUILDERS: list[Callable[[], Cassette]] = []
