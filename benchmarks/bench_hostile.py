"""What hostile cassettes cost: time, peak memory and message size of check-cassettes and of
loading for replay, for a huge cassette, the largest one accepted, and an alias bomb.

    python benchmarks/bench_hostile.py [--out bench-results/hostile.json] [--keep DIR]

The cassettes are built in a temporary folder (never committed). Each case runs in its own
process so its peak RSS is its own; CPU seconds are reported beside wall seconds because a
shared machine inflates the latter. Writes numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "cassettes" / "chat" / "completion.yaml"

PROBE = r"""
import io, contextlib, resource, sys, time
from conformance.cli import main
from conformance.wire import Cassette, CassetteError
path = sys.argv[1]
out, err = io.StringIO(), io.StringIO()
started, cpu = time.perf_counter(), time.process_time()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(["check-cassettes", path])
checked, checked_cpu = time.perf_counter() - started, time.process_time() - cpu
started, cpu = time.perf_counter(), time.process_time()
try:
    Cassette.load(path)
    refused = ""
except CassetteError as exc:
    refused = str(exc)
loaded, loaded_cpu = time.perf_counter() - started, time.process_time() - cpu
import json
print(json.dumps({"exit": code, "check_s": round(checked, 3), "load_s": round(loaded, 3),
                  "check_cpu_s": round(checked_cpu, 3), "load_cpu_s": round(loaded_cpu, 3),
                  "output_bytes": len(out.getvalue()) + len(err.getvalue()),
                  "refusal_bytes": len(refused),
                  "peak_rss_mb": round(
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "message": (err.getvalue().splitlines() or [""])[0][:200]}))
"""


def _interaction_block() -> str:
    text = SEED.read_text()
    return text[len("interactions:\n"): text.index("metadata:")]


def build(folder: Path, name: str, interactions: int, pad: int = 0) -> Path:
    block = _interaction_block()
    if pad:
        block = block.replace("apim-request-id:", f"x-pad:\n      - '{'p' * pad}'\n"
                              "      apim-request-id:", 1)
    path = folder / name
    with path.open("w") as handle:
        handle.write("interactions:\n")
        for _ in range(interactions):
            handle.write(block)
        handle.write("metadata:\n  provenance: constructed\nversion: 1\n")
    return path


def bomb(folder: Path) -> Path:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    path = folder / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n" + SEED.read_text().replace(
        "metadata:\n", "metadata:\n  violates: *a8\n", 1))
    return path


def probe(path: Path) -> dict[str, object]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    result["wall_s"] = round(time.perf_counter() - started, 3)
    result["file_mb"] = round(path.stat().st_size / 2**20, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", type=Path, help="build the cassettes here (else a tmp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        cases = {
            "huge: ~200 MB, 100,000 interactions": build(folder, "huge.yaml", 100_000),
            "near the node limit: 1,700 interactions with 3 KB headers": build(
                folder, "large.yaml", 1_700, pad=3000),
            "over the node limit: 3,000 interactions": build(folder, "many.yaml", 3_000),
            "one 30 MB body": build(folder, "body.yaml", 1, pad=30 * 2**20),
            "alias bomb (10^9 nodes) in metadata.violates": bomb(folder),
        }
        results = {name: probe(path) for name, path in cases.items()}
    report = {"python": platform.python_version(), "machine": platform.machine(),
              "cases": results}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
