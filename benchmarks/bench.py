"""The runs people wait on, measured side by side: ``nox -s bench`` (``python3 dev.py bench``).

    python benchmarks/bench.py [--repeat 3] [--only NAME ...] [--skip NAME ...]

Each measurement runs ``--repeat`` times (the test suite and the gate fewer, see REPEATS) and
reports the median and the spread (min-max). Figures that share a machine are taken in the
same run, interleaved, and reported as ratios (the offline run against its import floor), so
they survive a machine shared with other work. Writes ``benchmarks/results.json``,
``benchmarks/results.md`` and the table in the README's Speed section (between its
``bench:`` markers); with ``--only``/``--skip`` the measurements not taken keep their
previous figures. Asserts nothing: the Status column says whether a target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks.*, tests.fake_resource from a fresh clone

from benchmarks import bench_table  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
TABLE = ROOT / "benchmarks" / "results.md"
README = ROOT / "README.md"
# The gate pins (the last httpx-based 2.x and the pinned default) and bisect's check.
GATE_PINS = ("openai==2.54.0", "openai==3.57.0")
BISECT_CHECK = "chat.response-contract"
REPEATS = {"suite": 1, "gate": 2}  # minutes each; --repeat caps them too

Sample = dict[str, Any]
LAST_CPU_S = [0.0]


def timed(command: Sequence[str], env: dict[str, str] | None = None,
          cwd: Path | None = None) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Wall seconds and peak RSS (KiB, the process itself) of one command; its CPU seconds
    (with the children it waited for) in ``LAST_CPU_S``."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=out, stderr=err, text=True,
                                   env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        LAST_CPU_S[0] = usage.ru_utime + usage.ru_stime
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(list(command), process.returncode, out.read(),
                                           err.read())
    return wall, int(usage.ru_maxrss), done


def spread(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits),
            "n": len(values)}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, min(len(sorted_values), round(q * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


# -- the offline Python run against its floor, and per-check time ---------------------------

FLOOR = "import openai, pytest, conformance.pytest_plugin"


def offline(repeat: int) -> Sample:
    """``aoai-conformance run`` (every check, replay) against its floor: the same interpreter
    importing the SDK, pytest and the runner and doing nothing else. Interleaved."""
    floors, runs, floor_rss, run_rss, per_check = [], [], [], [], {}
    floor_cpu, run_cpu = [], []  # CPU seconds: steadier than wall time on a shared machine
    phases: dict[str, list[float]] = {"before_session_s": [], "checks_s": [],
                                      "session_rest_s": []}
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            # From an empty folder, as a user runs it: pytest would otherwise pick up this
            # repository's tests/conftest.py.
            wall, rss, done = timed([sys.executable, "-c", FLOOR], cwd=Path(tmp))
            _ok(done)
            floors.append(wall)
            floor_cpu.append(LAST_CPU_S[0])
            floor_rss.append(rss / 1024)
            report = Path(tmp) / "run"
            wall, rss, done = timed([sys.executable, "-m", "conformance", "run",
                                     f"--report-dir={report}"], cwd=Path(tmp))
            _ok(done, (0, 1))
            runs.append(wall)
            run_cpu.append(LAST_CPU_S[0])
            run_rss.append(rss / 1024)
            data = json.loads((report / "results.json").read_text())
            checks = len(data["checks"])
            for check in data["checks"]:
                per_check.setdefault(check["id"], []).append(check["duration_s"])
            # Where the wall time goes: before pytest's session (the command, pytest's start),
            # the checks, and the rest of the session (collection, the SDK's import, reports).
            in_checks = sum(check["duration_s"] for check in data["checks"])
            phases["before_session_s"].append(wall - data["duration_s"])
            phases["checks_s"].append(in_checks)
            phases["session_rest_s"].append(data["duration_s"] - in_checks)
        cached = _offline_with_bytecode(repeat, Path(tmp))
    medians = sorted(((statistics.median(v), k) for k, v in per_check.items()), reverse=True)
    ordered = sorted(m for m, _ in medians)
    ratios = [r / f for r, f in zip(runs, floors, strict=True)]
    return {
        "bytecode": cached,
        "checks": checks,
        "floor_s": spread(floors), "run_s": spread(runs), "ratio": spread(ratios, 2),
        "floor_rss_mib": spread(floor_rss, 1), "run_rss_mib": spread(run_rss, 1),
        "floor_cpu_s": spread(floor_cpu), "run_cpu_s": spread(run_cpu),
        "cpu_ratio": spread([r / f for r, f in zip(run_cpu, floor_cpu, strict=True)], 2),
        "phases": {name: spread(values) for name, values in phases.items()},
        "per_check_ms": {
            "p50": round(percentile(ordered, 0.50) * 1000, 1),
            "p95": round(percentile(ordered, 0.95) * 1000, 1),
            "max": round(ordered[-1] * 1000, 1),
            "slowest": [{"id": k, "ms": round(m * 1000, 1)} for m, k in medians[:10]],
        },
    }


def _offline_with_bytecode(repeat: int, tmp: Path) -> Sample:
    """The same pair with bytecode caches written and read (``PYTHONPYCACHEPREFIX``, as a
    normal interpreter and a pip install have them; ``PYTHONDONTWRITEBYTECODE`` may be set
    where this runs): both sides import faster, so the ratio is the higher one."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    report = f"--report-dir={tmp / 'cached'}"
    floors, runs = [], []
    for n in range(repeat + 1):  # the first writes the caches
        floor, _, done = timed([sys.executable, "-c", FLOOR], env=env, cwd=tmp)
        _ok(done)
        wall, _, done = timed([sys.executable, "-m", "conformance", "run", report], env=env,
                              cwd=tmp)
        _ok(done, (0, 1))
        if n:
            floors.append(floor)
            runs.append(wall)
    return {"floor_s": spread(floors), "run_s": spread(runs),
            "ratio": spread([r / f for r, f in zip(runs, floors, strict=True)], 2)}


# -- the wire server ------------------------------------------------------------------------

def wire(repeat: int) -> Sample:
    from benchmarks.bench_wire import replay_latency

    out: Sample = {}
    for kind, cassette in (("json", "chat/completion.yaml"),
                           ("sse", "streaming/chat-buffered.yaml")):
        samples = [replay_latency(cassette, 300) for _ in range(repeat)]
        out[kind] = {key: spread([s[key] for s in samples], 1 if key == "rps" else 3)
                     for key in ("rps", "p50_ms", "p99_ms")}
    return out


# -- hypothesis -----------------------------------------------------------------------------

EXAMPLES = re.compile(r"(\d+) passing(?: examples?)?, (\d+) failing(?: examples?)?,(?: and)? "
                      r"(\d+) invalid")
PHASE = re.compile(r"during (?:generate|reuse|explicit) phase \(([\d.]+) seconds\)")


def fuzz(repeat: int) -> Sample:
    """The fuzz tests under the ``ci`` profile: examples per second of the phases that run
    examples (hypothesis' own statistics), and the wall time of the whole pytest run."""
    rates, walls, examples = [], [], 0
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    for _ in range(repeat):
        wall, _, done = timed([sys.executable, "-m", "pytest", "-m", "fuzz", "-q",
                               "-p", "no:cacheprovider", "-p", "no:xdist",
                               "--hypothesis-show-statistics"], env=env, cwd=ROOT)
        _ok(done)
        examples = sum(int(m.group(1)) + int(m.group(3)) for m in EXAMPLES.finditer(done.stdout))
        seconds = sum(float(s) for s in PHASE.findall(done.stdout))
        rates.append(examples / seconds if seconds else 0.0)
        walls.append(wall)
    return {"examples": examples, "examples_per_s": spread(rates, 1), "wall_s": spread(walls)}


# -- gate and bisect ------------------------------------------------------------------------

def gate(repeat: int) -> Sample:
    """``aoai-conformance gate`` over GATE_PINS with their environments already built (one
    untimed gate warms them, in a cache under the system temp dir that later runs reuse)."""
    cache = Path(tempfile.gettempdir()) / "aoai-conformance-bench-envs"
    baseline, candidate = GATE_PINS
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "conformance", "gate", "--baseline", baseline,
                   "--candidate", candidate, f"--env-dir={cache}", f"--report-dir={tmp}"]
        cold, _, done = timed(command)
        _ok(done, (0, 1))
        for _ in range(repeat):
            wall, _, done = timed(command)
            _ok(done, (0, 1))
            walls.append(wall)
    return {"pins": list(GATE_PINS), "first_s": round(cold, 3), "warm_s": spread(walls)}


def bisect(repeat: int) -> Sample:
    """bisect over ten releases with a stand-in runner: each probe is a real offline run of
    the check under the installed SDK, whose verdict the stand-in flips from the seventh
    release on. It measures the search and the runs, not environment builds (see gate)."""
    from conformance import bisection
    from conformance.environments import Pin
    from conformance.registry import Verdict
    from conformance.results import Results

    versions = [f"9.{n}.0" for n in range(10)]
    changed = versions[6]
    walls, probes = [], 0
    with tempfile.TemporaryDirectory() as tmp:

        def run_version(pin: Pin, report_dir: Path, pytest_args: Sequence[str]) -> Results:
            done = subprocess.run([sys.executable, "-m", "conformance", "run",
                                   f"--report-dir={report_dir}", f"--check={BISECT_CHECK}"],
                                  capture_output=True, text=True)
            _ok(done, (0, 1))
            results = Results.load(report_dir / "results.json")
            if pin.key >= Pin("openai", changed).key:
                for check in results.checks:
                    check.verdict = Verdict.FAIL
            return results

        for n in range(repeat):
            args = argparse.Namespace(check=BISECT_CHECK, good=f"openai=={versions[0]}",
                                      bad=f"openai=={versions[-1]}", report_dir=f"{tmp}/{n}",
                                      pytest_args=[], env_dir=None)
            start = time.perf_counter()
            with open(os.devnull, "w") as quiet:
                saved = sys.stdout, sys.stderr
                sys.stdout = sys.stderr = quiet
                try:
                    status = bisection.run(args, run_version, versions)
                finally:
                    sys.stdout, sys.stderr = saved
            walls.append(time.perf_counter() - start)
            if status != bisection.EXIT_FOUND:
                raise RuntimeError(f"bisect did not find the change (exit {status})")
            probes = len(list(Path(tmp, str(n)).iterdir()))
    return {"releases": len(versions), "runner": "stand-in (real run, installed SDK)",
            "runs": probes, "wall_s": spread(walls)}


# -- the live smoke -------------------------------------------------------------------------

def live(repeat: int) -> Sample:
    from benchmarks.bench_live import smoke

    samples = [smoke() for _ in range(repeat)]
    last = samples[-1]
    every = smoke(("all",))  # the four SDKs in one run: tokens, not time
    return {"requests": last["requests"], "tokens": last["tokens"],
            "not_passed": last["not_passed"],
            "by_feature": last["by_feature"], "wall_s": spread([s["wall_s"] for s in samples]),
            "all_sdks": {"requests": every["requests"], "tokens": every["tokens"],
                         "not_passed": every["not_passed"], "by_feature": every["by_feature"]}}


# -- the project's own tests ----------------------------------------------------------------

def suite(repeat: int) -> Sample:
    """``pytest`` as ``python3 dev.py test`` runs it (noxfile.py's ``tests``): one xdist worker
    per core, every test but the registry ones with nothing but loopback (``unshare -rn``,
    where this machine allows it), then the registry ones. Failing tests are counted, not
    hidden (the summary lines are kept)."""
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    workers = ["-n", "auto", "--dist", "loadgroup"]
    loopback = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    steps = ([[*loopback, *pytest, *workers, "-m", "not network"], [*pytest, "-m", "network"]]
             if _loopback_only_works() else [[*pytest, *workers]])
    walls, cpus, summaries, failing = [], [], [], set()
    passed = failed = 0
    for _ in range(repeat):
        wall = cpu = 0.0
        passed = failed = 0
        summaries = []
        for command in steps:
            took, _, done = timed(command, cwd=ROOT)
            _ok(done, (0, 1, 5))  # 5: no registry test selected
            wall += took
            cpu += LAST_CPU_S[0]
            summary = done.stdout.strip().splitlines()[-1].strip("= ")
            summaries.append(summary)
            passed += int(m.group(1)) if (m := re.search(r"(\d+) passed", summary)) else 0
            failed += int(m.group(1)) if (m := re.search(r"(\d+) failed", summary)) else 0
            failing |= {line.split(" - ")[0].removeprefix("FAILED ").removeprefix("ERROR ")
                        for line in done.stdout.splitlines()
                        if line.startswith(("FAILED tests/", "ERROR tests/"))}
        walls.append(wall)
        cpus.append(cpu)
    return {"tests": passed, "failed": failed, "failing": sorted(failing),
            "summary": "; ".join(summaries), "loopback_only": len(steps) == 2,
            "workers": os.cpu_count(), "wall_s": spread(walls), "cpu_s": spread(cpus)}


def _loopback_only_works() -> bool:
    """Whether an unprivileged process may make a loopback-only namespace here."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up"],
                          capture_output=True).returncode == 0


# -- the cross-SDK run (when it exists) -----------------------------------------------------

def cross_sdk(repeat: int) -> Sample:
    """``aoai-conformance run --sdk NAME`` per SDK and for all: the first sample builds the
    driver if its cache is empty (cold), the others are warm."""
    from conformance.sdks import names

    sdks = list(names())
    out: Sample = {"available": True, "sdks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for sdk in [*sdks, "all"]:
            walls = []
            for n in range(repeat + 1):  # the first builds the driver: cold
                wall, _, result = timed([sys.executable, "-m", "conformance", "run",
                                         f"--sdk={sdk}", f"--report-dir={tmp}/{sdk}-{n}"])
                walls.append(wall if result.returncode in (0, 1) else float("nan"))
            out["sdks"][sdk] = {"cold_s": round(walls[0], 3), "warm_s": spread(walls[1:])}
    return out


def sdk_all(repeat: int) -> Sample:
    """``run --sdk all`` warm: wall and CPU time, each SDK's sum of check durations, the
    drivers' start times (benchmarks/bench_sdk_all.py)."""
    from benchmarks.bench_sdk_all import measure

    sample: Sample = measure(repeat, {"this": ROOT})["this"]
    return sample


MEASUREMENTS: dict[str, Callable[[int], Sample]] = {
    "offline": offline, "wire": wire, "fuzz": fuzz, "gate": gate, "bisect": bisect,
    "live": live, "suite": suite, "cross_sdk": cross_sdk, "sdk_all": sdk_all,
}


def _ok(done: subprocess.CompletedProcess[str], codes: Sequence[int] = (0,)) -> None:
    if done.returncode not in codes:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"{' '.join(done.args[:4])} exited {done.returncode}:\n{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="samples per measurement")
    parser.add_argument("--only", action="append", choices=sorted(MEASUREMENTS), default=[])
    parser.add_argument("--skip", action="append", choices=sorted(MEASUREMENTS), default=[])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    measured = dict(previous.get("measurements", {}))
    for name, measure in MEASUREMENTS.items():
        if name in args.skip or (args.only and name not in args.only):
            continue
        repeat = min(args.repeat, REPEATS.get(name, args.repeat))
        print(f"bench: {name} x{repeat}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        measured[name] = measure(repeat)
        print(f"bench: {name} took {time.perf_counter() - start:.1f} s", file=sys.stderr,
              flush=True)
    from conformance.sdk import installed

    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(terse=True), "sdk": str(installed()),
                    "load_1m": round(os.getloadavg()[0], 2)},
        "measurements": {k: measured[k] for k in MEASUREMENTS if k in measured},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    table = bench_table.render(data)
    if args.out == RESULTS:
        TABLE.write_text(table)
        README.write_text(bench_table.quote(README.read_text(), table))
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
