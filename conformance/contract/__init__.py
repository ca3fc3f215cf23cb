"""The wire contract: validators for each feature's payloads.

Validators take decoded JSON and return :class:`Violation` objects, each naming the rule it
breaks. They tolerate unknown fields (Microsoft adds response fields without notice) and are
strict on documented invariants. Every rule is declared once, with the reference section it
comes from, in :data:`RULES`; tests make each rule fail at least once.

This package imports nothing else from the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str  # the reference section, e.g. "wire §6.4"


@dataclass(frozen=True)
class Violation:
    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.path}: {self.message}" if self.path else (
            f"{self.rule} {self.message}"
        )


RULES: dict[str, Rule] = {}

# One server-sent event as validators see it: its ``event:`` name (or None) and its data.
# The contract does not parse SSE; callers do (conformance.wire.parse_events).
SseEvent = tuple[str | None, str]


def rule(id: str, text: str, source: str) -> str:  # the rule's own vocabulary
    """Declare a rule; returns its id for use in validators."""
    declared = Rule(id, text, source)
    # A module imported twice (pytester restores sys.modules) declares the same rule again.
    if RULES.get(id, declared) != declared:
        raise ValueError(f"rule id {id!r} is declared twice, differently")
    RULES[id] = declared
    return id


@dataclass
class Findings:
    """Violations collected while walking one payload."""

    violations: list[Violation] = field(default_factory=list)

    def add(self, rule_id: str, path: str, message: str) -> None:
        if rule_id not in RULES:
            raise KeyError(f"undeclared rule {rule_id!r}")
        self.violations.append(Violation(rule_id, path, message))

    def require(self, condition: object, rule_id: str, path: str, message: str) -> bool:
        if not condition:
            self.add(rule_id, path, message)
        return bool(condition)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_count(value: object) -> bool:
    """A token or item count: a non-negative integer."""
    return is_int(value) and value >= 0  # type: ignore[operator]  # narrowed by is_int


def is_object(value: object) -> bool:
    return isinstance(value, Mapping)


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "RULES",
    "Findings",
    "Rule",
    "SseEvent",
    "Violation",
    "describe",
    "is_count",
    "is_int",
    "is_object",
    "rule",
]
