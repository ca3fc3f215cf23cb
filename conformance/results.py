"""``results.json``: the machine-readable outcome of a run.

The format is versioned (``schema``) and described by ``results.schema.json`` next to this
module; a change that breaks readers bumps :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .registry import FEATURES, Verdict

SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")
FILENAME = "results.json"


@dataclass
class CheckResult:
    id: str
    feature: str
    verdict: Verdict
    message: str = ""
    observations: dict[str, Any] = field(default_factory=dict)
    doc: str = ""
    claim: str = ""
    cassette: str | None = None
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["duration_s"] = round(self.duration_s, 4)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["verdict"] = Verdict(data["verdict"])
        return cls(**fields)


@dataclass
class Results:
    sdk: dict[str, str]
    target: dict[str, Any]
    checks: list[CheckResult] = field(default_factory=list)
    started_at: str = ""
    duration_s: float = 0.0
    tool: dict[str, str] = field(
        default_factory=lambda: {"name": "azure-openai-conformance", "version": __version__}
    )

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(c.verdict.value for c in self.checks)
        return {v.value: counts.get(v.value, 0) for v in Verdict}

    @property
    def ok(self) -> bool:
        """True when no check failed or errored: the run's exit status."""
        counts = self.summary
        return counts["fail"] == 0 and counts["error"] == 0

    def by_feature(self) -> dict[str, list[CheckResult]]:
        order = {f: i for i, f in enumerate(FEATURES)}
        grouped: dict[str, list[CheckResult]] = {}
        for result in sorted(self.checks, key=lambda c: (order.get(c.feature, 99), c.id)):
            grouped.setdefault(result.feature, []).append(result)
        return grouped

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "tool": self.tool,
            "sdk": self.sdk,
            "target": self.target,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary,
            "checks": [c.as_dict() for c in sorted(self.checks, key=lambda c: c.id)],
        }

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILENAME
        path.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=False) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> Results:
        data = json.loads(path.read_text())
        if data.get("schema") != SCHEMA_VERSION:
            raise ValueError(
                f"{path}: results schema {data.get('schema')!r}, this tool reads {SCHEMA_VERSION}"
            )
        return cls(
            sdk=data["sdk"],
            target=data["target"],
            checks=[CheckResult.from_dict(c) for c in data["checks"]],
            started_at=data.get("started_at", ""),
            duration_s=data.get("duration_s", 0.0),
            tool=data.get("tool", {}),
        )


@dataclass(frozen=True)
class Change:
    """How one check's outcome differs between a baseline run and a candidate run."""

    id: str
    kind: str  # regression | fix | new | removed | verdict | observations
    before: str | None
    after: str | None
    detail: str = ""

    @property
    def blocking(self) -> bool:
        return self.kind == "regression"


_BAD = ("fail", "error")

# Observation keys whose values differ from run to run by design: retry delays carry the
# SDK's random jitter (their bounds are judged by the checks), and the policy model's
# prediction for an HTTP-date hint moves with the clock. A diff must not see them.
VOLATILE = frozenset({"delays_s", "fraction_of_base", "predicted"})


def normalise(value: Any) -> Any:
    """``value`` with every :data:`VOLATILE` key's value replaced, at any depth: the one
    normaliser applied before two runs' observations are compared."""
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE else normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def normalised(results: Results) -> Results:
    """A copy of ``results`` with what differs between two runs of the same SDK by design
    masked: the start time, durations, and observations through :func:`normalise`. Snapshot
    tests compare reports of normalised results."""
    checks = [CheckResult(**{**vars(c), "observations": normalise(c.observations),
                             "duration_s": 0.0}) for c in results.checks]
    return Results(sdk=dict(results.sdk), target=dict(results.target), checks=checks,
                   started_at="<started>", duration_s=0.0, tool=dict(results.tool))


def compare(baseline: Results, candidate: Results) -> list[Change]:
    """What changed from ``baseline`` to ``candidate``, per check id.

    A regression is a check that now fails or errors where it did not, or that passed and is
    now unsupported (a feature the SDK lost). Same verdict with different observations is a
    behaviour change worth reading, not a regression.
    """
    before = {c.id: c for c in baseline.checks}
    after = {c.id: c for c in candidate.checks}
    changes = []
    for check_id in sorted(before.keys() | after.keys()):
        old, new = before.get(check_id), after.get(check_id)
        if old is None or new is None:
            if new is not None:
                kind = "regression" if new.verdict.value in _BAD else "new"
                changes.append(Change(check_id, kind, None, new.verdict.value, new.message))
            elif old is not None:
                changes.append(Change(check_id, "removed", old.verdict.value, None))
            continue
        was, now = old.verdict.value, new.verdict.value
        if was != now:
            if now in _BAD or (was == "pass" and now == "unsupported"):
                kind = "regression"
            elif was in _BAD:
                kind = "fix"
            else:
                kind = "verdict"
            changes.append(Change(check_id, kind, was, now, new.message))
        elif normalise(old.observations) != normalise(new.observations):
            before_obs, after_obs = normalise(old.observations), normalise(new.observations)
            keys = sorted(k for k in before_obs.keys() | after_obs.keys()
                          if before_obs.get(k) != after_obs.get(k))
            changes.append(Change(check_id, "observations", was, now,
                                  "changed: " + ", ".join(keys)))
    return changes
