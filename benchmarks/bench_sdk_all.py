"""``aoai-conformance run --sdk all`` warm (the driver builds cached), the run people wait on
once every claim runs on every SDK: its wall and CPU time, what each SDK's checks took
(the sum of their durations, and the slowest), and how long each driver takes to start
(finding its build in the cache, then the process's hello).

    python benchmarks/bench_sdk_all.py [--repeat 3] [--out bench-results/sdk-all.json]
                                       [--source DIR] [-- EXTRA RUN ARGS]

``--source`` runs another checkout of the project (``git archive main | tar -x -C DIR``) with
this interpreter, for a before/after pair on the same machine at the same time; the runs of
each source are interleaved. The first run warms the driver cache and is not counted. Writes
numbers; asserts nothing (``python3 dev.py bench -- --only sdk_all`` puts them in the
README's Speed table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def spread(values: Sequence[float], digits: int = 2) -> dict[str, Any]:
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits),
            "n": len(values)}


def run_once(source: Path, report: Path, extra: Sequence[str]) -> dict[str, Any]:
    """One ``run --sdk all``: wall and CPU seconds (with every child: workers, drivers) and,
    from its results.json, each SDK's checks."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, "-m", "conformance", "run", "--sdk", "all",
               f"--report-dir={report}", *(["--", *extra] if extra else [])]
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=report.parent, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        output = out.read()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"run --sdk all exited {code}:\n{output[-3000:]}")
    data = json.loads((report / "results.json").read_text())
    per_sdk: dict[str, dict[str, Any]] = {}
    for check in data["checks"]:
        entry = per_sdk.setdefault(check["sdk"], {"checks": 0, "sum_s": 0.0, "slowest": []})
        entry["checks"] += 1
        entry["sum_s"] += check["duration_s"]
        entry["slowest"].append((check["duration_s"], check["id"]))
    for entry in per_sdk.values():
        entry["sum_s"] = round(entry["sum_s"], 2)
        entry["slowest"] = [{"id": i, "s": round(d, 2)}
                            for d, i in sorted(entry["slowest"], reverse=True)[:3]]
    verdicts: dict[str, int] = {}
    for check in data["checks"]:
        verdicts[check["verdict"]] = verdicts.get(check["verdict"], 0) + 1
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "load_1m": load,
            "distributed": "bringing up nodes" in output,  # xdist workers, or one process
            "verdicts": verdicts, "per_sdk": per_sdk}


def driver_starts(source: Path, repeat: int) -> dict[str, Any]:
    """Per driver SDK: finding its build in the cache, and its process's start to hello
    (seconds, ``repeat`` samples), in a child with ``source`` on the path."""
    code = f"""
import json, sys, time
from conformance.drivers.build import build, DriverUnavailable
out = {{}}
for sdk in ("javascript", "go", "java"):
    try:
        found, hello = [], []
        for _ in range({repeat}):
            begun = time.perf_counter()
            built = build(sdk, progress=lambda text: None)
            found.append(time.perf_counter() - begun)
            process = built.process(startup_timeout=180)
            begun = time.perf_counter()
            process.start()
            hello.append(time.perf_counter() - begun)
            process.close()
        out[sdk] = {{"cache_s": found, "hello_s": hello}}
    except DriverUnavailable as exc:
        out[sdk] = {{"unavailable": str(exc)}}
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(source)}, check=True)
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return {sdk: ({"cache_s": spread(v["cache_s"], 3), "hello_s": spread(v["hello_s"], 3)}
                  if "hello_s" in v else v) for sdk, v in raw.items()}


def measure(repeat: int, sources: dict[str, Path], extra: Sequence[str] = ()
            ) -> dict[str, Any]:
    """Each source's warm ``run --sdk all``, ``repeat`` times, interleaved (after one
    uncounted run each), and its drivers' start times."""
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    with tempfile.TemporaryDirectory(prefix="bench-sdk-all-") as scratch:
        for n in range(repeat + 1):
            for k, (name, source) in enumerate(sources.items()):
                report = Path(scratch) / f"source{k}-{n}" / "report"
                report.parent.mkdir(parents=True)
                sample = run_once(source, report, extra)
                print(f"bench: sdk_all {name} #{n}: {sample['wall_s']:.1f} s wall, "
                      f"{sample['cpu_s']:.1f} s CPU, load {sample['load_1m']:.1f}",
                      file=sys.stderr, flush=True)
                if n:
                    samples[name].append(sample)
    out: dict[str, Any] = {}
    for name, runs in samples.items():
        sdks = runs[-1]["per_sdk"]
        out[name] = {
            "wall_s": spread([r["wall_s"] for r in runs]),
            "cpu_s": spread([r["cpu_s"] for r in runs]),
            "load_1m": spread([r["load_1m"] for r in runs]),
            "distributed": runs[-1]["distributed"],
            "verdicts": runs[-1]["verdicts"],
            "per_sdk": {sdk: {"checks": sdks[sdk]["checks"],
                              "sum_s": spread([r["per_sdk"][sdk]["sum_s"] for r in runs]),
                              "slowest": sdks[sdk]["slowest"]} for sdk in sdks},
            "driver_starts": driver_starts(sources[name], max(repeat, 3)),
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", type=Path, action="append", default=[],
                        help="another checkout to time beside this one (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("bench-results/sdk-all.json"))
    parser.add_argument("extra", nargs="*", help="pytest arguments for the run, after --")
    args = parser.parse_args(argv)
    sources = {"this": ROOT, **{str(p): p.resolve() for p in args.source}}
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(terse=True)},
        "sdk_all": measure(args.repeat, sources, args.extra),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
