"""openai-python as one driver: a protocol-v1 scenario performed in this process.

The scenario and the outcome have the shapes of ``docs/driver-protocol.md``, so a cross-SDK
check judges Python exactly as it judges JavaScript, Go and Java. The difference is where the
SDK runs: here, through :class:`conformance.sdk.OpenAIPython` (clients pointed at the wire,
the environment cleared), with the virtual clock the ``openai_python`` fixture installs, so
Python never sleeps a retry delay. The other drivers sleep for real and are timed at the
wire.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..clock import VirtualClock
from ..registry import CheckFailed, Unsupported, fail
from ..sdk import OpenAIPython, call_sdk, has, require_capability
from ..wire.inprocess import Dispatch, transport
from .construction import constructed, refuse_outside, run_python
from .outcome import DriverOutcome, ErrorKind, ErrorView, Read
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
class _Call:
    """What one call of a scenario produced, while it runs (``read`` as the protocol names its
    fields; :meth:`Read` of it once the call is done)."""

    result: dict[str, Any] | None = None
    read: dict[str, Any] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    error: ErrorView | None = None
    error_body: Any = None
    request_id: str | None = None
    chunk_request_ids: list[str] = field(default_factory=list)
    rejected: Exception | None = None

    def outcome(self, *, elapsed_ms: int, constructed: bool = False) -> DriverOutcome:
        """The outcome of this call alone (a construction scenario makes one call)."""
        read = Read(**self.read, present=frozenset(self.read))
        return DriverOutcome(result=self.result, read=read, events=self.events, error=self.error,
                             request_id=self.request_id, elapsed_ms=elapsed_ms,
                             error_body=self.error_body, chunk_request_ids=self.chunk_request_ids,
                             constructed=constructed)


@dataclass
class PythonDriver:
    """Performs scenarios with the installed openai-python, in process."""

    handle: OpenAIPython = field(repr=False)
    clock: VirtualClock | None = field(default=None, repr=False)
    # The wire server's dispatcher: a client with a read timeout reaches the wire in process
    # (conformance.wire.inprocess), where a stall is the read timeout at once, not a wait.
    dispatch: Dispatch | None = field(default=None, repr=False)
    sdk: str = "python"
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return self.handle.info.version

    def run(self, scenario: Mapping[str, Any]) -> DriverOutcome:
        if constructed(scenario):  # the client as the user built it (docs/driver-protocol.md)
            refuse_outside(scenario)
            only = _Call()
            elapsed_ms = run_python(scenario, _perform, only, error_of)
            return only.outcome(elapsed_ms=elapsed_ms, constructed=True)
        started = time.monotonic()
        client_options = scenario.get("client") or {}
        credential: ScenarioCredential | None = None
        provider_calls: list[int] = []
        repeat = max(1, int(scenario["operation"].get("repeat") or 1))
        by_call: list[list[str]] = [[] for _ in range(repeat)]  # tokens the provider returned
        current = threading.local()  # the call being performed on this thread
        options: dict[str, Any] = {"base_url": scenario["base_url"]}
        auth = client_options.get("auth") or {"kind": "key", "key": "conformance-key"}
        if auth.get("kind") == "key":
            options["api_key"] = auth["key"]
        elif auth.get("kind") == "token_provider":
            # Every release gets the doc's provider: one before 1.106.0 formats it into the
            # header, which the checks observe (auth._reject_stringified_provider).
            from azure.identity import get_bearer_token_provider

            credential = ScenarioCredential(list(auth.get("tokens") or []),
                                            int(auth.get("expires_in_s", 3600)))
            provider = get_bearer_token_provider(credential, auth["scope"])

            def counted() -> str:  # the doc's provider, its calls counted (provider_calls)
                provider_calls.append(1)
                token: str = provider()
                by_call[getattr(current, "n", 0)].append(token)
                return token

            options["api_key"] = counted
        else:
            raise ScenarioRejected("python", f"unknown auth kind {auth.get('kind')!r}",
                                   unsupported=False)
        if client_options.get("max_retries") is not None:
            options["max_retries"] = client_options["max_retries"]
        asynchronous = bool(client_options.get("async"))  # openai.AsyncOpenAI
        if client_options.get("timeout_ms") is not None:
            options["timeout"] = client_options["timeout_ms"] / 1000
            if self.dispatch is not None and not asynchronous:
                options["http_client"] = self._in_process_http()
        if asynchronous:
            client = self.handle.async_client(**options)
        elif credential is None:
            # Building a client costs a TLS context (tens of ms): scenarios of one check with
            # the same key and options share one (what a key holds is no state between calls).
            key = repr(sorted(options.items()))
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self.handle.client(**options)
        else:
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
        delays_before = len(self.clock.delays) if self.clock is not None else 0
        name = operation["name"]
        # ``repeat`` calls on the one client, one after the other or all at once
        # (``concurrent``), call n with ``params_each[n]`` where given: the outcome is the
        # last call's, its error the first one raised (docs/driver-protocol.md).
        calls = [_Call() for _ in range(repeat)]
        each = operation.get("params_each")

        def call(n: int, outcome: _Call) -> None:
            current.n = n
            params = each[n] if isinstance(each, list) else operation.get("params")
            try:
                if name == "chat.completions.stream_async":
                    _perform_async(self.handle, options, dict(params or {}), outcome)
                elif asynchronous:
                    _perform_async_create(client, name, dict(params or {}), outcome)
                else:
                    _perform(client, name, dict(params or {}), outcome)
            except (ScenarioRejected, Unsupported, CheckFailed) as exc:
                outcome.rejected = exc
            except Exception as exc:  # what the SDK raised is the outcome, not a crash
                outcome.error = error_of(exc, streaming=bool(outcome.events))
                # Python only: the error object the exception carries (APIError.body).
                outcome.error_body = getattr(exc, "body", None)

        if operation.get("concurrent") and len(calls) > 1:
            threads = [threading.Thread(target=call, args=(n, o), name=f"call-{n}")
                       for n, o in enumerate(calls)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            for n, one in enumerate(calls):
                call(n, one)
        for one in calls:
            if one.rejected is not None:
                raise one.rejected
        last = calls[-1]
        failed = next((o for o in calls if o.error is not None), last)
        return DriverOutcome(
            result=last.result,
            read=Read(**last.read, present=frozenset(last.read)),
            events=last.events,
            error=failed.error,
            request_id=last.request_id,
            token_calls=[c["scopes"] for c in credential.calls] if credential else [],
            elapsed_ms=int((time.monotonic() - started) * 1000),
            provider_calls=len(provider_calls) if credential is not None else None,
            calls=by_call if credential is not None else None,
            # Python only (the protocol lets a driver add fields): the retry delays the SDK
            # computed, which the virtual clock kept instead of sleeping.
            virtual_delays_s=(tuple(self.clock.delays[delays_before:])
                              if self.clock is not None else None),
            error_body=failed.error_body,
            chunk_request_ids=last.chunk_request_ids,
        )

    def _in_process_http(self) -> Any:
        """The HTTP client (``http_client=`` is public SDK API) that hands each request to the
        wire's dispatcher without a socket, one per driver."""
        if "in-process" not in self._clients:
            import importlib

            import openai

            http = importlib.import_module(self.handle.info.http_library)
            wire_transport = transport(self.dispatch, http)  # type: ignore[arg-type]
            if has("default_http_client"):
                made = openai.DefaultHttpxClient(transport=wire_transport)
            else:  # before openai.DefaultHttpxClient: the HTTP library's own client
                made = http.Client(transport=wire_transport)
            self._clients["in-process"] = made
        return self._clients["in-process"]


def _perform(client: Any, name: str, params: dict[str, Any], outcome: _Call) -> None:
    # ``read``: what the doc's Python samples read, through the SDK's typed attributes.
    read = outcome.read
    if name == "chat.completions.create":
        result = call_sdk(client.chat.completions.create, params)
        outcome.result = _json(result)
        read["content"] = result.choices[0].message.content if result.choices else None
        read["usage"] = _chat_usage(result.usage)
        read["request_id"] = outcome.request_id = getattr(result, "_request_id", None)
    elif name == "responses.create":
        result = call_sdk(client.responses.create, params)
        outcome.result = _json(result)
        read["output_text"] = result.output_text
        _read_response(result, read)
        read["request_id"] = outcome.request_id = getattr(result, "_request_id", None)
    elif name == "embeddings.create":
        result = call_sdk(client.embeddings.create, params)
        outcome.result = _json(result)
        read["embedding"] = _vector(result.data[0].embedding) if result.data else None
        read["embeddings"] = [_vector(item.embedding) for item in result.data]
        read["indices"] = [item.index for item in result.data]
        read["usage"] = None if result.usage is None else {
            "prompt_tokens": result.usage.prompt_tokens,
            "total_tokens": result.usage.total_tokens}
        read["request_id"] = outcome.request_id = getattr(result, "_request_id", None)
    elif name == "fine_tuning.jobs.create":  # the doc's error-handling example
        result = call_sdk(client.fine_tuning.jobs.create, params)
        outcome.result = _json(result)
        read["request_id"] = outcome.request_id = getattr(result, "_request_id", None)
    elif name in ("chat.completions.stream", "responses.stream"):
        resource = client.chat.completions if name.startswith("chat") else client.responses
        stream = call_sdk(resource.create, {**params, "stream": True})
        read["request_id"] = outcome.request_id = stream.response.headers.get("x-request-id")
        deltas: list[str] = read.setdefault("deltas", [])
        read["text"] = ""
        for event in stream:  # the doc's loop
            outcome.events.append(_json(event))
            if getattr(event, "_request_id", None) is not None:  # python only: on a chunk
                chunk_ids = outcome.chunk_request_ids
                if str(event._request_id) not in chunk_ids:
                    chunk_ids.append(str(event._request_id))
            delta = _delta_of(event)
            if delta:  # what the sample prints
                deltas.append(delta)
                read["text"] += delta
    elif name == "chat.completions.stream_helper":
        _stream_helper(client, params, outcome)
    else:
        raise ScenarioRejected("python", f"unknown operation {name!r}", unsupported=False)


HELPER_PLACES = ("chat.completions", "beta.chat.completions")  # newest first


def stream_helper(client: Any) -> tuple[str, Any]:
    """The chat stream helper wherever this release has it (``client.chat.completions.stream``
    from openai 1.92.0, ``client.beta.chat.completions.stream`` from 1.40.0 before that), with
    where it was found; ``unsupported`` before the release that added it, a fail after."""
    for place in HELPER_PLACES:
        owner = client
        for part in place.split("."):
            owner = getattr(owner, part, None)
        method = getattr(owner, "stream", None)
        if callable(method):
            return f"client.{place}.stream", method
    require_capability("chat_stream_helper")  # names the release that added it
    fail("the chat stream helper is gone: neither client.chat.completions.stream nor "
         "client.beta.chat.completions.stream exists")


def _stream_helper(client: Any, params: dict[str, Any], outcome: _Call) -> None:
    """``chat.completions.stream_helper``: the helper's events (content.delta, content.done,
    tool_calls.function.arguments.done, chunk) and its final completion."""
    read = outcome.read
    read["helper"], helper = stream_helper(client)
    deltas: list[str] = read.setdefault("deltas", [])
    done: list[str] = read.setdefault("done", [])
    calls: list[dict[str, Any]] = read.setdefault("tool_calls_done", [])
    read["chunks"] = 0
    with call_sdk(helper, params) as stream:
        for event in stream:
            if event.type == "chunk":
                read["chunks"] += 1
                outcome.events.append(_json(event.chunk))
            elif event.type == "content.delta" and event.delta:
                deltas.append(event.delta)
            elif event.type == "content.done":
                done.append(event.content)
            elif event.type == "tool_calls.function.arguments.done":
                calls.append({"index": event.index, "name": event.name,
                              "arguments": event.arguments})
        final = stream.get_final_completion()
    read["text"] = "".join(deltas)
    outcome.result = _json(final)
    choice = final.choices[0] if final.choices else None
    read["content"] = choice.message.content if choice is not None else None
    read["finish_reason"] = choice.finish_reason if choice is not None else None


def _perform_async(handle: OpenAIPython, options: dict[str, Any], params: dict[str, Any],
                   outcome: _Call) -> None:
    """``chat.completions.stream_async``: the doc's loop as ``async for`` through
    ``AsyncOpenAI`` (its own stream reader, ``AsyncStream``), in an event loop of its own."""
    import asyncio

    read = outcome.read
    deltas: list[str] = read.setdefault("deltas", [])

    async def loop() -> None:
        client = handle.async_client(**options)
        try:
            stream = await call_sdk(client.chat.completions.create, {**params, "stream": True})
            async for chunk in stream:
                outcome.events.append(_json(chunk))
                delta = _delta_of(chunk)
                if delta:
                    deltas.append(delta)
        finally:
            await client.close()

    try:
        asyncio.run(loop())
    finally:
        read["text"] = "".join(deltas)


def _perform_async_create(client: Any, name: str, params: dict[str, Any],
                          outcome: _Call) -> None:
    """``chat.completions.create`` through ``AsyncOpenAI`` (its own retry loop), on an event
    loop of its own."""
    import asyncio

    if name != "chat.completions.create":
        raise ScenarioRejected("python", f"the async client performs chat.completions.create "
                               f"only, not {name!r}", unsupported=False)

    async def call() -> Any:
        try:
            return await call_sdk(client.chat.completions.create, params)
        finally:
            await client.close()

    result = asyncio.run(call())
    outcome.result = _json(result)
    outcome.read["content"] = result.choices[0].message.content if result.choices else None
    outcome.read["request_id"] = outcome.request_id = getattr(result, "_request_id", None)


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


def _vector(embedding: Any) -> Any:
    """A vector as user code reads it: a list of floats, or the string the SDK handed back."""
    return embedding if isinstance(embedding, str) else list(embedding)


def _plain(value: Any) -> Any:
    """A typed value (a pydantic model) as plain JSON data; anything else unchanged."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return (value.model_dump(mode="json", exclude_unset=True) if hasattr(value, "model_dump")
            else value)


def _chat_usage(usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return None
    details = getattr(usage, "completion_tokens_details", None)
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "reasoning_tokens": getattr(details, "reasoning_tokens", None)}


# The fields read from each kind of output item (the doc's samples print these).
_ITEM_FIELDS = {
    "mcp_list_tools": ("server_label",),
    "mcp_call": ("server_label", "name", "arguments", "output", "error", "status"),
    "mcp_approval_request": ("server_label", "name", "arguments"),
}


def _read_response(result: Any, read: dict[str, Any]) -> None:
    """What Python code reads from a Response: its attributes, each output item's by type, the
    usage with its reasoning tokens; and, Python only, Azure's content_filters as model_dump()
    and the printed model_dump_json() carry them (the Python sample prints the latter)."""
    details = getattr(result, "incomplete_details", None)
    read["response"] = {"id": result.id, "object": result.object, "status": result.status,
                        "model": result.model, "created_at": result.created_at,
                        "incomplete_reason": getattr(details, "reason", None)}
    read["sdk_created_at_type"] = type(result.created_at).__name__
    items = []
    for item in result.output:
        entry: dict[str, Any] = {"type": item.type, "id": getattr(item, "id", None)}
        if item.type == "reasoning":
            entry["summary"] = [{"type": getattr(s, "type", None), "text": getattr(s, "text", None)}
                                for s in getattr(item, "summary", None) or []]
            entry["encrypted_content"] = getattr(item, "encrypted_content", None)
        for name in _ITEM_FIELDS.get(item.type, ()):
            entry[name] = _plain(getattr(item, name, None))
        if item.type == "mcp_list_tools":
            entry["tools"] = [{"name": t.name, "input_schema": _plain(t.input_schema)}
                              for t in item.tools]
        items.append(entry)
    read["output_items"] = items
    usage = result.usage
    read["usage"] = None if usage is None else {
        "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "reasoning_tokens": getattr(getattr(usage, "output_tokens_details", None),
                                    "reasoning_tokens", None)}
    # warnings=False: an MCP error string where the SDK types an object is the wire's, not ours.
    try:
        dumped = result.model_dump(warnings=False)
        printed = json.loads(result.model_dump_json(indent=2, warnings=False))
    except (TypeError, ValueError):  # pydantic v1: no warnings switch (nor such warnings)
        dumped, printed = result.model_dump(), json.loads(result.model_dump_json(indent=2))
    read["content_filters"] = dumped.get("content_filters")
    read["printed_content_filters"] = printed.get("content_filters")


def _json(model: Any) -> dict[str, Any]:
    # warnings=False: a value of another shape than the SDK's type (a base64 vector where it
    # types list[float], an MCP error string where it types an object) is the wire's.
    try:
        data = json.loads(model.to_json(warnings=False)) if hasattr(model, "to_json") \
            else model.model_dump(mode="json", exclude_unset=True, warnings=False)
    except (TypeError, ValueError):  # a release or pydantic without the warnings switch
        data = json.loads(model.to_json()) if hasattr(model, "to_json") else model.model_dump(
            mode="json", exclude_unset=True)
    assert isinstance(data, dict)
    return data


def error_of(exc: BaseException, *, streaming: bool = False) -> ErrorView:
    """What user code sees of an exception openai-python raised: the protocol's ``error``
    object (docs/driver-protocol.md), the one exception view of every check, plus what only
    Python exposes: ``module`` (where the class lives), ``str`` (what ``print(e)`` shows),
    ``cause`` (``__cause__``, as ``module.Class``: the HTTP library's exception under a
    connection error), ``body`` (``err.body``) and ``response_status``
    (``err.response.status_code``), each where the exception has it."""
    import openai

    kind: ErrorKind
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
    attributes = {name: value if isinstance(value := getattr(exc, name, None), str) else None
                  for name in _ATTRIBUTES}
    cause = exc.__cause__
    present = {"module", "str", "cause"}
    if hasattr(exc, "body"):
        present.add("body")
    response = getattr(exc, "response", None)
    response_status = getattr(response, "status_code", None) if response is not None else None
    if isinstance(response_status, int):
        present.add("response_status")
    else:
        response_status = None
    return ErrorView(
        kind=kind,
        class_name=type(exc).__name__,
        bases=[c.__name__ for c in type(exc).__mro__[1:] if c not in (BaseException, object)],
        status=getattr(exc, "status_code", None),
        code=code if isinstance(code, (str, int, float)) else None,
        code_type=("string" if isinstance(code, str) else "number"
                   if isinstance(code, (int, float)) else "null"),
        message=message if isinstance(message := getattr(exc, "message", None), str)
        else str(exc),
        request_id=getattr(exc, "request_id", None),
        param=attributes["param"],
        type=attributes["type"],
        module=type(exc).__module__,
        str_form=str(exc),  # what print(e) shows
        cause=None if cause is None else f"{type(cause).__module__}.{type(cause).__name__}",
        body=jsonable(exc.body) if hasattr(exc, "body") else None,
        response_status=response_status,
        present=frozenset(present),
    )


def jsonable(value: Any) -> Any:
    """A value as a report holds it: models dumped, other objects by their repr."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


__all__ = ["PythonDriver", "ScenarioCredential", "error_of", "jsonable"]
