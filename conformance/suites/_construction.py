"""Client construction: build an openai-python client the way a user wrote it, send one
operation, and see where the request went.

The client is built with the user's own arguments and environment (the SDK reads its
variables itself); only the network layer differs: ``http_client=`` (public SDK API) carries a
transport that hands the request to :func:`conformance.routes.judge` and answers as Azure
would, so nothing leaves the process. Credential values are replaced by made-up ones before
the SDK sees them (their presence is kept, since it changes what the SDK does), and only the
credential header's name is kept.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import conformance.sdk
from conformance.drivers.construction import restore
from conformance.routes import Route, is_azure_host, judge
from conformance.sdk import TEST_API_KEY
from conformance.wire import Reply, refusal
from conformance.wire.http import JSON, NOT_RETRIED, header
from conformance.wire.inprocess import transport

from ._requests import CHAT_MESSAGES, EMBEDDING_INPUT, EMBEDDING_SMALL, RESPONSES_DEPLOYMENT

OPERATIONS = ("chat", "responses", "embeddings")
# Variables whose values are secrets: a set one is replaced by a made-up value.
SECRET_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN")
FAKE_TOKEN = "aoai-conformance-test-token"
# What the doc's client looks like in Python, for the fixes routes.py words per SDK.
PYTHON_CLIENT = 'OpenAI(base_url="https://RESOURCE.openai.azure.com/openai/v1/", api_key=...)'


@dataclass(frozen=True)
class Construction:
    """One way of building a client: which class, with which arguments, in which
    environment. ``None`` means the argument is not passed (the SDK may read a variable)."""

    client: str = "openai"  # "openai" (OpenAI) or "azure" (AzureOpenAI)
    base_url: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    auth: str = "key"  # "key" or "token" (a token provider / azure_ad_token_provider)
    default_query: Mapping[str, str] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """The construction as code, with no value of a credential or a resource name."""
        azure = self.client == "azure"
        args = [f"{name}={_redact(value)!r}" for name, value in (
            ("base_url", self.base_url), ("azure_endpoint", self.azure_endpoint),
            ("api_version", self.api_version), ("default_query", self.default_query),
        ) if value is not None]
        if self.auth == "token":
            args.append("azure_ad_token_provider=<provider>" if azure
                        else "api_key=<token provider>")
        elif not _has_key_variable(self, "AZURE_OPENAI_API_KEY" if azure
                                   else "OPENAI_API_KEY"):
            args.append("api_key=<key>")
        env = "".join(f"{k}=<set> " for k in sorted(self.environment))
        return f"{env}{'AzureOpenAI' if azure else 'OpenAI'}({', '.join(args)})"


def _redact(value: object) -> object:
    """A URL with its resource name (and any userinfo, query) replaced: hosts are secrets."""
    if not isinstance(value, str) or "://" not in value:
        return value
    parts = urlsplit(value)
    host = parts.hostname or ""
    kind = host_kind(host)
    shown = f"RESOURCE.{kind}" if kind not in ("other", "none") else (
        host if host in ("localhost", "127.0.0.1") else "HOST")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{shown}{port}{parts.path}"


@dataclass(frozen=True)
class Sent:
    """Where the request went: never a credential value, never the resource's name."""

    method: str
    path: str
    query: str
    credential_headers: tuple[str, ...]  # lower-case names: authorization, api-key
    host_kind: str  # the Azure host suffix, "other" or "none"
    route: Route

    def as_observation(self) -> dict[str, Any]:
        return {"request": f"{self.method} {self.path}" + (f"?{self.query}" if self.query
                                                            else ""),
                "credential_headers": list(self.credential_headers),
                "host": self.host_kind, "azure": self.route.api,
                "status": self.route.status}


@dataclass(frozen=True)
class ConstructionOutcome:
    """A construction's result for one operation: the request, or the client-side error
    raised before any request (``error``: the exception's class and message)."""

    operation: str
    sent: Sent | None
    error: str | None  # None with no request: the SDK release has no such API

    @property
    def absent(self) -> bool:
        return self.sent is None and self.error is None


def host_kind(host: str) -> str:
    if not host:
        return "none"
    if is_azure_host(host):
        return next(s.lstrip(".") for s in (".openai.azure.com", ".cognitiveservices.azure.com",
                                             ".services.ai.azure.com")
                    if host.lower().rstrip(".").endswith(s))
    return "other"


def run(construction: Construction, operation: str) -> ConstructionOutcome:
    """Build the client as written, call ``operation`` once, and return where it went."""
    seen: list[Sent] = []

    def dispatch(method: str, target: str, headers: Iterable[tuple[str, str]],
                 body: bytes) -> Reply:
        pairs = list(headers)
        host = header(pairs, "host") or ""
        credentials = tuple(sorted(_credential(k.lower(), v) for k, v in pairs
                                   if k.lower() in ("api-key", "authorization")))
        parts = urlsplit(target)
        route = judge(method, parts.path, parts.query,
                      {c for c in credentials if c in ("api-key", "authorization")})
        seen.append(Sent(method, parts.path, parts.query, credentials,
                         host_kind(host.split(":")[0]), route))
        return _answer(route, operation)

    with _environment(construction.environment):
        try:
            client = _client(construction, dispatch)
        except Exception as exc:  # the SDK refused the construction itself
            return ConstructionOutcome(operation, None, f"{type(exc).__name__}: {exc}")
        if not hasattr(client, _RESOURCES[operation]):  # probed: this release lacks the API
            client.close()
            return ConstructionOutcome(operation, None, None)
        try:
            _call(client, operation)
        except Exception as exc:
            if not seen:
                return ConstructionOutcome(operation, None, f"{type(exc).__name__}: {exc}")
        finally:
            client.close()
    return ConstructionOutcome(operation, seen[0], None)


def reads_base_url_variable() -> bool:
    """Probed: does this release's OpenAI() take its base URL from OPENAI_BASE_URL? (openai
    1.0.0 does not.)"""
    import openai

    probe = "https://probe.invalid/openai/v1/"
    with _environment({"OPENAI_BASE_URL": probe, "OPENAI_API_KEY": "set"}):
        client = openai.OpenAI()
        try:
            return str(client.base_url) == probe
        finally:
            client.close()


def _credential(name: str, value: str) -> str:
    """The credential header's name; ``authorization (unusable)`` when its value is not the
    made-up key or token the client was given (a provider formatted instead of called)."""
    if name == "authorization" and value not in (f"Bearer {TEST_API_KEY}",
                                                 f"Bearer {FAKE_TOKEN}"):
        return "authorization (unusable)"
    return name


_RESOURCES = {"chat": "chat", "responses": "responses", "embeddings": "embeddings"}


def _answer(route: Route, operation: str) -> Reply:
    headers = [("content-type", JSON), NOT_RETRIED]  # one attempt is enough to see the route
    if route.accepted:
        return Reply(200, headers, json.dumps(_SUCCESS[operation]).encode())
    if not route.body:
        return refusal(route.status, str(route.status), route.problem)
    return Reply(route.status, headers, json.dumps(route.body).encode())


_SUCCESS: dict[str, dict[str, Any]] = {
    "chat": {"id": "chatcmpl-doctor", "object": "chat.completion", "created": 0,
             "model": "gpt-4.1-nano", "choices": []},
    "responses": {"id": "resp_doctor", "object": "response", "created_at": 0,
                  "model": RESPONSES_DEPLOYMENT, "status": "completed", "output": []},
    "embeddings": {"object": "list", "model": EMBEDDING_SMALL, "data": [],
                   "usage": {"prompt_tokens": 0, "total_tokens": 0}},
}


def _call(client: Any, operation: str) -> None:
    if operation == "chat":
        client.chat.completions.create(model=RESPONSES_DEPLOYMENT, messages=CHAT_MESSAGES)
    elif operation == "responses":
        client.responses.create(model=RESPONSES_DEPLOYMENT, input="This is a test")
    elif operation == "embeddings":
        client.embeddings.create(model=EMBEDDING_SMALL, input=EMBEDDING_INPUT)
    else:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")


def _client(construction: Construction, dispatch: Any) -> Any:
    import openai

    library = importlib.import_module(conformance.sdk.installed().http_library)
    options: dict[str, Any] = {
        "http_client": library.Client(transport=transport(dispatch, library)),
        "max_retries": 0,
    }
    for name in ("base_url", "azure_endpoint", "api_version", "default_query"):
        value = getattr(construction, name)
        if value is not None:
            options[name] = dict(value) if name == "default_query" else value
    if construction.client == "azure":
        if construction.auth == "token":
            options["azure_ad_token_provider"] = lambda: FAKE_TOKEN
        elif not _has_key_variable(construction, "AZURE_OPENAI_API_KEY"):
            options["api_key"] = TEST_API_KEY
        return openai.AzureOpenAI(**options)
    options.pop("azure_endpoint", None)
    options.pop("api_version", None)
    if construction.auth == "token":
        options["api_key"] = lambda: FAKE_TOKEN
    elif not _has_key_variable(construction, "OPENAI_API_KEY"):
        options["api_key"] = TEST_API_KEY
    return openai.OpenAI(**options)


def _has_key_variable(construction: Construction, name: str) -> bool:
    return name in construction.environment or (
        not construction.environment and bool(os.environ.get(name)))


@contextlib.contextmanager
def _environment(wanted: Mapping[str, str]) -> Iterator[None]:
    """With ``wanted`` given: exactly those of the SDK's variables. Without: the process's own
    variables, the secret ones replaced by made-up values (their presence kept)."""
    saved = {name: os.environ.get(name) for name in conformance.sdk.ENVIRONMENT}
    try:
        if wanted:
            for name in conformance.sdk.ENVIRONMENT:
                os.environ.pop(name, None)
            os.environ.update(wanted)
        for name in SECRET_VARIABLES:
            if os.environ.get(name):
                os.environ[name] = FAKE_TOKEN if name.endswith("TOKEN") else TEST_API_KEY
        yield
    finally:
        restore(saved)
