"""Score the gate on real adjacent SDK release pairs (benchmarks/gate-history.yaml): for each
pair, run the gate's two sides (each pin in an environment of its own, as ``aoai-conformance
gate`` does), diff them, and score it: a pair whose changelog changes something on the doc's
paths is a hit when a change shows on one of its named checks, else a miss; a quiet or near-miss
pair shown with any change is a false alarm. Writes numbers; asserts nothing.

    python benchmarks/gate_history.py [--only ID ...] [--out FILE] [--env-dir DIR]
                                      [-- PYTEST_ARG ...]

A pair whose environment cannot be built is ``setup`` (not scored), never a miss.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.environments import Environments, Pin, Runner, SetupError, default_root
from conformance.results import Results, compare
from conformance.wire.safe_yaml import YamlError, load_file

HERE = Path(__file__).resolve().parent
LIST = HERE / "gate-history.yaml"
OUT = HERE / "gate-history-results.json"
EXPECT = ("change", "quiet")
KINDS = ("quiet", "near-miss")

RunVersion = Callable[[Pin, Path, Sequence[str]], Results]


@dataclass(frozen=True)
class Pair:
    id: str
    baseline: str
    candidate: str
    changelog: str
    expect: str
    basis: str
    checks: tuple[str, ...] = ()
    kind: str = ""

    @property
    def sdk(self) -> str:
        return Pin.parse(self.baseline).distribution


@dataclass
class Outcome:
    pair: Pair
    score: str  # hit | miss | quiet | false-alarm | setup
    shown: list[str] = field(default_factory=list)  # "check: kind" of each change shown
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.pair.id, "baseline": self.pair.baseline,
                "candidate": self.pair.candidate, "expect": self.pair.expect,
                "checks": list(self.pair.checks), "score": self.score, "shown": self.shown,
                **({"problem": self.problem} if self.problem else {})}


def load(path: Path = LIST) -> list[Pair]:
    """The pairs of ``path``; ``ValueError`` naming the pair and field that is wrong."""
    try:
        data = load_file(path)
    except YamlError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        raise ValueError(f"{path}: needs a `pairs:` list")
    pairs, seen = [], set()
    for n, item in enumerate(data["pairs"]):
        where = f"{path}: pairs[{n}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where} is not a mapping")
        where = f"{path}: {item.get('id', f'pairs[{n}]')}"
        for key in ("id", "baseline", "candidate", "changelog", "expect", "basis"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise ValueError(f"{where}: `{key}` must be a non-empty string")
        unknown = set(item) - {"id", "baseline", "candidate", "changelog", "expect", "basis",
                               "checks", "kind"}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if item["id"] in seen:
            raise ValueError(f"{where}: the id is used twice")
        seen.add(item["id"])
        if item["expect"] not in EXPECT:
            raise ValueError(f"{where}: `expect` is one of {', '.join(EXPECT)}")
        checks = item.get("checks", [])
        if item["expect"] == "change" and (not isinstance(checks, list) or not checks or not all(
                isinstance(c, str) for c in checks)):
            raise ValueError(f"{where}: a change pair names the `checks` it changes")
        if item["expect"] == "quiet" and (checks or item.get("kind") not in KINDS):
            raise ValueError(f"{where}: a quiet pair names no checks and has a `kind` "
                             f"({', '.join(KINDS)})")
        try:
            baseline, candidate = Pin.parse(item["baseline"]), Pin.parse(item["candidate"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if baseline.distribution != candidate.distribution or not (
                baseline.key < candidate.key):
            raise ValueError(f"{where}: the baseline and candidate are one SDK, the baseline "
                             "older")
        pairs.append(Pair(id=item["id"], baseline=item["baseline"],
                          candidate=item["candidate"], changelog=item["changelog"],
                          expect=item["expect"], basis=item["basis"], checks=tuple(checks),
                          kind=item.get("kind", "")))
    return pairs


def judge(pair: Pair, before: Results, after: Results) -> Outcome:
    """Score one pair from its two runs: labels (policy tables) never count, only changes."""
    changes = compare(before, after)
    shown = [f"{c.id}: {c.kind}" for c in changes]
    if pair.expect == "quiet":
        return Outcome(pair, "false-alarm" if changes else "quiet", shown)
    hit = any(c.id in pair.checks for c in changes)
    return Outcome(pair, "hit" if hit else "miss", shown)


def run(pairs: Sequence[Pair], run_version: RunVersion, root: Path,
        pytest_args: Sequence[str] = ()) -> list[Outcome]:
    outcomes = []
    for pair in pairs:
        baseline, candidate = Pin.parse(pair.baseline), Pin.parse(pair.candidate)
        where = root / pair.id
        try:
            before = run_version(baseline, where / f"baseline-{baseline.name}", pytest_args)
            after = run_version(candidate, where / f"candidate-{candidate.name}", pytest_args)
        except SetupError as exc:
            outcomes.append(Outcome(pair, "setup", problem=str(exc).splitlines()[0][:300]))
            continue
        outcomes.append(judge(pair, before, after))
        print(f"{pair.id}: {outcomes[-1].score} ({len(outcomes[-1].shown)} change(s))",
              flush=True)
    return outcomes


def totals(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Hits, misses and false alarms, per SDK and overall; setup failures counted apart."""
    def count(picked: Sequence[Outcome]) -> dict[str, Any]:
        n: dict[str, Any] = {s: sum(1 for o in picked if o.score == s)
                             for s in ("hit", "miss", "quiet", "false-alarm", "setup")}
        scored = n["hit"] + n["miss"]
        n["hit_rate"] = round(n["hit"] / scored, 3) if scored else None
        return n

    sdks = sorted({o.pair.sdk for o in outcomes})
    return {"all": count(outcomes),
            **{sdk: count([o for o in outcomes if o.pair.sdk == sdk]) for sdk in sdks}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=LIST)
    parser.add_argument("--only", action="append", metavar="ID", help="run these pairs only")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--env-dir", type=Path, default=None)
    parser.add_argument("--report-dir", type=Path, default=Path("conformance-report/history"))
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    pairs = load(args.list)
    if args.only:
        unknown = set(args.only) - {p.id for p in pairs}
        if unknown:
            print(f"gate_history: no pair {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        pairs = [p for p in pairs if p.id in args.only]
    runner = Runner(Environments(args.env_dir or default_root()))
    outcomes = run(pairs, runner, args.report_dir, args.pytest_args)
    report: dict[str, Any] = {
        "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
        "command": "python benchmarks/gate_history.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "pairs_listed": len(load(args.list)), "pairs_run": len(outcomes),
        "totals": totals(outcomes), "pairs": [o.as_dict() for o in outcomes],
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["totals"]["all"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
