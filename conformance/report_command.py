"""``aoai-conformance report RESULTS.json``: write the reports of a run again from its
results.json (after an upgrade of this tool, or to print one to stdout)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .outputs import unwritable_dir
from .reports import FILES, FORMATS, render
from .results import FILENAME, Results

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="write report.md, report.html and junit.xml from a results.json",
        description="Render the reports of a run from its results.json: report.md (totals, "
        "every failing, erroring and unsupported check with its message, the feature table), "
        "report.html (self-contained, filterable) and junit.xml (one testcase per check).",
    )
    report.add_argument("results", metavar="RESULTS", help="results.json (or its folder)")
    report.add_argument("--format", action="append", choices=FORMATS, dest="formats",
                        help="md, html or junit (repeatable; default: all three)")
    report.add_argument("--out", metavar="DIR",
                        help="where to write them (default: next to RESULTS); '-' prints the "
                        "one --format given to stdout")


def load(given: str) -> Results:
    path = Path(given)
    return Results.load(path / FILENAME if path.is_dir() else path)


def run(args: argparse.Namespace) -> int:
    try:
        results = load(args.results)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"aoai-conformance: cannot read {args.results}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    formats = args.formats or list(FORMATS)
    if args.out == "-":
        if len(formats) != 1:
            print("aoai-conformance: --out - prints one report: give one --format",
                  file=sys.stderr)
            return EXIT_USAGE
        sys.stdout.write(render(formats[0], [results]))
        return EXIT_OK
    given = Path(args.results)
    out = Path(args.out) if args.out else (given if given.is_dir() else given.parent)
    problem = unwritable_dir(out, "--out" if args.out else "the folder of")
    if problem:
        print(f"aoai-conformance: {problem}", file=sys.stderr)
        return EXIT_USAGE
    out.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = out / FILES[fmt]
        path.write_text(render(fmt, [results]), encoding="utf-8")
        print(path)
    return EXIT_OK
