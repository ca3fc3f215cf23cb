"""The quirks a test can ask the stand-in for, each from a recording or a section of the wire
contract (cited as "wire §N", like the checks do).

A test selects one per request, without code: a deployment name ``scenario-NAME--DEPLOYMENT``,
the header ``x-aoai-standin-scenario: NAME`` (``default_headers``/``extra_headers`` in the
SDKs), or the query ``?standin-scenario=NAME`` (``default_query``/``extra_query``).

A scenario either replaces the answer (``attempts=None``: every attempt gets it) or is a fault
"then success" (``attempts=N``: the first N attempts of a logical request get the fault, the
next one the ordinary answer). How attempts are counted: see :mod:`.responder`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..wire import Action, Reply
from .auth import INVALID_TOKEN
from .library import ROUTES, Library, Route

JSON = "application/json"
# Short enough that an SDK honouring it costs a test a blink, not the recorded 2 s.
SHORT_HINT_MS = 100
# A completion the output filter blocked, as Azure answered it (no "message" at all): the
# body of tests/corpus/real/azure/openllmetry/chat-content-filtered.yaml (traceloop/openllmetry
# 93429cf, Apache-2.0; recorded on Azure, not packaged with the cassettes).
BLOCKED_COMPLETION = {
    "choices": [{"content_filter_results": {
        "hate": {"filtered": True, "severity": "high"},
        "self_harm": {"filtered": False, "severity": "safe"},
        "sexual": {"filtered": False, "severity": "safe"},
        "violence": {"filtered": False, "severity": "safe"}},
        "finish_reason": "content_filter", "index": 0, "logprobs": None}],
    "created": 1714038380, "id": "chatcmpl-9HpyGSWv1hoKdGaUaiFhfxzTEVlZo",
    "model": "gpt-35-turbo", "object": "chat.completion",
    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
        "hate": {"filtered": False, "severity": "safe"},
        "self_harm": {"filtered": False, "severity": "safe"},
        "sexual": {"filtered": False, "severity": "safe"},
        "violence": {"filtered": False, "severity": "safe"}}}],
    "system_fingerprint": None,
    "usage": {"completion_tokens": 19, "prompt_tokens": 15, "total_tokens": 34},
}
# wire §3.3: Azure's exhausted-quota 429 names a day-long wait in its message.
QUOTA_MESSAGE = (
    "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version v1 have "
    "exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after "
    "86400 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to "
    "further increase the default rate limit.")
# wire §4.3, examples/error-500-server-error.json (family A).
SERVER_ERROR = {"error": {"message": (
    "The server had an error while processing your request. Sorry about that! You can retry "
    "your request, or contact us through an Azure support request at: "
    "https://go.microsoft.com/fwlink/?linkid=2213926 if the error persists."),
    "type": "server_error", "param": None, "code": None}}
# wire §4.3: 502/503/504 bodies are not captured; the gateway's short family C shape.
UNAVAILABLE = {"error": {"code": "ServiceUnavailable", "message": (
    "The service is temporarily unable to process your request. Please try again later.")}}


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    source: str  # the recording or the wire-contract section it comes from
    action: Callable[[Library, Route], Action]
    routes: tuple[Route, ...] = ROUTES
    attempts: int | None = None  # None: every attempt; N: N faults, then the ordinary answer
    # Request-id headers the answer carries (Azure's gateway may send apim-request-id alone).
    request_ids: tuple[str, ...] = ("apim-request-id", "x-request-id")

    def describe_routes(self) -> str:
        return "any route" if self.routes == ROUTES else ", ".join(self.routes)


def _json(status: int, body: dict[str, Any], *headers: tuple[str, str]) -> Reply:
    return Reply(status, [("content-type", JSON), *headers], json.dumps(body).encode())


def _recorded(name: str, index: int = 0) -> Callable[[Library, Route], Action]:
    def action(library: Library, route: Route) -> Action:
        return library.reply(library.entry(name, index))
    return action


def _short_hint(name: str, index: int) -> Callable[[Library, Route], Action]:
    """The recorded 429 with its wait hints shortened (retry-after-ms is what SDKs read first)."""
    def action(library: Library, route: Route) -> Action:
        reply = library.reply(library.entry(name, index))
        hints = {"retry-after-ms": str(SHORT_HINT_MS), "retry-after": "1"}
        headers = [(k, hints.get(k.lower(), v)) for k, v in reply.headers]
        return Reply(reply.status, headers, reply.body, reason=reply.reason)
    return action


def _reset_mid_stream(library: Library, route: Route) -> Action:
    entry = library.entry(*{"chat-stream": ("streaming/chat-buffered.yaml", 0),
                            "responses-stream": ("streaming/responses-events.yaml", 0)}[route])
    reply = library.reply(entry)
    return Reply(reply.status, reply.headers, chunks=reply.chunks, reset_after_chunks=3,
                 reason=reply.reason)


def _quota(*hint: tuple[str, str]) -> Callable[[Library, Route], Action]:
    def action(library: Library, route: Route) -> Action:
        return _json(429, {"error": {"code": "429", "message": QUOTA_MESSAGE}}, *hint)
    return action


def _constant(status: int, body: dict[str, Any]) -> Callable[[Library, Route], Action]:
    def action(library: Library, route: Route) -> Action:
        return _json(status, body)
    return action


ENVELOPES = "errors/azure-envelope.yaml"
SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("async-filter", "a chat stream in Asynchronous Filter mode: a first chunk with "
             "empty choices and prompt_filter_results, then annotation chunks whose choice has "
             "no delta, one after finish_reason", "streaming/chat-async-filter.yaml (wire §8.3)",
             _recorded("streaming/chat-async-filter.yaml"), routes=("chat-stream",)),
    Scenario("async-filter-blocked", "an Asynchronous Filter stream the output filter stops "
             "late: an annotation chunk with finish_reason content_filter, text already sent",
             "streaming/chat-async-filter-blocked.yaml (wire §8.3)",
             _recorded("streaming/chat-async-filter-blocked.yaml"), routes=("chat-stream",)),
    Scenario("blocked-completion", "a completion the output filter blocked: 200, "
             "finish_reason content_filter, a choice with no message",
             "recorded on Azure: tests/corpus/real/azure/openllmetry/chat-content-filtered.yaml "
             "(wire §6.3)", _constant(200, BLOCKED_COMPLETION), routes=("chat",)),
    Scenario("content-filter", "the prompt tripped the content filter: 400, code "
             "content_filter, innererror ResponsibleAIPolicyViolation (family B)",
             "errors/content-filter.yaml (wire §4.4)", _recorded("errors/content-filter.yaml")),
    Scenario("throttled", f"429 with retry-after-ms: {SHORT_HINT_MS}, then success",
             f"{ENVELOPES} interaction 6, hints shortened (wire §3.2, §3.3)",
             _short_hint(ENVELOPES, 6), attempts=1),
    Scenario("quota-exhausted", "429 on every attempt, the message says to retry after 86400 "
             "seconds, no retry-after header (a Standard deployment); SDKs back off and give up",
             "wire §3.3 (issues alex-wolf-ps/dbchatprov2#2, jasonacox/TinyLLM#17)", _quota()),
    Scenario("quota-exhausted-hint", "the same with retry-after: 86400; openai-python and "
             "openai-go refuse to wait, openai-java clamps to 8 s, openai-node 6.x waits it in "
             "full: use maxRetries: 0 there", "wire §3.3",
             _quota(("retry-after", "86400"))),
    Scenario("server-error", "500 (family A server_error), then success",
             "wire §4.3, examples/error-500-server-error.json", _constant(500, SERVER_ERROR),
             attempts=1),
    Scenario("unavailable", "503, then success", "wire §4.3 (502/503/504)",
             _constant(503, UNAVAILABLE), attempts=1),
    Scenario("reset-mid-stream", "the stream's first 3 events, then a connection reset",
             "streaming/chat-buffered.yaml, streaming/responses-events.yaml (wire §8.1)",
             _reset_mid_stream, routes=("chat-stream", "responses-stream")),
    Scenario("responses-failed", "a Responses stream that ends with response.failed",
             "streaming/responses-failed.yaml (wire §12.4)",
             _recorded("streaming/responses-failed.yaml"), routes=("responses-stream",)),
    Scenario("responses-error-event", "a Responses stream with an error event",
             "streaming/responses-error-event.yaml (wire §12.4)",
             _recorded("streaming/responses-error-event.yaml"), routes=("responses-stream",)),
    Scenario("apim-only", "a chat answer with apim-request-id and no x-request-id (the SDKs' "
             "request id is then empty)", "request-ids/apim-only.yaml (wire §3.2)",
             _recorded("request-ids/apim-only.yaml"), routes=("chat",),
             request_ids=("apim-request-id",)),
    Scenario("error-400", "400 unsupported_parameter (family A)",
             "reasoning/max-tokens-rejected.yaml (wire §4.3)",
             _recorded("reasoning/max-tokens-rejected.yaml")),
    Scenario("error-401", "401 invalid key (family C, code \"401\")",
             f"{ENVELOPES} interaction 0 (wire §2.2)", _recorded(ENVELOPES, 0)),
    Scenario("error-401-permission", "401 PermissionDenied: a token without the data-plane "
             "role", f"{ENVELOPES} interaction 1 (wire §2.2)", _recorded(ENVELOPES, 1)),
    Scenario("error-403", "403 AuthenticationTypeDisabled: key auth disabled",
             f"{ENVELOPES} interaction 2 (wire §2.2)", _recorded(ENVELOPES, 2)),
    Scenario("error-404", "404 DeploymentNotFound", f"{ENVELOPES} interaction 3 (wire §4.3)",
             _recorded(ENVELOPES, 3)),
    Scenario("error-429", f"429 rate limit on every attempt, retry-after-ms: {SHORT_HINT_MS}",
             f"{ENVELOPES} interaction 6, hints shortened (wire §4.3)",
             _short_hint(ENVELOPES, 6)),
    Scenario("error-500", "500 on every attempt, the bare gateway envelope (family D)",
             "errors/bare-envelope.yaml interaction 1 (wire §4.2)",
             _recorded("errors/bare-envelope.yaml", 1)),
    Scenario("expired-token", "401 for an expired (or wrong-audience) Entra token: the bare "
             "family D body", "errors/bare-envelope.yaml interaction 0 (wire §2.2)",
             _constant(401, INVALID_TOKEN)),
]}


def listing() -> str:
    """``standin --list``: one block per scenario."""
    lines = []
    for s in SCENARIOS.values():
        then = "" if s.attempts is None else f" (first {s.attempts} attempt(s), then success)"
        lines += [f"{s.name}{then}", f"    {s.summary}", f"    routes: {s.describe_routes()}",
                  f"    from: {s.source}"]
    return "\n".join(lines)
