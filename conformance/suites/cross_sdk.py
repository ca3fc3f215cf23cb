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
    DOC_SCOPE,
    DOC_TOKEN_CLAIM,
    Outcome,
    Policies,
    doc_vs_sdk,
    wire_hint_window,
)
from conformance.registry import ALL_SDKS, Observations, check, expect, fail
from conformance.wire import RecordedRequest, Script
from conformance.wire import script as actions

from ._requests import CHAT_MESSAGES, DEPLOYMENT, RESPONSES_DEPLOYMENT
from ._scenario import (
    KEY,
    arrival_gaps,
    key_auth,
    no_error,
    read_value,
    recorded,
    scenario,
    sse_data,
    token_auth,
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


def _retry_counts(requests: list[RecordedRequest]) -> list[str | None]:
    return [r.header("x-stainless-retry-count") for r in requests]


def release_policy(driver: Driver) -> Policies:
    """The retry and error policy of the release the driver loaded (its hello's version, not
    the pin), from the SDK's profile."""
    return sdks.get(driver.sdk).policies(driver.version)


def _source(driver: Driver) -> str:
    return sdks.get(driver.sdk).policy_source


# -- auth --------------------------------------------------------------------------------------


@check(
    "auth.sdks-api-key",
    doc=DOC_AUTH,
    claim="Each SDK sends the API key its client option was given, on /openai/v1/, the way "
    "that option sends it (Authorization: Bearer), and returns the completion.",
    cassette="chat/completion.yaml",
    refs=("wire §2 (auth headers)", "docs/driver-protocol.md (auth)"),
    sdks=ALL_SDKS,
)
def sdks_api_key(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = driver.run(scenario(wire, "chat.completions.create", recorded(wire, CHAT_SAMPLE),
                                  auth=key_auth()))
    no_error(outcome, driver.sdk)
    [request] = wire.requests
    observe("path", request.path)
    observe("host", request.header("host"))  # the doc's Azure host for the process drivers
    bearer = request.header("authorization") == f"Bearer {KEY}"
    api_key = request.header("api-key") == KEY
    sent_as = observe("key_sent_in", "authorization" if bearer
                      else "api-key" if api_key else None)
    expect(request.path == "/openai/v1/chat/completions",
           f"{driver.sdk} sent {request.path}, not /openai/v1/chat/completions")
    expect(sent_as is not None, f"{driver.sdk} sent the key in neither Authorization: Bearer "
           "nor api-key")
    expect(outcome["token_calls"] == [], "key auth asked a credential for a token")


@check(
    "auth.sdks-token-provider",
    doc="Python / Authentication (get_bearer_token_provider); JavaScript / Authentication "
    "(getBearerTokenProvider); Go / Authentication (azure.WithTokenCredential); Java / "
    "Authentication (BearerTokenCredential)",
    claim="Each SDK's Entra path asks the credential for the doc's scope "
    "(https://cognitiveservices.azure.com/.default) and sends a token it issued as "
    "Authorization: Bearer on every attempt; whether a retry gets a fresh token follows the "
    "SDK's own policy (a departure from the doc is recorded in doc_vs_sdk).",
    cassette="auth/entra-token-per-attempt.yaml",
    refs=("sdk-behavior §1 (token provider called)", "sdk-behavior §2.7, §3, §4, §5"),
    sdks=ALL_SDKS,
)
def sdks_token_provider(wire: Wire, driver: Driver, observe: Observations) -> None:
    # Tokens that expire in 60 s, as the Python check's fake issues them: inside every caching
    # provider's refresh window, so a provider asked per attempt fetches a fresh one.
    tokens = ("entra-token-1", "entra-token-2", "entra-token-3")
    outcome = driver.run(scenario(wire, "chat.completions.create", recorded(wire, CHAT_SAMPLE),
                                  auth=token_auth(*tokens, expires_in_s=60)))
    no_error(outcome, driver.sdk)
    calls = outcome["token_calls"]
    observe("token_calls", len(calls))
    scopes = observe("scopes", sorted({s for c in calls for s in c["scopes"]}))
    sent = [r.header("authorization") for r in wire.requests]
    labels = observe("token_per_attempt", [
        f"token#{tokens.index(v[7:]) + 1}" if v and v.startswith("Bearer ")
        and v[7:] in tokens else "other" for v in sent])
    expect(calls, f"{driver.sdk} never asked the credential for a token")
    expect(scopes == [DOC_SCOPE], f"{driver.sdk} asked for scopes {scopes}, the doc's scope is "
           f"{DOC_SCOPE}")
    expect("other" not in labels, f"{driver.sdk} sent an Authorization the credential did not "
           f"issue: {labels}")
    fresh = len(set(labels)) == len(labels)
    # How often the SDK calls the provider it was given (the JavaScript apiKey function, the
    # Java supplier...), counted apart from how often the credential issued a token: a
    # provider that caches hands back a still-valid token (token reuse is not a provider
    # skipped). A driver that reports no provider_calls has the credential as its provider.
    policy = release_policy(driver).actual
    called = policy.token_provider_called
    provider_calls = observe("provider_calls", outcome.get("provider_calls", len(calls)))
    observe("token_reused", not fresh)
    expected = (len(labels) if called == "attempt" else 1) * policy.token_provider_calls
    expect(provider_calls == expected,
           f"{driver.sdk} called its token provider {provider_calls} time(s) for one request "
           f"of {len(labels)} attempt(s); its release calls it once per {called} "
           f"({_source(driver)})")
    if len(labels) > 1 and not fresh:
        observe("doc_vs_sdk", [doc_vs_sdk(driver.sdk, "token per attempt", DOC_TOKEN_CLAIM,
                                          f"a still-valid token is reused for the retry "
                                          f"({labels})", _source(driver))])


# -- chat and streaming ---------------------------------------------------------------------------


@check(
    "chat.sdks-completion",
    doc="Python / Chat / chat.completions.create(); JavaScript / Chat; Go and Java / the "
    "chat samples",
    claim="Every SDK returns the recorded completion: the same id, content and usage.",
    cassette="chat/completion.yaml",
    sdks=ALL_SDKS,
)
def sdks_chat_completion(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = driver.run(scenario(wire, "chat.completions.create", recorded(wire, CHAT_SAMPLE)))
    no_error(outcome, driver.sdk)
    sent = wire.response_json(0)
    result = outcome["result"] or {}
    # The content the samples print, through the SDK's typed accessor (Go
    # Choices[0].Message.Content, Java choices().get(0).message().content()): not the raw JSON.
    content = observe("content", read_value(outcome, "content"))
    observe("usage", result.get("usage"))
    expect(result.get("id") == sent["id"], f"{driver.sdk} returned id {result.get('id')!r}, the "
           f"server sent {sent['id']!r}")
    expect(content == sent["choices"][0]["message"]["content"],
           f"{driver.sdk} returned other content than the server sent: {content!r}")
    expect((result.get("usage") or {}).get("total_tokens") == sent["usage"]["total_tokens"],
           f"{driver.sdk} lost the usage the server sent")


@check(
    "streaming.sdks-chat-stream",
    doc="Python / Chat / chat.completions.create() - streaming; JavaScript / Streaming",
    claim="Each SDK's idiomatic streaming loop yields every chunk the server sent, in order, "
    "with the same deltas (the text reassembles exactly).",
    cassette="request-ids/chat-stream.yaml",
    sdks=ALL_SDKS,
)
def sdks_chat_stream(wire: Wire, driver: Driver, observe: Observations) -> None:
    sample = {**CHAT_SAMPLE, "stream": True, "stream_options": {"include_usage": True}}
    outcome = driver.run(scenario(wire, "chat.completions.stream", recorded(wire, sample)))
    no_error(outcome, driver.sdk)
    sent = sse_data(wire.reply(0).streamed)
    events = outcome["events"]
    observe("chunks", {"sent": len(sent), "yielded": len(events)})

    def text(chunks: list[Any]) -> str:
        return "".join((c.get("choices") or [{}])[0].get("delta", {}).get("content") or ""
                       for c in chunks if c.get("choices"))

    # The text the sample prints: each chunk's typed delta content, concatenated.
    printed = observe("text", read_value(outcome, "text"))
    expect(len(events) == len(sent), f"{driver.sdk}'s loop yielded {len(events)} chunk(s), the "
           f"server sent {len(sent)}")
    expect([e.get("id") for e in events] == [c.get("id") for c in sent],
           f"{driver.sdk} yielded the chunks out of order or changed their ids")
    expect(text(events) == text(sent), f"{driver.sdk}'s deltas do not reassemble the text sent")
    expect(printed == text(sent), f"the text {driver.sdk}'s streaming loop prints is "
           f"{printed!r}, the server streamed {text(sent)!r}")


@check(
    "streaming.sdks-responses-stream",
    doc="Python / Responses API; JavaScript / Streaming (responses.create with stream: true)",
    claim="Each SDK's streaming loop over Responses yields every typed event the server sent, "
    "in order, from response.created to response.completed.",
    cassette="streaming/responses-events.yaml",
    sdks=ALL_SDKS,
)
def sdks_responses_stream(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = driver.run(scenario(wire, "responses.stream",
                                  recorded(wire, {**RESPONSES_SAMPLE, "stream": True})))
    no_error(outcome, driver.sdk)
    streamed = sse_data(wire.reply(0).streamed)
    sent = [e.get("type") for e in streamed]
    yielded = observe("event_types", [e.get("type") for e in outcome["events"]])
    expect(yielded == sent, f"{driver.sdk} yielded {yielded}, the server sent {sent}")
    # The JavaScript sample's loop: if (event.type === 'response.output_text.delta' &&
    # event.delta) process.stdout.write(event.delta). The text printed is what user code sees.
    deltas = "".join(e.get("delta") or "" for e in streamed
                     if e.get("type") == "response.output_text.delta")
    printed = observe("text", read_value(outcome, "text"))
    expect(printed == deltas, f"the text {driver.sdk}'s streaming loop prints is {printed!r}, "
           f"the server streamed {deltas!r}")


# -- errors and request ids ----------------------------------------------------------------------

STATUSES = (400, 401, 403, 404, 408, 409, 422, 429, 500, 503, 504)


@check(
    "errors.sdks-status-classes",
    doc="Python / Error handling (error codes); JavaScript / Error handling (error codes)",
    claim="Each error status raises the SDK's class for it (its own table; where it differs "
    "from the doc's table, doc_vs_sdk), carrying the status, the envelope's code as a string "
    "and the request id.",
    cassette=None,
    refs=("sdk-behavior §2.5, §3, §4, §5 (exception tables)",),
    sdks=ALL_SDKS,
)
def sdks_status_classes(wire: Wire, driver: Driver, observe: Observations) -> None:
    policy = release_policy(driver)
    documented = policy.documented
    seen: dict[str, Any] = {}
    problems: list[str] = []
    departures = []
    for status in STATUSES:
        wire.use(Script([_error(status, hint_ms=None)]))
        outcome = driver.run(_chat(wire, max_retries=0))
        error = outcome["error"] or {}
        seen[str(status)] = {k: error.get(k) for k in
                             ("class", "status", "code", "code_type", "request_id")}
        expected = policy.actual.status_outcome(status).name
        if error.get("class") != expected:
            problems.append(f"{status}: {error.get('class')!r}, expected {expected!r}")
        if error.get("status") != status:
            problems.append(f"{status}: the error carries status {error.get('status')!r}")
        if (error.get("code"), error.get("code_type")) != (f"code-{status}", "string"):
            problems.append(f"{status}: code {error.get('code')!r} "
                            f"({error.get('code_type')}), the envelope's is 'code-{status}'")
        if error.get("request_id") != f"req-{status}":
            problems.append(f"{status}: request id {error.get('request_id')!r}")
        if documented is not None:  # the doc's table, where this SDK's section has one
            wanted = documented.status_outcome(status)
            doc_class = Outcome(wanted.name.replace(" ", ""), wanted.exact)
            if not doc_class.matches([str(error.get("class")), *(error.get("bases") or [])]):
                departures.append(doc_vs_sdk(driver.sdk, f"class for {status}", str(doc_class),
                                             error.get("class"), _source(driver)))
    observe("errors", seen)
    if departures:
        observe("doc_vs_sdk", departures)
    if problems:
        fail(f"{driver.sdk} errors differ from its own policy ({_source(driver)}):\n"
             + "\n".join(problems))


@check(
    "request-ids.sdks-accessor",
    doc="Python / Request IDs (_request_id is the x-request-id response header)",
    claim="Each SDK's public request-id accessor returns the x-request-id response header "
    "(not Azure's apim-request-id).",
    cassette="request-ids/chat-completion.yaml",
    refs=("docs/driver-protocol.md (request_id)",),
    sdks=ALL_SDKS,
)
def sdks_request_id(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = driver.run(scenario(wire, "chat.completions.create", recorded(wire, CHAT_SAMPLE)))
    no_error(outcome, driver.sdk)
    header = observe("x_request_id", wire.reply(0).header("x-request-id"))
    observe("apim_request_id", wire.reply(0).header("apim-request-id"))
    got = observe("sdk_request_id", read_value(outcome, "request_id"))
    # JavaScript has two accessors, each judged: data._request_id and withResponse().request_id.
    other = observe("sdk_response_request_id", (outcome.get("read") or {})
                    .get("response_request_id"))
    if header is None:  # the cassette, not the SDK: an error of the check
        raise LookupError("the cassette's reply has no x-request-id to compare the SDK's "
                          "accessor with")
    expect(got == header, f"{driver.sdk}'s request-id accessor gave {got!r}, the header is "
           f"{header!r}")
    expect(other == header or (other is None and driver.sdk != "javascript"),
           f"{driver.sdk}'s withResponse().request_id gave {other!r}, the header is {header!r}")


# -- retries ---------------------------------------------------------------------------------------


@check(
    "retries.sdks-default-attempts",
    doc=DOC_RETRY,
    claim="A retryable error (503) is retried twice by default: three attempts, numbered by "
    "the retry-count header, then the SDK's 5xx error.",
    cassette=None,
    refs=("sdk-behavior §1 (default max retries)",),
    sdks=ALL_SDKS,
)
def sdks_default_attempts(wire: Wire, driver: Driver, observe: Observations) -> None:
    wire.use(Script([_error(503)]))  # repeated for every attempt
    outcome = driver.run(_chat(wire))
    default = release_policy(driver).actual.default_max_retries
    attempts = observe("attempts", len(wire.requests))
    observe("retry_count_header", _retry_counts(wire.requests))
    error = outcome["error"] or {}
    observe("error_class", error.get("class"))
    expect(attempts == default + 1,
           f"{driver.sdk} made {attempts} attempt(s); by default it retries "
           f"{default} times ({_source(driver)})")
    expect(error.get("status") == 503, f"{driver.sdk} ended with {error or 'no error'}, not "
           "the 503")


RETRY_PROBES = (408, 409, 429, 500, 501, 502, 503, 504, 400, 404, 422)


@check(
    "retries.sdks-retryable-statuses",
    doc=DOC_RETRY,
    claim="408, 429 and every status >= 500 are retried, other 4xx are not (409 is retried by "
    "every SDK here, which the doc does not list: doc_vs_sdk).",
    cassette=None,
    refs=("sdk-behavior §1 (retried statuses)",),
    sdks=ALL_SDKS,
)
def sdks_retryable_statuses(wire: Wire, driver: Driver, observe: Observations) -> None:
    policy = release_policy(driver)
    documented = policy.documented
    retried: dict[str, bool] = {}
    problems, departures = [], []
    for status in RETRY_PROBES:
        wire.use(Script([_error(status), _ok()]))
        driver.run(_chat(wire, max_retries=1))
        did = retried[str(status)] = len(wire.requests) > 1
        if did != policy.actual.retries_status(status):
            problems.append(f"{status} {'was' if did else 'was not'} retried")
        if documented is not None and did != documented.retries_status(status):
            departures.append(doc_vs_sdk(driver.sdk, f"retry {status}",
                                         "retried" if not did else "not listed",
                                         "retried" if did else "not retried", _source(driver)))
    observe("retried", retried)
    if departures:
        observe("doc_vs_sdk", departures)
    if problems:
        fail(f"{driver.sdk}: " + "; ".join(problems) + f" ({_source(driver)})")


@check(
    "retries.sdks-max-retries-client",
    doc=DOC_RETRY,
    claim="max retries set on the client bounds the attempts (1 -> two attempts; 0 -> one).",
    cassette=None,
    sdks=ALL_SDKS,
)
def sdks_max_retries_client(wire: Wire, driver: Driver, observe: Observations) -> None:
    seen = {}
    for max_retries in (1, 0):
        wire.use(Script([_error(503)]))
        driver.run(_chat(wire, max_retries=max_retries))
        seen[str(max_retries)] = len(wire.requests)
    observe("attempts_by_max_retries", seen)
    expect(seen == {"1": 2, "0": 1}, f"{driver.sdk}: attempts by client max retries {seen}, "
           "expected {'1': 2, '0': 1}")


@check(
    "retries.sdks-max-retries-request",
    doc="Python / Retries (client.with_options(max_retries=5)); JavaScript / Retries "
    "(per-request maxRetries)",
    claim="max retries set for one request overrides the client's (client 0, request 2 -> "
    "three attempts); an SDK without a per-request option is unsupported.",
    cassette=None,
    sdks=ALL_SDKS,
)
def sdks_max_retries_request(wire: Wire, driver: Driver, observe: Observations) -> None:
    wire.use(Script([_error(503)]))
    driver.run(_chat(wire, max_retries=0, request_max_retries=2))
    attempts = observe("attempts", len(wire.requests))
    expect(attempts == 3, f"{driver.sdk} made {attempts} attempt(s) with client max retries 0 "
           "and request max retries 2")


def _hinted(wire: Wire, driver: Driver, observe: Observations, header: tuple[str, str],
            seconds: float) -> None:
    wire.use(Script([actions.reply(429, _envelope(429), headers=[header]), _ok()]))
    outcome = driver.run(_chat(wire, max_retries=1))
    no_error(outcome, driver.sdk)
    expect(len(wire.requests) == 2, f"{driver.sdk} did not retry the 429")
    if "virtual_delays_s" in outcome:  # python: the delay it computed (the virtual clock)
        delay = observe("delay_s", outcome["virtual_delays_s"][0])
        observe("timed_by", "virtual clock")
    else:
        delay = observe("delay_s", arrival_gaps(wire)[0])
        observe("timed_by", "wire arrival times")
    observe("hint_s", seconds)
    # A hint within every SDK's window is waited for: at least the hint, at most the hint plus
    # scheduling slack (no SDK adds backoff to a hint; a first backoff is 0.375-0.5 s).
    expect(wire_hint_window(seconds).contains(delay),
           f"{driver.sdk} waited {delay} s after {header[0]}: {header[1]}, not about {seconds} s")


@check(
    "retries.sdks-retry-after-ms",
    doc=DOC_RETRY,
    claim="A 429 with retry-after-ms: 50 is retried after 50 ms, not after a backoff (timed at "
    "the wire for the SDKs that sleep, by the virtual clock for Python).",
    cassette=None,
    refs=("sdk-behavior §1 (Retry-After honoured)",),
    sdks=ALL_SDKS,
)
def sdks_retry_after_ms(wire: Wire, driver: Driver, observe: Observations) -> None:
    _hinted(wire, driver, observe, ("retry-after-ms", "50"), 0.05)


@check(
    "retries.sdks-retry-after-seconds",
    doc=DOC_RETRY,
    claim="A 429 with retry-after: 1 (seconds) is retried after one second.",
    cassette=None,
    refs=("sdk-behavior §1 (Retry-After honoured)",),
    sdks=ALL_SDKS,
)
def sdks_retry_after_seconds(wire: Wire, driver: Driver, observe: Observations) -> None:
    _hinted(wire, driver, observe, ("retry-after", "1"), 1.0)
