"""The Markdown table of ``benchmarks/results.json`` (``results.md`` and the README's Speed
section), with each figure's target and whether it is met."""

from __future__ import annotations

from typing import Any

START = "<!-- bench:start (python3 dev.py bench writes this table) -->"
END = "<!-- bench:end -->"
TARGETS = {
    "offline_ratio": 3.0,  # the offline run <= 3x its floor
    "check_max_ms": 250.0,  # no check over 250 ms
    "gate_warm_s": 60.0,
    "live_tokens": 2000,
    "live_all_tokens": 8000,  # --sdk all
    "suite_s": 120.0,
    "sdk_all_s": 60.0,  # run --sdk all, warm
}


def _spread(s: dict[str, Any], unit: str = "") -> str:
    if s["n"] == 1:
        return f"{s['median']:g}{unit}"
    return f"{s['median']:g}{unit} ({s['min']:g}-{s['max']:g}, n={s['n']})"


def _status(value: float, target: float) -> str:
    return "met" if value <= target else "**missed**"


def rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measurement, median (min-max, n), target, status) per figure."""
    m = data["measurements"]
    out: list[tuple[str, str, str, str]] = []
    if "offline" in m:
        o = m["offline"]
        out += [
            (f"Offline Python run, {o['checks']} checks: wall / floor", _spread(o["ratio"], "x"),
             f"≤ {TARGETS['offline_ratio']:g}x", _status(o["ratio"]["median"],
                                                         TARGETS["offline_ratio"])),
            ("… the run's wall time", _spread(o["run_s"], " s"), "", ""),
            ("… its floor (python + import openai, pytest, the runner)",
             _spread(o["floor_s"], " s"), "", ""),
            *([("… with bytecode caches written (as a pip install has them): run / floor",
                f"{_spread(o['bytecode']['ratio'], 'x')}; {o['bytecode']['run_s']['median']:g}"
                f" / {o['bytecode']['floor_s']['median']:g} s", "", "")]
              if "bytecode" in o else []),
            *([("… CPU time, run / floor (steadier when the machine is shared)",
                f"{_spread(o['cpu_ratio'], 'x')}; {o['run_cpu_s']['median']:g} / "
                f"{o['floor_cpu_s']['median']:g} s", "", "")] if "cpu_ratio" in o else []),
            *([("… where the wall time goes: before pytest's session / the checks / the rest "
                "of the session (collection, the SDK's import, reports)",
                " / ".join(f"{o['phases'][k]['median']:g}" for k in
                           ("before_session_s", "checks_s", "session_rest_s")) + " s", "", "")]
              if "phases" in o else []),
            ("… peak RSS, run / floor", f"{o['run_rss_mib']['median']:g} / "
             f"{o['floor_rss_mib']['median']:g} MiB", "", ""),
            ("Per check p50 / p95 / max", f"{o['per_check_ms']['p50']:g} / "
             f"{o['per_check_ms']['p95']:g} / {o['per_check_ms']['max']:g} ms",
             f"max ≤ {TARGETS['check_max_ms']:g} ms",
             _status(o["per_check_ms"]["max"], TARGETS["check_max_ms"])),
            ("… slowest", ", ".join(f"{s['id']} {s['ms']:g}"
                                    for s in o["per_check_ms"]["slowest"][:3]) + " ms", "", ""),
        ]
    if "wire" in m:
        for kind in ("json", "sse"):
            w = m["wire"][kind]
            out.append((f"Wire server, {kind.upper()} replay: requests/s; p50 / p99",
                        f"{_spread(w['rps'])}; {w['p50_ms']['median']:g} / "
                        f"{w['p99_ms']['median']:g} ms", "", ""))
    if "fuzz" in m:
        f = m["fuzz"]
        out.append((f"Hypothesis fuzzing, ci profile ({f['examples']} examples): examples/s",
                    _spread(f["examples_per_s"]), "", ""))
    if "gate" in m:
        g = m["gate"]
        out.append((f"Gate {' vs '.join(g['pins'])}, warm environments",
                    _spread(g["warm_s"], " s") + f"; first {g['first_s']:g} s",
                    f"≤ {TARGETS['gate_warm_s']:g} s",
                    _status(g["warm_s"]["median"], TARGETS["gate_warm_s"])))
    if "bisect" in m:
        b = m["bisect"]
        out.append((f"Bisect over {b['releases']} releases, {b['runs']} runs ({b['runner']})",
                    _spread(b["wall_s"], " s"), "", ""))
    if "live" in m:
        live = m["live"]
        failed = live.get("not_passed", [])
        out.append(("Full live smoke on the stand-in resource: requests; tokens",
                    f"{live['requests']}; {live['tokens']}"
                    + (f" ({len(failed)} checks did not pass: a lower bound)" if failed else ""),
                    f"≤ {TARGETS['live_tokens']:,} tokens",
                    _status(live["tokens"], TARGETS["live_tokens"])))
        every = live.get("all_sdks")
        if every:
            failed = every.get("not_passed", [])
            out.append(("… with --sdk all (four SDKs): requests; tokens",
                        f"{every['requests']}; {every['tokens']}"
                        + (f" ({len(failed)} checks did not pass: a lower bound)"
                           if failed else ""),
                        f"≤ {TARGETS['live_all_tokens']:,} tokens",
                        _status(every["tokens"], TARGETS["live_all_tokens"])))
    if "suite" in m:
        s = m["suite"]
        failed = f", {s['failed']} failed" if s.get("failed") else ""
        where = ("; as `dev.py test`: loopback only, then the registry ones"
                 if s.get("loopback_only") else "")
        out.append((f"The project's tests ({s['tests']} passed{failed}, {s['workers']} cores"
                    f"{where})",
                    _spread(s["wall_s"], " s"), f"≤ {TARGETS['suite_s']:g} s",
                    _status(s["wall_s"]["median"], TARGETS["suite_s"])))
        if "cpu_s" in s:
            out.append(("… its CPU time (all workers), and that over the cores",
                        f"{s['cpu_s']['median']:g} s; {s['cpu_s']['median'] / s['workers']:.0f} s",
                        "", ""))
    if "cross_sdk" in m:
        c = m["cross_sdk"]
        if not c["available"]:
            out.append(("Cross-SDK offline run (per SDK, all)", c["note"], "all ≤ 60 s warm",
                        "n/a"))
        else:
            for sdk, figures in c["sdks"].items():
                out.append((f"Offline run --sdk {sdk}: warm (first run, builds an uncached driver)",
                            _spread(figures["warm_s"], " s") + f" ({figures['cold_s']:g} s)",
                            "≤ 60 s" if sdk == "all" else "",
                            _status(figures["warm_s"]["median"], 60.0) if sdk == "all"
                            else ""))
    if "sdk_all" in m:
        a = m["sdk_all"]
        mode = "one xdist worker per SDK" if a.get("distributed") else "one process"
        out.append((f"run --sdk all, warm ({mode}): wall; CPU (all processes)",
                    _spread(a["wall_s"], " s") + f"; {a['cpu_s']['median']:g} s",
                    f"≤ {TARGETS['sdk_all_s']:g} s",
                    _status(a["wall_s"]["median"], TARGETS["sdk_all_s"])))
        out.append(("… sum of check durations per SDK (checks)", ", ".join(
            f"{sdk} {v['sum_s']['median']:g} s ({v['checks']})"
            for sdk, v in a["per_sdk"].items()), "", ""))
        starts = a.get("driver_starts", {})
        out.append(("… driver start: cache check + hello", ", ".join(
            f"{sdk} {v['cache_s']['median']:g} + {v['hello_s']['median']:g} s"
            for sdk, v in starts.items() if "hello_s" in v), "", ""))
        out.append(("… load average during the runs", _spread(a["load_1m"]), "", ""))
    return out


def render(data: dict[str, Any]) -> str:
    machine = data["machine"]
    lines = [
        f"Measured {data['when']} on {machine['cpus']} cores ({machine['platform']}, Python "
        f"{machine['python']}, {machine['sdk']}; load {machine['load_1m']:g} when done). "
        "Median (min-max, n samples); the machine was shared, so ratios are the steadier "
        "figures.",
        "",
        "| Measurement | Median (spread) | Target | Status |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(data)],
    ]
    return "\n".join(lines) + "\n"


def quote(readme: str, table: str) -> str:
    """``readme`` with the text between the bench markers replaced by ``table``."""
    head, found, rest = readme.partition(START)
    if not found:
        raise ValueError(f"README.md has no {START!r} marker")
    _, found, tail = rest.partition(END)
    if not found:
        raise ValueError(f"README.md has no {END!r} marker")
    return f"{head}{START}\n{table}{END}{tail}"


def quoted(readme: str) -> str:
    """The table the README quotes."""
    return readme.partition(START)[2].partition(END)[0].lstrip("\n")
