"""The broken-SDK audit (issue 18): how many hidden broken builds of the JavaScript, Go and Java
SDKs the conformance run catches. Writes numbers; asserts nothing.

    python benchmarks/driver_mutants.py [--sdk go ...] [--only MUTANT_ID ...]
                                        [--out benchmarks/driver-mutants-results.json]

``--only`` reruns the named builds and puts their rows into the ``--out`` of the last audit
(its rates recomputed; ``rerun`` says which rows are newer).

The catalogue is ``tests/driver_mutants/catalogue.py``: each row one edit of the *installed
SDK's* code (never the driver's), in one of the issue's categories. For each SDK the script runs
``aoai-conformance run --sdk NAME`` once against the pinned build (the baseline), then once per
broken build, each in a process of its own with the driver pool handed that build (the way the
tests swap it: ``tests.driver_mutants.pool_start``). Builds happen one at a time: Go mutants
recompile openai-go with the shared Go build cache, and Go and Java mutants are kept in
``<cache>/mutants/``, so a second audit only runs the checks.

A broken build is *caught* when at least one check ``fail``s that did not fail on the baseline
(the pinned release's own known failures, such as the doc's Go Entra sample, catch nothing);
an ``error`` is never a catch. The JSON lists, per mutant, the catching check ids, the checks
that newly errored and the seconds spent; per SDK and per category the rate.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # tests.driver_mutants

from tests.driver_mutants import catalogue  # noqa: E402

OUT = HERE / "driver-mutants-results.json"
SDKS = ("javascript", "go", "java")
TARGET = 0.9  # issue 18: 90% or more caught
JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def _child(sdk: str, mutant_id: str, report_dir: Path, scratch: Path) -> int:
    """In a process of its own: run the SDK's checks with the pool handed one build."""
    from conformance import cli
    from conformance.drivers import build as driver_build
    from conformance.drivers import pool
    from tests import driver_mutants

    started = time.monotonic()
    built = (driver_build.build(sdk) if mutant_id == "baseline"
             else catalogue.by_id(mutant_id).build(scratch / "mutant"))
    if built.command[:1] == ("java",):  # the baseline and every build alike: C1 only, one GC
        # thread (a JVM's JIT is most of what a Java run spends on a shared machine)
        built = dataclasses.replace(built, command=("java", *JVM_FLAGS, *built.command[1:]))
    (report_dir / "build.json").parent.mkdir(parents=True, exist_ok=True)
    (report_dir / "build.json").write_text(json.dumps(
        {"build_s": round(time.monotonic() - started, 2)}), encoding="utf-8")
    setattr(pool, "start", driver_mutants.pool_start(built))  # noqa: B010 (a stand-in)
    return cli.main(["run", "--sdk", sdk, "--report-dir", str(report_dir)])


def _run(sdk: str, mutant_id: str, report_dir: Path) -> dict[str, Any]:
    """One run in a child process: the verdicts by check id, and its seconds."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutant-") as scratch:
        done = subprocess.run([sys.executable, __file__, "--child", sdk, mutant_id,
                               str(report_dir), scratch], capture_output=True, text=True,
                              cwd=ROOT, check=False)
    seconds = round(time.monotonic() - started, 1)
    results = report_dir / "results.json"
    if not results.exists():
        return {"setup": (done.stdout + done.stderr)[-2000:], "seconds": seconds}
    checks = json.loads(results.read_text(encoding="utf-8"))["checks"]
    build = json.loads((report_dir / "build.json").read_text(encoding="utf-8"))
    return {"verdicts": {c["id"]: c["verdict"] for c in checks if c.get("sdk") == sdk},
            "messages": {c["id"]: c.get("message", "") for c in checks if c.get("sdk") == sdk},
            "seconds": seconds, "build_s": build["build_s"]}


def _score(mutant: catalogue.Mutant, base: dict[str, str], run: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"id": mutant.id, "sdk": mutant.sdk, "category": mutant.category,
                           "sees": mutant.sees, "seconds": run["seconds"]}
    if "setup" in run:  # the build or the run did not happen: not scored
        return {**row, "caught": None, "setup": run["setup"]}
    verdicts = run["verdicts"]
    if verdicts and all(v == "error" for v in verdicts.values()):  # the build never started
        first = next(iter(run["messages"].values()), "")
        return {**row, "caught": None, "setup": first[:600]}
    caught_by = sorted(c for c, v in verdicts.items() if v == "fail" and base.get(c) != "fail")
    errors = sorted(c for c, v in verdicts.items() if v == "error" and base.get(c) != "error")
    return {**row, "caught": bool(caught_by), "caught_by": caught_by, "new_errors": errors,
            "build_s": run["build_s"],
            "messages": {c: run["messages"][c][:300] for c in caught_by + errors}}


def _rate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    scored = [r for r in rows if r["caught"] is not None]
    caught = sum(1 for r in scored if r["caught"])
    return {"caught": caught, "scored": len(scored),
            "rate": round(caught / len(scored), 3) if scored else None}


def audit(sdks: Sequence[str], only: Sequence[str], work: Path,
          out: Path | None = None) -> dict[str, Any]:
    """Run the audit; with ``out``, what is scored so far is written after every build (an
    audit stopped half-way keeps its rows)."""
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    baselines: dict[str, Any] = {}
    for sdk in sdks:
        chosen = [m for m in catalogue.CATALOGUE if m.sdk == sdk and (not only or m.id in only)]
        if not chosen:
            continue
        base = _run(sdk, "baseline", work / sdk / "baseline")
        if "setup" in base:
            raise SystemExit(f"the {sdk} baseline did not run:\n{base['setup']}")
        baselines[sdk] = {"seconds": base["seconds"],
                          "fails": sorted(c for c, v in base["verdicts"].items() if v == "fail"),
                          "errors": sorted(c for c, v in base["verdicts"].items()
                                           if v == "error")}
        for mutant in chosen:
            row = _score(mutant, base["verdicts"], _run(sdk, mutant.id, work / sdk / mutant.id))
            print(f"{mutant.id:45} {'caught' if row['caught'] else 'MISSED':7} "
                  f"{', '.join(row.get('caught_by') or []) or row.get('setup', '')[:200]} "
                  f"({row['seconds']} s)", flush=True)
            rows.append(row)
            if out is not None:
                _write(out, _summary(sdks, rows, baselines, round(time.monotonic() - started, 1)))
    return _summary(sdks, rows, baselines, round(time.monotonic() - started, 1))


def _summary(sdks: Sequence[str], rows: list[dict[str, Any]], baselines: dict[str, Any],
             seconds: float) -> dict[str, Any]:
    total = _rate(rows)
    return {
        "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "load_after": round(os.getloadavg()[0], 2)},
        "target": TARGET,
        "total": total,
        "met": total["rate"] is not None and total["rate"] >= TARGET,
        "by_sdk": {s: _rate([r for r in rows if r["sdk"] == s]) for s in sdks},
        "by_category": {c: _rate([r for r in rows if r["category"] == c])
                        for c in catalogue.CATEGORIES if any(r["category"] == c for r in rows)},
        "seconds": seconds,
        "baselines": baselines,
        "mutants": rows,
    }


def _write(out: Path, numbers: dict[str, Any]) -> None:
    out.write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")


def _merged(last: dict[str, Any], rerun: dict[str, Any]) -> dict[str, Any]:
    """The last audit with the rows (and baselines) of a partial rerun put in; the seconds
    are the last full audit's, the rerun's are kept apart."""
    fresh = {r["id"]: r for r in rerun["mutants"]}
    rows = [fresh.pop(r["id"], r) for r in last["mutants"]] + list(fresh.values())
    merged = _summary([s for s in SDKS if any(r["sdk"] == s for r in rows)], rows,
                      {**last["baselines"], **rerun["baselines"]}, last["seconds"])
    return {**merged, "rerun": {"measured": rerun["measured"], "ids": sorted(
        r["id"] for r in rerun["mutants"]), "seconds": rerun["seconds"]}}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        sdk, mutant_id, report_dir, scratch = args[1:5]
        return _child(sdk, mutant_id, Path(report_dir), Path(scratch))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdk", action="append", choices=SDKS)
    parser.add_argument("--only", action="append", default=[], metavar="MUTANT_ID")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--combine", nargs="+", type=Path, metavar="RESULTS",
                        help="write the union of audits run apart (later rows win) to --out")
    options = parser.parse_args(args)
    last = (json.loads(options.out.read_text(encoding="utf-8"))
            if options.only and options.out.exists() else None)
    if options.combine:  # audits run apart (one SDK each), put together
        parts = [json.loads(path.read_text(encoding="utf-8")) for path in options.combine]
        numbers = parts[0]
        for other in parts[1:]:
            numbers = _merged(numbers, other)
        numbers.pop("rerun", None)
        numbers["seconds"] = round(sum(part["seconds"] for part in parts), 1)
        numbers["combined"] = [{"measured": part["measured"], "seconds": part["seconds"],
                                "ids": [r["id"] for r in part["mutants"]]} for part in parts]
    else:
        with tempfile.TemporaryDirectory(prefix="driver-mutants-") as work:
            numbers = audit(options.sdk or SDKS, options.only, Path(work),
                            None if last else options.out)
    if last is not None:  # rerun rows replace theirs in the last audit
        numbers = _merged(last, numbers)
    _write(options.out, numbers)
    total = numbers["total"]
    print(f"caught {total['caught']} of {total['scored']} broken builds ({total['rate']}); "
          + "; ".join(f"{s} {r['caught']}/{r['scored']}" for s, r in numbers["by_sdk"].items())
          + f"; {numbers['seconds']} s; {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
