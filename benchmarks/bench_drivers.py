"""How long the SDK drivers take: cold and warm builds, start-up to hello, and per-scenario
latency against the loopback wire server.

    python benchmarks/bench_drivers.py [--sdk go --sdk java ...] [--cold] [--runs 20]
                                       [--out bench-results/drivers.json]

``--cold`` builds into an empty cache directory (and, for Go, an empty GOCACHE, so every
package compiles); the package downloads (~/.npm, the Go module cache, ~/.m2) are kept, as
they are on a machine that installed the suite. Without it the builds come from the normal
cache. Writes numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from conformance.drivers.build import build
from conformance.suites._requests import CHAT_REQUEST
from conformance.wire import Script, WireServer
from conformance.wire import script as actions
from conformance.wire.sse import DONE_EVENT

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Paris."}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
CHUNKS = [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
           "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
          for word in ("The ", "capital ", "is ", "Paris.")] + ["[DONE]"]
PARAMS = CHAT_REQUEST  # the doc's chat sample (the scripted server answers any request)


def stream_reply() -> Any:
    return actions.event_stream([c if c != "[DONE]" else DONE_EVENT for c in CHUNKS])


def measure(sdk: str, *, cold: bool, runs: int) -> dict[str, Any]:
    numbers: dict[str, Any] = {"sdk": sdk}
    with tempfile.TemporaryDirectory(prefix="bench-drivers-") as scratch:
        cache = Path(scratch) / "cache" if cold else None
        saved = os.environ.get("GOCACHE")
        if cold and sdk == "go":
            os.environ["GOCACHE"] = str(Path(scratch) / "gocache")
        try:
            built = build(sdk, cache=cache)
            numbers["build_s"] = round(built.seconds, 2)
            numbers["build_cached"] = built.cached
            again = build(sdk, cache=cache)
            numbers["warm_build_s"] = round(again.seconds, 3)
        finally:
            if cold and sdk == "go":
                if saved is None:
                    os.environ.pop("GOCACHE", None)
                else:
                    os.environ["GOCACHE"] = saved
        process = built.process(startup_timeout=180)
        started = time.monotonic()
        hello = process.start()
        numbers["hello_s"] = round(time.monotonic() - started, 3)
        numbers["sdk_version"] = hello.sdk_version
        numbers["runtime"] = hello.runtime
        try:
            with WireServer() as server:
                for operation, reply in (("chat.completions.create",
                                          actions.reply(200, COMPLETION)),
                                         ("chat.completions.stream", stream_reply())):
                    scenario = {"base_url": server.base_url,
                                "client": {"auth": {"kind": "key", "key": "bench"},
                                           "max_retries": 0, "timeout_ms": None},
                                "operation": {"name": operation, "params": PARAMS,
                                              "request_options": {}},
                                "deadline_ms": 30_000}
                    times = []
                    for _ in range(runs):
                        server.use(Script([reply]))
                        begun = time.monotonic()
                        outcome = process.run(scenario)
                        times.append(time.monotonic() - begun)
                        if outcome["error"] is not None:
                            raise RuntimeError(f"{sdk} {operation}: {outcome['error']}")
                    numbers[operation] = {
                        "first_ms": round(times[0] * 1000, 1),
                        "median_ms": round(statistics.median(times[1:] or times) * 1000, 1),
                        "max_ms": round(max(times[1:] or times) * 1000, 1),
                    }
        finally:
            process.close()
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdk", action="append", choices=("javascript", "go", "java"))
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("bench-results/drivers.json"))
    args = parser.parse_args()
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load": os.getloadavg()},
        "cold": args.cold,
        "drivers": [measure(sdk, cold=args.cold, runs=args.runs)
                    for sdk in args.sdk or ("javascript", "go", "java")],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
