"""Score the gate on real adjacent SDK release pairs (benchmarks/gate-history.yaml): for each
pair, run the gate's two sides (each pin in an environment of its own, as ``aoai-conformance
gate`` does), diff them, and score it: a pair whose changelog changes something on the doc's
paths is a hit when a change shows on one of its named checks, else a miss; a quiet or near-miss
pair shown with any change is a false alarm. Writes numbers; asserts nothing.

    python benchmarks/gate_history.py [--only ID ...] [--out FILE] [--env-dir DIR] [--merge]
                                      [--rejudge] [-- PYTEST_ARG ...]

A pair whose environment cannot be built is ``setup`` (not scored), never a miss. The results
file is written after every pair; ``--merge`` keeps the pairs of an earlier file this run does
not run (the command and date of each run stay listed); ``--rejudge`` scores again from the
results each side wrote into the report directory, running nothing (after a change to the
diff's normaliser).
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

from conformance.environments import (
    Environments,
    Pin,
    Runner,
    SetupError,
    about,
    default_root,
)
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
    def distribution(self) -> str:
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


def saved(pin: Pin, report_dir: Path, pytest_args: Sequence[str] = ()) -> Results:
    """A side's results as an earlier run wrote them (``--rejudge``)."""
    found = report_dir / "results.json"
    if not found.exists():
        raise SetupError(f"no results of {pin} in {report_dir}")
    results = Results.load(found)
    return about(pin, results) if pin.driver else results


def run(pairs: Sequence[Pair], run_version: RunVersion, root: Path,
        pytest_args: Sequence[str] = (),
        done: Callable[[list[Outcome]], None] | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for pair in pairs:
        baseline, candidate = Pin.parse(pair.baseline), Pin.parse(pair.candidate)
        where = root / pair.id
        try:
            before = run_version(baseline, where / f"baseline-{baseline.name}", pytest_args)
            after = run_version(candidate, where / f"candidate-{candidate.name}", pytest_args)
        except SetupError as exc:
            outcomes.append(Outcome(pair, "setup", problem=str(exc).splitlines()[0][:300]))
        else:
            outcomes.append(judge(pair, before, after))
        print(f"{pair.id}: {outcomes[-1].score} ({len(outcomes[-1].shown)} change(s))",
              flush=True)
        if done is not None:
            done(outcomes)
    return outcomes


def totals(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Hits, misses and false alarms, per SDK and overall; setup failures counted apart."""
    def count(picked: Sequence[Outcome]) -> dict[str, Any]:
        n: dict[str, Any] = {s: sum(1 for o in picked if o.score == s)
                             for s in ("hit", "miss", "quiet", "false-alarm", "setup")}
        scored = n["hit"] + n["miss"]
        n["hit_rate"] = round(n["hit"] / scored, 3) if scored else None
        return n

    distributions = sorted({o.pair.distribution for o in outcomes})
    return {"all": count(outcomes),
            **{d: count([o for o in outcomes if o.pair.distribution == d]) for d in distributions}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=LIST)
    parser.add_argument("--only", action="append", metavar="ID", help="run these pairs only")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--env-dir", type=Path, default=None)
    parser.add_argument("--report-dir", type=Path, default=Path("conformance-report/history"))
    parser.add_argument("--merge", action="store_true",
                        help="keep the pairs of the --out file this run does not run")
    parser.add_argument("--rejudge", action="store_true",
                        help="score from the results saved in --report-dir; run nothing")
    parser.add_argument("--note", default="", help="said next to this run's command")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    pairs = load(args.list)
    if args.only:
        unknown = set(args.only) - {p.id for p in pairs}
        if unknown:
            print(f"gate_history: no pair {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        pairs = [p for p in pairs if p.id in args.only]
    listed = load(args.list)
    earlier = _earlier(args.out, {p.id for p in pairs}, listed) if args.merge else ([], [])
    command = "python benchmarks/gate_history.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    runs = [*earlier[1], {"measured": now, "command": command,
                          **({"note": args.note} if args.note else {})}]

    def write(outcomes: list[Outcome]) -> None:
        kept = [o for o in earlier[0] if o.pair.id not in {d.pair.id for d in outcomes}]
        every = sorted([*kept, *outcomes], key=lambda o: [p.id for p in listed].index(
            o.pair.id))
        report: dict[str, Any] = {
            "runs": runs, "pairs_listed": len(listed), "pairs_run": len(every),
            "totals": totals(every), "pairs": [o.as_dict() for o in every],
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    if args.rejudge:
        outcomes = run(pairs, saved, args.report_dir, done=write)
    else:
        runner = Runner(Environments(args.env_dir or default_root()))
        outcomes = run(pairs, runner, args.report_dir, args.pytest_args, done=write)
    write(outcomes)
    print(json.dumps(totals(outcomes)["all"]))
    return 0


def _earlier(path: Path, rerun: set[str],
             listed: Sequence[Pair]) -> tuple[list[Outcome], list[dict[str, str]]]:
    """The outcomes of ``path`` for pairs still listed and not run again, and its runs."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [], []
    by_id = {p.id: p for p in listed}
    kept = [Outcome(by_id[d["id"]], d["score"], list(d.get("shown", [])), d.get("problem", ""))
            for d in data.get("pairs", []) if d.get("id") in by_id and d["id"] not in rerun]
    runs = [r for r in data.get("runs", []) if isinstance(r, dict)]
    return kept, runs


if __name__ == "__main__":
    sys.exit(main())
