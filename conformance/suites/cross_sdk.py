"""The doc's claims checked on every SDK it covers: python, javascript, go and java.

Each check here is one scenario (docs/driver-protocol.md: client options, an operation with its
params as data, a cassette or a scripted server) performed by the ``driver`` of the SDK the item
runs against, and one judgement over what crossed the wire and the SDK-neutral outcome. The same
scenario and the same packaged cassette serve every SDK; a recorded cassette's own request is the
scenario's params (``_recorded.request_params``).

Judgements follow each SDK's own policy for the release its driver loaded (its profile in
``conformance.sdks``, judged by the one model of ``conformance.policy``). Where an
SDK departs from what the doc says, the check records it under ``doc_vs_sdk`` and passes; it
fails only where the SDK breaks its own policy or the doc's claim holds for none. Retry timing is
read at the wire for the SDKs that really sleep, and from the virtual clock for Python.
"""

from __future__ import annotations

from typing import Any

from conformance import sdks
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import (
    Policies,
    doc_vs_sdk,
)
from conformance.registry import ALL_SDKS, Observations, check, expect, fail
from conformance.wire import RecordedRequest, Script
from conformance.wire import script as actions

from ._requests import CHAT_MESSAGES, DEPLOYMENT, RESPONSES_DEPLOYMENT
from ._scenario import (
    arrival_gaps,
    KEY,
    key_auth,
    no_error,
    read_value,
    recorded,
    scenario,
    token_auth,
    sse_data,
)

CHAT_SAMPLE = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "max_tokens": 100}
RESPONSES_SAMPLE = {"model": RESPONSES_DEPLOYMENT, "input": "This is a test"}
# Short server hints keep every SDK fast: JavaScript 6.x sleeps a Retry-After in full.
HINT_MS = "10"
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-cross-sdk", "object": "chat.completion", "created": 1700000000,
    "model": "gpt-4o-2024-11-20",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "Paris."}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}
DOC_AUTH = ("Python / Authentication (api_key); JavaScript / Authentication (apiKey); "
            "Go / Authentication (option.WithAPIKey); Java / Authentication (apiKey)")
DOC_RETRY = "Python / Retries; JavaScript / Retries (maxRetries per client and per request)"


def _envelope(status: int) -> dict[str, Any]:
    return {"error": {"code": f"code-{status}", "message": f"status {status} from the wire",
                      "param": None, "type": None}}


def _error(status: int, request_id: str = "", hint_ms: str | None = HINT_MS) -> Any:
    headers = [("x-request-id", request_id or f"req-{status}")]
    if hint_ms is not None:
        headers.append(("retry-after-ms", hint_ms))
    return actions.reply(status, _envelope(status), headers=headers)


def _ok(request_id: str = "req-200") -> Any:
    return actions.reply(200, COMPLETION, headers=[("x-request-id", request_id)])


def _chat(wire: Wire, **options: Any) -> dict[str, Any]:
    return scenario(wire, "chat.completions.create", CHAT_SAMPLE, **options)


def _typed(outcome: dict[str, Any], name: str, from_result: Any) -> Any:
    """A value as the SDK's typed field holds it: the driver's ``read`` where it reads one
    (Go, Java), else the result's (Python's typed model, JavaScript's object)."""
    read = outcome.get("read") or {}
    return read.get(name, from_result)


def _retry_counts(requests: list[RecordedRequest]) -> list[str | None]:
    return [r.header("x-stainless-retry-count") for r in requests]


def release_policy(driver: Driver) -> Policies:
    """The retry and error policy of the release the driver loaded (its hello's version, not
    the pin), from the SDK's profile."""
    return sdks.get(driver.sdk).policies(driver.version)


def _source(driver: Driver) -> str:
    return sdks.get(driver.sdk).policy_source


