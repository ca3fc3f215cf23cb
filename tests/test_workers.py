"""A run over several SDKs is spread over xdist workers, one per SDK (conformance/workers.py):
the CLI's decision, the plugin's groups, the drivers proven once before any check and started
only where their checks run, and the runs that stay in one process."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conformance import cli, workers
from conformance.drivers import pool as driver_pool
from conformance.registry import ALL_SDKS, PYTHON_ONLY, REGISTRY, Verdict
from conformance.results import Results

from .driver_mutants import pool_start

FAKE = Path(__file__).resolve().parent / "fake_driver.py"
ROOT = FAKE.parent.parent
ALL = ("python", "javascript", "go", "java")
PARALLEL = ["--dist", "loadgroup"]


# -- the decision ---------------------------------------------------------------------------

@pytest.mark.parametrize(("sdks", "forwards", "given", "cores", "expected"), [
    (ALL, False, [], 2, ["-n", "4", *PARALLEL]),  # one worker per SDK
    (ALL, False, [], 1, ["-n", "2", *PARALLEL]),  # capped for the cores, never below two
    (("python", "go"), False, [], 2, ["-n", "2", *PARALLEL]),
    (("javascript", "go", "java"), False, [], 64, ["-n", "3", *PARALLEL]),
    (("python",), False, [], 2, []),  # one SDK: one process, no xdist
    (("java",), False, [], 2, []),
    ((), False, [], 2, []),
    (ALL, True, [], 2, []),  # live and record runs stay in one process
    (ALL, False, ["-n", "0"], 2, []),  # the user's pytest arguments choose
    (ALL, False, ["-n4"], 2, []),
    (ALL, False, ["--numprocesses=2"], 2, []),
    (ALL, False, ["--dist=load"], 2, []),
    (ALL, False, ["-p", "no:xdist"], 2, []),
    (ALL, False, ["-k", "sdks_api_key", "--noconftest"], 2, ["-n", "4", *PARALLEL]),
])
def test_how_many_workers_a_run_starts(sdks, forwards, given, cores, expected):
    assert workers.pytest_args(sdks, forwards=forwards, given=given, cores=cores) == expected


def test_the_cap_grows_with_the_cores_within_bounds():
    assert [workers.cap(n) for n in (1, 2, 3, 4, 16)] == [2, 4, 6, 8, 8]


@pytest.mark.parametrize(("ids", "expected"), [
    (["conformance/suites/cross_sdk.py::sdks_api_key[java]@java",
      "conformance/suites/cross_sdk.py::sdks_api_key[go]@go",
      "conformance/suites/chat.py::completion@python",
      "conformance/suites/cross_sdk.py::sdks_api_key[python]@python"], ["go", "java"]),
    (["conformance/suites/cross_sdk.py::sdks_api_key[javascript]"], ["javascript"]),
    (["conformance/suites/chat.py::completion"], []),
    (["x.py::test[dotnet]@dotnet", "x.py::test[go-not]"], []),
])
def test_the_controller_reads_the_drivers_a_run_needs_from_the_node_ids(ids, expected):
    assert workers.driver_sdks(ids, ("javascript", "go", "java")) == expected


@pytest.mark.parametrize(("node_id", "sdk"), [
    ("conformance/suites/cross_sdk.py::sdks_api_key[java]", "java"),
    ("cross_sdk.py::sdks_api_key[go]@go", "go"),  # xdist's suffix (pytest < 9.2)
    ("chat.py::completion", "python"),  # a python-only check
    ("chat.py::completion@python", "python"),
    ("test_mine.py::test_x[java-17]", "python"),  # anything else runs where python does
    ("test_mine.py::test_x[dotnet]", "python"),
])
def test_the_scheduler_groups_items_by_the_sdk_their_node_id_names(node_id, sdk):
    assert workers.sdk_of(node_id, ALL) == sdk


def test_the_scheduler_hands_out_whole_sdks():
    """pytest 9.2 no longer lets xdist 3.8 suffix node ids with their group, so loadgroup
    alone would spread one SDK's checks (and its driver) over every worker."""
    pytest.importorskip("xdist")
    from xdist.remote import Producer

    class Config:  # what xdist's LoadScopeScheduling reads
        option = SimpleNamespace(tx=["2*popen"], numprocesses=2, maxworkerrestart=None,
                                 loadscopereorder=True)

        def getvalue(self, name: str) -> Any:
            return getattr(self.option, name, None)

    class Node:
        def __init__(self, name: str) -> None:
            self.gateway = type("Gateway", (), {"id": name})()
            self.sent: list[int] = []
            self.shutting_down = False

        def send_runtest_some(self, indices: list[int]) -> None:
            self.sent.extend(indices)

        def shutdown(self) -> None:
            self.shutting_down = True

    ids = [f"cross_sdk.py::{check}[{sdk}]" for check in ("a", "b", "c")
           for sdk in ("go", "java")] + [f"chat.py::{n}" for n in ("x", "y", "z")]
    scheduler = workers.scheduler(Config(), Producer("test", enabled=False), ALL)
    nodes = [Node("gw0"), Node("gw1")]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, ids)
    scheduler.schedule()
    for index in list(nodes[0].sent):  # the first worker finishes: it gets the third SDK
        scheduler.mark_test_complete(nodes[0], index, 0.0)
    ran = [{workers.sdk_of(ids[i], ALL) for i in node.sent} for node in nodes]
    assert sorted(len(node.sent) for node in nodes) == [3, 6]
    assert set().union(*ran) == {"go", "java", "python"}
    assert not ran[0] & ran[1], ran  # no SDK's checks on two workers


def _cli_workers(*argv: str) -> list[str]:
    args = cli._parser().parse_args(["run", *argv])
    return cli._workers(args, ["--conformance-record"] if "record" in argv else [])


def test_the_cli_asks_for_one_worker_per_sdk_the_selected_checks_run_against(monkeypatch):
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    cli.load_suites()
    every = next(c.id for c in REGISTRY.values() if c.sdks == ALL_SDKS)
    # Every claim runs on every SDK since issue 22: a python-only check stands in for one.
    python_only = next(c.id for c in REGISTRY.values() if c.sdks == ALL_SDKS and c.id != every)
    monkeypatch.setitem(REGISTRY, python_only,
                        dataclasses.replace(REGISTRY[python_only], sdks=PYTHON_ONLY))
    assert _cli_workers("--sdk", "all") == ["-n", "4", *PARALLEL]
    assert _cli_workers("--sdk", "python", "--sdk", "go@3.99.0") == ["-n", "2", *PARALLEL]
    assert _cli_workers() == []  # the default run: python only
    assert _cli_workers("--sdk", "python") == []
    assert _cli_workers("--sdk", "java") == []
    assert _cli_workers("--sdk", "all", "--check", python_only) == []  # only python runs
    assert _cli_workers("--sdk", "all", "--check", every) == ["-n", "4", *PARALLEL]
    assert _cli_workers("--sdk", "all", "--endpoint", "https://r.openai.azure.com/openai/v1/"
                        ) == []
    assert _cli_workers("--sdk", "all", "--", "-n", "0") == []
    assert _cli_workers("--sdk", "nope") == []  # the plugin says why


def test_run_hands_the_decision_to_pytest(monkeypatch, tmp_path):
    seen: list[list[str]] = []
    monkeypatch.setattr(pytest, "main",
                        lambda args: seen.append(list(args)) or pytest.ExitCode.USAGE_ERROR)
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    for sdk in ("all", "python"):
        assert cli.main(["run", "--sdk", sdk, f"--report-dir={tmp_path}"]) == cli.EXIT_USAGE
    distributed, single = seen
    assert distributed[distributed.index("-n"):][:4] == ["-n", "4", *PARALLEL]
    assert "-n" not in single and "--dist" not in single


# -- the plugin -----------------------------------------------------------------------------

def test_each_check_item_is_grouped_by_its_sdk(pytester: pytest.Pytester):
    items, _ = pytester.inline_genitems("--pyargs", "conformance.suites",
                                        "-p", "no:cacheprovider", "--conformance-sdk=all")
    groups = {}
    for item in items:
        marker = item.get_closest_marker(workers.GROUP_MARK)
        assert marker is not None, item.nodeid
        groups.setdefault(marker.args[0], set()).add(
            item.name.rpartition("[")[2].rstrip("]") if "[" in item.name else "python")
    assert groups == {sdk: {sdk} for sdk in ALL}


def test_a_live_run_refuses_workers(pytester: pytest.Pytester, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k" * 32)
    result = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider", "-n", "2",
        "--conformance-endpoint=https://resource.openai.azure.com/openai/v1/")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "live and record runs run in one process" in result.stderr.str()


def test_in_one_process_the_proven_driver_is_the_one_the_checks_use(suite, monkeypatch):
    """The proof before the first check goes through the pool: one start per driver, not a
    start to prove it and another for the checks (a JVM started twice)."""
    started: list[str] = []

    def start(sdk: str, **kwargs: Any) -> Any:
        started.append(sdk)
        return pool_start(_StandIn(sdk))(sdk, **kwargs)

    monkeypatch.setattr(driver_pool.DriverPool, "_host", lambda self: None)
    monkeypatch.setattr(driver_pool, "start", start)
    monkeypatch.setattr("conformance.drivers.build.start", start)
    run = suite.run("auth.api-key-bearer", "errors.status-classes",
                    args=("--conformance-sdk=go",))
    assert started == ["go"]
    assert {c.sdk for c in run.results.checks} == {"go"} and len(run.results.checks) == 2


class _StandIn:
    """A built driver: tests/fake_driver.py saying it drives ``sdk``."""

    def __init__(self, sdk: str) -> None:
        self.sdk = sdk

    def process(self, **kwargs: Any) -> Any:
        import os

        from conformance.drivers import DriverProcess

        return DriverProcess(self.sdk, [sys.executable, str(FAKE)], env={
            **os.environ, "FAKE_DRIVER": json.dumps({"sdk": self.sdk, "version": "1.0.0"})})


# Loaded with -p into the controller and every worker: stand-in drivers (tests/fake_driver.py)
# whose every start is logged with the process that asked, and a go driver that cannot be
# built when BROKEN_SDK says so.
STANDINS = """
import json, os, sys
from conformance.drivers import BuildFailed, DriverProcess, pool, build

def start(sdk, **kwargs):
    with open(os.environ["STARTS_LOG"], "a") as log:
        # xdist starts its workers with `python -c ...` (PYTEST_XDIST_WORKER alone may be
        # inherited from an outer xdist run of these tests)
        who = os.environ["PYTEST_XDIST_WORKER"] if sys.argv[0] == "-c" else "controller"
        log.write(json.dumps([who, sdk]) + "\\n")
    if sdk == os.environ.get("BROKEN_SDK"):
        raise BuildFailed(sdk, ["go", "build"], "go: no such version v0.0.0")
    process = DriverProcess(sdk, [sys.executable, os.environ["FAKE"]], env={
        **os.environ, "FAKE_DRIVER": json.dumps({"sdk": sdk, "version": "1.0.0"})})
    process.start()
    return None, process

pool.start = start
build.start = start
pool.DriverPool._host = lambda self: None
"""


def _distributed_run(pytester: pytest.Pytester, monkeypatch, *args: str,
                     broken: str = "") -> tuple[pytest.RunResult, list[tuple[str, str]]]:
    pytester.makepyfile(standin_drivers=STANDINS)
    log = pytester.path / "starts.log"
    log.touch()
    monkeypatch.setenv("STARTS_LOG", str(log))
    monkeypatch.setenv("FAKE", str(FAKE))
    monkeypatch.setenv("BROKEN_SDK", broken)
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider", "-p", "standin_drivers",
        f"--conformance-report-dir={pytester.path / 'report'}", *args)
    starts = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    return result, starts  # type: ignore[return-value]


@pytest.mark.slow
def test_workers_start_only_the_drivers_of_the_sdks_they_run(pytester, monkeypatch):
    result, starts = _distributed_run(
        pytester, monkeypatch, "-n", "2", "--dist", "loadgroup", "--conformance-sdk=go",
        "--conformance-sdk=java", "--conformance-check=auth.api-key-bearer",
        "--conformance-check=chat.response-contract",
        "--conformance-check=retries.default-attempts")
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), result.stdout.str()
    # the controller proves each driver once, before any check; then the one worker that runs
    # an SDK's checks starts that driver, and no other worker does
    controller = [sdk for who, sdk in starts if who == "controller"]
    assert sorted(controller) == ["go", "java"], starts
    by_worker: dict[str, set[str]] = {}
    for who, sdk in starts:
        if who != "controller":
            by_worker.setdefault(who, set()).add(sdk)
    assert sorted(map(sorted, by_worker.values())) == [["go"], ["java"]], starts
    assert starts.index(("controller", "java")) < min(
        i for i, (who, _) in enumerate(starts) if who != "controller")
    # one results.json, one table, with both SDKs' verdicts merged from the workers
    results = Results.load(pytester.path / "report" / "results.json")
    assert sorted((c.sdk, c.id) for c in results.checks) == sorted(
        (sdk, check) for sdk in ("go", "java") for check in (
            "auth.api-key-bearer", "chat.response-contract", "retries.default-attempts"))
    assert {c.sdk_version for c in results.checks} == {"1.0.0"}
    assert Verdict.ERROR not in {c.verdict for c in results.checks}
    assert result.stdout.str().count("6 verdicts (go ") == 1, result.stdout.str()


@pytest.mark.slow
def test_a_driver_that_cannot_be_built_stops_a_distributed_run_before_any_check(
        pytester, monkeypatch):
    result, starts = _distributed_run(
        pytester, monkeypatch, "-n", "2", "--dist", "loadgroup", "--conformance-sdk=go",
        "--conformance-sdk=java", "--conformance-check=auth.api-key-bearer", broken="go")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # `aoai-conformance run` exits 2
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.errlines
    assert errors[0].startswith("ERROR: cannot build the go driver: `go build` failed")
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    # No worker started a driver and no check ran: only the controller's proofs, which start
    # together (java's may have started beside go's before go's build failed).
    assert ("controller", "go") in starts
    assert {who for who, _ in starts} == {"controller"}
    assert not (pytester.path / "report" / "results.json").exists()


@pytest.mark.slow
def test_a_multi_sdk_run_of_the_cli_is_distributed_and_reports_once(tmp_path):
    """``aoai-conformance run --sdk python --sdk go`` end to end, with a stand-in go driver:
    two workers (one per SDK), one table, one results.json, exit 0."""
    (tmp_path / "standin_drivers.py").write_text(STANDINS)
    log = tmp_path / "starts.log"
    log.touch()
    env = {**os.environ, "STARTS_LOG": str(log), "FAKE": str(FAKE), "BROKEN_SDK": "",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--sdk", "python", "--sdk", "go",
         f"--report-dir={tmp_path / 'report'}", "--check", "auth.api-key-bearer", "--",
         "-p", "standin_drivers"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == cli.EXIT_OK, done.stdout + done.stderr
    results = Results.load(tmp_path / "report" / "results.json")
    assert sorted(c.sdk for c in results.checks) == ["go", "python"]
    assert done.stdout.count("2 verdicts (python 1 pass; go 1 pass)") == 1, done.stdout
    starts = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    assert [sdk for _, sdk in starts] == ["go", "go"]  # the controller's proof, one worker
    assert starts[0][0] == "controller" and starts[1][0].startswith("gw")


# -- driver start-up ------------------------------------------------------------------------

def test_a_java_driver_starts_with_the_client_compiler_alone(tmp_path):
    """Every start of a cached build, without a rebuild: the JVM options are the profile's
    (Java.launch), not the build stamp's."""
    from conformance.drivers.build import Built

    def command(sdk: str, *argv: str) -> tuple[str, ...]:
        built = Built(sdk, "1.0.0", tmp_path, argv, {}, cached=True, seconds=0.0)
        return tuple(built.process().command)

    assert command("java", "java", "-jar", "/c/driver.jar") == (
        "java", "-XX:TieredStopAtLevel=1", "-jar", "/c/driver.jar")
    assert command("javascript", "node", "/c/driver.mjs") == ("node", "/c/driver.mjs")
    assert command("go", "/c/driver") == ("/c/driver",)
    assert command("standin", sys.executable, "x.py") == (sys.executable, "x.py")
