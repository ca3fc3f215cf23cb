"""The real SDK drivers (JavaScript, Go, Java) against the real wire server: each performs the
same scenarios, from the packaged cassettes or a scripted server, and the outcome JSON and
what crossed the wire are asserted. A missing toolchain skips that SDK with the install hint.

These build each driver once (minutes the first time; see conformance.drivers.build), so they
are marked ``drivers``: ``pytest -m drivers`` selects them, ``-m "not drivers"`` leaves them.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import paths, sdks
from conformance.drivers import (
    BuildFailed,
    DriverProcess,
    DriverUnavailable,
    ScenarioRejected,
)
from conformance.drivers.build import build
from conformance.drivers.outcome import DriverOutcome
from conformance.wire import Cassette, RecordedRequest, Replay, Script, WireServer
from conformance.wire import script as actions

from .fake_resource import STANDIN

pytestmark = pytest.mark.drivers

SDKS = sdks.driver_names()  # every SDK of the registry that has a driver
SCOPE = "https://cognitiveservices.azure.com/.default"
KEY = "conformance-key-0001"
# What each SDK raises for a 404, per its source: JS NotFoundError (core/error), openai-go's one
# *openai.Error with StatusCode, openai-java NotFoundException (errors/).
NOT_FOUND_CLASS = {"javascript": "NotFoundError", "go": "*openai.Error",
                   "java": "NotFoundException"}
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-driver-scripted", "object": "chat.completion", "created": 1700000000,
    "model": "gpt-4o-2024-11-20",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "The capital of France is Paris."}}],
    "usage": {"prompt_tokens": 24, "completion_tokens": 7, "total_tokens": 31},
}
VECTOR = [0.5, -0.25, 1.0, -2.0]  # exact in float32: a decoded vector compares equal


def cassette(name: str) -> Cassette:
    """The doc-sample version of a cassette: the stand-in's copy where the packaged one is a
    real recording of another request."""
    standin = STANDIN / name
    return Cassette.load(standin if standin.exists() else paths.cassette_root() / name)


def recorded_body(name: str) -> dict[str, Any]:
    body = cassette(name).interactions[0].request_json()
    assert isinstance(body, dict)
    body.pop("stream", None)  # a *.stream operation passes stream: true the SDK's own way
    return body


@pytest.fixture(scope="module", params=SDKS)
def driver(request: pytest.FixtureRequest) -> Iterator[DriverProcess]:
    sdk = request.param
    try:
        built = build(sdk)
    except DriverUnavailable as exc:
        pytest.skip(f"{exc.reason}: {exc.hint}")
    except BuildFailed as exc:  # a setup problem: an error of this test, with the tool output
        pytest.fail(str(exc), pytrace=False)
    process = built.process(startup_timeout=120)
    process.start()
    yield process
    process.close()


@pytest.fixture(scope="module")
def server() -> Iterator[WireServer]:
    with WireServer() as server:
        yield server


def scenario(
    server: WireServer,
    operation: str,
    params: dict[str, Any],
    *,
    auth: dict[str, Any] | None = None,
    max_retries: int | None = None,
    timeout_ms: int | None = None,
    request_options: dict[str, Any] | None = None,
    deadline_ms: int = 30_000,
) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "client": {"auth": auth or {"kind": "key", "key": KEY}, "max_retries": max_retries,
                   "timeout_ms": timeout_ms},
        "operation": {"name": operation, "params": params,
                      "request_options": request_options or {"max_retries": None,
                                                             "timeout_ms": None}},
        "deadline_ms": deadline_ms,
    }


def play(driver: DriverProcess, server: WireServer, responder: Any,
         the_scenario: dict[str, Any]) -> tuple[dict[str, Any], list[RecordedRequest]]:
    server.use(responder)
    outcome = driver.run(the_scenario)
    if isinstance(responder, Replay):
        assert not responder.misses, "\n".join(m.describe() for m in responder.misses)
        assert all(responder.played), "the cassette was not played in full"
    return outcome, server.requests


def test_hello_names_the_sdk_and_its_pinned_version(driver):
    assert driver.hello is not None
    assert driver.hello.sdk == driver.sdk
    expected = {"javascript": "6.49.0", "go": "3.100.0", "java": "4.105.0"}[driver.sdk]
    assert driver.hello.sdk_version == expected


def test_chat_with_a_key_replays_the_doc_sample(driver, server):
    name = "request-ids/chat-completion.yaml"
    outcome, requests = play(driver, server, Replay(cassette(name)),
                             scenario(server, "chat.completions.create", recorded_body(name)))
    assert outcome.error is None
    assert outcome.result["choices"][0]["message"]["content"] == (
        "The capital of France is **Paris**.")
    # ...and as the doc's sample reads it, through the SDK's typed accessor.
    assert outcome.read.content == "The capital of France is **Paris**."
    # Azure's per-choice content filter results survive the SDK's typed objects.
    assert "content_filter_results" in outcome.result["choices"][0]
    [request] = requests
    assert request.path == "/openai/v1/chat/completions"
    assert request.header("authorization") == f"Bearer {KEY}"
    assert outcome.token_calls == []


def doc_entra_sample_fails(driver: DriverProcess, outcome: DriverOutcome,
                           requests: list[RecordedRequest]) -> bool:
    """The doc's Go Entra sample (option.WithBaseURL + azure.WithTokenCredential), run as
    written, fails against openai-go v3.100.0 before sending anything."""
    if driver.sdk != "go":
        return False
    assert requests == []
    assert "azure: authentication requires azure.WithEndpoint" in outcome.error.message
    return True


def test_chat_with_a_token_provider_sends_its_token_for_the_scope(driver, server):
    auth = {"kind": "token_provider", "scope": SCOPE, "tokens": ["entra-token-1", "entra-token-2"]}
    outcome, requests = play(
        driver, server, Script([actions.reply(200, COMPLETION)]),
        scenario(server, "chat.completions.create",
                 recorded_body("request-ids/chat-completion.yaml"), auth=auth))
    if doc_entra_sample_fails(driver, outcome, requests):
        return
    assert outcome.error is None
    assert [r.header("authorization") for r in requests] == ["Bearer entra-token-1"]
    assert outcome.token_calls == [[SCOPE]]


def test_request_id_reaches_the_sdks_public_accessor(driver, server):
    name = "request-ids/chat-completion.yaml"
    outcome, _ = play(driver, server, Replay(cassette(name)),
                      scenario(server, "chat.completions.create", recorded_body(name)))
    assert outcome.request_id == "00000000-0000-0000-0000-0000000000a1"


def test_a_chat_stream_yields_every_chunk_in_order(driver, server):
    name = "request-ids/chat-stream.yaml"
    outcome, requests = play(driver, server, Replay(cassette(name)),
                             scenario(server, "chat.completions.stream", recorded_body(name)))
    assert outcome.error is None
    [request] = requests
    assert request.json()["stream"] is True
    text = "".join(
        (chunk["choices"][0]["delta"].get("content") or "")
        for chunk in outcome.events if chunk["choices"]
    )
    assert "Paris" in text
    assert outcome.read.text == text  # the typed deltas the sample prints
    assert outcome.events[-1]["usage"]["total_tokens"] > 0  # include_usage's last chunk
    assert outcome.request_id == "00000000-0000-0000-0000-0000000000a2"


def test_responses_create_replays_the_doc_sample(driver, server):
    name = "responses/create.yaml"
    outcome, requests = play(driver, server, Replay(cassette(name)),
                             scenario(server, "responses.create", recorded_body(name)))
    assert outcome.error is None
    assert outcome.result["object"] == "response"
    assert outcome.result["output"][0]["content"][0]["text"] == "Paris"
    assert requests[0].path == "/openai/v1/responses"
    # The doc's samples print output_text: JS has the property, Go the OutputText() method;
    # openai-java has no such helper: its driver reads output().message().content().outputText().
    assert outcome.read.output_text == "Paris"


def test_a_responses_stream_yields_the_typed_events_in_order(driver, server):
    name = "streaming/responses-events.yaml"
    outcome, _ = play(driver, server, Replay(cassette(name)),
                      scenario(server, "responses.stream", recorded_body(name)))
    assert outcome.error is None
    types = [event["type"] for event in outcome.events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    assert "response.output_text.delta" in types
    numbers = [event["sequence_number"] for event in outcome.events]
    assert numbers == sorted(numbers)
    assert outcome.read.text == "".join(
        event["delta"] for event in outcome.events
        if event["type"] == "response.output_text.delta")


class EmbeddingsServer:
    """Answers in the encoding the SDK asked for (base64 when it says so, floats otherwise)."""

    def __init__(self) -> None:
        self.formats: list[str | None] = []

    def respond(self, request: RecordedRequest) -> Any:
        asked = request.json().get("encoding_format")
        self.formats.append(asked)
        vector: Any = (base64.b64encode(struct.pack(f"<{len(VECTOR)}f", *VECTOR)).decode()
                       if asked == "base64" else VECTOR)
        return actions.reply(200, {
            "object": "list", "model": "text-embedding-3-small",
            "data": [{"object": "embedding", "index": 0, "embedding": vector}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        })


def test_embeddings_reach_user_code_as_decoded_vectors(driver, server):
    responder = EmbeddingsServer()
    outcome, _ = play(driver, server, responder,
                      scenario(server, "embeddings.create",
                               {"model": "text-embedding-3-small", "input": "hello"}))
    assert outcome.error is None
    assert outcome.result["data"][0]["embedding"] == VECTOR
    # JavaScript asks for base64 by default (and decodes it), as does openai-java's
    # EmbeddingCreateParams.builder() (the doc's Java sample); Go asks for nothing (floats).
    assert responder.formats == [{"javascript": "base64", "java": "base64"}.get(driver.sdk)]


def test_an_explicit_base64_embedding_reaches_user_code_as_each_sdk_decides(driver, server):
    responder = EmbeddingsServer()
    outcome, _ = play(driver, server, responder,
                      scenario(server, "embeddings.create",
                               {"model": "text-embedding-3-small", "input": "hello",
                                "encoding_format": "base64"}))
    assert responder.formats == ["base64"]
    # JavaScript decodes only its own default: asked for explicitly, the string is handed over.
    # Go's Embedding and Java's Embedding.embedding() decode whatever arrives.
    encoded = base64.b64encode(struct.pack(f"<{len(VECTOR)}f", *VECTOR)).decode()
    expected = encoded if driver.sdk == "javascript" else VECTOR
    assert outcome.result["data"][0]["embedding"] == expected


def test_a_429_is_retried_after_its_retry_after_ms(driver, server):
    hint_ms = 1000  # longer than any SDK's first backoff: waiting this long proves it was read
    script = Script([
        actions.reply(429, {"error": {"code": "429", "message": "rate limited"}},
                      headers=[("retry-after-ms", str(hint_ms)), ("x-request-id", "req-429")]),
        actions.reply(200, COMPLETION, headers=[("x-request-id", "req-200")]),
    ])
    outcome, requests = play(driver, server, script,
                             scenario(server, "chat.completions.create",
                                      recorded_body("request-ids/chat-completion.yaml")))
    assert outcome.error is None
    assert outcome.request_id == "req-200"
    assert len(requests) == 2
    if driver.sdk == "java":
        # openai-java's public sleeper is the driver's virtual clock: the SDK asked to wait the
        # hint, and did not (docs/driver-protocol.md, virtual_delays_s).
        assert outcome.virtual_delays_s == (hint_ms / 1000,)
        assert requests[1].arrived - requests[0].arrived < hint_ms / 1000
    else:  # the SDK slept: its wait is timed at the wire
        assert outcome.virtual_delays_s is None
        assert requests[1].arrived - requests[0].arrived >= hint_ms / 1000 - 0.05
    assert [r.header("x-stainless-retry-count") for r in requests] == ["0", "1"]


def test_an_expiring_token_is_fetched_again_for_the_retry(driver, server):
    script = Script([
        actions.reply(503, {"error": {"code": "503", "message": "busy"}},
                      headers=[("retry-after-ms", "10")]),
        actions.reply(200, COMPLETION),
    ])
    auth = {"kind": "token_provider", "scope": SCOPE, "tokens": ["t1", "t2"], "expires_in_s": 0}
    outcome, requests = play(driver, server, script,
                             scenario(server, "chat.completions.create",
                                      recorded_body("request-ids/chat-completion.yaml"),
                                      auth=auth))
    if doc_entra_sample_fails(driver, outcome, requests):
        return
    assert outcome.error is None
    # JS's getBearerTokenProvider refreshes a token that has expired. Java's supplier has no
    # expiry: it is asked once per request.
    fresh = driver.sdk != "java"
    assert [r.header("authorization") for r in requests] == (
        ["Bearer t1", "Bearer t2"] if fresh else ["Bearer t1", "Bearer t1"])


def test_a_404_raises_the_sdks_not_found_error_with_its_fields(driver, server):
    body = {"error": {"code": "DeploymentNotFound", "param": None, "type": None,
                      "message": "The API deployment for this resource does not exist."}}
    outcome, requests = play(
        driver, server,
        Script([actions.reply(404, body, headers=[("x-request-id", "req-404")])]),
        scenario(server, "chat.completions.create",
                 recorded_body("request-ids/chat-completion.yaml")))
    error = outcome.error
    assert len(requests) == 1  # a 404 is not retried
    assert outcome.result is None
    assert (error.kind, error.class_name, error.status) == (
        "status", NOT_FOUND_CLASS[driver.sdk], 404)
    assert (error.code, error.code_type) == ("DeploymentNotFound", "string")
    assert error.request_id == "req-404"
    assert "does not exist" in error.message


def test_the_sdks_own_timeout_is_a_timeout_error(driver, server):
    outcome, _ = play(driver, server, Script([actions.stall(20)]),
                      scenario(server, "chat.completions.create",
                               recorded_body("request-ids/chat-completion.yaml"),
                               max_retries=0, timeout_ms=300))
    assert outcome.error.kind == "timeout"


def test_a_scenario_past_its_deadline_is_answered_by_the_driver(driver, server):
    outcome, _ = play(driver, server, Script([actions.stall(20)]),
                      scenario(server, "chat.completions.create",
                               recorded_body("request-ids/chat-completion.yaml"),
                               deadline_ms=500))
    assert outcome.error.kind == "other"
    assert outcome.error.message == "driver deadline"
    # The driver is still usable afterwards.
    outcome, _ = play(driver, server, Script([actions.reply(200, COMPLETION)]),
                      scenario(server, "chat.completions.create",
                               recorded_body("request-ids/chat-completion.yaml")))
    assert outcome.error is None


def test_per_request_max_retries_where_the_sdk_has_them(driver, server):
    script = Script([actions.reply(500, {"error": {"code": "500", "message": "boom"}},
                                   headers=[("retry-after-ms", "10")]),
                     actions.reply(200, COMPLETION)])
    the_scenario = scenario(server, "chat.completions.create",
                            recorded_body("request-ids/chat-completion.yaml"), max_retries=0,
                            request_options={"max_retries": 1, "timeout_ms": None})
    if driver.sdk == "java":  # openai-java's RequestOptions has no max retries
        with pytest.raises(ScenarioRejected) as caught:
            play(driver, server, script, the_scenario)
        assert caught.value.unsupported
        return
    outcome, requests = play(driver, server, script, the_scenario)
    assert outcome.error is None
    assert len(requests) == 2


def test_the_javascript_driver_looks_up_no_host_beyond_loopback(driver, server):
    """A URL the SDK would reach around the runner's proxy is refused before its name is looked
    up: the SDK raises a connection error, and no query leaves the machine."""
    if driver.sdk != "javascript":
        pytest.skip("the DNS guard is the JavaScript driver's (node's dns.lookup)")
    the_scenario = scenario(server, "chat.completions.create",
                            recorded_body("request-ids/chat-completion.yaml"), max_retries=0)
    the_scenario["base_url"] = "http://your-resource-name.openai.azure.com/openai/v1/"
    outcome, requests = play(driver, server, Script([actions.reply(200, COMPLETION)]),
                             the_scenario)
    assert requests == []
    assert outcome.error is not None and outcome.error.kind == "connection"
    # One more round trip: the driver logged the refusal before it answered the first.
    with pytest.raises(ScenarioRejected):
        driver.run(scenario(server, "images.generate", {}))
    assert "refused to look up your-resource-name.openai.azure.com" in "".join(driver._stderr)


def test_an_unknown_operation_is_rejected_not_a_crash(driver, server):
    with pytest.raises(ScenarioRejected, match="unknown operation"):
        driver.run(scenario(server, "images.generate", {}))
    assert driver.alive


def test_the_builder_reuses_its_cache(driver):
    again = build(driver.sdk)
    assert again.cached
    assert again.seconds < 5


CHUNKS = [{"id": "chatcmpl-chunks", "object": "chat.completion.chunk", "created": 1,
           "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": word},
                                           "finish_reason": None}]}
          for word in ("The ", "capital ", "is Paris.")]
STREAM_PARAMS = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Capital?"}]}


def test_an_error_event_mid_stream_is_a_stream_error_after_the_events_before_it(driver, server):
    error_event = ('event: error\ndata: {"error":{"code":"server_error",'
                   '"message":"the model failed mid-stream"}}\n\n')
    outcome, _ = play(driver, server,
                      Script([actions.event_stream([CHUNKS[0], error_event])]),
                      scenario(server, "chat.completions.stream", STREAM_PARAMS, max_retries=0))
    assert [e["choices"][0]["delta"]["content"] for e in outcome.events] == ["The "]
    error = outcome.error
    assert error.kind == "stream"
    assert "the model failed mid-stream" in error.message
    assert error.class_name == {"javascript": "APIError", "go": "*ssestream.StreamError",
                              "java": "SseException"}[driver.sdk]


def test_a_reset_mid_stream_keeps_the_events_already_yielded(driver, server):
    outcome, _ = play(driver, server,
                      Script([actions.event_stream(CHUNKS, reset_after=2)]),
                      scenario(server, "chat.completions.stream", STREAM_PARAMS, max_retries=0))
    assert len(outcome.events) == 2
    # JavaScript lets undici's TypeError("terminated") through unwrapped; Go and Java report
    # their connection/IO error.
    assert outcome.error.kind == {"javascript": "stream"}.get(driver.sdk, "connection")


USER_SECRETS = {"AZURE_OPENAI_API_KEY": "users-real-azure-key-0123456789",
                "OPENAI_API_KEY": "sk-users-real-openai-key-0123456789",
                "AZURE_CLIENT_SECRET": "users-client-secret-0123456789",
                "NPM_TOKEN": "users-npm-token-0123456789"}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc/PID/environ")
@pytest.mark.parametrize("sdk", SDKS)
def test_a_driver_process_inherits_none_of_the_users_secrets(sdk, monkeypatch):
    """The SDK under test only ever sees the made-up key of its scenario."""
    for name, value in USER_SECRETS.items():
        monkeypatch.setenv(name, value)
    try:
        built = build(sdk)
    except DriverUnavailable as exc:
        pytest.skip(f"{exc.reason}: {exc.hint}")
    with built.process(startup_timeout=120) as process:
        assert process._process is not None
        environ = Path(f"/proc/{process._process.pid}/environ").read_bytes()
    names = {entry.partition(b"=")[0].decode() for entry in environ.split(b"\0") if entry}
    assert "PATH" in names
    assert not names & set(USER_SECRETS)
    for value in USER_SECRETS.values():
        assert value.encode() not in environ
