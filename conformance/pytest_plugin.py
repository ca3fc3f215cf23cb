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
from typing import Any

import pytest

from . import paths
from .clock import VirtualClock, virtual_clock
from .harness import ReplayMismatch, Wire, classify
from .registry import REGISTRY, Check, Observations, Unsupported, Verdict, check_of
from .reports import default_dir, write_run
from .results import CheckResult, Results
from .sdk import ENVIRONMENT, TEST_API_KEY, Sdk, installed
from .secrets import Scrubber
from .table import render
from .target import DEFAULT_BUDGET, KEY_VARIABLE, Target, TargetError
from .wire import Chunking, WireServer
from .wire.proxy import Forward

DEFAULT_REPORT_DIR = "conformance-report"
_PROPERTY = "conformance"

_check_key = pytest.StashKey[Check]()
_wire_key = pytest.StashKey[Wire]()
_observations_key = pytest.StashKey[Observations]()
_started_key = pytest.StashKey[float]()
_scrubber_key = pytest.StashKey[Scrubber]()
_target_key = pytest.StashKey[Target]()


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
        "(DefaultAzureCredential)",
    )
    group.addoption(
        "--conformance-budget",
        default=DEFAULT_BUDGET,
        type=int,
        metavar="N",
        help=f"live runs send at most N requests upstream (default {DEFAULT_BUDGET})",
    )
    group.addoption(
        "--sse-chunking",
        default="event",
        metavar="POLICY",
        help="how replayed event streams are cut into HTTP chunks: event (default), whole, "
        "random:SEED or fixed:BYTES",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        Chunking.parse(config.getoption("sse_chunking"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    scrubber = Scrubber()
    scrubber.add(TEST_API_KEY, "api-key")
    config.stash[_scrubber_key] = scrubber
    try:
        config.stash[_target_key] = Target.from_options(
            endpoint=config.getoption("conformance_endpoint"),
            record=config.getoption("conformance_record"),
            auth=config.getoption("conformance_auth"),
            budget=config.getoption("conformance_budget"),
            scrubber=scrubber,
        )
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(ConformanceRun(config), "conformance-run")


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
) -> pytest.Function | None:
    check = check_of(obj)
    if check is None or not isinstance(collector, pytest.Module):
        return None
    if getattr(obj, "__module__", None) != collector.module.__name__:
        return None  # imported from elsewhere: collected where it is defined
    item: pytest.Function = pytest.Function.from_parent(collector, name=name, callobj=obj)
    item.stash[_check_key] = check
    item.extra_keyword_matches.update({check.id, check.feature})
    return item


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
    check = _check(request)
    config = request.config
    target = config.stash[_target_key]
    chunking = Chunking.parse(config.getoption("sse_chunking"))
    if target.forwards and check.cassette is not None:
        if not check.live:
            pytest.skip("replay only: the cassette forces answers a live resource does not give "
                        "on demand")
        if target.remaining == 0:
            pytest.skip(f"the live request budget ({target.budget}) is spent")
        handle = Wire.forwarding(wire_server, Forward(
            target.endpoint or "", target.credential_headers,
            scrub=config.stash[_scrubber_key].text, chunking=chunking,
            max_requests=target.remaining,
        ))
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
    except BaseException as exc:
        _raise_mismatch(pyfuncitem, exc)
        raise
    _raise_mismatch(pyfuncitem, None)
    return result


def _raise_mismatch(item: pytest.Function, cause: BaseException | None) -> None:
    wire = item.stash.get(_wire_key, None)
    if wire is not None and isinstance(cause, Unsupported) and not wire.requests:
        return  # declared unsupported before sending anything: nothing could be replayed
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
        return report  # setup and teardown that went fine say nothing
    else:
        outcome = classify(exc, call.when)
        outcome_verdict, message = outcome.verdict, outcome.message
    if outcome_verdict is Verdict.UNSUPPORTED:
        # A missing feature is not a failure of the run: report it as a pytest skip.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"unsupported: {message}")
    if call.when == "call":
        _account_live_exchanges(item, check, outcome_verdict)
    observations = item.stash.get(_observations_key, Observations())
    started = item.stash.get(_started_key, None)
    scrubber = item.config.stash[_scrubber_key]
    report.user_properties.append(
        (
            _PROPERTY,
            {
                "id": check.id,
                "phase": call.when,
                "verdict": outcome_verdict.value,
                "message": scrubber.text(message),
                "observations": scrubber.obj(observations.as_dict()),
                "duration_s": time.perf_counter() - started if started is not None else 0.0,
            },
        )
    )
    return report


def _account_live_exchanges(item: pytest.Item, check: Check, verdict: Verdict) -> None:
    """Charge what a live check sent to the budget; when recording, save its cassette unless
    the harness broke (a failing exchange is evidence worth keeping)."""
    wire = item.stash.get(_wire_key, None)
    if wire is None or wire.forward is None:
        return
    target = item.config.stash[_target_key]
    target.used += len(wire.forward.interactions)
    if target.mode == "record" and verdict is not Verdict.ERROR:
        cassette = wire.recorded(check, _cassette_root(item.config), str(installed()))
        if cassette is not None:
            cassette.save()


class ConformanceRun:
    """Collects verdicts (also from xdist workers, through user_properties) and reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.time()
        self.rows: dict[str, CheckResult] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name != _PROPERTY or not isinstance(value, dict):
                continue
            data: dict[str, Any] = value
            check = REGISTRY.get(data["id"])
            previous = self.rows.get(data["id"])
            verdict = Verdict(data["verdict"])
            # The first non-pass verdict of a check stands; a teardown error after a pass
            # turns the pass into an error.
            if previous is not None and previous.verdict is not Verdict.PASS:
                previous.observations.update(data["observations"])
                continue
            self.rows[data["id"]] = CheckResult(
                id=data["id"],
                feature=check.feature if check else data["id"].split(".")[0],
                verdict=verdict,
                message=data["message"],
                observations=data["observations"],
                doc=check.doc if check else "",
                claim=check.claim if check else "",
                cassette=check.cassette if check else None,
                duration_s=data["duration_s"],
            )

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
                "cassettes": _display_path(_cassette_root(self.config)),
                "sse_chunking": self.config.getoption("sse_chunking"),
            },
            checks=checks,
            started_at=dt.datetime.fromtimestamp(self.started, dt.timezone.utc).isoformat(
                timespec="seconds"
            ),
            duration_s=time.time() - self.started,
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or not self.rows:
            return
        results = self.results()
        option = self.config.getoption("conformance_report_dir")
        directory = Path(option) if option else (
            self.config.invocation_params.dir / default_dir()
        )
        written = write_run(results, directory)
        terminalreporter.write_sep("=", "conformance")
        terminalreporter.write_line(render(results, report=_display_path(written)))


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
