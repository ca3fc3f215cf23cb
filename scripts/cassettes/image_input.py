"""Image-input cassettes: the doc's image sample, and the same with both URL forms.

The reply bodies reuse the recorded chat completion (whose text answers another question: the
image checks judge the request, and only need a well-formed completion back).
"""

from __future__ import annotations

from typing import Any

from conformance.suites._requests import (
    DEPLOYMENT,
    IMAGE_BOTH_MESSAGES,
    IMAGE_MAX_TOKENS,
    IMAGE_SAMPLE_MESSAGES,
)
from conformance.wire import Cassette, make_interaction

from .chat import COMPLETION_SOURCES
from .common import (
    BASE,
    CASSETTES,
    REQUEST_HEADERS,
    compact,
    constructed,
    example,
    recorded_headers,
    source,
)

REPLY_NOTE = ("reply: the recorded chat completion, reused as is (its text answers a "
              "different question)")


def image_request(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The doc's image sample: gpt-4o, max_tokens 300."""
    return {"model": DEPLOYMENT, "messages": messages, "max_tokens": IMAGE_MAX_TOKENS}


def _cassette(name: str, messages: list[dict[str, Any]], what: str,
              *sources: dict[str, str]) -> Cassette:
    return Cassette(
        CASSETTES / "image-input" / f"{name}.yaml",
        [make_interaction(
            method="POST", uri=f"{BASE}/chat/completions",
            request_json=image_request(messages), request_headers=REQUEST_HEADERS, status=200,
            response_headers=recorded_headers("chat-completion.azure.response-headers.json"),
            body=compact(example("chat-completion.azure.json")),
        )],
        constructed(what, *sources, *COMPLETION_SOURCES, reply=REPLY_NOTE),
    )


def chat_doc_sample() -> Cassette:
    return _cassette(
        "chat-doc-sample", IMAGE_SAMPLE_MESSAGES,
        "the seed doc's image sample verbatim: a text part and an https image_url part, "
        "gpt-4o, max_tokens 300",
    )


def chat_url_and_data_url() -> Cassette:
    return _cassette(
        "chat-url-and-data-url", IMAGE_BOTH_MESSAGES,
        "the seed doc's image sample with two image parts: the https URL (detail high) and a "
        "base64 data URL (detail low)",
        source("chat-request-image.json", "the data URL (a valid 1x1 PNG) and the part "
               "shapes; max_tokens 300 as in the doc instead of max_completion_tokens"),
    )


BUILDERS = [chat_doc_sample, chat_url_and_data_url]
