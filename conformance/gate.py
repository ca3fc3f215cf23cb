"""``aoai-conformance gate``: run the checks under a baseline and a candidate SDK, each in its
own environment, diff them and decide whether the upgrade may merge.

Exit 0: nothing blocks; 1: a change blocks under the policy; 2: a setup problem (an
environment that cannot be built, a run that did not complete) — never blamed on the SDK.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .environments import Environments, Pin, Runner, SetupError, default_root
from .outputs import unwritable_dir
from .reports import ROOT, html, junit
from .reports import diff as rendering
from .reports.markdown import totals
from .results import BLOCKING, Results, blocking, compare, label_changes

EXIT_OK, EXIT_BLOCKED, EXIT_SETUP = 0, 1, 2
DEFAULT_POLICY = "behaviour"

RunVersion = Callable[[Pin, Path, Sequence[str]], Results]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gate = commands.add_parser(
        "gate",
        help="gate an SDK upgrade: run baseline and candidate, diff, exit 1 if it must not merge",
        description="Build an environment per SDK pin (uv, else venv + pip; every other "
        "dependency as in this environment), run the checks under both, write their reports "
        "and the diff, and exit 1 when a change blocks. By default regressions and behaviour "
        "changes (same verdict, different observations: a changed retry count, exception or "
        "request) block; --strict blocks on any change; --block regressions only on "
        "regressions. A PIN is openai==VERSION (the Python checks in an environment of "
        "their own) or javascript@VERSION, go@vVERSION, java@VERSION (the cross-SDK checks "
        "with that SDK's driver built at VERSION: an npm, Go module or Maven version); both "
        "pins name the same SDK.",
    )
    gate.add_argument("--baseline", required=True, metavar="PIN",
                      help="e.g. openai==1.105.0, javascript@6.48.0, go@v3.99.0, java@4.104.0")
    gate.add_argument("--candidate", required=True, metavar="PIN",
                      help="e.g. openai==1.106.0, javascript@6.49.0, go@v3.100.0, java@4.105.0")
    add_common(gate)
    gate.add_argument("--strict", action="store_true",
                      help="any change blocks, improvements and added checks included")
    gate.add_argument("--block", choices=tuple(BLOCKING), default=DEFAULT_POLICY,
                      help=f"what blocks (default: {DEFAULT_POLICY}; see the README's Gate "
                      "policy)")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-dir", metavar="DIR", help="where the reports go")
    parser.add_argument("--env-dir", metavar="DIR", type=Path,
                        help=f"the environment cache (default: {default_root()})")
    parser.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARG",
                        help="passed to each run, after --")


def runner(args: argparse.Namespace) -> RunVersion:
    return Runner(Environments(args.env_dir or default_root()))


def pins(*given: str) -> list[Pin]:
    return [Pin.parse(p) for p in given]


def same_sdk(baseline: Pin, candidate: Pin) -> None:
    """A gate compares one SDK at two versions; two SDKs' checks would share no key."""
    if baseline.distribution != candidate.distribution:
        raise ValueError(f"the baseline {baseline} and the candidate {candidate} pin different "
                         "SDKs; gate one SDK's upgrade at a time")


def run(args: argparse.Namespace, run_version: RunVersion | None = None) -> int:
    try:
        baseline, candidate = pins(args.baseline, args.candidate)
        same_sdk(baseline, candidate)
    except ValueError as exc:
        print(f"aoai-conformance: {exc}", file=sys.stderr)
        return EXIT_SETUP
    policy = "any" if args.strict else args.block
    out = Path(args.report_dir or Path(ROOT) / f"gate-{baseline.name}-{candidate.name}")
    problem = unwritable_dir(out)
    if problem:  # before any SDK is installed or run
        print(f"aoai-conformance: {problem}", file=sys.stderr)
        return EXIT_SETUP
    run_version = run_version or runner(args)
    prepare = getattr(run_version, "prepare", None)
    for side, pin in (("baseline", baseline), ("candidate", candidate)):
        # Both pins installed before any check runs: an uninstallable candidate is found
        # before the baseline's run, and said in one line.
        try:
            if prepare is not None:
                prepare(pin)
        except SetupError as exc:
            print(f"aoai-conformance: the {side} {pin} cannot be used: {exc}", file=sys.stderr)
            return EXIT_SETUP
    try:
        before = run_version(baseline, out / f"baseline-{baseline.name}", args.pytest_args)
        after = run_version(candidate, out / f"candidate-{candidate.name}", args.pytest_args)
    except SetupError as exc:
        print(f"aoai-conformance: {exc}", file=sys.stderr)
        return EXIT_SETUP
    changes = compare(before, after)
    blocked = blocking(changes, policy)
    write_reports(out, before, after, policy, baseline, candidate)
    print(f"reports: {out}/ (report.md, report.html, junit.xml, diff.md; each side's run in "
          f"baseline-{baseline.name}/ and candidate-{candidate.name}/)")
    return EXIT_BLOCKED if blocked else EXIT_OK


def write_reports(out: Path, before: Results, after: Results, policy: str, baseline: Pin,
                  candidate: Pin) -> None:
    """Every gate output, each led by the decision and the blocking changes with their values
    (diff.txt, printed too; diff.md; report.md; report.html; junit.xml), policy-table labels
    in a single note apart."""
    changes = compare(before, after)
    blocked = blocking(changes, policy)
    labels = label_changes(before, after)
    text = rendering.text(before, after, changes, blocked, policy, labels)
    markdown = rendering.markdown(before, after, changes, blocked, policy, labels)
    out.mkdir(parents=True, exist_ok=True)
    (out / "diff.txt").write_text(text, encoding="utf-8")
    (out / "diff.md").write_text(markdown, encoding="utf-8")
    (out / "report.md").write_text(summary(before, after, markdown, baseline, candidate),
                                   encoding="utf-8")
    lead = rendering.html_section(before, after, changes, blocked, policy, labels)
    (out / "report.html").write_text(html.render([before, after], lead), encoding="utf-8")
    decision = rendering.junit_suite(before, after, changes, blocked, policy)
    (out / "junit.xml").write_text(junit.render([before, after], decision), encoding="utf-8")
    sys.stdout.write(text)


def summary(before: Results, after: Results, diff_markdown: str, baseline: Pin,
            candidate: Pin) -> str:
    """The gate's report.md: the diff first (it decides), then each side's totals."""
    return "\n".join([
        diff_markdown.rstrip(), "",
        "### Runs", "",
        f"- baseline {baseline}: {totals(before)} (`baseline-{baseline.name}/report.md`)",
        f"- candidate {candidate}: {totals(after)} (`candidate-{candidate.name}/report.md`)",
        "",
    ])
