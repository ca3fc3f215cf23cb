"""``aoai-conformance matrix PIN PIN ...``: run the checks under each SDK version and show
checks x versions, each cell the verdict, marked where the observations changed from the
column before."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .environments import Pin, SetupError
from .gate import RunVersion, add_common, pins, runner
from .outputs import unwritable_dir
from .reports import ROOT
from .reports import matrix as rendering

EXIT_OK, EXIT_SETUP = 0, 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    matrix = commands.add_parser(
        "matrix",
        help="run the checks under several SDK versions; a checks x versions table",
        description="Run the checks under each pin (each in its own cached environment) and "
        "write matrix.md and matrix.html: a row per check, a column per version, each cell "
        "the verdict, marked * where the observations changed from the column before.",
    )
    matrix.add_argument("pins", nargs="+", metavar="PIN", help="e.g. openai==2.54.0")
    add_common(matrix)


def run(args: argparse.Namespace, run_version: RunVersion | None = None) -> int:
    try:
        versions: list[Pin] = sorted(pins(*args.pins), key=lambda p: p.key)
    except ValueError as exc:
        print(f"aoai-conformance: {exc}", file=sys.stderr)
        return EXIT_SETUP
    out = Path(args.report_dir or Path(ROOT) / "matrix")
    problem = unwritable_dir(out)
    if problem:  # before any SDK is installed or run
        print(f"aoai-conformance: {problem}", file=sys.stderr)
        return EXIT_SETUP
    run_version = run_version or runner(args)
    runs = []
    for pin in versions:
        try:
            runs.append(run_version(pin, out / pin.name, args.pytest_args))
        except SetupError as exc:
            print(f"aoai-conformance: {exc}", file=sys.stderr)
            return EXIT_SETUP
    grid = rendering.Grid.of(runs)
    (out / "matrix.md").write_text(rendering.markdown(grid), encoding="utf-8")
    (out / "matrix.html").write_text(rendering.html(grid), encoding="utf-8")
    sys.stdout.write(rendering.text(grid))
    print(f"matrix: {out}/matrix.md, {out}/matrix.html")
    return EXIT_OK
