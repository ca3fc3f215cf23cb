"""What the pytest11 plugin costs a pytest session that runs no check: import time and modules.

    python benchmarks/bench_plugin_load.py [--repeat 7] [--out bench-results/plugin-load.json]

Each sample is a fresh interpreter: ``import pytest`` alone (the floor), then ``import pytest,
conformance.pytest_plugin``, and, for scale, the modules a run of checks imports (wire server,
harness, drivers, reports). It also times a whole user session (one trivial test) with the
plugin and with ``-p no:conformance``. Writes numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("vcr", "openai", "httpx", "httpx2", "azure.core", "conformance.wire",
         "conformance.drivers", "conformance.harness", "conformance.reports")
IMPORTS = {
    "floor: import pytest": "import pytest",
    "import pytest, conformance.pytest_plugin": "import pytest, conformance.pytest_plugin",
    "for scale: what a run of checks imports": (
        "import pytest, conformance.pytest_plugin, conformance.harness, conformance.target, "
        "conformance.drivers.pool, conformance.reports, openai"),
}


def _seconds(command: list[str], cwd: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - started


def _summary(samples: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(samples), 4), "min_s": round(min(samples), 4),
            "max_s": round(max(samples), 4), "n": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench-results/plugin-load.json"))
    options = parser.parse_args()

    result: dict[str, object] = {
        "python": platform.python_version(), "platform": platform.platform(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    imports = {}
    for label, code in IMPORTS.items():
        samples = [_seconds([sys.executable, "-c", code]) for _ in range(options.repeat)]
        imports[label] = _summary(samples)
    result["imports"] = imports
    # CPU time of the plugin's import after pytest's, in process: steadier than wall time on a
    # shared machine.
    cpu = ("import pytest, time; started = time.process_time(); import conformance.pytest_plugin; "
           "print(time.process_time() - started)")
    result["plugin_import_cpu_after_pytest"] = _summary([
        float(subprocess.run([sys.executable, "-c", cpu], check=True, capture_output=True,
                             text=True).stdout) for _ in range(options.repeat)])
    probe = ("import sys, json, conformance.pytest_plugin; "
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                            text=True).stdout
    result["heavy_modules_imported_by_the_plugin"] = json.loads(loaded)

    with tempfile.TemporaryDirectory() as project:
        Path(project, "test_user.py").write_text("def test_one():\n    assert True\n")
        session = {}
        for label, extra in (("with the plugin", []),
                             ("-p no:conformance", ["-p", "no:conformance"])):
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
            session[label] = _summary([_seconds(command, cwd=project)
                                       for _ in range(options.repeat)])
        result["user_session_one_test"] = session

    floor = imports["floor: import pytest"]["median_s"]
    plugin = imports["import pytest, conformance.pytest_plugin"]["median_s"]
    result["plugin_import_over_floor_s"] = round(plugin - floor, 4)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
