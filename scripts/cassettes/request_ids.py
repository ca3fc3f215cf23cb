"""Request-id cassettes: Azure's recorded headers plus a constructed x-request-id.

The recorder behind the reference examples dropped every ``x-*`` header (see
tests/corpus/reference/README.md), so no recording shows whether Azure sends
``x-request-id``; ``apim-request-id`` is recorded. The x-request-id values here are made up and
differ from apim-request-id, so a check can tell which header the SDK read.
"""

from __future__ import annotations

from conformance.wire import Cassette, make_interaction

from .chat import COMPLETION_SOURCES, chat_request
from .common import (
    BASE,
    CASSETTES,
    REQUEST_HEADERS,
    compact,
    constructed,
    example,
    recorded_headers,
)

X_REQUEST_ID = "00000000-0000-0000-0000-0000000000a1"
STREAM_X_REQUEST_ID = "00000000-0000-0000-0000-0000000000a2"
STREAM_APIM_REQUEST_ID = "00000000-0000-0000-0000-0000000000b2"
X_NOTE = ("x-request-id added by scripts/cassettes/request_ids.py (constructed value); the "
          "recorded headers lost every x-* header, so its presence on Azure is not proven "
          "(wire §3.2)")


def _completion(name: str, *, with_x_request_id: bool, what: str) -> Cassette:
    headers = recorded_headers("chat-completion.azure.response-headers.json")
    if with_x_request_id:
        headers = {**headers, "x-request-id": [X_REQUEST_ID]}
    extra = {"headers": X_NOTE} if with_x_request_id else {
        "headers": "recorded headers as they are: apim-request-id, no x-request-id"}
    return Cassette(
        CASSETTES / "request-ids" / f"{name}.yaml",
        [make_interaction(method="POST", uri=f"{BASE}/chat/completions",
                          request_json=chat_request(), request_headers=REQUEST_HEADERS,
                          status=200, response_headers=headers,
                          body=compact(example("chat-completion.azure.json")))],
        constructed(what, *COMPLETION_SOURCES, **extra),
    )


def apim_only() -> Cassette:
    return _completion("apim-only", with_x_request_id=False,
                       what="the seed doc's chat sample; the reply carries only Azure's "
                       "apim-request-id, as recorded")


# request-ids/chat-completion.yaml and chat-stream.yaml are real recordings
# (scripts/package_recordings.py).
BUILDERS = [apim_only]
