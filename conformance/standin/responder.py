"""The stand-in's responder: a wire-server :class:`~conformance.wire.Responder` that answers
like an Azure OpenAI v1 resource for any deployment name.

For each request: route (chat, Responses, embeddings, GET models; anything else is Azure's
404), authenticate (:mod:`.auth`), read the JSON body, pick the scenario the request asks for
(:mod:`.scenarios`), answer from the packaged recordings (:mod:`.library`), and stamp Azure's
headers on the answer (fresh ``apim-request-id`` and ``x-request-id``, ``x-ms-region``,
``x-ms-deployment-name``, rate-limit headers). Each request lands in a bounded, scrubbed
request log a test reads to assert on what its application sent.

Counting attempts for "then success" scenarios: the attempt number of a request is its
``x-stainless-retry-count`` header when it sends one (every OpenAI SDK does: 0 on the first
try, n on the n-th retry), so a retry is recognised however many clients share the stand-in,
and a new call starts over at 0. A client without that header is counted per (scenario,
route, body digest): identical requests are attempts of one logical request, and the count
starts over once the success was served.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from ..secrets import Scrubber
from ..wire import Action, RecordedRequest, Reply, refusal
from ..wire.http import header_names
from .auth import authenticate
from .library import Library, Route
from .scenarios import SCENARIOS, Scenario

API = "/openai/v1/"
SCENARIO_HEADER = "x-aoai-standin-scenario"
SCENARIO_QUERY = "standin-scenario"
SCENARIO_PREFIX = "scenario-"
SCENARIO_SEPARATOR = "--"
REGION = "Stand-in Local"  # what x-ms-region says (no Azure region served this)
LOG_LIMIT = 1000  # requests kept in the log (oldest dropped)
LOGGED_BODY_LIMIT = 64 * 1024  # characters of a body the log keeps
COUNTERS_LIMIT = 4096  # logical requests whose attempts are counted at once
JSON = "application/json"
# Headers of a recorded answer that described that exchange, not this one.
_PER_EXCHANGE = frozenset({"apim-request-id", "x-request-id", "x-ms-client-request-id",
                           "x-ms-deployment-name", "x-ms-region", "content-length",
                           "transfer-encoding", "date", "set-cookie"})
_PLACEHOLDER = re.compile(r"-XXX$")  # values an upstream project masked in its recording
_HEADER_SAFE = re.compile(r"[A-Za-z0-9._:/@+=-]{1,200}")
RESOURCE_NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}
DEPLOYMENT_NOT_FOUND = {"error": {"code": "DeploymentNotFound", "message": (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again.")}}


@dataclass(frozen=True)
class LoggedRequest:
    """What the application sent, scrubbed: no key, token or cookie in any field."""

    index: int
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any  # the JSON body, or its text when not JSON, or None
    deployment: str | None  # the model field as sent
    scenario: str | None
    attempt: int | None  # for "then success" scenarios
    status: int  # what the stand-in answered (0: a connection reset)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _error(status: int, body: dict[str, Any], *headers: tuple[str, str]) -> Reply:
    return Reply(status, [("content-type", JSON), *headers], json.dumps(body).encode())


def _usage_error(message: str) -> Reply:
    """A mistake in how the test asked the stand-in: a 400 no SDK retries."""
    return refusal(400, "StandinUsage", message, type="invalid_request_error", param=None)


@dataclass
class Standin:
    """The responder. ``key`` is the resource key it accepts; ``clock`` gives the time tokens
    are judged at (``time.time`` unless a test passes another)."""

    library: Library
    key: str = field(repr=False)
    clock: Callable[[], float] = time.time
    log: deque[LoggedRequest] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))
    _counters: OrderedDict[str, int] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    scrubber: Scrubber = field(default_factory=Scrubber)

    def __post_init__(self) -> None:
        self.scrubber.add(self.key, "standin-key")

    def __repr__(self) -> str:
        return f"Standin(<{len(self.log)} logged request(s)>)"

    # -- the request log -------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self.log)

    def clear(self) -> None:
        with self._lock:
            self.log.clear()
            self._counters.clear()

    def _record(self, request: RecordedRequest, status: int, deployment: str | None = None,
                scenario: str | None = None, attempt: int | None = None) -> None:
        scrub = self.scrubber
        try:
            text: str | None = request.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        body: Any
        if not request.body:
            body = None
        elif text is None:
            body = f"<{len(request.body)} bytes, not UTF-8>"
        else:
            try:
                body = scrub.obj(json.loads(text)) if len(text) <= LOGGED_BODY_LIMIT else None
            except (ValueError, RecursionError):
                body = None
            if body is None:
                body = scrub.text(text[:LOGGED_BODY_LIMIT])
        headers = scrub.headers({k.lower(): v for k, v in request.headers})
        entry = LoggedRequest(
            request.index, request.method, scrub.text(request.path[:2048]),
            scrub.text(request.query[:2048]), {k: str(v) for k, v in headers.items()}, body,
            scrub.text(deployment) if deployment is not None else None, scenario, attempt,
            status)
        with self._lock:
            self.log.append(entry)

    # -- answering -------------------------------------------------------------------------

    def respond(self, request: RecordedRequest) -> Action:
        state: dict[str, Any] = {}
        action = self._answer(request, state)
        status = action.status if isinstance(action, Reply) else 0
        self._record(request, status, state.get("deployment"), state.get("scenario"),
                     state.get("attempt"))
        return action

    def _answer(self, request: RecordedRequest, state: dict[str, Any]) -> Action:
        route = self._route(request)
        denied = authenticate(request.header, self.key, self.clock())
        if denied is not None:
            return self._stamp(_error(401, denied.body), None, None)
        if route is None:
            return self._stamp(_error(404, RESOURCE_NOT_FOUND), None, None)
        try:
            query = parse_qs(request.query, max_num_fields=50)
        except ValueError:
            return _usage_error("the query has more than 50 fields")
        if route in ("models", "model"):
            return self._stamp(self._models(request, route), None, None)
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            return self._stamp(_error(400, {"error": {
                "message": "We could not parse the JSON body of your request. The body must be "
                "a JSON object.", "type": "invalid_request_error", "param": None,
                "code": None}}), None, None)
        deployment = body.get("model")
        if not isinstance(deployment, str) or not deployment:
            return self._stamp(_error(400, {"error": {
                "message": "Missing required parameter: 'model'.", "type":
                "invalid_request_error", "param": "model",
                "code": "missing_required_parameter"}}), None, None)
        state["deployment"] = deployment
        if body.get("stream") is True:
            route = f"{route}-stream"
        named, how = self._scenario_name(request, query, deployment)
        if named is None:
            _, reply = self.library.answer(route, request.method, request.target, body)
            return self._stamp(reply, deployment, None)
        scenario = SCENARIOS.get(named)
        state["scenario"] = named
        if scenario is None:
            hint = f"no scenario {named[:60]!r}; `aoai-conformance standin --list` names them"
            if how == "deployment":
                body_404 = json.loads(json.dumps(DEPLOYMENT_NOT_FOUND))
                body_404["error"]["message"] += f" (stand-in: {hint})"
                return self._stamp(_error(404, body_404), deployment, None)
            return _usage_error(f"{how}: {hint}")
        if route not in scenario.routes:
            return _usage_error(f"scenario {named} answers {scenario.describe_routes()}; this "
                                f"request is {route}")
        if scenario.attempts is not None:
            attempt = self._attempt(request, scenario, route)
            state["attempt"] = attempt
            if attempt >= scenario.attempts:
                self._settle(request, scenario, route)
                _, reply = self.library.answer(route, request.method, request.target, body)
                return self._stamp(reply, deployment, None)
        action = scenario.action(self.library, route)
        return self._stamp(action, deployment, scenario) if isinstance(action, Reply) else action

    def _route(self, request: RecordedRequest) -> str | None:
        path = request.path
        if not path.startswith(API):
            return None
        rest = path[len(API):]
        if request.method == "POST" and rest in ("chat/completions", "responses", "embeddings"):
            return {"chat/completions": "chat"}.get(rest, rest)
        if request.method == "GET" and rest == "models":
            return "models"
        if request.method == "GET" and rest.startswith("models/") and rest.count("/") == 1 and (
                len(rest) > len("models/")):
            return "model"
        return None

    def _scenario_name(self, request: RecordedRequest, query: dict[str, list[str]],
                       deployment: str) -> tuple[str | None, str]:
        header = request.header(SCENARIO_HEADER)
        if header:
            return header.strip(), f"header {SCENARIO_HEADER}"
        if query.get(SCENARIO_QUERY):
            return query[SCENARIO_QUERY][0], f"query {SCENARIO_QUERY}"
        if deployment.startswith(SCENARIO_PREFIX) and SCENARIO_SEPARATOR in deployment:
            name = deployment[len(SCENARIO_PREFIX):].split(SCENARIO_SEPARATOR, 1)[0]
            return name, "deployment"
        return None, ""

    def _counter_key(self, request: RecordedRequest, scenario: Scenario, route: Route) -> str:
        digest = hashlib.sha256(request.body).hexdigest()
        return f"{scenario.name}:{route}:{digest}"

    def _attempt(self, request: RecordedRequest, scenario: Scenario, route: Route) -> int:
        retries = request.header("x-stainless-retry-count")
        if retries is not None and retries.strip().isdigit() and len(retries.strip()) < 6:
            return int(retries)
        key = self._counter_key(request, scenario, route)
        with self._lock:
            attempt = self._counters.pop(key, 0)
            self._counters[key] = attempt + 1
            while len(self._counters) > COUNTERS_LIMIT:
                self._counters.popitem(last=False)
        return attempt

    def _settle(self, request: RecordedRequest, scenario: Scenario, route: Route) -> None:
        """The success was served: the next identical request is a new logical request."""
        with self._lock:
            self._counters.pop(self._counter_key(request, scenario, route), None)

    def _models(self, request: RecordedRequest, route: str) -> Reply:
        def model(name: str) -> dict[str, Any]:
            return {"id": name, "object": "model", "created": 1700000000, "owned_by": "system"}

        if route == "model":
            return _error(200, model(request.path.rsplit("/", 1)[1][:200]))
        names = sorted({
            str(body["model"]) for cassette in self.library.cassettes.values()
            for i in cassette.interactions if i.status == 200
            for body in [_json_or_none(i.request.body)]
            if isinstance(body, dict) and isinstance(body.get("model"), str)})
        return _error(200, {"object": "list", "data": [model(n) for n in names]})

    def _stamp(self, reply: Reply, deployment: str | None, scenario: Scenario | None) -> Reply:
        """Azure's per-request headers on an answer."""
        request_id = str(uuid.uuid4())
        ids = scenario.request_ids if scenario is not None else ("apim-request-id",
                                                                 "x-request-id")
        headers = [(k, v) for k, v in reply.headers
                   if k.lower() not in _PER_EXCHANGE and not _PLACEHOLDER.search(v)]
        headers += [(name, request_id) for name in ids]
        headers.append(("x-ms-region", REGION))
        if deployment is not None and _HEADER_SAFE.fullmatch(deployment):
            headers.append(("x-ms-deployment-name", deployment))
        names = set(header_names(headers))
        if reply.status == 200:
            for name, value in (("x-ratelimit-remaining-requests", "119"),
                                ("x-ratelimit-remaining-tokens", "119000")):
                if name not in names:
                    headers.append((name, value))
        return Reply(reply.status, headers, reply.body, reply.chunks, reply.reset_after_chunks,
                     reply.reason, reply.cut_after)


def _json_or_none(body: Any) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, TypeError):
        return None
