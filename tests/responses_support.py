"""Breaking Responses cassettes and SDKs, for the tests of the responses, streaming (Responses),
mcp and reasoning checks.

Server side: edit a cassette's event stream or request body. SDK side: mutants in the style of
``tests/mutants.py`` (which has ``rewrite_json``), reaching into openai internals on purpose
(``Stream.__iter__`` and ``ServerSentEvent.json`` exist in openai 1.x, 2.x and 3.x).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conformance.wire import encode_json, parse_events

Events = list[dict[str, Any]]


def sse_payloads(body: bytes) -> Events:
    return [json.loads(event.data) for event in parse_events(body)]


def sse_body(payloads: Events, *, renumber: bool = True) -> bytes:
    """An event stream in the reference framing; ``renumber`` rewrites sequence numbers."""
    out = []
    for n, payload in enumerate(payloads):
        if renumber and "sequence_number" in payload:
            payload = {**payload, "sequence_number": n}
        out.append(encode_json(payload, name=str(payload["type"]) if "type" in payload else None))
    return b"".join(out)


def edit_stream(suite: Any, name: str, change: Callable[[Events], Events | None], *,
                index: int = 0, renumber: bool = True) -> None:
    """Edit the payloads of the event stream of interaction ``index`` of a cassette copy."""

    def apply(interactions: list[Any]) -> None:
        payloads = sse_payloads(interactions[index].body)
        replaced = change(payloads)
        interactions[index].body = sse_body(payloads if replaced is None else replaced,
                                            renumber=renumber)

    suite.edit(name, apply)


def edit_request(suite: Any, name: str, change: Callable[[dict[str, Any]], None], *,
                 index: int = 0) -> None:
    """Edit the recorded request body of interaction ``index`` (to match a mutant SDK)."""

    def apply(interactions: list[Any]) -> None:
        body = interactions[index].request_json()
        change(body)
        interactions[index].request.body = json.dumps(body).encode()

    suite.edit(name, apply)


def find(payloads: Events, kind: str, nth: int = 0) -> int:
    """The position of the ``nth`` event of type ``kind``."""
    return [n for n, p in enumerate(payloads) if p.get("type") == kind][nth]


def filter_stream(monkeypatch: pytest.MonkeyPatch, keep: Callable[[Any], bool]) -> None:
    """An SDK whose streams yield only the events ``keep`` accepts."""
    from openai import Stream

    original = Stream.__iter__

    def iterate(self: Any) -> Any:
        return (event for event in original(self) if keep(event))

    monkeypatch.setattr(Stream, "__iter__", iterate)


def rewrite_sse_json(monkeypatch: pytest.MonkeyPatch, change: Callable[[Any], Any]) -> None:
    """An SDK that decodes each event's data as ``change(data)``: the SDK's own handling of
    the changed payload follows (it raises APIError for a truthy ``error`` key, for one)."""
    from openai._streaming import ServerSentEvent

    original = ServerSentEvent.json

    def decode(self: Any) -> Any:
        return change(original(self))

    monkeypatch.setattr(ServerSentEvent, "json", decode)
