"""``aoai-conformance``: run the packaged checks, list them, validate cassettes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from . import __version__, paths, sdks
from .interruption import exit_status, interruptible, received, signal_of
from .registry import FEATURES, REGISTRY
from .results import FILENAME, Results
from .settings import LIVE_OPTIONS, OPTIONS

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
    _options(run, "run")
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
    _options(record, "record")

    diff = commands.add_parser(
        "diff",
        help="compare two results.json (a baseline SDK and a candidate); exit 1 on regressions",
        description="Compare the verdicts and observations of two runs per check id, with the "
        "old and new values. A regression (exit 1) is a check that now fails or errors where it "
        "did not, or passed and is now unsupported. Behaviour changes (same verdict, different "
        "observations), other verdict changes, added and removed checks are listed; --block "
        "says which of them exit 1 too.",
    )
    diff.add_argument("baseline", metavar="BASELINE", help="results.json (or its folder)")
    diff.add_argument("candidate", metavar="CANDIDATE", help="results.json (or its folder)")
    diff.add_argument("--strict", action="store_true",
                      help="any change of verdict or observations is blocking "
                      "(the same as --block any)")
    diff.add_argument("--block", choices=("regressions", "behaviour", "any"),
                      default="regressions",
                      help="what exits 1: regressions (default), behaviour (also same verdict "
                      "with different observations) or any change")
    diff.add_argument("--format", choices=("text", "md"), default="text",
                      help="text (default) or md (for a pull-request comment)")

    listing = commands.add_parser("list", help="list the checks and the claims they test")
    listing.add_argument("--feature", action="append", choices=FEATURES, metavar="FEATURE")

    scanning = commands.add_parser(
        "scan-secrets",
        help="find keys, tokens, tenant/subscription ids, resource hosts and cookies in "
        "cassettes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Search every interaction of vcrpy cassettes (URI, headers, decoded "
        "bodies, metadata) for secrets. The secret itself is never printed.",
        epilog=SCAN_SECRETS_HELP,
    )
    scanning.add_argument("paths", nargs="+", metavar="PATH",
                          help="a cassette file, or a folder searched for *.yaml and *.yml")
    scanning.add_argument("--secret-env", action="append", default=[], metavar="NAME",
                          help="also search for the value of environment variable NAME (raw, "
                          "base64, base64url, URL-encoded) everywhere, header names and binary "
                          "bodies included; repeatable. The value is never printed")

    naming = commands.add_parser(
        "deployments",
        help="list the deployment names the checks use, which checks need each, and what "
        "each maps to",
        description="Checks ask for the deployment names of the doc's samples. Map them to "
        "yours with --deployment DOC=YOURS (repeatable), AOAI_CONFORMANCE_DEPLOYMENTS="
        "'DOC=YOURS,...' or a [tool.aoai-conformance.deployments] table in ./pyproject.toml; "
        "an unmapped name is sent as is.",
    )
    naming.add_argument("--deployment", action="append", default=[], metavar="DOC=YOURS")

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
    _add_report_commands(commands)
    return parser


def _add_report_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """report, gate, matrix, bisect, standin, doctor: each in its own module."""
    from . import bisection, doctor, gate, matrix, report_command
    from .standin import command as standin

    for module in (report_command, gate, matrix, bisection, standin, doctor):
        module.add_parser(commands)


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
  the request body; stream validators name the event). An interaction replay would refuse
  is reported the same way under a cassette.* rule (cassette.structure, cassette.header,
  cassette.status, cassette.size, cassette.undecodable-body). A file that cannot be read gets
  one line on stderr, FILE: reason (no such file, empty file, not YAML, not a vcrpy cassette,
  too large), and the run goes on with the next file; a closing summary ends stderr.

exit status:
  0  every interaction judged conforms
  1  at least one violation
  2  a usage error, a file that could not be read, or no cassette found
     (every other file is still checked and its violations printed)
"""


SCAN_SECRETS_HELP = """kinds:
  azure-key        32 hex digits named as a key, or an 84-character Azure AI services key
  api-key          any value of an api-key header or field
  api-key-query    an api-key (or subscription-key) query parameter
  openai-key       an sk-... key
  bearer-token     an Authorization header or Bearer value
  jwt              a JSON web token anywhere
  azure-host       *.openai.azure.com, *.cognitiveservices.azure.com, *.services.ai.azure.com
                   other than RESOURCE.
  arm-resource-id  /subscriptions/.../resourceGroups/... with real names
  subscription-id  a subscription GUID (/subscriptions/GUID, "subscription_id": GUID)
  tenant-id        a tenant GUID (login URLs, "tenant_id"/"tid": GUID)
  cookie           a Cookie or Set-Cookie header
  env:NAME         the value of the variable NAME given with --secret-env, as written,
                   base64/base64url or URL-encoded, anywhere (header names, binary bodies)
  GUIDs and hex ids count only where their context names them: request ids, completion ids,
  fingerprints and encoded blobs are not secrets.

output:
  one line per finding on stdout:
    FILE:INTERACTION location kind
  INTERACTION counts from 0 ("-": the cassette's metadata); location is request.uri,
  request.headers.NAME, request.body, response.status, response.headers.NAME,
  response.body or metadata.

exit status:
  0  no secret found
  1  at least one finding
  2  a file or body that could not be read or decoded, or no cassette found
"""


def _options(parser: argparse.ArgumentParser, command: str) -> None:
    """The options of ``command`` (run or record), from the plugin's option table
    (:data:`conformance.settings.OPTIONS`)."""
    for option in OPTIONS:
        if option.cli is None or command not in option.commands:
            continue
        arguments = option.arguments(cli=True)
        arguments["help"] = arguments["help"].format(features=", ".join(FEATURES),
                                                     sdks=", ".join(sdks.names()))
        if option.cli == "--feature":
            arguments["choices"] = FEATURES
        if option.cli == "--endpoint":
            arguments["required"] = command == "record"
            if command == "run":
                arguments["help"] += "; runs live instead of replaying cassettes"
        parser.add_argument(option.cli, **arguments)


def load_suites() -> None:
    for module in sorted(paths.suites_dir().glob("*.py")):
        if not module.name.startswith("_"):
            importlib.import_module(f"conformance.suites.{module.stem}")


def _live_args(args: argparse.Namespace) -> list[str]:
    """The live options given to the CLI, as the plugin's options (none without an
    endpoint)."""
    if not args.endpoint:
        return []
    return [argument for option in LIVE_OPTIONS
            for argument in option.passed_on(getattr(args, option.cli_dest))]


def _run_args(args: argparse.Namespace, report_dir: Path) -> list[str]:
    """The other options of the table given to the CLI (``run`` or ``record``), as the
    plugin's options; the report folder as the CLI resolved it."""
    given = {**vars(args), "report_dir": str(report_dir)}
    return [argument for option in OPTIONS
            if option.cli is not None and not option.live and option.cli_dest in given
            for argument in option.passed_on(given[option.cli_dest])]


def run(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    import pytest

    if args.check:
        load_suites()
        unknown = [c for c in args.check if c not in REGISTRY]
        if unknown:
            print(f"aoai-conformance: unknown check id(s): {', '.join(unknown)} "
                  "(see: aoai-conformance list)", file=sys.stderr)
            return EXIT_USAGE
    from .outputs import unreadable_dir, unwritable_dir
    from .reports import default_dir

    report_dir = Path(args.report_dir) if args.report_dir else default_dir()
    recording = "--conformance-record" in extra
    problem = unwritable_dir(report_dir) or (
        args.cassettes and (unwritable_dir(Path(args.cassettes), "--cassettes") if recording
                            else unreadable_dir(Path(args.cassettes), "--cassettes")))
    if problem:  # before any check runs, so a live run spends nothing
        print(f"aoai-conformance: {problem}", file=sys.stderr)
        return EXIT_USAGE
    stale = report_dir / FILENAME
    if stale.exists():
        stale.unlink()  # a crashed run must not leave the previous verdicts looking current
    pytest_args = [
        "--pyargs", "conformance.suites",
        # The user's own pytest configuration (addopts, plugins) must not change the run.
        "-c", os.devnull, "--rootdir", str(paths.suites_dir()), "--noconftest",
        "-p", "no:cacheprovider",
        # This process imported the package before pytest could mark it for assertion
        # rewriting; checks use expect(), not bare asserts, so nothing is lost.
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        # Nor does rewriting the modules imported later pay: it only costs the import hook.
        "--assert=plain",
        # Unraisable exceptions (a finaliser's) are no verdict; the plugin's two full garbage
        # collections at exit cost more than a tenth of a second.
        "-p", "no:unraisableexception",
        "-q", "--no-header",
        # Only this project's plugin, and xdist's for the workers: the environment's other
        # pytest plugins (hypothesis, pytest-recording, coverage, ...) would neither judge
        # anything nor be free to load (see _own_plugins_only); `-- -p NAME` still adds one.
        "-p", "conformance.pytest_plugin", "-p", "xdist.plugin",
        *_run_args(args, report_dir),
        *_live_args(args),
        *extra,
        *_workers(args, extra),
        *getattr(args, "pytest_args", ()),
    ]
    with _own_plugins_only():
        code = pytest.main(pytest_args)
    if received() is not None or int(code) == pytest.ExitCode.INTERRUPTED:
        return _interrupted(stale)
    if not stale.exists():
        if int(code) != pytest.ExitCode.USAGE_ERROR:  # pytest has said why already
            print(f"aoai-conformance: no check ran (pytest exit status {int(code)})",
                  file=sys.stderr)
        return EXIT_USAGE if int(code) in (4, 5) else EXIT_FAILED
    results = Results.load(stale)
    if not results.ok:
        return EXIT_FAILED
    live = results.target.get("live")
    # Too few checks reached the resource (the plugin printed why): not a green smoke.
    return EXIT_USAGE if isinstance(live, dict) and live.get("shortfall") else EXIT_OK


@contextmanager
def _own_plugins_only() -> Iterator[None]:
    """pytest loads no plugin of the environment by itself (PYTEST_DISABLE_PLUGIN_AUTOLOAD, which
    every pytest since 3.5 reads, and the xdist workers started meanwhile inherit): the run
    names its own with ``-p``. The variable is restored afterwards."""
    name = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
    before = os.environ.get(name)
    os.environ[name] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _workers(args: argparse.Namespace, extra: Sequence[str]) -> list[str]:
    """``-n N --dist loadgroup`` when the run's checks cover two SDKs or more and it replays
    (:mod:`conformance.workers`): one worker per SDK. Nothing for one SDK, a live or record
    run, or when the user's pytest arguments choose (``-- -n 0``)."""
    from . import workers
    from .sdk_selection import SdkSelection, SdkSelectionError

    given = [*extra, *getattr(args, "pytest_args", ())]
    forwards = bool(getattr(args, "endpoint", None)) or "--conformance-record" in extra
    if forwards or workers.chosen_by_user(given):
        return []
    try:
        selection = SdkSelection.parse(getattr(args, "sdk", None) or ())
    except SdkSelectionError:
        return []  # the plugin says why, before any check
    running: list[str] = list(selection.sdks) if selection.explicit else []
    if len(running) > 1 and (args.check or args.feature):
        load_suites()
        named = set(args.check or ())
        covered = {sdk for check in REGISTRY.values()
                   if check.id in named or check.feature in (args.feature or ())
                   for sdk in selection.covers(check.sdks)}
        running = [sdk for sdk in running if sdk in covered]
    return workers.pytest_args(running, forwards=False, given=given)


def _interrupted(results: Path) -> int:
    """A signal ended the run: exit 130 (SIGINT) or 143 (SIGTERM), saying how far it got;
    results.json and the reports (if any check finished) say the same."""
    try:
        loaded = Results.load(results)
    except (OSError, ValueError):
        loaded = None
    if loaded is not None and loaded.interrupted is not None:
        print(f"aoai-conformance: {loaded.interrupted}; the run did not finish (reports: "
              f"{results.parent})", file=sys.stderr)
        return exit_status(loaded.interrupted.signal)
    print("aoai-conformance: interrupted before any check finished", file=sys.stderr)
    return exit_status()


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


def scan_secrets(args: argparse.Namespace) -> int:
    from .secret_scan import KnownSecret, scan_paths

    known = []
    for name in args.secret_env:
        value = os.environ.get(name, "")
        if not value:
            print(f"aoai-conformance: --secret-env {name}: the variable is not set",
                  file=sys.stderr)
            return EXIT_USAGE
        try:
            known.append(KnownSecret.of(name, value))
        except ValueError as exc:
            print(f"aoai-conformance: --secret-env {name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    files = interactions = findings = 0
    unreadable = False
    for result in scan_paths(args.paths, known):
        if result.note is not None:
            print(f"aoai-conformance: {result.note}", file=sys.stderr)
            continue
        if result.error is not None:
            print(f"aoai-conformance: {result.error}", file=sys.stderr)
            unreadable = True
            if not result.findings:
                continue
        files += 1
        interactions += result.interactions
        for finding in result.findings:
            print(finding)
            findings += 1
    print(f"aoai-conformance: {files} cassette(s), {interactions} interaction(s) searched, "
          f"{findings} finding(s)", file=sys.stderr)
    if unreadable or files == 0:
        return EXIT_USAGE
    return EXIT_FAILED if findings else EXIT_OK


def list_deployments(args: argparse.Namespace) -> int:
    from .deployments import DeploymentError, DeploymentMap, needs

    load_suites()
    table = needs(REGISTRY.values(), paths.cassette_root())
    try:
        names = DeploymentMap.load(args.deployment)
        names.check_known(table)
    except DeploymentError as exc:
        print(f"aoai-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for doc, ids in table.items():
        mapped = (f"-> {names.resolve(doc)}  (from {names.sources[doc]})" if doc in names.names
                  else "(unmapped: sent as is)")
        live = [i for i in ids if REGISTRY[i].live]
        replay = [i for i in ids if not REGISTRY[i].live]
        print(f"{doc} {mapped}")
        print(f"    live:        {', '.join(live) or '-'}")
        if replay:
            print(f"    replay only: {', '.join(replay)}")
    return EXIT_OK


def diff(args: argparse.Namespace) -> int:
    from .results import compare

    loaded = []
    for given in (args.baseline, args.candidate):
        path = Path(given)
        path = path / FILENAME if path.is_dir() else path
        try:
            loaded.append(Results.load(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:  # exit 1 means regressions
            print(f"aoai-conformance: cannot read {path}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    baseline, candidate = loaded
    from .reports import diff as rendering
    from .results import blocking, label_changes

    changes = compare(baseline, candidate)
    policy = "any" if args.strict else args.block
    blocked = blocking(changes, policy)
    render = rendering.markdown if args.format == "md" else rendering.text
    sys.stdout.write(render(baseline, candidate, changes, blocked, policy,
                            label_changes(baseline, candidate)))
    return EXIT_FAILED if blocked else EXIT_OK


def check_cassettes(args: argparse.Namespace) -> int:
    from .cassette_check import check_paths

    files = checked = skipped = violations = warnings = failed = 0
    unreadable = False
    for result in check_paths(args.paths):
        if result.error is not None:
            print(result.error, file=sys.stderr)  # FILE: why it could not be read
            unreadable = True
            failed += 1
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
          f"skipped, {violations} violation(s), {warnings} warning(s)"
          + (f", {failed} file(s) could not be read" if failed else ""), file=sys.stderr)
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAILED if violations else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"run": run, "record": record, "list": list_checks,
                "check-cassettes": check_cassettes, "diff": diff,
                "deployments": list_deployments, "scan-secrets": scan_secrets}
    # SIGINT and SIGTERM end any command with 130 or 143, never with a verdict's exit status.
    try:
        with interruptible():
            if args.command not in commands:
                return _report_command(args)
            return commands[args.command](args)
    except KeyboardInterrupt as exc:
        print(f"aoai-conformance: {args.command} interrupted ({signal_of(exc)}); it did not "
              "finish", file=sys.stderr)
        return exit_status(signal_of(exc))


def _report_command(args: argparse.Namespace) -> int:
    from . import bisection, doctor, gate, matrix, report_command
    from .standin import command as standin

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "report": report_command.run, "gate": gate.run, "matrix": matrix.run,
        "bisect": bisection.run, "standin": standin.run, "doctor": doctor.run}
    return int(handlers[args.command](args))


if __name__ == "__main__":
    raise SystemExit(main())
