"""The scenario's construction part (docs/driver-protocol.md, "Construction"): the client is
built the way the user built it, with its own URL, api-version and environment, not from the
scenario's ``base_url``.

Two things live here: the runner's guard that a construction's URLs cannot take a driver off
the machine (:func:`refuse_outside`: an ``https`` URL goes through the loopback Azure host's
CONNECT proxy, which tunnels only the Azure host suffixes, to the wire server; plain ``http``
only to loopback), and openai-python's side of the protocol (:func:`run_python`): the
client built as written, its requests carried, with their Host header, to the scenario's
loopback wire server by an ``http_client=`` transport (public SDK API; the network layer only).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .process import ScenarioRejected

if TYPE_CHECKING:
    from .outcome import ErrorView
    from .python import _Call

# The SDK variables a construction may set in a driver's environment (each SDK reads its own).
VARIABLES = frozenset({
    "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_API_VERSION", "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
})
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def constructed(scenario: Mapping[str, Any]) -> bool:
    client = scenario.get("client") or {}
    return isinstance(client.get("construction"), Mapping)


def refuse_outside(scenario: Mapping[str, Any]) -> None:
    """Raise :class:`ScenarioRejected` unless every URL of the construction stays on this
    machine: ``https`` (the Azure host proxy tunnels Azure names to loopback and refuses the
    rest) or ``http`` to loopback; and only the SDK variables in its environment."""
    construction = (scenario.get("client") or {})["construction"]
    environment = construction.get("environment") or {}
    unknown = sorted(set(environment) - VARIABLES)
    if unknown:
        raise ScenarioRejected("runner", f"not an SDK variable: {', '.join(unknown)}",
                               unsupported=False)
    urls = [construction.get("base_url"), construction.get("endpoint"),
            environment.get("OPENAI_BASE_URL"), environment.get("AZURE_OPENAI_ENDPOINT")]
    for url in urls:
        if url is None:
            continue
        parts = urlsplit(str(url))
        if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            continue
        raise ScenarioRejected("runner", f"a construction URL must be https (tunnelled to "
                               f"loopback) or loopback http: {parts.scheme}://...",
                               unsupported=False)


def forwarding(wire_url: str, seen: list[str]) -> Callable[..., Any]:
    """A dispatcher for :func:`conformance.wire.inprocess.transport` that carries each request
    (method, target, headers with the Host the SDK chose, body) to the loopback wire server at
    ``wire_url`` over a socket and returns its answer."""
    from conformance.wire import Reply

    parts = urlsplit(wire_url)
    if parts.hostname not in _LOOPBACK or parts.port is None:
        raise ScenarioRejected("python", f"the wire server must be on loopback: {wire_url!r}",
                               unsupported=False)
    port = parts.port

    def dispatch(method: str, target: str, headers: Iterable[tuple[str, str]],
                 body: bytes) -> Any:
        pairs = [(k, v) for k, v in headers if k.lower() not in ("content-length",
                                                                 "transfer-encoding")]
        seen.append(target)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in pairs:
                connection.putheader(name, value)
            connection.putheader("content-length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            return Reply(response.status, [(k, v) for k, v in response.getheaders()
                                           if k.lower() not in ("content-length",
                                                                "transfer-encoding",
                                                                "connection")], data)
        finally:
            connection.close()

    return dispatch


def run_python(scenario: Mapping[str, Any], perform: Callable[[Any, str, dict[str, Any],
                                                              _Call], None],
               outcome: _Call, error_of: Callable[[BaseException], ErrorView]) -> int:
    """openai-python's construction: ``OpenAI(base_url=..., api_key=..., default_query=...)``
    or ``AzureOpenAI(azure_endpoint=... | base_url=..., api_version=..., api_key=... |
    azure_ad_token_provider=...)``, in the construction's environment (the SDK reads its
    variables itself), then ``perform`` (the driver's operation) once; the milliseconds it
    took."""
    import openai

    import conformance.sdk
    from conformance.registry import Unsupported
    from conformance.sdk import has
    from conformance.wire.inprocess import transport

    started = time.monotonic()
    client_options = scenario.get("client") or {}
    construction = client_options["construction"]
    auth = client_options.get("auth") or {"kind": "key", "key": "conformance-key"}
    azure = construction.get("client") == "azure"
    if construction.get("deployment") is not None:
        raise Unsupported("python: the construction's deployment (azure_deployment) is not "
                          "modelled")
    if not azure and (construction.get("endpoint") or construction.get("api_version")):
        raise ScenarioRejected("python", "endpoint and api_version are AzureOpenAI's arguments",
                               unsupported=False)
    library = importlib.import_module(conformance.sdk.installed().http_library)
    seen: list[str] = []
    options: dict[str, Any] = {
        "http_client": library.Client(transport=transport(
            forwarding(str(scenario["base_url"]), seen), library)),
        "max_retries": client_options.get("max_retries") or 0,
    }
    if construction.get("base_url") is not None:
        options["base_url"] = construction["base_url"]
    if construction.get("api_version_query") is not None:
        options["default_query"] = {"api-version": construction["api_version_query"]}
    if azure:
        if construction.get("endpoint") is not None:
            options["azure_endpoint"] = construction["endpoint"]
        if construction.get("api_version") is not None:
            options["api_version"] = construction["api_version"]
    kind = auth.get("kind")
    if kind == "key":
        options["api_key"] = auth["key"]
    elif kind == "token_provider":
        tokens = list(auth.get("tokens") or ["fake-token"])
        if not azure and not has("callable_api_key"):
            raise Unsupported("python: a callable api_key (token provider) needs "
                              "openai>=1.106.0")
        if azure:
            options["azure_ad_token_provider"] = lambda: tokens[0]
        else:
            options["api_key"] = lambda: tokens[0]
    elif kind != "none":
        raise ScenarioRejected("python", f"unknown auth kind {kind!r}", unsupported=False)
    operation = scenario["operation"]
    with environment(construction.get("environment") or {}):
        client = None
        try:
            client = (openai.AzureOpenAI if azure else openai.OpenAI)(**options)
            resource = str(operation["name"]).split(".")[0]
            if not hasattr(client, resource):  # probed: this release lacks the API
                raise Unsupported(f"python: this openai release has no client.{resource}")
            perform(client, operation["name"], dict(operation.get("params") or {}), outcome)
        except (ScenarioRejected, Unsupported):
            raise
        except Exception as exc:  # the SDK raised: the outcome's error
            outcome.error = error_of(exc)
        finally:
            if client is not None:
                client.close()
    return int((time.monotonic() - started) * 1000)


@contextlib.contextmanager
def environment(wanted: Mapping[str, str]) -> Iterator[None]:
    """Exactly ``wanted`` of the SDK's variables in this process's environment while the
    client is built and used; the previous values back afterwards."""
    import conformance.sdk

    names = set(conformance.sdk.ENVIRONMENT) | VARIABLES | set(wanted)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(wanted)
        yield
    finally:
        restore(saved)


def restore(saved: Mapping[str, str | None]) -> None:
    """Put the environment variables back as ``saved`` had them (None: unset)."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


__all__ = ["VARIABLES", "constructed", "environment", "forwarding", "refuse_outside", "restore",
           "run_python"]
