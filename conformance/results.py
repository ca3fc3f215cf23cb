"""``results.json``: the machine-readable outcome of a run.

The format is versioned (``schema``) and described by ``results.schema.json`` next to this
module; a change that breaks readers bumps :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, aliases
from .interruption import Interrupted
from .registry import FEATURES, Verdict

SCHEMA_VERSION = 1

# Keys a check records that state what the project's policy tables (conformance.policy) say
# about the installed release, not what the SDK did: which declared refinements are in force
# (``release_policy``) and whether the run matched them (``matches_release_policy``, which the
# verdict already carries). They move whenever a release crosses a range in a table, whatever
# the SDK did, so they are kept apart from the behavioural observations (``CheckResult.labels``)
# and never make a Change. (``doc_vs_sdk`` stays an observation: a cross-SDK check writes what
# the SDK did into it, and a Python scenario that matches another deviation behaved otherwise.)
LABEL_KEYS = frozenset({"release_policy", "matches_release_policy"})
# Observations of what the doc does not give (construction.doc-client's ``other.<name>.<op>``:
# AzureOpenAI and other constructions, observed for context, never judged): a run's reports
# show them; a diff does not compare them, so a fix off the doc's path (openai 1.57.2's
# azure_endpoint trailing slash) is no behaviour change of the doc's code.
CONTEXT_PREFIX = "other."
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")
FILENAME = "results.json"
# What a results.json this tool reads may be: a full run of every SDK writes well under 2 MB,
# with observations nested about 10 deep.
MAX_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64


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
    sdk: str = "python"  # the SDK this verdict is about (results before issue 9: python)
    sdk_version: str = ""
    # What the project's tables say about this release (conformance.policy), recorded beside
    # the observations but not one of them: never a Change by itself (see LABEL_KEYS).
    labels: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A results.json written before labels were apart carries them among observations.
        moved = {k: self.observations[k] for k in LABEL_KEYS if k in self.observations}
        if moved:
            self.observations = {k: v for k, v in self.observations.items()
                                 if k not in LABEL_KEYS}
            self.labels = {**moved, **self.labels}

    @property
    def key(self) -> tuple[str, str]:
        """What identifies a result within a run: the check and the SDK it ran against."""
        return (self.id, self.sdk)

    @property
    def label(self) -> str:
        """``id`` for python (as before SDKs were a dimension), ``id[sdk]`` for the others."""
        return self.id if self.sdk == "python" else f"{self.id}[{self.sdk}]"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["duration_s"] = round(self.duration_s, 4)
        if not self.labels:
            del data["labels"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["verdict"] = Verdict(data["verdict"])
        return cls(**fields)


@dataclass
class Results:
    sdk_info: dict[str, str]  # results.json's "sdk": the run's SDK (SdkInfo.as_dict())
    target: dict[str, Any]
    checks: list[CheckResult] = field(default_factory=list)
    started_at: str = ""
    duration_s: float = 0.0
    tool: dict[str, str] = field(
        default_factory=lambda: {"name": "azure-openai-conformance", "version": __version__}
    )
    # Set when a signal ended the run before every selected check ran: the checks listed
    # are those that finished.
    interrupted: Interrupted | None = None

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(c.verdict.value for c in self.checks)
        return {v.value: counts.get(v.value, 0) for v in Verdict}

    @property
    def ok(self) -> bool:
        """True when no check failed or errored and the run was not interrupted."""
        counts = self.summary
        return counts["fail"] == 0 and counts["error"] == 0 and self.interrupted is None

    def by_feature(self) -> dict[str, list[CheckResult]]:
        order = {f: i for i, f in enumerate(FEATURES)}
        grouped: dict[str, list[CheckResult]] = {}
        for result in sorted(self.checks, key=lambda c: (order.get(c.feature, 99), c.id,
                                                         _sdk_order(c.sdk))):
            grouped.setdefault(result.feature, []).append(result)
        return grouped

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "tool": self.tool,
            "sdk": self.sdk_info,
            "target": self.target,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary,
            **({"interrupted": self.interrupted.as_dict()} if self.interrupted else {}),
            "checks": [c.as_dict() for c in sorted(self.checks, key=lambda c: c.key)],
        }

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILENAME
        # Whole or not at all: a second Ctrl-C while writing leaves no half a file.
        partial = path.with_name(f".{FILENAME}.partial")
        partial.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=False) + "\n")
        partial.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Results:
        """Read a results.json; ``ValueError`` (with the path and what is wrong) for a file
        that is not JSON or not shaped like one this tool writes."""
        with path.open("rb") as handle:  # OSError for what cannot be opened (a folder...)
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ValueError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB, refused "
                             "(a run writes a few MB at most)")
        deepest = _nesting(raw)
        if deepest > MAX_DEPTH:
            raise ValueError(f"{path}: nested {deepest} deep or more, refused (a run writes "
                             f"at most {MAX_DEPTH})")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ValueError(f"{path}: not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a results file (a JSON {type(data).__name__}, not "
                             "an object)")
        if data.get("schema") != SCHEMA_VERSION:
            raise ValueError(
                f"{path}: results schema {data.get('schema')!r}, this tool reads {SCHEMA_VERSION}"
            )
        problem = _shape_problem(data)
        if problem is not None:
            raise ValueError(f"{path}: not a results file this tool reads: {problem}")
        try:
            interrupted = Interrupted.from_dict(data.get("interrupted"))
        except ValueError as exc:
            raise ValueError(f"{path}: not a results file this tool reads: {exc}") from None
        return cls(
            sdk_info=data["sdk"],
            target=data["target"],
            checks=[CheckResult.from_dict(c) for c in data["checks"]],
            started_at=data.get("started_at", ""),
            duration_s=data.get("duration_s", 0.0),
            tool=data.get("tool", {}),
            interrupted=interrupted,
        )


def _sdk_order(sdk: str) -> int:
    from .sdks import names

    known = names()
    return known.index(sdk) if sdk in known else len(known)


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def _nesting(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest, counted without parsing (so a
    100,000-deep array costs a scan, not a RecursionError); brackets inside strings are
    skipped. Stops counting just past :data:`MAX_DEPTH`."""
    depth = deepest = 0
    for byte in _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw)):
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


def _shape_problem(data: dict[str, Any]) -> str | None:
    """What makes ``data`` unreadable as a results file, or None: every field a diff or a
    report reads has its type."""
    for key in ("sdk", "target"):
        if not isinstance(data.get(key), dict):
            return f"{key!r} is not an object"
    if "tool" in data and not isinstance(data["tool"], dict):
        return "'tool' is not an object"
    if not isinstance(data.get("started_at", ""), str):
        return "'started_at' is not a string"
    duration = data.get("duration_s", 0.0)
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        return "'duration_s' is not a number"
    for key in ("sdk", "tool"):
        for name, value in (data.get(key) or {}).items():
            if value is not None and not isinstance(value, (str, int, float)):
                return f"{key}.{name} is not a string"
    checks = data.get("checks")
    if not isinstance(checks, list):
        return "'checks' is not a list"
    verdicts = {v.value for v in Verdict}
    for n, check in enumerate(checks):
        if not isinstance(check, dict):
            return f"checks[{n}] is not an object"
        if not isinstance(check.get("id"), str) or check.get("verdict") not in verdicts:
            return f"checks[{n}] needs a string id and a verdict ({', '.join(sorted(verdicts))})"
        for key, kind in (("message", str), ("observations", dict), ("feature", str),
                          ("doc", str), ("claim", str), ("duration_s", (int, float)),
                          ("sdk", str), ("sdk_version", str), ("cassette", (str, type(None))),
                          ("labels", dict)):
            if key in check and (not isinstance(check[key], kind)
                                 or isinstance(check[key], bool)):
                return f"checks[{n}].{key} has the wrong type"
    return None


@dataclass(frozen=True)
class Value:
    """One observation that differs: where in the observations, and its two values (``MISSING``
    when one side has none)."""

    path: str
    before: Any
    after: Any


MISSING = "<absent>"


@dataclass(frozen=True)
class Change:
    """How one check's outcome differs between a baseline run and a candidate run."""

    id: str
    kind: str  # regression | fix | new | removed | verdict | observations | renamed
    before: str | None
    after: str | None
    detail: str = ""
    values: tuple[Value, ...] = ()  # the observations that differ, after the normaliser
    # Retired ids (conformance.aliases) a run named instead of ``id``: paired by their claim.
    renamed_from: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return self.kind == "regression"


# What blocks a gate, from the most permissive policy to the strictest (README: "Gate policy").
BLOCKING: dict[str, frozenset[str]] = {
    "regressions": frozenset({"regression"}),
    "behaviour": frozenset({"regression", "observations"}),
    "any": frozenset({"regression", "observations", "fix", "verdict", "new", "removed"}),
}


def blocking(changes: list[Change], policy: str) -> list[Change]:
    """The changes that block under ``policy`` (a key of :data:`BLOCKING`)."""
    return [c for c in changes if c.kind in BLOCKING[policy]]


_BAD = ("fail", "error")

# A jittered retry delay is compared by the bounds the retry policy allows for it (recorded
# next to it as ``allowed_delays``); a delay from a server hint is kept as it is, unless it was
# timed at the wire (``at the wire [low, high] s``: the hint or backoff with the wire's slack).
_JITTERED = ("backoff ", "hint from an HTTP-date", "at the wire ")
_LOOPBACK_PORT = re.compile(r"(?<![\w.])(127\.0\.0\.1|localhost|\[::1\]):\d+\b")


def normalise(value: Any) -> Any:
    """The one normaliser applied before two runs' observations are compared: what varies by
    design is replaced by the bounds it is allowed to vary in, at any depth.

    - ``delays_s`` of a retry scenario: each delay the policy model put in a jittered (or
      clock-relative) window becomes that window, ``backoff [0.375, 0.5] s``; a delay taken
      from a server's hint (``hint 1.5 s``) and any delay the model did not explain (the
      scenario ``matched`` ``neither``) are kept.
    - ``delay_s`` timed at the wire (``timed_by``: ``wire arrival times``, no virtual clock):
      a delay within the slack of its ``hint_s`` becomes that window, ``hint [0.03, 0.3] s``;
      one outside it is kept.
    - ``fraction_of_base``: the jitter factor of each backoff delay becomes the policy's
      ``[1 - jitter, 1]`` when it lies in it.
    - a loopback address's port (``127.0.0.1:34879``, in a ``host`` header or a URL): the
      stand-in listens on a port the system picks for each run, ``127.0.0.1:<port>``.
    """
    if isinstance(value, str):
        return _LOOPBACK_PORT.sub(r"\1:<port>", value)
    if isinstance(value, dict):
        out = {k: normalise(v) for k, v in value.items()}
        delays, allowed = value.get("delays_s"), value.get("allowed_delays")
        if (isinstance(delays, list) and isinstance(allowed, list)
                and len(delays) == len(allowed) and value.get("matched") != "neither"):
            out["delays_s"] = [a if isinstance(a, str) and a.startswith(_JITTERED) else d
                               for d, a in zip(delays, allowed, strict=True)]
        elif isinstance(delays, list) and allowed is None and value.get("matched") != "neither":
            # written before allowed_delays was: the Python backoff's own bounds
            out["delays_s"] = [_backoff_window(n, d) for n, d in enumerate(delays)]
        if value.get("timed_by") == "wire arrival times":
            out["delay_s"] = _wire_hint_window(value.get("hint_s"), value.get("delay_s"))
        fractions = value.get("fraction_of_base")
        if isinstance(fractions, list):
            out["fraction_of_base"] = [_jitter_window(f) for f in fractions]
        return out
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def _backoff_window(n: int, delay: Any) -> Any:
    from .policy import policies

    backoff = policies("python").actual.backoff
    if backoff is None or not isinstance(delay, (int, float)):
        return delay
    bound = backoff.bound(n)
    return f"backoff {bound}" if bound.contains(delay) else delay


def _wire_hint_window(hint: Any, delay: Any) -> Any:
    from .policy import wire_hint_window

    if not isinstance(hint, (int, float)) or not isinstance(delay, (int, float)):
        return delay
    window = wire_hint_window(hint)
    return f"hint {window}" if window.contains(delay) else delay


def _jitter_window(fraction: Any) -> Any:
    from .policy import policies

    backoff = policies("python").actual.backoff
    if backoff is None or not isinstance(fraction, (int, float)):
        return fraction
    low = 1 - backoff.jitter
    return f"[{low:g}, 1]" if low - 1e-9 <= fraction <= 1 + 1e-9 else fraction


# What the retry policy model expected, recorded beside what the SDK did, and what a live run
# spent: context for a reader, not behaviour. A model that expects something else under
# another SDK version is not a change in the SDK; what the SDK did (attempts, delays, outcome,
# matched) is compared. A live run's token spend varies with the service's answers.
MODEL_KEYS = frozenset({"allowed_delays", "predicted", "live_usage"})


def differences(before: Any, after: Any, path: str = "") -> list[Value]:
    """Where two (normalised) observation values differ, as leaf paths. Lists of retry
    scenarios are matched by their ``scenario`` name, other lists item by item when they are
    as long, else compared whole. :data:`MODEL_KEYS` are left out."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[Value] = []
        for key in [*before, *(k for k in after if k not in before)]:
            if key in MODEL_KEYS:
                continue
            found += differences(before.get(key, MISSING), after.get(key, MISSING),
                                 f"{path}.{key}" if path else str(key))
        return found
    if isinstance(before, list) and isinstance(after, list):
        named_before, named_after = _by_name(before), _by_name(after)
        if named_before is not None and named_after is not None:
            return differences(named_before, named_after, path)
        if len(before) == len(after) and before != after and all(
                isinstance(v, (dict, list)) for v in before):
            return [d for n, (b, a) in enumerate(zip(before, after, strict=True))
                    for d in differences(b, a, f"{path}[{n}]")]
    return [] if before == after else [Value(path, before, after)]


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """``[{"scenario": "x", ...}]`` (or ``"id"``: declared deviations) as ``{"[x]": {...}}``;
    None when the items are not named uniquely."""
    for key in ("scenario", "id"):
        names = [i.get(key) if isinstance(i, dict) else None for i in items]
        if items and all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
            return {f"[{n}]": {k: v for k, v in i.items() if k != key}
                    for n, i in zip(names, items, strict=True)}
    return None


def normalised(results: Results) -> Results:
    """A copy of ``results`` with what differs between two runs of the same SDK by design
    masked: the start time, durations, and observations through :func:`normalise`. Snapshot
    tests compare reports of normalised results."""
    checks = [CheckResult(**{**vars(c), "observations": normalise(c.observations),
                             "labels": dict(c.labels), "duration_s": 0.0})
              for c in results.checks]
    return Results(sdk_info=dict(results.sdk_info), target=dict(results.target), checks=checks,
                   started_at="<started>", duration_s=0.0, tool=dict(results.tool),
                   interrupted=results.interrupted)


# How bad a verdict is, worst first: two retired ids of one claim pair as their worst verdict.
_SEVERITY = ("error", "fail", "unsupported", "skipped", "pass")


def _by_claim(results: Results) -> dict[tuple[str, str], CheckResult]:
    """The run's results per (current check id, SDK). An id retired into another check
    (:mod:`conformance.aliases`) stands for the check that carries its claim now. Where one
    key gets several results, the one under the current id wins; else the worst verdict of
    the retired ids (a claim that failed under either old id was failing)."""
    grouped: dict[tuple[str, str], list[CheckResult]] = {}
    for check in results.checks:
        grouped.setdefault((aliases.current(check.id), check.sdk), []).append(check)
    chosen = {}
    for key, found in grouped.items():
        exact = [c for c in found if c.id == key[0]]
        chosen[key] = exact[0] if exact else min(
            found, key=lambda c: _SEVERITY.index(c.verdict.value))
    return chosen


def _retired_ids(results: Results, key: tuple[str, str]) -> list[str]:
    return sorted({c.id for c in results.checks
                   if c.sdk == key[1] and c.id != key[0] and aliases.current(c.id) == key[0]})


def _judged_part(observations: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in observations.items() if not k.startswith(CONTEXT_PREFIX)}


def compare(baseline: Results, candidate: Results) -> list[Change]:
    """What changed from ``baseline`` to ``candidate``, per check id.

    A regression is a check that now fails or errors where it did not, or that passed and is
    now unsupported (a feature the SDK lost). Same verdict with different observations is a
    behaviour change (``observations``). Every change between two runs of a check carries the
    observations that differ, old and new, after :func:`normalise`. Labels (what the policy
    tables say, :data:`LABEL_KEYS`) are not compared here: :func:`label_changes` shows them.

    A run that names a retired id (:mod:`conformance.aliases`: a baseline written before the
    ``sdks-`` checks retired into their claims) pairs with the check that carries its claim
    now, by verdict only (the two checks observe differently); the change names the old id
    (``renamed_from``), and a rename with the same verdict is a ``renamed`` change, which
    blocks under no policy.
    """
    before, after = _by_claim(baseline), _by_claim(candidate)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        # Two runs that name the same id (both written before a rename) keep it.
        sides = {c.id for c in (old, new) if c is not None}
        name = sides.pop() if len(sides) == 1 else key[0]
        check_id = name if key[1] == "python" else f"{name}[{key[1]}]"
        if old is None or new is None:
            if new is not None:
                kind = "regression" if new.verdict.value in _BAD else "new"
                changes.append(Change(check_id, kind, None, new.verdict.value, new.message))
            elif old is not None:
                changes.append(Change(check_id, "removed", old.verdict.value, None))
            continue
        renamed = () if old.id == new.id != key[0] else tuple(dict.fromkeys(
            [*_retired_ids(baseline, key), *_retired_ids(candidate, key)]))
        was, now = old.verdict.value, new.verdict.value
        paired_by_claim = old.id != new.id
        values = () if paired_by_claim else tuple(
            differences(normalise(_judged_part(old.observations)),
                        normalise(_judged_part(new.observations))))
        note = f"renamed from {', '.join(renamed)}" if renamed else ""
        if was != now:
            if now in _BAD or (was == "pass" and now == "unsupported"):
                kind = "regression"
            elif was in _BAD:
                kind = "fix"
            else:
                kind = "verdict"
            detail = f"{new.message} ({note})" if note and new.message else (new.message or note)
            changes.append(Change(check_id, kind, was, now, detail, values, renamed))
        elif values:
            keys = sorted({v.path.split(".")[0].split("[")[0] for v in values})
            changes.append(Change(check_id, "observations", was, now,
                                  "changed: " + ", ".join(keys), values, renamed))
        elif renamed:
            changes.append(Change(check_id, "renamed", was, now,
                                  f"{note} (the check that carries its claim now)", (),
                                  renamed))
    return changes


@dataclass(frozen=True)
class LabelChange:
    """One policy-table label that differs between the two runs, shown once however many
    checks carry it: the key, its two values, and the checks that carry the difference."""

    key: str
    before: Any
    after: Any
    checks: tuple[str, ...]


def label_changes(baseline: Results, candidate: Results) -> list[LabelChange]:
    """What the project's tables say differently about the two releases (``labels``), grouped
    by value: never a :class:`Change`, whatever differs here."""
    before, after = _by_claim(baseline), _by_claim(candidate)
    grouped: dict[tuple[str, str, str], list[str]] = {}
    values: dict[tuple[str, str, str], tuple[Any, Any]] = {}
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key].labels, after[key].labels
        for name in sorted(old.keys() | new.keys()):
            was, now = old.get(name, MISSING), new.get(name, MISSING)
            if was == now:
                continue
            group = (name, json.dumps(was, sort_keys=True), json.dumps(now, sort_keys=True))
            grouped.setdefault(group, []).append(after[key].label)
            values[group] = (was, now)
    return [LabelChange(name, *values[(name, b, a)], tuple(checks))
            for (name, b, a), checks in grouped.items()]
