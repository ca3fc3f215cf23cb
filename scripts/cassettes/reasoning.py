"""Reasoning cassettes (cassettes/reasoning/).

Nobody recorded a reasoning deployment through /openai/v1 chat. The chat bodies keep the
shape and content-filter fields of the recorded Azure chat completion and put in what a
reasoning deployment adds (reasoning tokens inside completion_tokens, wire §6.4, §10.1); the
Responses body keeps the recorded Azure Responses fields and adds a reasoning item with a
summary and encrypted content (wire §10.2).
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.suites._requests import (
    REASONING_DEPLOYMENT,
    REASONING_EFFORT,
    REASONING_EFFORTS,
    REASONING_MAX_COMPLETION_TOKENS,
    REASONING_MESSAGES,
)
from conformance.wire import Cassette, Interaction, make_interaction

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

CHAT_RECORDED = "chat-completion.azure.json"
CHAT_HEADERS = "chat-completion.azure.response-headers.json"
CHAT_SHAPE = source(CHAT_RECORDED, "recorded Azure chat completion (legacy path): its fields "
                    "and content-filter results kept; id, model, message text and usage "
                    "constructed for a reasoning deployment")
# The one reasoning snapshot name seen in a recording (responses-mcp.openai.json); the other
# families answer with their deployment name rather than an invented snapshot date.
SNAPSHOTS = {"o4-mini": "o4-mini-2025-04-16"}
ANSWER = ("The bitter lesson (Rich Sutton, 2019): general methods that scale with computation "
          "beat approaches built on human knowledge.")


def chat_request(deployment: str = REASONING_DEPLOYMENT, effort: str = REASONING_EFFORT,
                 ) -> dict[str, Any]:
    return {"model": deployment, "messages": REASONING_MESSAGES, "reasoning_effort": effort,
            "max_completion_tokens": REASONING_MAX_COMPLETION_TOKENS}


def chat_completion(n: int, deployment: str, reasoning_tokens: int) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(example(CHAT_RECORDED))
    body["id"] = f"chatcmpl-CONSTRUCTED{n:0>17d}"
    body["model"] = SNAPSHOTS.get(deployment, deployment)
    body["system_fingerprint"] = None
    body["choices"][0]["message"]["content"] = ANSWER
    completion = 31 + reasoning_tokens
    body["usage"] = {
        "completion_tokens": completion,
        "completion_tokens_details": {"accepted_prediction_tokens": 0, "audio_tokens": 0,
                                      "reasoning_tokens": reasoning_tokens,
                                      "rejected_prediction_tokens": 0},
        "prompt_tokens": 19,
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
        "total_tokens": 19 + completion,
    }
    return body


def _chat(request: dict[str, Any], body: Any, status: int = 200, reason: str = "OK",
          headers: dict[str, Any] | None = None) -> Interaction:
    return make_interaction(
        method="POST",
        uri=f"{BASE}/chat/completions",
        request_json=request,
        request_headers=REQUEST_HEADERS,
        status=status,
        reason=reason,
        response_headers=headers if headers is not None else recorded_headers(CHAT_HEADERS),
        body=compact(body),
    )


def chat() -> Cassette:
    return Cassette(
        CASSETTES / "reasoning" / "chat.yaml",
        [_chat(chat_request(), chat_completion(1, REASONING_DEPLOYMENT, 448))],
        constructed("the .NET reasoning chat sample (o4-mini, developer + user message, "
                    "reasoning effort low, 100000 output tokens) as the Python SDK sends it",
                    CHAT_SHAPE, source(CHAT_HEADERS, "recorded headers"),
                    source("chat-request-reasoning.json", "the request's shape")),
    )


def effort_values() -> Cassette:
    interactions = [
        _chat(chat_request(deployment, effort),
              chat_completion(10 + n, deployment, 0 if effort == "none" else 64 * (n + 1)))
        for n, (deployment, effort) in enumerate(REASONING_EFFORTS)
    ]
    return Cassette(
        CASSETTES / "reasoning" / "effort-values.yaml",
        interactions,
        constructed("the reasoning chat sample once per model family of wire §10.3, each "
                    "with an effort value that family accepts",
                    CHAT_SHAPE, source(CHAT_HEADERS, "recorded headers")),
    )


def max_tokens_rejected() -> Cassette:
    rejected = example("error-400-unsupported-parameter.json")
    request = {"model": REASONING_DEPLOYMENT, "messages": REASONING_MESSAGES,
               "max_tokens": REASONING_MAX_COMPLETION_TOKENS}
    return Cassette(
        CASSETTES / "reasoning" / "max-tokens-rejected.yaml",
        [_chat(request, rejected["body"], 400, "Bad Request", rejected["headers"])],
        constructed("the reasoning chat sample with the limit passed as the deprecated "
                    "max_tokens", source("error-400-unsupported-parameter.json")),
    )


# reasoning/responses.yaml is a real recording (scripts/package_recordings.py).
BUILDERS = [chat, effort_values, max_tokens_rejected]
