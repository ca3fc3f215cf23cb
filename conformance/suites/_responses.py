"""Helpers shared by the Responses suites (responses, streaming_responses, mcp, reasoning)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.contract import SseEvent, Violation
from conformance.harness import Wire
from conformance.wire import parse_events


def wire_events(wire: Wire, index: int = -1) -> list[SseEvent]:
    """The event stream the server sent to request ``index``, as the contract takes it."""
    return [(event.name, event.data) for event in parse_events(wire.reply(index).streamed)]


def report(violations: list[Violation]) -> str:
    return "\n".join(map(str, violations))


def plain(value: Any) -> Any:
    """An SDK value as JSON-like data: a model as the fields the wire set, others as they are.

    The SDK builds models without validation, so a value of another shape than its type
    (a string where it expects an object) comes back unchanged.
    """
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_unset=True)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def items_of(body: Mapping[str, Any], kind: str) -> list[Any]:
    return [item for item in body.get("output") or [] if item.get("type") == kind]
