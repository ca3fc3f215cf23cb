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

import base64
import struct
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

from ._requests import CHAT_MESSAGES, DEPLOYMENT, EMBEDDING_SMALL, RESPONSES_DEPLOYMENT
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


# -- chat, Responses, streaming, embeddings ------------------------------------------------------


@check(
    "responses.sdks-create",
    doc="Python / Responses API / responses.create(); JavaScript / Responses; Go / Responses; "
    "Java / Responses",
    claim="Every SDK returns the recorded response: the same id, status and output text.",
    cassette="responses/create.yaml",
    sdks=ALL_SDKS,
)
def sdks_responses_create(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = driver.run(scenario(wire, "responses.create", recorded(wire, RESPONSES_SAMPLE)))
    no_error(outcome, driver.sdk)
    sent = wire.response_json(0)
    result = outcome["result"] or {}

    def texts(response: dict[str, Any]) -> list[str]:
        return [part.get("text") for item in response.get("output") or []
                for part in item.get("content") or [] if part.get("type") == "output_text"]

    observe("output_texts", texts(result))
    # The Python and JavaScript samples print response.output_text, Go OutputText(); openai-java
    # has no such helper (its sample prints the response): Java's driver reads the typed
    # output().message().content().outputText().text().
    helper = observe("output_text", read_value(outcome, "output_text"))
    got_id = _typed(outcome, "id", result.get("id"))
    status = _typed(outcome, "status", result.get("status"))
    expect(got_id == sent["id"], f"{driver.sdk} returned id {got_id!r}")
    expect(status == sent.get("status"), f"{driver.sdk} changed the status to {status!r}")
    expect(texts(result) == texts(sent), f"{driver.sdk} returned other output text than sent")
    expect(helper == "".join(texts(sent)), f"{driver.sdk}'s output text is {helper!r}, not the "
           "output text sent")


VECTOR = [0.5, -0.25, 1.0, -2.0]  # exact in float32


class _Embeddings:
    """Answers in the encoding the SDK asked for: base64 float32 when it says so, else floats."""

    vector = VECTOR

    def __init__(self) -> None:
        self.asked: list[Any] = []

    def respond(self, request: RecordedRequest) -> Any:
        asked = request.json().get("encoding_format")
        self.asked.append(asked)
        vector: Any = (base64.b64encode(struct.pack(f"<{len(self.vector)}f", *self.vector))
                       .decode() if asked == "base64" else list(self.vector))
        return actions.reply(200, {
            "object": "list", "model": EMBEDDING_SMALL,
            "data": [{"object": "embedding", "index": 0, "embedding": vector}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        })


@check(
    "embeddings.sdks-default-encoding",
    doc="Python / Embeddings / embeddings.create(); Go / Embeddings",
    claim="Whatever encoding each SDK asks for by default (base64 or float), user code reads "
    "the same float vector.",
    cassette=None,
    sdks=ALL_SDKS,
)
def sdks_embeddings(wire: Wire, driver: Driver, observe: Observations) -> None:
    server = _Embeddings()
    wire.use(server)
    outcome = driver.run(scenario(wire, "embeddings.create",
                                  {"model": EMBEDDING_SMALL, "input": "hello"}))
    no_error(outcome, driver.sdk)
    observe("encoding_asked", server.asked)
    vector = observe("vector", read_value(outcome, "embedding"))
    expect(vector == VECTOR, f"{driver.sdk} handed user code {vector!r}, the server sent "
           f"{VECTOR} (as {server.asked[0] or 'float'})")


