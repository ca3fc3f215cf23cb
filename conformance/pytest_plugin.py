"""pytest plugin: collects the packaged checks, runs each against the wire server, reports.

Registered through the ``pytest11`` entry point, so ``pytest --pyargs conformance.suites``
works once the package is installed. It only acts on check items (functions registered with
:func:`conformance.registry.check`); any other test in the session is left alone.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Only light modules at load: this plugin is loaded into every pytest session of the
# environment. vcrpy, the SDK, the wire server, the drivers and the reports are imported where
# they are used, once the session turns out to run checks (:func:`_start`).
from . import paths, sdks
from .clock import VirtualClock, virtual_clock
from .interruption import Interrupted, signal_of
from .registry import (
    FEATURES,
    PYTHON_ONLY,
    REGISTRY,
    Check,
    Observations,
    Unsupported,
    Verdict,
    check_of,
)
from .results import CheckResult, Results
from .sdk import ENVIRONMENT, TEST_API_KEY, Sdk, installed
from .secrets import Scrubber
from .settings import (
    CREDENTIALS,
    DEFAULT_BUDGET,
    DEFAULT_REQUEST_TIMEOUT_S,
    DEFAULT_RUN_TIMEOUT_S,
    DEFAULT_TOKEN_BUDGET,
    ENVIRONMENT_VARIABLE,
    KEY_VARIABLE,
    OUTPUT_CAP,
    PYPROJECT_TABLE,
)
from .table import render

if TYPE_CHECKING:
    from .drivers.pool import Driver, DriverPool
    from .harness import Wire
    from .recording import Recordings
    from .sdk_selection import SdkSelection
    from .target import Target
    from .wire import WireServer

DEFAULT_REPORT_DIR = "conformance-report"
_PROPERTY = "conformance"

_check_key = pytest.StashKey[Check]()
_wire_key: pytest.StashKey[Wire] = pytest.StashKey()
_observations_key = pytest.StashKey[Observations]()
_started_key = pytest.StashKey[float]()
_scrubber_key = pytest.StashKey[Scrubber]()
_target_key: pytest.StashKey[Target] = pytest.StashKey()
_deadline_key = pytest.StashKey[float]()
_recordings_key: pytest.StashKey[Recordings] = pytest.StashKey()
_sdk_key = pytest.StashKey[str]()
_sdk_version_key = pytest.StashKey[str]()
_selection_key: pytest.StashKey[SdkSelection] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Azure OpenAI v1 conformance checks")
    group.addoption(
        "--conformance-report-dir",
        default=None,
        metavar="DIR",
        help="where results.json and the reports go when checks ran "
        f"(default: ./{DEFAULT_REPORT_DIR}/<sdk>-<version>/)",
    )
    group.addoption(
        "--conformance-cassettes",
        default=None,
        metavar="DIR",
        help="cassette root to replay (default: the cassettes shipped with the package)",
    )
    group.addoption(
        "--conformance-feature",
        action="append",
        default=[],
        metavar="FEATURE",
        help="run only the checks of this feature (repeatable)",
    )
    group.addoption(
        "--conformance-check",
        action="append",
        default=[],
        metavar="ID",
        help="run only this check (repeatable)",
    )
    group.addoption(
        "--conformance-sdk",
        action="append",
        default=[],
        metavar="NAME[@VERSION]",
        help=f"run the checks against this SDK (repeatable): {', '.join(sdks.names())} or all; "
        "default python. Other SDKs run the cross-SDK checks through their driver, built "
        "on first use (a version other than the driver's pin is built on demand)",
    )
    group.addoption(
        "--conformance-endpoint",
        default=None,
        metavar="URL",
        help="run live against this resource (https://RESOURCE.openai.azure.com/openai/v1/) "
        "instead of replaying cassettes; the SDK still talks to the loopback server, which "
        "forwards with the real credential",
    )
    group.addoption(
        "--conformance-record",
        action="store_true",
        help="with --conformance-endpoint: save each check's exchanges as its cassette",
    )
    group.addoption(
        "--conformance-auth",
        default="key",
        choices=("key", "entra"),
        help=f"live credential: key (from {KEY_VARIABLE}, the default) or entra "
        "(the azure-identity credential named by --conformance-credential)",
    )
    group.addoption(
        "--conformance-credential",
        default="default",
        choices=tuple(CREDENTIALS),
        help="with --conformance-auth=entra: the azure-identity credential, "
        + ", ".join(f"{n} ({c})" for n, (c, _) in CREDENTIALS.items()),
    )
    group.addoption(
        "--conformance-budget",
        default=DEFAULT_BUDGET,
        type=int,
        metavar="N",
        help=f"live runs send at most N requests upstream (default {DEFAULT_BUDGET})",
    )
    group.addoption(
        "--conformance-request-timeout",
        default=DEFAULT_REQUEST_TIMEOUT_S,
        type=float,
        metavar="SECONDS",
        help="live runs: the whole upstream response (connect, headers, body) must arrive "
        f"within SECONDS (default {DEFAULT_REQUEST_TIMEOUT_S:g}), else the check is an error",
    )
    group.addoption(
        "--conformance-run-timeout",
        default=DEFAULT_RUN_TIMEOUT_S,
        type=float,
        metavar="SECONDS",
        help="live runs: nothing is sent upstream after SECONDS from the start (default "
        f"{DEFAULT_RUN_TIMEOUT_S:g}); later live checks are skipped. Driver builds stop by "
        "then too",
    )
    group.addoption(
        "--conformance-max-tokens",
        default=DEFAULT_TOKEN_BUDGET,
        type=int,
        metavar="N",
        help=f"live runs spend at most about N tokens (default {DEFAULT_TOKEN_BUDGET}); each "
        f"request's output is capped at {OUTPUT_CAP} tokens",
    )
    group.addoption(
        "--conformance-deployment",
        action="append",
        default=[],
        metavar="DOC=YOURS",
        help="live runs: send the doc's deployment name DOC as YOURS (repeatable); also "
        f"{ENVIRONMENT_VARIABLE} and [{PYPROJECT_TABLE}] in pyproject.toml",
    )
    group.addoption(
        "--conformance-min-live",
        default=None,
        type=int,
        metavar="N",
        help="live runs: exit 2 unless at least N checks reached the resource (default: every "
        "check the mapped deployments allow, and at least one)",
    )
    group.addoption(
        "--conformance-no-preflight",
        action="store_true",
        help="live runs: skip the preflight (for a gateway that blocks its requests); a setup "
        "problem then shows in the checks",
    )
    group.addoption(
        "--sse-chunking",
        default="event",
        metavar="POLICY",
        help="how replayed event streams are cut into HTTP chunks: event (default), whole, "
        "random:SEED or fixed:BYTES",
    )
    _OPTION_DEFAULTS.update({option.dest: option.default for option in group.options})


# dest -> default of every option above: a session given none of them and collecting no
# check never loads the heavy half of the plugin.
_OPTION_DEFAULTS: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    # Cheap until verdicts arrive (also from xdist workers, whose controller collects nothing).
    config.pluginmanager.register(ConformanceRun(config), "conformance-run")
    if any(config.getoption(dest) != default for dest, default in _OPTION_DEFAULTS.items()):
        _start(config)  # a bad option is a usage error before collection


def _start(config: pytest.Config) -> None:
    """The run's setup, once per session: the options checked, the SDK selection, the target.
    It runs when a conformance option is given or the first check is collected, so a pytest
    session of the environment that runs no check never imports vcrpy, the SDK, the wire
    server or the drivers (with pytest-recording, importing vcr first breaks its assertion
    rewriting)."""
    if _target_key in config.stash:
        return
    from .deployments import DeploymentError, DeploymentMap
    from .recording import Recordings
    from .sdk_selection import SdkSelection, SdkSelectionError
    from .target import Target, TargetError
    from .wire import Chunking

    try:
        Chunking.parse(config.getoption("sse_chunking"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    for name in ("conformance_request_timeout", "conformance_run_timeout"):
        if not config.getoption(name) > 0:
            raise pytest.UsageError(f"--{name.replace('_', '-')} must be a positive number of "
                                    "seconds")
    min_live = config.getoption("conformance_min_live")
    if min_live is not None and min_live < 0:
        raise pytest.UsageError("--min-live must be 0 or more checks")
    config.stash[_deadline_key] = time.monotonic() + config.getoption("conformance_run_timeout")
    unknown = sorted(set(config.getoption("conformance_feature")) - set(FEATURES))
    if unknown:
        raise pytest.UsageError(f"unknown feature(s): {', '.join(unknown)} (known: "
                                f"{', '.join(FEATURES)})")
    try:
        config.stash[_selection_key] = SdkSelection.parse(config.getoption("conformance_sdk"))
    except SdkSelectionError as exc:
        raise pytest.UsageError(str(exc)) from None
    scrubber = Scrubber()
    scrubber.add(TEST_API_KEY, "api-key")
    config.stash[_scrubber_key] = scrubber
    try:
        config.stash[_target_key] = Target.from_options(
            endpoint=config.getoption("conformance_endpoint"),
            record=config.getoption("conformance_record"),
            auth=config.getoption("conformance_auth"),
            credential_name=config.getoption("conformance_credential"),
            max_tokens=config.getoption("conformance_max_tokens"),
            budget=config.getoption("conformance_budget"),
            scrubber=scrubber,
        )
        config.stash[_target_key].deployments = DeploymentMap.load(
            config.getoption("conformance_deployment"), directory=config.invocation_params.dir)
    except (TargetError, DeploymentError) as exc:
        raise pytest.UsageError(scrubber.text(str(exc))) from None
    written = [(config.getoption("conformance_report_dir"), "--conformance-report-dir")]
    if config.stash[_target_key].mode == "record":
        written.append((config.getoption("conformance_cassettes"), "--conformance-cassettes"))
    from .outputs import unwritable_dir

    for folder, flag in written:  # found before any check runs, not after the budget is spent
        problem = unwritable_dir(Path(folder), flag) if folder else None
        if problem:
            raise pytest.UsageError(problem)
    if config.stash[_target_key].mode == "record":
        config.stash[_recordings_key] = Recordings(_cassette_root(config))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Suite modules are named after features (``auth.py``), not ``test_*.py``."""
    if (
        file_path.suffix == ".py"
        and not file_path.name.startswith("_")
        and file_path.parent.resolve() == paths.suites_dir()
    ):
        module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
        return module
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> list[pytest.Function] | None:
    """A check is one item per selected SDK it covers: python-only checks keep their plain
    name, cross-SDK checks are ``<function>[<sdk>]``."""
    check = check_of(obj)
    if check is None or not isinstance(collector, pytest.Module):
        return None
    if getattr(obj, "__module__", None) != collector.module.__name__:
        return None  # imported from elsewhere: collected where it is defined
    _start(collector.config)
    selection = collector.config.stash[_selection_key]
    items: list[pytest.Function] = []
    from .aliases import RETIRED

    # A claim converted to every SDK (issue 19) runs for python in a run without --sdk, as it
    # did before; a retired sdks- twin (conformance.aliases) only when --sdk asks for it.
    named = check.id in collector.config.getoption("conformance_check") or (
        check.sdks != PYTHON_ONLY and check.id not in RETIRED)
    for sdk_name in selection.covers(check.sdks, named=named):
        item_name = name if check.sdks == PYTHON_ONLY else f"{name}[{sdk_name}]"
        item = pytest.Function.from_parent(collector, name=item_name, callobj=obj)
        item.stash[_check_key] = check
        item.stash[_sdk_key] = sdk_name
        item.extra_keyword_matches.update({check.id, check.feature, sdk_name})
        items.append(item)
    return items


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _target_key not in config.stash:
        return  # no check collected, no conformance option: not a conformance session
    from . import deployments
    from .deployments import DeploymentError

    names = config.stash[_target_key].deployments
    if names.names:
        try:
            names.check_known(deployments.needs(REGISTRY.values(), paths.cassette_root()))
        except DeploymentError as exc:
            raise pytest.UsageError(str(exc)) from None
    features = set(config.getoption("conformance_feature"))
    ids = set(config.getoption("conformance_check"))
    if not features and not ids:
        return
    unknown = ids - set(REGISTRY)
    if unknown:
        raise pytest.UsageError(f"unknown check id(s): {', '.join(sorted(unknown))}")
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        check = item.stash.get(_check_key, None)
        selected = check is not None and (check.feature in features or check.id in ids)
        (keep if selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before any check: every driver the run needs is built (a version that cannot be built
    is a setup problem, not a run of errors), and a live run checks its setup
    (:mod:`conformance.preflight`)."""
    config = session.config
    if _target_key not in config.stash or config.option.collectonly:
        return
    _build_drivers(session)
    target = config.stash[_target_key]
    if not target.forwards or hasattr(config, "workerinput"):
        return
    from . import deployments, usage
    from .preflight import Preflight, SetupError

    live = [c for item in session.items if (c := item.stash.get(_check_key, None)) is not None
            and c.live and c.cassette is not None]
    needed = deployments.needs(live, paths.cassette_root())
    routes = deployments.routes(live, paths.cassette_root())
    preflight = Preflight(target, config.stash[_scrubber_key])
    if not config.getoption("conformance_no_preflight"):
        try:
            preflight.run({n: routes[n] for n in needed})
        except SetupError as exc:
            raise pytest.UsageError(str(exc)) from None
    run = config.pluginmanager.get_plugin("conformance-run")
    if isinstance(run, ConformanceRun):
        run.tally.planned = sum(1 for c in live if not set(
            deployments.needed_by(c, paths.cassette_root())) & target.missing)
        run.tally.missing = sorted(target.missing)
    runnable = [c for c in live
                if not set(deployments.needed_by(c, paths.cassette_root())) & target.missing]
    requests, spend = 0, usage.Usage()
    # Each SDK sends the same requests for a check: their answers are reused, so a
    # cassette's exchanges are counted once however many SDKs run its checks.
    for cassette in sorted({c.cassette or "" for c in runnable}):
        sent, spent = usage.estimate(paths.cassette_root() / cassette)
        requests, spend = requests + sent, spend + spent
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for warning in preflight.warnings:
            reporter.write_line(f"live: preflight warning: {warning}")
        if requests > target.budget or spend.total > target.max_tokens:
            reporter.write_line(
                f"live: the budgets ({target.budget} requests, {target.max_tokens} tokens) may "
                f"not cover the {len(runnable)} check(s) selected (about {requests} request(s), "
                f"{spend.total} token(s)): the cheapest go first, a check that would cross a "
                "budget is skipped, and a run that skips one exits 2 (raise --budget or "
                "--max-tokens, or lower --min-live)", yellow=True)
        reporter.write_line(
            ("live: no preflight (--no-preflight)" if config.getoption(
                "conformance_no_preflight") else
             f"live: preflight passed ({preflight.requests} request(s), no tokens)") + "; "
            f"{len(runnable)} check(s) go upstream: about {requests} request(s) and "
            f"{spend.total} token(s) (budgets: {target.budget} requests, {target.max_tokens} "
            f"tokens; output capped at {OUTPUT_CAP} per request)")


def _build_drivers(session: pytest.Session) -> None:
    """Build (or find cached) the driver of every SDK the collected checks run against, and
    prove it whole (it answers hello at its version; a broken cache entry is rebuilt once); the
    driver pool then starts them from the cache. A setup problem stops the run before any
    check; a missing toolchain is left to the pool (those checks skip with the install hint)."""
    from .drivers.build import BuildFailed, BuildTimedOut, CacheBroken, DriverUnavailable, start

    config = session.config
    wanted = {item.stash[_sdk_key] for item in session.items if _sdk_key in item.stash}
    for sdk_name in sorted(wanted - {"python"}):
        version = config.stash[_selection_key].versions.get(sdk_name)
        what = f"the {sdk_name} driver" + (f" with {sdk_name} {version}" if version else "")
        try:
            _, process = start(sdk_name, version=version, until=config.stash[_deadline_key],
                               progress=lambda text: _say(config, text))
            process.close()
        except DriverUnavailable:
            continue
        except ValueError as exc:  # not a version at all
            raise pytest.UsageError(f"--conformance-sdk {sdk_name}@{version}: {exc}") from None
        except CacheBroken as exc:
            raise pytest.UsageError(f"{exc}. No check ran.") from None
        except BuildTimedOut as exc:
            raise pytest.UsageError(
                f"building {what} did not finish in time (`{' '.join(exc.command)}`). No check "
                "ran: is the registry reachable?") from None
        except BuildFailed as exc:
            from .environments import why

            raise pytest.UsageError(
                f"cannot build {what}: `{' '.join(exc.command)}` failed ({why(exc.output)}). "
                "No check ran: is it a released version, and is the registry reachable?"
            ) from None


def live_cost(check: Check | None) -> int:
    """What a check is expected to spend live (its cassette's usage): 0 for what never goes
    upstream."""
    if check is None or check.cassette is None or not check.live:
        return 0
    from . import usage

    return usage.estimate(paths.cassette_root() / check.cassette)[1].total


def _check(request: pytest.FixtureRequest) -> Check:
    try:
        check: Check = request.node.stash[_check_key]
    except KeyError:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses a conformance fixture but is not a registered check"
        ) from None
    return check


# -- fixtures a check can ask for ---------------------------------------------------------


@pytest.fixture(scope="session")
def wire_server() -> Iterator[WireServer]:
    """The loopback server, shared by every check of the session."""
    from .wire import WireServer

    with WireServer() as server:
        yield server


@pytest.fixture(scope="session")
def scrubber(pytestconfig: pytest.Config) -> Scrubber:
    """Secrets this run used (``scrubber.add(value, label)``); every message and observation
    is scrubbed of them before it leaves the process that ran the check."""
    return pytestconfig.stash[_scrubber_key]


@pytest.fixture
def wire(request: pytest.FixtureRequest, wire_server: WireServer) -> Iterator[Wire]:
    """The wire server serving this check's cassette, or forwarding to the live resource, or
    nothing (for checks that script the server themselves)."""
    from . import deployments, usage
    from .harness import Wire
    from .target import Tab
    from .wire import Chunking
    from .wire.proxy import Forward

    check = _check(request)
    config = request.config
    target = config.stash[_target_key]
    chunking = Chunking.parse(config.getoption("sse_chunking"))
    if target.forwards and check.cassette is not None:
        if not check.live:
            pytest.skip("replay only: the cassette forces answers a live resource does not give "
                        "on demand")
        if target.credential_failure is not None:
            pytest.skip(f"not sent: {target.credential_failure}")
        if time.monotonic() >= config.stash[_deadline_key]:
            pytest.skip("the run's deadline (--conformance-run-timeout "
                        f"{config.getoption('conformance_run_timeout'):g} s) has passed")
        _, expected = usage.estimate(paths.cassette_root() / check.cassette)
        refused = target.admit(expected.total)
        if refused is not None:
            pytest.skip(refused)
        missing = [n for n in deployments.needed_by(check, paths.cassette_root())
                   if n in target.missing]
        if missing:
            pytest.skip("; ".join(
                f"deployment {target.deployments.describe(n)} does not exist on the resource; "
                f"map the doc's name to yours: --deployment {n}=YOUR_DEPLOYMENT"
                for n in missing))
        scrubber = config.stash[_scrubber_key]
        handle = Wire.forwarding(wire_server, Forward(
            target.endpoint or "", target.credential_headers,
            scrub=scrubber.text, scrub_body=scrubber.binary,
            rewrite=lambda path, body: usage.cap_output(
                path, target.deployments.rewrite(path, body)),
            chunking=chunking,
            max_requests=target.remaining,
            timeout_s=config.getoption("conformance_request_timeout"),
            deadline=config.stash[_deadline_key],
            answers=target.answers, spending=Tab(target),
        ), target.deployments.names)
    else:
        handle = Wire.for_check(wire_server, check, _cassette_root(config), chunking)
    request.node.stash[_wire_key] = handle
    try:
        yield handle
    finally:
        wire_server.use(_Idle())


def _cassette_root(config: pytest.Config) -> Path:
    root = config.getoption("conformance_cassettes")
    return Path(root) if root else paths.cassette_root()


class _Idle:
    def respond(self, request: Any) -> Any:
        from .wire import Reply

        return Reply(500, [("x-should-retry", "false")], b"no check is running")


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """The virtual clock: retry delays are recorded, never slept."""
    with virtual_clock() as clock:
        yield clock


@pytest.fixture
def sdk(wire: Wire, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sdk]:
    """Builds SDK clients pointed at the wire; the environment cannot leak into them."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    handle = Sdk(wire.base_url)
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture(scope="session")
def driver_pool(pytestconfig: pytest.Config) -> Iterator[DriverPool]:
    """One long-lived driver process per SDK for the whole run, built on first use."""
    from .drivers.pool import DriverPool

    pool = DriverPool(progress=lambda text: _say(pytestconfig, text),
                      versions=pytestconfig.stash[_selection_key].versions,
                      until=pytestconfig.stash[_deadline_key])
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def driver(request: pytest.FixtureRequest, wire: Wire) -> Driver:
    """The SDK this item runs against, as a driver: ``driver.run(scenario) -> outcome``
    (docs/driver-protocol.md). Python runs in process (virtual clock on); the others in
    their driver process. A missing toolchain skips the item with the install hint."""
    from .drivers import BuildFailed, DriverUnavailable
    from .drivers.python import PythonDriver
    from .harness import HarnessFault

    sdk_name = request.node.stash.get(_sdk_key, "python")
    found: Driver
    if sdks.get(sdk_name).in_process:
        found = PythonDriver(request.getfixturevalue("sdk"), request.getfixturevalue("clock"))
    else:
        pool: DriverPool = request.getfixturevalue("driver_pool")
        try:
            found = pool.get(sdk_name)
        except DriverUnavailable as exc:
            pytest.skip(f"{exc.reason}: {exc.hint}")
        except BuildFailed as exc:
            raise HarnessFault(str(exc)) from None
    request.node.stash[_sdk_version_key] = found.version
    return found


def _say(config: pytest.Config, text: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(text)
    else:
        reporter.write_line(text)


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Observations:
    """Record what the check saw: ``observe("key", value)``. Written to results.json."""
    _check(request)
    observations = Observations()
    request.node.stash[_observations_key] = observations
    return observations


# -- verdicts -------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """After the check body, a replay that was not exact fails the check, whatever else
    happened: the cassette is the contract the SDK was held to."""
    if _check_key not in pyfuncitem.stash:
        return (yield)
    pyfuncitem.stash[_started_key] = time.perf_counter()
    try:
        result = yield
    except (KeyboardInterrupt, pytest.exit.Exception):
        raise  # the run ends here: an interrupt is no replay problem and no verdict
    except BaseException as exc:
        _raise_mismatch(pyfuncitem, exc)
        raise
    _raise_mismatch(pyfuncitem, None)
    return result


def _raise_mismatch(item: pytest.Function, cause: BaseException | None) -> None:
    from .drivers.process import DriverError, ScenarioRejected
    from .harness import ReplayMismatch

    wire = item.stash.get(_wire_key, None)
    _raise_faults(wire, cause)
    if wire is not None and isinstance(cause, Unsupported) and not wire.requests:
        return  # declared unsupported before sending anything: nothing could be replayed
    if isinstance(cause, (DriverError, ScenarioRejected)):
        return  # the driver broke (an error verdict), whatever it left unplayed
    problems = wire.problems() if wire is not None else []
    if not problems:
        return
    replay = "\n".join(problems)
    missed = wire is not None and wire.replay is not None and wire.replay.misses
    if isinstance(cause, AssertionError) and not missed:
        # The check judged first and stopped early; its reason stays first.
        raise ReplayMismatch(f"{cause}\n(and the replay was not exact: {replay})") from cause
    if cause is not None and not isinstance(cause, AssertionError):
        replay += f"\n(the SDK then raised {type(cause).__name__}: {cause})"
    raise ReplayMismatch(replay) from cause


def _raise_faults(wire: Wire | None, cause: BaseException | None) -> None:
    """The wire server's own failures make the check an error, whatever the SDK did next:
    the SDK was answered by a broken harness, not by the service."""
    from .harness import HarnessFault

    faults = wire.faults() if wire is not None else []
    if wire is None or not faults:
        return
    lines = [f"the wire server failed (not the SDK): {f.describe()}" for f in faults[:5]]
    if len(faults) > 5:
        lines.append(f"... and {len(faults) - 5} more")
    lines.extend(f"(replay: {p})" for p in wire.problems())
    if cause is not None and not isinstance(cause, pytest.skip.Exception):
        lines.append(f"(the check then saw {type(cause).__name__}: {str(cause)[:500]})")
    raise HarnessFault("\n".join(lines)) from cause


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    check = item.stash.get(_check_key, None)
    if check is None:
        return report
    exc = call.excinfo.value if call.excinfo is not None else None
    if exc is not None and call.excinfo is not None and call.excinfo.errisinstance(
        pytest.skip.Exception
    ):
        outcome_verdict, message = Verdict.SKIPPED, str(getattr(exc, "msg", exc))
    elif call.when != "call" and exc is None:
        _scrub_report(report, item.config.stash[_scrubber_key])
        return report  # setup and teardown that went fine say nothing
    else:
        from .harness import classify

        outcome = classify(exc, call.when)
        outcome_verdict, message = outcome.verdict, outcome.message
        if outcome_verdict in (Verdict.FAIL, Verdict.ERROR):
            message += _upstream_note(item)
        failure = item.config.stash[_target_key].credential_failure
        if failure is not None and outcome_verdict in (Verdict.FAIL, Verdict.ERROR):
            # The wire server could not forward: the cause is setup, not the SDK or a fault.
            outcome_verdict, message = Verdict.ERROR, f"setup error: {failure}"
    wire = item.stash.get(_wire_key, None)
    if call.when == "call" and wire is not None and wire.forward is not None and (
            wire.forward.refused):
        # A request the budgets kept back: the SDK was answered by the harness, not judged.
        outcome_verdict, message = Verdict.SKIPPED, wire.forward.refused[0]
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, message)
    if outcome_verdict is Verdict.UNSUPPORTED:
        # A missing feature is not a failure of the run: report it as a pytest skip.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"unsupported: {message}")
    observations = item.stash.get(_observations_key, Observations())
    if call.when == "call":
        spent, refused = _account_live_exchanges(item, check, outcome_verdict)
        if spent is not None:
            observations.items["live_usage"] = spent
        if refused is not None:
            outcome_verdict, message = Verdict.ERROR, refused
    started = item.stash.get(_started_key, None)
    scrubber = item.config.stash[_scrubber_key]
    if item.config.stash[_target_key].forwards and report.failed and outcome_verdict in (
            Verdict.FAIL, Verdict.ERROR):
        _one_paragraph(report, observations, check, message)
    report.user_properties.append(
        (
            _PROPERTY,
            {
                "id": check.id,
                "sdk": item.stash.get(_sdk_key, "python"),
                "sdk_version": item.stash.get(_sdk_version_key, None)
                or item.config.stash[_selection_key].version_of(
                    item.stash.get(_sdk_key, "python")),
                "phase": call.when,
                "verdict": outcome_verdict.value,
                "message": scrubber.text(message),
                "observations": scrubber.obj(observations.as_dict()),
                "duration_s": time.perf_counter() - started if started is not None else 0.0,
            },
        )
    )
    _scrub_report(report, scrubber)
    return report


def _one_paragraph(report: pytest.TestReport, observations: Observations, check: Check,
                   message: str) -> None:
    """Live: the terminal shows a failing check's reason, one paragraph; pytest's traceback
    goes to the report (the check's ``traceback`` observation in results.json)."""
    if report.longrepr is not None:
        observations.items["traceback"] = str(report.longrepr)[-20_000:]
    report.longrepr = f"{check.id}: {' '.join(message.split())}"


def _upstream_note(item: pytest.Item) -> str:
    """What the resource refused in a live check, naming the deployment asked for."""
    wire = item.stash.get(_wire_key, None)
    if wire is None or wire.forward is None:
        return ""
    names = item.config.stash[_target_key].deployments
    refused = []
    for interaction in wire.forward.interactions:
        if interaction.status < 400:
            continue
        try:
            body = interaction.request_json()
        except ValueError:
            body = None
        model = body.get("model") if isinstance(body, dict) else None
        asked = f" for deployment {names.describe(model)}" if isinstance(model, str) else ""
        refused.append(f"{interaction.status} to {interaction.request.method} "
                       f"{interaction.request.path}{asked}")
    if not refused:
        return ""
    return "\n(the resource answered " + "; ".join(dict.fromkeys(refused)) + ")"


def _scrub_report(report: pytest.TestReport, scrubber: Scrubber) -> None:
    """What pytest prints of a check (traceback, fixture arguments, locals, exception messages,
    captured output) passes through the scrubber: the last line of defence for a secret that
    reached an object or a message unscrubbed."""
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        scrubbed = scrubber.text(text)
        if scrubbed != text:
            report.longrepr = scrubbed
    elif isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        report.longrepr = (path, line, scrubber.text(message))
    report.sections = [(title, scrubber.text(body)) for title, body in report.sections]


def _account_live_exchanges(
    item: pytest.Item, check: Check, verdict: Verdict
) -> tuple[dict[str, int] | None, str | None]:
    """Charge what a live check sent (requests, and tokens as the answers report them) to
    the budgets; when recording and the check passed, hold its cassette back until the
    checks sharing it replay it (:mod:`conformance.recording`). Returns what the check spent,
    and why its recording was refused."""
    from . import usage
    from .recording import RecordingRefused, stabilise
    from .target import Tab

    wire = item.stash.get(_wire_key, None)
    if wire is None or wire.forward is None:
        return None, None
    target = item.config.stash[_target_key]
    spending = wire.forward.spending
    spent = spending.spent if isinstance(spending, Tab) else usage.Usage()
    target.used += wire.forward.sent  # failed sends count too
    refused = None
    cassette = wire.recorded(check, _cassette_root(item.config), str(installed()))
    if (target.mode == "record" and verdict is Verdict.PASS and cassette is not None
            and item.stash.get(_sdk_key, "python") == "python"):
        try:
            stabilise(cassette, item.config.stash[_scrubber_key])
        except RecordingRefused as exc:
            refused = str(exc)
        else:
            item.config.stash[_recordings_key].add(check.id, check.cassette or "", cassette)
    return {"requests": wire.forward.sent, "reused": wire.forward.reused,
            "input_tokens": spent.input, "output_tokens": spent.output}, refused


class ConformanceRun:
    """Collects verdicts (also from xdist workers, through user_properties) and reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.time()
        self.rows: dict[tuple[str, str], CheckResult] = {}
        self.selected = 0  # check items the session runs
        self.interrupted: str | None = None  # the signal that ended the run

        from .live_tally import LiveTally  # light: no wire, no SDK

        self.tally = LiveTally(min_live=config.getoption("conformance_min_live"))
        # record: cassette -> None (written) or why it was not
        self.recorded: dict[str, str | None] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selected = sum(1 for item in session.items if _check_key in item.stash)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """A signal ended the run: the check that was running gets no verdict, and every
        report says how far the run got."""
        self.interrupted = signal_of(excinfo.value)

    def interruption(self) -> Interrupted | None:
        if self.interrupted is None:
            return None
        return Interrupted(self.interrupted, len(self.rows), max(self.selected, len(self.rows)))
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Live: the cheapest checks first, so a tight budget starves the fewest checks and
        every feature gets its cheap checks in before the dear ones."""
        target = self.config.stash.get(_target_key, None)  # None: not a conformance session
        if target is not None and target.forwards:
            items.sort(key=lambda item: live_cost(item.stash.get(_check_key, None)))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """A live run that reached the resource with too few checks is not green."""
        target = self.config.stash.get(_target_key, None)  # None: not a conformance session
        if (target is None or not target.forwards or hasattr(self.config, "workerinput")
                or not self.rows):
            return
        self.tally.count(
            (row.verdict.value, row.message, row.observations.get("live_usage"))
            for row in self.rows.values()
            if (check := REGISTRY.get(row.id)) is not None and check.live
            and check.cassette is not None)
        if self.tally.shortfall() is not None and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name != _PROPERTY or not isinstance(value, dict):
                continue
            data: dict[str, Any] = value
            _start(self.config)  # on an xdist controller, the first verdict starts the run
            check = REGISTRY.get(data["id"])
            key = (data["id"], data.get("sdk", "python"))
            previous = self.rows.get(key)
            verdict = Verdict(data["verdict"])
            # The first non-pass verdict of a check stands; a teardown error after a pass
            # turns the pass into an error.
            if previous is not None and previous.verdict is not Verdict.PASS:
                previous.observations.update(data["observations"])
                continue
            self.rows[key] = CheckResult(
                id=data["id"],
                sdk=key[1],
                sdk_version=data.get("sdk_version") or "",
                feature=check.feature if check else data["id"].split(".")[0],
                verdict=verdict,
                message=data["message"],
                observations=data["observations"],
                doc=check.doc if check else "",
                claim=check.claim if check else "",
                cassette=check.cassette if check else None,
                duration_s=data["duration_s"],
            )

    def _settle_recordings(self, terminalreporter: Any) -> None:
        """Write each recorded cassette once every check sharing it replays it; a recording
        that would break one is not written, and the checks that recorded it are errors."""
        recordings = self.config.stash.get(_recordings_key, None)
        if recordings is None:
            return
        interrupted = self.interruption()
        if interrupted is not None:
            # An interrupted recording is unfinished: nothing of it is written.
            terminalreporter.write_line(
                f"record: {interrupted}: no cassette written"
                + (f" ({len(recordings.pending)} recording(s) discarded)"
                   if recordings.pending else ""))
            recordings.pending.clear()
            return
        sharers = {relative: [c.id for c in REGISTRY.values() if c.cassette == relative]
                   for relative in recordings.pending}
        settled = recordings.settle(sharers) if recordings.pending else {}
        self.recorded = {relative: problem for relative, problem in settled.items()}
        for (check_id, sdk), unrecorded in sorted(self.rows.items()):
            if (sdk != "python" or unrecorded.cassette is None
                    or unrecorded.cassette in self.recorded):
                continue  # what was not recorded, and why
            why = " ".join(unrecorded.message.split())[:300] or "no exchange to record"
            self.recorded.setdefault(unrecorded.cassette, f"not written: {check_id} "
                                     f"{unrecorded.verdict.value} ({why})")
        for relative, problem in sorted(self.recorded.items()):
            terminalreporter.write_line(
                f"record: {relative}: " + (problem or "written (replayed by "
                                           + ", ".join(sorted(sharers[relative])) + ")"))
        written = sum(1 for problem in self.recorded.values() if problem is None)
        terminalreporter.write_line(f"record: {written} cassette(s) written, "
                                    f"{len(self.recorded) - written} not written")
        for relative, problem in settled.items():
            for check_id in recordings.recorded_by[relative]:
                row = self.rows.get((check_id, "python"))
                if row is None:
                    continue
                row.observations["recording"] = problem or "written"
                if problem is not None and row.verdict is Verdict.PASS:
                    row.verdict, row.message = Verdict.ERROR, f"recorded, {problem}"

    def results(self) -> Results:
        target = self.config.stash[_target_key]
        # Pattern scrubbing again on the controller: secrets a worker could not know about.
        scrubber = Scrubber()
        checks = []
        for row in self.rows.values():
            row.message = scrubber.text(row.message)
            row.observations = scrubber.obj(row.observations)
            checks.append(row)
        return Results(
            sdk=installed().as_dict(),
            target={
                **target.describe(self.config.stash[_scrubber_key]),
                **({"live": self.tally.as_dict()} if target.forwards else {}),
                **({"written": sorted(c for c, p in self.recorded.items() if p is None),
                    "not_written": {c: p for c, p in sorted(self.recorded.items()) if p}}
                   if target.mode == "record" else {}),
                "cassettes": _display_path(_cassette_root(self.config)),
                "sse_chunking": self.config.getoption("sse_chunking"),
            },
            checks=checks,
            started_at=dt.datetime.fromtimestamp(self.started, dt.timezone.utc).isoformat(
                timespec="seconds"
            ),
            duration_s=time.time() - self.started,
            interrupted=self.interruption(),
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or not (self.rows or self.interrupted):
            return
        from .reports import default_dir, write_run

        self._settle_recordings(terminalreporter)
        results = self.results()
        option = self.config.getoption("conformance_report_dir")
        directory = Path(option) if option else (
            self.config.invocation_params.dir / default_dir()
        )
        written = write_run(results, directory)
        terminalreporter.write_sep("=", "conformance")
        terminalreporter.write_line(render(results, report=_display_path(written)))
        target = self.config.stash[_target_key]
        if target.forwards:
            terminalreporter.write_line(
                f"live: {target.used} request(s) of {target.budget}, {target.tokens_used} "
                f"token(s) of {target.max_tokens} (per check: live_usage in results.json)")
            terminalreporter.write_line(self.tally.summary())
            shortfall = self.tally.shortfall()
            if shortfall is not None:
                terminalreporter.write_line(shortfall, red=True, bold=True)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -- the stand-in, for users' own test suites -----------------------------------------------


@pytest.fixture(scope="session")
def aoai_standin() -> Iterator[Any]:
    """A stand-in Azure OpenAI v1 resource on 127.0.0.1 for testing your own application:
    ``.base_url``, ``.key``, ``.requests`` (what was sent, scrubbed), ``.clear()``. A request
    selects a quirk with a deployment name ``scenario-NAME--DEPLOYMENT``; ``aoai-conformance
    standin --list`` names them. (The stand-in is imported here, not at plugin load.)"""
    from .standin import serving

    with serving() as running:
        yield running
