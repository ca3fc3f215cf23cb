"""``aoai-conformance``: run the packaged checks, list them, validate cassettes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, paths
from .registry import FEATURES, REGISTRY
from .results import FILENAME, Results

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aoai-conformance",
        description="Conformance checks for the Azure OpenAI v1 API through the OpenAI SDKs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the checks offline against the packaged cassettes",
        description="Run the packaged checks against recorded cassettes, print a table grouped "
        "by feature and write results.json. Exit 0 only when no check failed or errored.",
    )
    run.add_argument("--report-dir", default="conformance-report", metavar="DIR",
                     help="where results.json is written (default: ./conformance-report/)")
    run.add_argument("--feature", action="append", choices=FEATURES, metavar="FEATURE",
                     help="only checks of this feature (repeatable); one of: "
                     + ", ".join(FEATURES))
    run.add_argument("--check", action="append", metavar="ID",
                     help="only this check id (repeatable)")
    run.add_argument("--cassettes", metavar="DIR",
                     help="cassette root to replay (default: the packaged cassettes)")
    run.add_argument("--sse-chunking", default="event", metavar="POLICY",
                     help="event (default), whole, random:SEED or fixed:BYTES")
    _live_options(run, required=False)
    run.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARG",
                     help="extra pytest arguments, after --")

    record = commands.add_parser(
        "record",
        help="record cassettes from a live resource",
        description="Run the named checks against a live resource and save what crossed the "
        "wire as their cassettes (provenance: recorded), scrubbed of keys, tokens and the "
        "resource name. The SDK never sees the real credential.",
    )
    record.add_argument("check", nargs="*", metavar="CHECK_ID", help="checks to record")
    record.add_argument("--feature", action="append", choices=FEATURES, metavar="FEATURE",
                        help="record every check of this feature (repeatable)")
    record.add_argument("--cassettes", metavar="DIR",
                        help="where cassettes are written (default: the source tree's "
                        "cassettes/; required for an installed package)")
    record.add_argument("--report-dir", default="conformance-report", metavar="DIR")
    _live_options(record, required=True)

    diff = commands.add_parser(
        "diff",
        help="compare two results.json (a baseline SDK and a candidate); exit 1 on regressions",
        description="Compare the verdicts of two runs per check id. A regression (exit 1) is a "
        "check that now fails or errors where it did not, or passed and is now unsupported. "
        "Other verdict changes and changed observations are listed, not blocking, unless "
        "--strict.",
    )
    diff.add_argument("baseline", metavar="BASELINE", help="results.json (or its folder)")
    diff.add_argument("candidate", metavar="CANDIDATE", help="results.json (or its folder)")
    diff.add_argument("--strict", action="store_true",
                      help="any change of verdict or observations is blocking")

    listing = commands.add_parser("list", help="list the checks and the claims they test")
    listing.add_argument("--feature", action="append", choices=FEATURES, metavar="FEATURE")

    checking = commands.add_parser(
        "check-cassettes",
        help="validate vcrpy cassettes (yours or the packaged ones) against the contract",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Validate the responses (and request bodies) recorded in vcrpy-format "
        "cassettes, such as pytest-recording writes, against the Azure OpenAI v1 contract.",
        epilog=CHECK_CASSETTES_HELP,
    )
    checking.add_argument("paths", nargs="+", metavar="PATH",
                          help="a cassette file, or a folder searched for *.yaml and *.yml")
    return parser


CHECK_CASSETTES_HELP = """what is judged:
  each interaction is routed by its request: POST .../chat/completions, POST .../responses
  (and GET .../responses/{id}), POST .../embeddings; a text/event-stream answer (or
  "stream": true in the request) is judged as a stream. A 4xx/5xx answer to those, or to any
  other path under /openai/ or /v1/, is judged as an error envelope. Chat image parts and
  Responses MCP tool configurations in request bodies are judged too. Other interactions are
  skipped and counted. Bodies may be {string: ...} or parsed_body, gzip or deflate (!!binary).
  A cassette whose metadata says violates: [RULE_ID, ...] breaks those rules on purpose.

output:
  one line per violation on stdout:
    FILE:INTERACTION_INDEX RULE_ID message
  INTERACTION_INDEX counts from 0 in the cassette's interactions ("-": the cassette as a
  whole); the message starts with where in the payload it is (a JSON path, "request." for
  the request body; stream validators name the event). Files that cannot be read are
  reported on stderr, and so is a closing summary.

exit status:
  0  every interaction judged conforms
  1  at least one violation
  2  a usage error, a file or body that could not be read, or no cassette found
     (every other file is still checked and its violations printed)
"""


def _live_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--endpoint", required=required, metavar="URL",
                        help="the resource's v1 URL, https://RESOURCE.openai.azure.com/openai/v1/"
                        + ("" if required else "; runs live instead of replaying cassettes"))
    parser.add_argument("--auth", choices=("key", "entra"), default="key",
                        help="key (from AZURE_OPENAI_API_KEY, the default) or entra "
                        "(DefaultAzureCredential)")
    parser.add_argument("--budget", type=int, default=50, metavar="N",
                        help="send at most N requests to the resource (default 50)")


def load_suites() -> None:
    for module in sorted(paths.suites_dir().glob("*.py")):
        if not module.name.startswith("_"):
            importlib.import_module(f"conformance.suites.{module.stem}")


def _live_args(args: argparse.Namespace) -> list[str]:
    if not args.endpoint:
        return []
    return [f"--conformance-endpoint={args.endpoint}", f"--conformance-auth={args.auth}",
            f"--conformance-budget={args.budget}"]


def run(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    import pytest

    if args.check:
        load_suites()
        unknown = [c for c in args.check if c not in REGISTRY]
        if unknown:
            print(f"aoai-conformance: unknown check id(s): {', '.join(unknown)} "
                  "(see: aoai-conformance list)", file=sys.stderr)
            return EXIT_USAGE
    report_dir = Path(args.report_dir)
    stale = report_dir / FILENAME
    if stale.exists():
        stale.unlink()  # a crashed run must not leave the previous verdicts looking current
    pytest_args = [
        "--pyargs", "conformance.suites",
        # The user's own pytest configuration (addopts, plugins) must not change the run.
        "-c", os.devnull, "--rootdir", str(paths.suites_dir()),
        "-p", "no:cacheprovider",
        # This process imported the package before pytest could mark it for assertion
        # rewriting; checks use expect(), not bare asserts, so nothing is lost.
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "-q", "--no-header",
        f"--conformance-report-dir={report_dir}",
        f"--sse-chunking={getattr(args, 'sse_chunking', 'event')}",
        *([f"--conformance-cassettes={args.cassettes}"] if args.cassettes else []),
        *_live_args(args),
        *extra,
        *[f"--conformance-feature={f}" for f in args.feature or ()],
        *[f"--conformance-check={c}" for c in args.check or ()],
        *getattr(args, "pytest_args", ()),
    ]
    code = pytest.main(pytest_args)
    if not stale.exists():
        print(f"aoai-conformance: no check ran (pytest exit status {int(code)})",
              file=sys.stderr)
        return EXIT_USAGE if int(code) in (4, 5) else EXIT_FAILED
    return EXIT_OK if Results.load(stale).ok else EXIT_FAILED


def record(args: argparse.Namespace) -> int:
    if not args.check and not args.feature:
        print("aoai-conformance: name the checks (or --feature) to record", file=sys.stderr)
        return EXIT_USAGE
    if args.cassettes is None:
        root = paths.cassette_root()
        if root.parent.name == "conformance":  # inside an installed package
            print("aoai-conformance: pass --cassettes DIR: this installed package's own "
                  "cassettes are not a place to record into", file=sys.stderr)
            return EXIT_USAGE
        args.cassettes = str(root)
    return run(args, extra=["--conformance-record"])


def list_checks(args: argparse.Namespace) -> int:
    from .provenance import replays

    load_suites()
    counts: dict[str, int] = {}
    for check in sorted(REGISTRY.values(), key=lambda c: (FEATURES.index(c.feature), c.id)):
        if args.feature and check.feature not in args.feature:
            continue
        kind = replays(check)
        counts[kind] = counts.get(kind, 0) + 1
        print(f"{check.id}\n    claim: {check.claim}\n    doc:   {check.doc}\n    "
              f"wire:  {kind}")
    cassettes = counts.get("recorded", 0) + counts.get("constructed", 0)
    print(f"{counts.get('recorded', 0)} of the {cassettes} checks that replay a cassette replay "
          f"a real recording; {counts.get('scripted', 0)} script the wire")
    return EXIT_OK


def diff(args: argparse.Namespace) -> int:
    from .results import compare

    loaded = []
    for given in (args.baseline, args.candidate):
        path = Path(given)
        path = path / FILENAME if path.is_dir() else path
        try:
            loaded.append(Results.load(path))
        except (OSError, ValueError, KeyError) as exc:
            print(f"aoai-conformance: cannot read {path}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    baseline, candidate = loaded
    print(f"baseline:  {baseline.sdk.get('name')} {baseline.sdk.get('version')}\n"
          f"candidate: {candidate.sdk.get('name')} {candidate.sdk.get('version')}")
    changes = compare(baseline, candidate)
    for change in changes:
        print(f"{change.kind:<12} {change.id:<44} {change.before or '-':>11} -> "
              f"{change.after or '-':<11} {change.detail.splitlines()[0] if change.detail else ''}"
              .rstrip())
    blocking = [c for c in changes if c.blocking or args.strict]
    print(f"{len(changes)} change(s), {len(blocking)} blocking")
    return EXIT_FAILED if blocking else EXIT_OK


def check_cassettes(args: argparse.Namespace) -> int:
    from .cassette_check import check_paths

    files = checked = skipped = violations = warnings = 0
    unreadable = False
    for result in check_paths(args.paths):
        if result.note is not None:
            print(f"aoai-conformance: {result.note}", file=sys.stderr)
            continue
        if result.error is not None:
            print(f"aoai-conformance: {result.error}", file=sys.stderr)
            unreadable = True
            continue
        files += 1
        checked += result.checked
        skipped += result.skipped
        for finding in result.findings:
            print(finding)
            warnings += 1 if finding.warning else 0
            violations += 0 if finding.fatal or finding.warning else 1
            unreadable = unreadable or finding.fatal
    print(f"aoai-conformance: {files} cassette(s), {checked} interaction(s) checked, {skipped} "
          f"skipped, {violations} violation(s), {warnings} warning(s)", file=sys.stderr)
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAILED if violations else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"run": run, "record": record, "list": list_checks,
                "check-cassettes": check_cassettes, "diff": diff}
    return commands[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
