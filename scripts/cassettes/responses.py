"""Responses API cassettes (cassettes/responses/).

The response bodies start from the one recorded Azure v1 Responses exchange
(``responses.azure.json``, a gpt-5.4 deployment): its top-level fields, Azure's
``content_filters`` array and its headers are kept; what the doc's request changes (the
deployment echoed in ``model``, the echoed ``instructions``) and the output items are written
here, and each cassette says so.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.suites._requests import (
    RESPONSES_DEPLOYMENT,
    RESPONSES_PYTHON_INPUT,
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

RECORDED = "responses.azure.json"
HEADERS = "responses.azure.response-headers.json"


def recorded_response(**changes: Any) -> dict[str, Any]:
    """The recorded Azure response body with top-level ``changes`` applied."""
    body: dict[str, Any] = copy.deepcopy(example(RECORDED))
    body.update(changes)
    return body


def response_interaction(request: dict[str, Any], body: dict[str, Any]) -> Interaction:
    return make_interaction(
        method="POST",
        uri=f"{BASE}/responses",
        request_json=request,
        request_headers=REQUEST_HEADERS,
        status=200,
        response_headers=recorded_headers(HEADERS),
        body=compact(body),
    )


def _part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def output_text() -> Cassette:
    request = {"model": RESPONSES_DEPLOYMENT, "input": RESPONSES_PYTHON_INPUT}
    output = [
        {"id": "rs_CONSTRUCTED00000000000000000000000000000000000011", "type": "reasoning",
         "summary": [{"type": "summary_text", "text": "Not part of output_text."}]},
        {"id": "msg_CONSTRUCTED0000000000000000000000000000000000011", "type": "message",
         "role": "assistant", "status": "completed", "phase": "commentary",
         "content": [_part("Test received."), _part(" Both parts count.")]},
        {"id": "msg_CONSTRUCTED0000000000000000000000000000000000012", "type": "message",
         "role": "assistant", "status": "completed", "phase": "final_answer",
         "content": [{"type": "refusal", "refusal": "A refusal is not output_text."},
                     _part(" So does a second message."),
                     _part(" Accents too: é, ü, 東京.")]},
    ]
    body = recorded_response(
        id="resp_CONSTRUCTED00000000000000000000000000000000000011",
        model=RESPONSES_DEPLOYMENT,
        output=output,
        usage={"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
               "output_tokens": 58, "output_tokens_details": {"reasoning_tokens": 24},
               "total_tokens": 70},
    )
    return Cassette(
        CASSETTES / "responses" / "output-text.yaml",
        [response_interaction(request, body)],
        constructed(
            "the Python responses.create sample (deployment as model, input 'This is a test')",
            source(RECORDED, "recorded top-level fields and content_filters; id, model, usage "
                   "and the output items constructed: a reasoning item and two messages with "
                   "several output_text parts and a refusal part, so that aggregation matters"),
            source(HEADERS, "recorded headers"),
        ),
    )


# responses/create.yaml is a real recording (scripts/package_recordings.py).
BUILDERS = [output_text]
