"""A full live smoke against the stand-in resource (tests/fake_resource.py): every live check,
through ``aoai-conformance run --endpoint``, with the stand-in's deployments named its own way
(as tests/test_live_smoke.py does). What it sent and spent comes from results.json (the
stand-in's usage fields, honouring the output cap).

    python benchmarks/bench_live.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance import paths  # noqa: E402
from conformance.wire import WireServer  # noqa: E402
from tests.fake_resource import FakeResource  # noqa: E402
from tests.test_live_smoke import KEY, THEIRS  # noqa: E402


def smoke(sdks: tuple[str, ...] = ()) -> dict[str, Any]:
    fake = FakeResource(KEY, paths.cassette_root(),
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    env = dict(os.environ, AZURE_OPENAI_API_KEY=KEY)
    with tempfile.TemporaryDirectory() as tmp, WireServer() as server:
        server.use(fake)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "run", f"--report-dir={tmp}",
             f"--endpoint={server.base_url}", *[f"--sdk={name}" for name in sdks],
             *[f"--deployment={doc}={theirs}" for doc, theirs in THEIRS.items()]],
            env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if not (Path(tmp) / "results.json").exists():
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
            raise RuntimeError(f"the live smoke did not run (exit {done.returncode}):\n{tail}")
        data = json.loads((Path(tmp) / "results.json").read_text())
    by_feature: dict[str, int] = {}
    by_check: dict[str, int] = {}
    for check in data["checks"]:
        usage = check["observations"].get("live_usage") or {}
        spent = usage.get("input_tokens", 0) + usage.get("output_tokens", 0)
        if spent:
            by_check[check["id"]] = spent
            feature = check["id"].split(".")[0]
            by_feature[feature] = by_feature.get(feature, 0) + spent
    target = data["target"]
    # A check that did not pass spent what it spent, but a passing one might have spent more:
    # the figure holds only when this list is empty.
    not_passed = sorted(c["id"] for c in data["checks"] if c["verdict"] in ("fail", "error"))
    return {"requests": target["requests_sent"], "tokens": target["tokens_used"],
            "exit": done.returncode, "live": target.get("live"),
            "not_passed": not_passed,
            "by_feature": dict(sorted(by_feature.items(), key=lambda kv: -kv[1])),
            "by_check": dict(sorted(by_check.items(), key=lambda kv: -kv[1])),
            "wall_s": round(wall, 3)}


if __name__ == "__main__":
    print(json.dumps(smoke(tuple(sys.argv[1:])), indent=2))
