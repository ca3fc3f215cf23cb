"""pytest plugin: collects the packaged checks, runs each against the wire server, reports.

Registered through the ``pytest11`` entry point, so ``pytest --pyargs conformance.suites``
works once the package is installed. It only acts on check items (functions registered with
:func:`conformance.registry.check`); any other test in the session is left alone.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Only light modules at load: this plugin is loaded into every pytest session of the
# environment. vcrpy, the SDK, the wire server, the drivers and the reports are imported where
# they are used, once the session turns out to run checks (:func:`_start`).
from . import paths, sdks, verdicts, workers
from .clock import VirtualClock, virtual_clock
from .events import EventStream, RunFinished, VerdictReached
from .interruption import signal_of
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
from .results import CheckResult
from .run_results import Finish, RunResults, display_path
from .sdk import ENVIRONMENT, TEST_API_KEY, OpenAIPython, installed
from .secrets import Scrubber
from .settings import OPTIONS, OUTPUT_CAP

if TYPE_CHECKING:
    from .drivers.pool import Driver, DriverPool
    from .harness import Wire
    from .recording import Recordings
    from .sdk_selection import SdkSelection
    from .target import Target
    from .wire import WireServer

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
_pool_key: pytest.StashKey[DriverPool] = pytest.StashKey()
_proven_key = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Azure OpenAI v1 conformance checks")
    for option in OPTIONS:  # the one table (conformance.settings), the CLI's live options too
        arguments = option.arguments()
        arguments["help"] = arguments["help"].replace("{sdks}", ", ".join(sdks.names()))
        group.addoption(option.name, **arguments)
    _OPTION_DEFAULTS.update({option.dest: option.default for option in group.options})


# dest -> default of every option above: a session given none of them and collecting no
# check never loads the heavy half of the plugin.
_OPTION_DEFAULTS: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    # Cheap until verdicts arrive (also from xdist workers, whose controller collects nothing).
    config.pluginmanager.register(ConformanceRun(config), "conformance-run")
    # Each check item's SDK is its xdist group (conformance.workers); declared here too, for a
    # session with --strict-markers and xdist disabled.
    config.addinivalue_line("markers", f"{workers.GROUP_MARK}(name): the checks of one SDK "
                            "run in one xdist worker (--dist loadgroup)")
    if any(config.getoption(dest) != default for dest, default in _OPTION_DEFAULTS.items()):
        _start(config)  # a bad option is a usage error before collection


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(_pool_key, None)
    if pool is not None:  # a run that stopped before its checks closes what it proved
        pool.close()


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
    config.stash[_target_key].deadline = config.stash[_deadline_key]
    config.stash[_target_key].run_timeout_s = config.getoption("conformance_run_timeout")
    if (config.stash[_target_key].forwards and workers.distributed(config)
            and not workers.is_worker(config)):
        raise pytest.UsageError(
            "live and record runs run in one process (the budgets, the preflight and the "
            "recordings are counted in one place): drop -n/--dist")
    written = [(config.getoption("conformance_report_dir"), "--conformance-report-dir")]
    if config.stash[_target_key].mode == "record":
        written.append((config.getoption("conformance_cassettes"), "--conformance-cassettes"))
    from .outputs import unwritable_dir

    for folder, flag in written:  # found before any check runs, not after the budget is spent
        problem = unwritable_dir(Path(folder), flag) if folder else None
        if problem:
            raise pytest.UsageError(problem)
    if config.stash[_target_key].mode == "record":
        from .run_recordings import RecordingSettler

        recordings = config.stash[_recordings_key] = Recordings(_cassette_root(config))
        run = config.pluginmanager.get_plugin("conformance-run")
        if isinstance(run, ConformanceRun):  # settled before the results are written
            run.events.subscribe(RecordingSettler(recordings, run.results.rows),
                                 before=run.results)


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
    for sdk_name in selection.covers(check.sdks):
        item_name = name if check.sdks == PYTHON_ONLY else f"{name}[{sdk_name}]"
        item = pytest.Function.from_parent(collector, name=item_name, callobj=obj)
        item.stash[_check_key] = check
        item.stash[_sdk_key] = sdk_name
        item.add_marker(pytest.mark.xdist_group(workers.group(sdk_name)))
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
    _freeze_imports(session)
    target = config.stash[_target_key]
    if not target.forwards or hasattr(config, "workerinput"):
        return
    from . import deployments, usage
    from .preflight import Preflight, PreflightFailed

    live = [c for item in session.items if (c := item.stash.get(_check_key, None)) is not None
            and c.live and c.cassette is not None]
    needed = deployments.needs(live, paths.cassette_root())
    routes = deployments.routes(live, paths.cassette_root())
    preflight = Preflight(target, config.stash[_scrubber_key])
    if not config.getoption("conformance_no_preflight"):
        try:
            preflight.run({n: routes[n] for n in needed})
        except PreflightFailed as exc:
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


def _freeze_imports(session: pytest.Session) -> None:
    """The modules of the run imported (the SDK too when Python runs), then moved out of the
    garbage collector's sight (``gc.freeze``): they live as long as the process, and without
    this every full collection of the run walks the SDK's thousands of type objects again
    (a second of a replay run's few)."""
    import gc

    if any(item.stash.get(_sdk_key, None) == "python" for item in session.items):
        import openai  # noqa: F401  (imported by the first check otherwise)
    gc.freeze()


def _build_drivers(session: pytest.Session) -> None:
    """Build (or find cached) the driver of every SDK the collected checks run against, and
    prove it whole (it answers hello at its version; a broken cache entry is rebuilt once).
    In one process the proof goes through the session's driver pool, which keeps the process
    it started for the checks; an xdist worker proves nothing (its controller did, once, from
    the first worker's collection: :meth:`ConformanceRun.pytest_xdist_node_collection_finished`)
    and starts a driver on its first check of that SDK. A setup problem stops the run before
    any check; a missing toolchain is left to the pool (those checks skip with the hint)."""
    config = session.config
    if workers.is_worker(config):
        return
    wanted = {item.stash[_sdk_key] for item in session.items if _sdk_key in item.stash}
    _prove_drivers(config, [s for s in sdks.driver_names() if s in wanted], _pool(config))


def _prove_drivers(config: pytest.Config, wanted: list[str], pool: DriverPool | None) -> None:
    """Prove each of the ``wanted`` drivers (through ``pool``, which keeps them running, or,
    on an xdist controller, started and closed again), raising a one-paragraph
    ``UsageError`` for one that cannot be built."""
    from .drivers.build import (
        BuildFailed,
        BuildTimedOut,
        DriverCacheBroken,
        DriverUnavailable,
        start,
    )

    if config.stash.get(_proven_key, False):
        return
    config.stash[_proven_key] = True

    def prove(sdk_name: str) -> None:
        if pool is not None:
            pool.get(sdk_name)
            return
        _, process = start(sdk_name, version=config.stash[_selection_key].versions.get(sdk_name),
                           until=config.stash[_deadline_key],
                           progress=lambda text: _say(config, text))
        process.close()

    # On an xdist controller the proofs start and close processes of their own: all at once
    # (a JVM's start and a Node start overlap), judged below in the SDKs' order.
    raised: dict[str, BaseException | None] = {}
    if pool is None and len(wanted) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(wanted), thread_name_prefix="prove") as proofs:
            futures = {sdk_name: proofs.submit(prove, sdk_name) for sdk_name in wanted}
        raised = {sdk_name: future.exception() for sdk_name, future in futures.items()}
    for sdk_name in wanted:
        version = config.stash[_selection_key].versions.get(sdk_name)
        what = f"the {sdk_name} driver" + (f" with {sdk_name} {version}" if version else "")
        try:
            if sdk_name not in raised:
                prove(sdk_name)
            elif (problem := raised[sdk_name]) is not None:
                raise problem
        except DriverUnavailable:
            continue
        except ValueError as exc:  # not a version at all
            raise pytest.UsageError(f"--conformance-sdk {sdk_name}@{version}: {exc}") from None
        except DriverCacheBroken as exc:
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
    from . import usage
    from .harness import Wire
    from .target import Tab
    from .wire import Chunking
    from .wire.proxy import Forward

    check = _check(request)
    config = request.config
    target = config.stash[_target_key]
    chunking = Chunking.parse(config.getoption("sse_chunking"))
    if target.forwards and check.cassette is not None:
        refused = target.admit(check)  # live admission
        if refused is not None:
            pytest.skip(refused)
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
        from .wire import refusal

        return refusal(500, "no_check", "no check is running")


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """The virtual clock: retry delays are recorded, never slept."""
    with virtual_clock() as clock:
        yield clock


@pytest.fixture
def openai_python(wire: Wire, clock: VirtualClock,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIPython]:
    """Builds openai-python clients pointed at the wire; the environment cannot leak into
    them."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    handle = OpenAIPython(wire.base_url)
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture(scope="session")
def driver_pool(pytestconfig: pytest.Config) -> Iterator[DriverPool]:
    """One long-lived driver process per SDK for the whole run (per worker under xdist),
    started on first use, or kept from the proof before the first check."""
    pool = _pool(pytestconfig)
    try:
        yield pool
    finally:
        pool.close()


def _pool(config: pytest.Config) -> DriverPool:
    """The session's driver pool: the drivers proven before the first check are the ones the
    checks use (a JVM is started once, not twice)."""
    pool = config.stash.get(_pool_key, None)
    if pool is None:
        from .drivers.pool import DriverPool

        pool = DriverPool(progress=lambda text: _say(config, text),
                          versions=config.stash[_selection_key].versions,
                          until=config.stash[_deadline_key])
        config.stash[_pool_key] = pool
    return pool


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
        found = PythonDriver(request.getfixturevalue("openai_python"),
                             request.getfixturevalue("clock"),
                             dispatch=wire.server.dispatch)
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
    wire = item.stash.get(_wire_key, None)
    kept_back = (wire.forward.refused[0] if wire is not None and wire.forward is not None
                 and wire.forward.refused else None)
    judged = verdicts.of_phase(
        exc, call.when,
        skipped=exc is not None and call.excinfo is not None and call.excinfo.errisinstance(
            pytest.skip.Exception),
        upstream_note=lambda: _upstream_note(item),
        credential_failure=item.config.stash[_target_key].credential_failure,
        kept_back=kept_back)
    if judged is None:
        _scrub_report(report, item.config.stash[_scrubber_key])
        return report  # setup and teardown that went fine say nothing
    outcome_verdict, message = judged
    if call.when == "call" and kept_back is not None:
        # A request the budgets kept back: the SDK was answered by the harness, not judged.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, message)
    if outcome_verdict is Verdict.UNSUPPORTED:
        # A missing feature is not a failure of the run: report it as a pytest skip.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"unsupported: {message}")
    observations = item.stash.get(_observations_key, Observations())
    if call.when == "call" and wire is not None and wire.forward is not None:
        # A live check's spending goes to the target's budgets; a record run holds back its
        # exchanges as its cassette (conformance.recording).
        observations.items["live_usage"] = item.config.stash[_target_key].charge(wire.forward)
        recordings = item.config.stash.get(_recordings_key, None)
        if recordings is not None:
            refused = recordings.keep(
                check, outcome_verdict, item.stash.get(_sdk_key, "python"),
                wire.recorded(check, _cassette_root(item.config), str(installed())),
                item.config.stash[_scrubber_key])
            outcome_verdict, message = verdicts.recording_refused((outcome_verdict, message),
                                                                  refused)
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


class ConformanceRun:
    """The session's hooks that turn verdicts (also from xdist workers, through
    user_properties) into events (:mod:`conformance.events`) for the run's handlers: the
    results (:class:`~conformance.run_results.RunResults`, always) and, when recording, the
    recordings (:class:`~conformance.recording.RecordingSettler`, subscribed by
    :func:`_start`)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = RunResults()
        self.events = EventStream()
        self.events.subscribe(self.results)

        from .live_tally import LiveTally  # light: no wire, no SDK

        self.tally = LiveTally(min_live=config.getoption("conformance_min_live"))

    @property
    def rows(self) -> dict[tuple[str, str], CheckResult]:
        return self.results.rows

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.results.selected = sum(1 for item in session.items if _check_key in item.stash)

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """``--dist loadgroup`` in a conformance session: one SDK's checks are one unit of
        work, so a worker starts only the drivers of the SDKs it runs (conformance.workers)."""
        if _target_key not in config.stash or config.getvalue("dist") != "loadgroup":
            return None
        return workers.scheduler(config, log, sdks.names())

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """On the xdist controller, which collects nothing: the first worker's collection
        says which drivers the run needs, and each is proven once (built or found cached,
        hello at its version) before any check is scheduled; one that cannot be built stops
        the run (exit 2) as in one process."""
        if _target_key not in self.config.stash or self.config.option.collectonly:
            return
        self.results.selected = max(self.results.selected, len(ids))
        _prove_drivers(self.config, workers.driver_sdks(ids, sdks.driver_names()), None)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """A signal ended the run: the check that was running gets no verdict, and every
        report says how far the run got."""
        self.results.interrupted = signal_of(excinfo.value)
        for report in workers.queued_reports(self.config):  # xdist: finished, not yet handled
            self.pytest_runtest_logreport(report)
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
            _start(self.config)  # on an xdist controller, the first verdict starts the run
            self.events.emit(VerdictReached(value))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or not (self.rows or self.results.interrupted):
            return
        from .reports import default_dir

        target = self.config.stash[_target_key]
        option = self.config.getoption("conformance_report_dir")
        finish = Finish(
            sdk_info=installed().as_dict(),
            target={**target.describe(self.config.stash[_scrubber_key]),
                    **({"live": self.tally.as_dict()} if target.forwards else {})},
            record=target.mode == "record",
            cassettes=display_path(_cassette_root(self.config)),
            sse_chunking=self.config.getoption("sse_chunking"),
            report_dir=Path(option) if option else (
                self.config.invocation_params.dir / default_dir()),
        )
        self.events.emit(RunFinished(self.results.interruption(), terminalreporter,
                                     {"finish": finish}))
        if target.forwards:
            terminalreporter.write_line(
                f"live: {target.used} request(s) of {target.budget}, {target.tokens_used} "
                f"token(s) of {target.max_tokens} (per check: live_usage in results.json)")
            terminalreporter.write_line(self.tally.summary())
            shortfall = self.tally.shortfall()
            if shortfall is not None:
                terminalreporter.write_line(shortfall, red=True, bold=True)


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
