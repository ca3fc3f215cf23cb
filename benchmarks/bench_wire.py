"""How fast the harness is: per-request latency through the wire server, and a whole run.

    python benchmarks/bench_wire.py [--requests 300] [--out bench-results/wire.json]

Writes numbers; asserts nothing. Compare runs by hand or in a dashboard.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import openai

from conformance import paths
from conformance.sdk import installed
from conformance.wire import Cassette, Chunking, Replay, WireServer

ROOT = Path(__file__).resolve().parent.parent


class Repeat:
    """Answer every request with the first interaction of a cassette (no play-once rule)."""

    def __init__(self, cassette: Cassette, chunking: Chunking) -> None:
        self.replay = Replay(cassette, chunking)
        self.interaction = cassette.interactions[0]

    def respond(self, request):  # type: ignore[no-untyped-def]
        return self.replay.reply(self.interaction)


def latency(requests: int) -> dict[str, float]:
    cassette = Cassette.load(paths.cassette_root() / "chat" / "completion.yaml")
    body = cassette.interactions[0].request_json()
    with WireServer() as server, openai.OpenAI(base_url=server.base_url, api_key="k",
                                               max_retries=0) as client:
        server.use(Repeat(cassette, Chunking()))
        client.chat.completions.create(**body)  # warm up: imports, connection
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            client.chat.completions.create(**body)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "requests": requests,
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "max_ms": round(samples[-1], 3),
    }


def replay_latency(cassette_name: str, requests: int) -> dict[str, float]:
    """Requests per second and p50/p99 (ms) of one packaged interaction replayed through the
    wire server to the SDK, over one kept-alive connection; a stream is read to its end."""
    cassette = Cassette.load(paths.cassette_root() / cassette_name)
    body = cassette.interactions[0].request_json()
    with WireServer() as server, openai.OpenAI(base_url=server.base_url, api_key="k",
                                               max_retries=0) as client:
        server.use(Repeat(cassette, Chunking()))

        def once() -> None:
            answer = client.chat.completions.create(**body)
            if body.get("stream"):
                for _ in answer:
                    pass

        once()  # warm up: imports, connection
        samples = []
        began = time.perf_counter()
        for _ in range(requests):
            start = time.perf_counter()
            once()
            samples.append((time.perf_counter() - start) * 1000)
        total = time.perf_counter() - began
    samples.sort()
    return {"requests": requests, "rps": requests / total,
            "p50_ms": statistics.median(samples),
            "p99_ms": samples[max(0, round(len(samples) * 0.99) - 1)]}


def whole_run() -> dict[str, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "conformance", "run",
                           "--report-dir", str(ROOT / "bench-results" / "run")],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    report = json.loads((ROOT / "bench-results" / "run" / "results.json").read_text())
    return {"exit_status": done.returncode, "wall_s": round(elapsed, 3),
            "checks": len(report["checks"]), "pytest_s": report["duration_s"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "wire.json"))
    args = parser.parse_args()
    numbers = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sdk": str(installed()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "chat_round_trip": latency(args.requests),
        "offline_run": whole_run(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(numbers, indent=2) + "\n")
    print(json.dumps(numbers, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
