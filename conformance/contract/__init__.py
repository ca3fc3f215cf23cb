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

VIOLATION = "violation"
WARNING = "warning"  # the evidence is mixed or absent: reported, never a failure


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str  # the reference section, e.g. "wire §6.4"
    severity: str = VIOLATION
    # Real traffic that shaped the rule: files under tests/corpus/real/ (see its MANIFEST).
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.path}: {self.message}" if self.path else (
            f"{self.rule} {self.message}"
        )

    @property
    def severity(self) -> str:
        """The rule's severity: ``violation``, or ``warning`` where evidence is mixed."""
        declared = RULES.get(self.rule)
        return declared.severity if declared is not None else VIOLATION


RULES: dict[str, Rule] = {}

# One server-sent event as validators see it: its ``event:`` name (or None) and its data.
# The contract does not parse SSE; callers do (conformance.wire.parse_events).
SseEvent = tuple[str | None, str]


def rule(  # the rule's own vocabulary
    id: str, text: str, source: str, *, severity: str = VIOLATION,
    evidence: tuple[str, ...] = (),
) -> str:
    """Declare a rule; returns its id for use in validators. ``severity="warning"`` marks a
    rule whose evidence is mixed or absent (real traffic breaks it, or the reference only
    infers it): findings are printed and counted, never a failure. ``evidence`` names the
    real exchanges (``tests/corpus/real/...``) the rule was corrected against."""
    if severity not in (VIOLATION, WARNING):
        raise ValueError(f"rule {id!r}: unknown severity {severity!r}")
    declared = Rule(id, text, source, severity, evidence)
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


def difference(left: Any, right: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """Where two JSON values first differ: ``(path, left leaf, right leaf)``, or None when
    they are equal. A member present on one side only is reported with ``<absent>``."""
    if is_object(left) and is_object(right):
        for key in list(left) + [k for k in right if k not in left]:
            if key not in right or key not in left:
                return (f"{path}.{key}", left.get(key, ABSENT), right.get(key, ABSENT))
            found = difference(left[key], right[key], f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        for n, (a, b) in enumerate(zip(left, right, strict=False)):
            found = difference(a, b, f"{path}[{n}]")
            if found is not None:
                return found
        if len(left) != len(right):
            return (f"{path}.length", len(left), len(right))
        return None
    return None if left == right and type(left) is type(right) else (path, left, right)


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


def describe_difference(left: Any, right: Any, names: tuple[str, str] = ("", "")) -> str:
    """``at PATH: LEFT vs RIGHT``: the first differing leaves, each described in full up to
    60 characters, so a reader sees what differs instead of two equal prefixes."""
    found = difference(left, right)
    if found is None:
        return "no difference"
    path, a, b = found
    first, second = (f"{names[0]} " if names[0] else "", f"{names[1]} " if names[1] else "")
    where = path or "(top)"
    if isinstance(a, str) and isinstance(b, str):
        # Long texts that share a prefix: show where they part, not their equal beginnings.
        offset = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
        if offset > 20:
            start = offset - 10
            return (f"at {where}, character {offset}: {first}{describe('…' + a[start:])} vs "
                    f"{second}{describe('…' + b[start:])}")
    return f"at {where}: {first}{describe(a)} vs {second}{describe(b)}"


__all__ = [
    "RULES",
    "VIOLATION",
    "WARNING",
    "Findings",
    "Rule",
    "SseEvent",
    "Violation",
    "describe",
    "describe_difference",
    "difference",
    "is_count",
    "is_int",
    "is_object",
    "rule",
]
