"""Check ids that were retired into another check, so ``diff`` and ``gate`` still pair them.

Until issue 19, eighteen ``sdks-`` checks restated, through the driver protocol, a claim that a
Python-only check already made. Each claim is now one check run on every SDK; a baseline
written before that still names the old id. :func:`current` maps an old id to the check that
carries its claim now. An id is retired here, never reused.
"""

from __future__ import annotations

RETIRED: dict[str, str] = {
    "auth.sdks-api-key": "auth.api-key-bearer",
    "auth.sdks-token-provider": "auth.entra-token-per-attempt",
    "chat.sdks-completion": "chat.response-contract",
    "streaming.sdks-chat-stream": "streaming.chat-doc-loop-text",
    "responses.sdks-create": "responses.output-text",
    "streaming.sdks-responses-stream": "streaming.responses-sample-handling",
    "embeddings.sdks-default-encoding": "embeddings.sdk-default-base64",
    "errors.sdks-status-classes": "errors.status-classes",
    "request-ids.sdks-accessor": "request-ids.parsed-object",
    "retries.sdks-default-attempts": "retries.default-attempts",
    "retries.sdks-retryable-statuses": "retries.retryable-set",
    "retries.sdks-max-retries-client": "retries.client-max-retries",
    "retries.sdks-max-retries-request": "retries.per-request-override",
    "retries.sdks-retry-after-ms": "retries.retry-after",
    "retries.sdks-retry-after-seconds": "retries.retry-after",
    "retries.sdks-backoff-and-azure-hint": "retries.backoff",
    "retries.sdks-hint-past-cap": "retries.retry-after-limits",
    "mcp.sdks-tool-config": "mcp.tool-config",
    "image-input.sdks-doc-sample": "image-input.chat-doc-sample",
    "image-input.sdks-url-and-data-url": "image-input.chat-url-and-data-url",
}


def current(check_id: str) -> str:
    """The id that carries ``check_id``'s claim today (itself, unless it was retired)."""
    return RETIRED.get(check_id, check_id)
