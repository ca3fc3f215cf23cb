"""openai-python as one driver: a protocol-v1 scenario performed in this process.

The scenario and the outcome have the shapes of ``docs/driver-protocol.md``, so a cross-SDK
check judges Python exactly as it judges JavaScript, Go and Java. The difference is where the
SDK runs: here, through :class:`conformance.sdk.Sdk` (clients pointed at the wire, the
environment cleared), with the virtual clock the ``sdk`` fixture installs, so Python never
sleeps a retry delay. The other drivers sleep for real and are timed at the wire.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..clock import VirtualClock
from ..sdk import Sdk, call_sdk, has
from .process import ScenarioRejected

_ATTRIBUTES = ("param", "type")


@dataclass
class ScenarioCredential:
    """A fake azure-core ``TokenCredential``: hands out the scenario's tokens in order (the
    last one again once they run out) and records the scopes of every call."""

    tokens: list[str]
    expires_in_s: int = 3600
    calls: list[dict[str, list[str]]] = field(default_factory=list)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.calls.append({"scopes": list(scopes)})
        index = min(len(self.calls), len(self.tokens)) - 1
        token = self.tokens[index] if self.tokens else "conformance-token"
        return AccessToken(token, int(time.time()) + self.expires_in_s)

    def __repr__(self) -> str:  # tokens are credentials: never in a repr
        return f"ScenarioCredential(calls={len(self.calls)})"


@dataclass
class PythonDriver:
    """Performs scenarios with the installed openai-python, in process."""

    handle: Sdk = field(repr=False)
    clock: VirtualClock | None = field(default=None, repr=False)
    sdk: str = "python"

    @property
    def version(self) -> str:
        return self.handle.info.version

    def run(self, scenario: Mapping[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        client_options = scenario.get("client") or {}
        credential: ScenarioCredential | None = None
        options: dict[str, Any] = {"base_url": scenario["base_url"]}
        auth = client_options.get("auth") or {"kind": "key", "key": "conformance-key"}
        if auth.get("kind") == "key":
            options["api_key"] = auth["key"]
        elif auth.get("kind") == "token_provider":
            if not has("callable_api_key"):
                raise ScenarioRejected("python", "a callable api_key (token provider) needs "
                                       "openai>=1.106.0", unsupported=True)
            from azure.identity import get_bearer_token_provider

            credential = ScenarioCredential(list(auth.get("tokens") or []),
                                            int(auth.get("expires_in_s", 3600)))
            options["api_key"] = get_bearer_token_provider(credential, auth["scope"])
        else:
            raise ScenarioRejected("python", f"unknown auth kind {auth.get('kind')!r}",
                                   unsupported=False)
        if client_options.get("max_retries") is not None:
            options["max_retries"] = client_options["max_retries"]
        if client_options.get("timeout_ms") is not None:
            options["timeout"] = client_options["timeout_ms"] / 1000
        client = self.handle.client(**options)
        operation = scenario["operation"]
        per_request = operation.get("request_options") or {}
        overrides: dict[str, Any] = {}
        if per_request.get("max_retries") is not None:
            overrides["max_retries"] = per_request["max_retries"]
        if per_request.get("timeout_ms") is not None:
            overrides["timeout"] = per_request["timeout_ms"] / 1000
        if overrides:
            client = client.with_options(**overrides)
        outcome: dict[str, Any] = {"result": None, "read": {}, "events": [], "error": None,
                                   "request_id": None, "token_calls": [],
                                   "sdk_retry_count": None, "elapsed_ms": 0}
        delays_before = len(self.clock.delays) if self.clock is not None else 0
        try:
            _perform(client, operation["name"], dict(operation.get("params") or {}), outcome)
        except ScenarioRejected:
            raise
        except Exception as exc:  # what the SDK raised is the outcome, not a crash
            outcome["error"] = error_of(exc, streaming=bool(outcome["events"]))
        outcome["token_calls"] = list(credential.calls) if credential else []
        outcome["elapsed_ms"] = int((time.monotonic() - started) * 1000)
        if self.clock is not None:
            # Python only (the protocol lets a driver add fields): the retry delays the SDK
            # computed, which the virtual clock kept instead of sleeping.
            outcome["virtual_delays_s"] = self.clock.delays[delays_before:]
        return outcome


def _perform(client: Any, name: str, params: dict[str, Any], outcome: dict[str, Any]) -> None:
    # ``read``: what the doc's Python samples read, through the SDK's typed attributes.
    read = outcome["read"]
    if name == "chat.completions.create":
        result = call_sdk(client.chat.completions.create, params)
        outcome["result"] = _json(result)
        read["content"] = result.choices[0].message.content if result.choices else None
        read["request_id"] = outcome["request_id"] = getattr(result, "_request_id", None)
    elif name == "responses.create":
        result = call_sdk(client.responses.create, params)
        outcome["result"] = _json(result)
        read["output_text"] = result.output_text
        read["request_id"] = outcome["request_id"] = getattr(result, "_request_id", None)
    elif name == "embeddings.create":
        result = call_sdk(client.embeddings.create, params)
        outcome["result"] = _json(result)
        read["embedding"] = list(result.data[0].embedding) if result.data else None
        read["request_id"] = outcome["request_id"] = getattr(result, "_request_id", None)
    elif name in ("chat.completions.stream", "responses.stream"):
        resource = client.chat.completions if name.startswith("chat") else client.responses
        stream = call_sdk(resource.create, {**params, "stream": True})
        read["request_id"] = outcome["request_id"] = stream.response.headers.get("x-request-id")
        deltas: list[str] = read.setdefault("deltas", [])
        read["text"] = ""
        for event in stream:  # the doc's loop
            outcome["events"].append(_json(event))
            delta = _delta_of(event)
            if delta:  # what the sample prints
                deltas.append(delta)
                read["text"] += delta
    else:
        raise ScenarioRejected("python", f"unknown operation {name!r}", unsupported=False)


def _delta_of(event: Any) -> str | None:
    """The text the doc's streaming loop prints for one event: a chat chunk's
    ``choices[0].delta.content``, a Responses ``response.output_text.delta`` event's ``delta``."""
    choices = getattr(event, "choices", None)
    if choices is not None:
        delta = getattr(choices[0], "delta", None) if choices else None
        content = getattr(delta, "content", None)
        return content if isinstance(content, str) else None
    if getattr(event, "type", None) == "response.output_text.delta":
        text = getattr(event, "delta", None)
        return text if isinstance(text, str) else None
    return None


def _json(model: Any) -> dict[str, Any]:
    data = json.loads(model.to_json()) if hasattr(model, "to_json") else model.model_dump(
        mode="json", exclude_unset=True)
    assert isinstance(data, dict)
    return data


def error_of(exc: BaseException, *, streaming: bool = False) -> dict[str, Any]:
    """The protocol's ``error`` object for an exception openai-python raised."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        kind = "timeout"
    elif isinstance(exc, openai.APIConnectionError):
        kind = "connection"
    elif isinstance(exc, openai.APIStatusError):
        kind = "status"
    elif streaming or isinstance(exc, openai.APIError):
        kind = "stream"
    else:
        kind = "other"
    code = getattr(exc, "code", None)
    view: dict[str, Any] = {
        "kind": kind,
        "class": type(exc).__name__,
        "bases": [c.__name__ for c in type(exc).__mro__[1:]
                  if c not in (BaseException, object)],
        "status": getattr(exc, "status_code", None),
        "code": code if isinstance(code, (str, int, float)) else None,
        "code_type": ("string" if isinstance(code, str) else "number"
                      if isinstance(code, (int, float)) else "null"),
        "message": str(exc),
        "request_id": getattr(exc, "request_id", None),
    }
    for name in _ATTRIBUTES:
        value = getattr(exc, name, None)
        view[name] = value if isinstance(value, str) else None
    return view


__all__ = ["PythonDriver", "ScenarioCredential", "error_of"]
