"""``aoai-conformance standin``: serve the stand-in until interrupted, print its environment,
or run a command with the environment set (exiting with the command's status)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

from ..wire import Chunking
from .responder import SCENARIO_HEADER, SCENARIO_QUERY
from .scenarios import listing
from .server import NotLoopback, serving

EXIT_OK, EXIT_USAGE, EXIT_NOT_FOUND = 0, 2, 127

EPILOG = f"""scenarios (--list names them; a request selects one):
  model/deployment name   scenario-NAME--DEPLOYMENT   e.g. scenario-async-filter--gpt-4o
  header                  {SCENARIO_HEADER}: NAME
  query                   ?{SCENARIO_QUERY}=NAME

environment (--print-env, and what `-- COMMAND` runs with):
  AZURE_OPENAI_BASE_URL, AZURE_OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_API_KEY

exit status:
  0  interrupted (Ctrl-C, SIGTERM) or --list
  2  a usage error: a host that is not loopback, a key shorter than 8 characters, a port in use
  with -- COMMAND: the command's own status (127 when it cannot be started)
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "standin",
        help="serve a local Azure OpenAI v1 stand-in for testing your own application",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A local Azure OpenAI v1 resource on 127.0.0.1: chat, Responses, "
        "streaming, embeddings and GET models for any deployment name, answered from the "
        "suite's verified recordings with Azure's headers, SSE framing, error envelopes and "
        "authentication (api-key, or Authorization: Bearer with the key or an unexpired Entra "
        "token for https://cognitiveservices.azure.com).",
        epilog=EPILOG,
    )
    parser.add_argument("--port", type=int, default=0, metavar="P",
                        help="the port (default 0: any free port, printed)")
    parser.add_argument("--host", default="127.0.0.1", metavar="H",
                        help="a loopback address (default 127.0.0.1); anything else is refused")
    parser.add_argument("--key", metavar="K",
                        help="the resource key it accepts (default: a new random key)")
    parser.add_argument("--sse-chunking", default="event", metavar="POLICY",
                        help="how streams are cut into HTTP chunks: event (default), whole, "
                        "random:SEED or fixed:BYTES")
    parser.add_argument("--list", action="store_true",
                        help="print the scenarios and where each comes from, then exit")
    parser.add_argument("--print-env", action="store_true",
                        help="print NAME=VALUE lines for the environment, then serve")
    parser.add_argument("run_command", nargs="*", metavar="COMMAND",
                        help="after --: run it with the environment set and exit with its status")


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(listing())
        return EXIT_OK
    if args.key is not None and len(args.key) < 8:
        print("aoai-conformance standin: --key must be at least 8 characters", file=sys.stderr)
        return EXIT_USAGE
    try:
        chunking = Chunking.parse(args.sse_chunking)
    except ValueError as exc:
        print(f"aoai-conformance standin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with serving(host=args.host, port=args.port, key=args.key, chunking=chunking) as live:
            env = live.environment()
            if args.run_command:
                return _run_command(args.run_command, env)
            if args.print_env:
                print("\n".join(f"{k}={v}" for k, v in env.items()), flush=True)
            else:
                print(f"Azure OpenAI v1 stand-in at {live.base_url} (key {live.key}); "
                      "Ctrl-C stops it", flush=True)
            _wait()
            return EXIT_OK
    except NotLoopback as exc:
        print(f"aoai-conformance standin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"aoai-conformance standin: cannot listen on {args.host}:{args.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE


def _run_command(command: list[str], env: dict[str, str]) -> int:
    try:
        return subprocess.call(command, env={**os.environ, **env})
    except OSError as exc:
        print(f"aoai-conformance standin: cannot run {command[0]!r}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_NOT_FOUND


def _wait() -> None:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
