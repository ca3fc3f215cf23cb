"""What user code read from a Response, as a driver reports it (docs/driver-protocol.md,
``read`` of ``responses.create``): the response's fields, its output items and its usage,
each through the SDK's typed accessors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.drivers.outcome import DriverOutcome
from conformance.registry import expect


def response_fields(outcome: DriverOutcome) -> dict[str, Any]:
    """id, object, status, model, created_at and incomplete_reason as the SDK exposes them."""
    return dict(outcome.read.response or {})


def output_items(outcome: DriverOutcome) -> list[dict[str, Any]]:
    """Each output item as user code read it: type and id, and the fields of its kind."""
    return [dict(item) for item in outcome.read.output_items or []
            if isinstance(item, Mapping)]


def item_read(outcome: DriverOutcome, sdk: str, wire_item: Mapping[str, Any]
              ) -> dict[str, Any]:
    """The output item with ``wire_item``'s id as user code read it (fails if it has none)."""
    found = [item for item in output_items(outcome) if item.get("id") == wire_item["id"]]
    expect(found, f"{sdk}'s output has no item {wire_item['id']} ({wire_item['type']})")
    return found[0]


def usage_read(outcome: DriverOutcome) -> dict[str, Any] | None:
    usage = outcome.read.usage
    return dict(usage) if isinstance(usage, Mapping) else None
