"""gate, matrix and bisect with a fake per-version runner (no environment is built), and one
slow end-to-end run in a real environment."""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from conformance import bisection, gate, matrix
from conformance.cli import _parser
from conformance.environments import (
    Environments,
    Pin,
    Runner,
    SetupError,
    Uninstallable,
    constraints,
    requirements,
)
from conformance.registry import Verdict
from conformance.reports import write_run
from conformance.results import CheckResult, Results, compare

TOKEN = "auth.entra-token-provider"


def results(version: str, **checks: tuple[str, dict]) -> Results:
    return Results(
        sdk_info={"name": "openai-python", "version": version}, target={"mode": "replay"},
        checks=[CheckResult(id=i, feature=i.split(".")[0], verdict=Verdict(v), observations=o)
                for i, (v, o) in checks.items()])


class FakeRunner:
    """Results per version from ``behaviour(version)``; records what was run."""

    def __init__(self, behaviour, uninstallable=()):
        self.behaviour = behaviour
        self.uninstallable = set(uninstallable)
        self.ran: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, pin: Pin, report_dir: Path, pytest_args=()) -> Results:
        self.ran.append((pin.version, tuple(pytest_args)))
        if pin.version in self.uninstallable:
            raise Uninstallable(f"cannot install {pin}")
        run = self.behaviour(pin.version)
        write_run(run, report_dir)
        return run


def args(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(list(argv))


def token_behaviour(version: str) -> Results:
    """Like openai: a callable api_key works from 1.106.0."""
    if Pin("openai", version).key >= (1, 106, 0):
        return results(version, **{TOKEN: ("pass", {"authorization": "Bearer <token#1>"}),
                                   "chat.a": ("pass", {})})
    return results(version, **{TOKEN: ("unsupported", {"authorization":
                                                        "Bearer <function wrapper>"}),
                               "chat.a": ("pass", {})})


def test_gate_writes_both_sides_and_the_diff_and_blocks_on_a_behaviour_change(tmp_path,
                                                                                capsys):
    def behaviour(version):
        attempts = 3 if version == "2.51.0" else 1
        return results(version, **{"retries.limits": ("pass", {"scenarios": [
            {"scenario": "retry-after 300", "attempts": attempts}]})})

    fake = FakeRunner(behaviour)
    code = gate.run(args("gate", "--baseline", "openai==2.51.0", "--candidate", "openai==2.52.0",
                         "--report-dir", str(tmp_path), "--", "-k", "x"), fake)
    assert code == 1
    assert sorted(fake.ran) == [("2.51.0", ("-k", "x")), ("2.52.0", ("-k", "x"))]
    out = capsys.readouterr().out
    assert "scenarios.[retry-after 300].attempts: 3 -> 1" in out
    for name in ("baseline-openai-2.51.0/report.md", "candidate-openai-2.52.0/junit.xml",
                 "diff.md", "diff.txt", "report.md", "report.html"):
        assert (tmp_path / name).is_file(), name
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("## Conformance diff: openai-python 2.51.0 → openai-python 2.52.0")
    assert "**blocking** `retries.limits`" in report
    # the permissive policy lets it through, with a reason to give
    assert gate.run(args("gate", "--baseline", "openai==2.51.0", "--candidate",
                         "openai==2.52.0", "--report-dir", str(tmp_path), "--block",
                         "regressions"), fake) == 0


def test_gate_lets_an_improvement_through_unless_strict(tmp_path):
    fake = FakeRunner(token_behaviour)
    given = ("gate", "--baseline", "openai==1.105.0", "--candidate", "openai==1.106.0",
             "--report-dir", str(tmp_path))
    assert gate.run(args(*given), fake) == 0
    assert gate.run(args(*given, "--strict"), fake) == 1


def test_gate_with_nothing_changed_passes_even_strict(tmp_path, capsys):
    fake = FakeRunner(lambda v: results(v, **{"chat.a": ("pass", {"n": 1})}))
    assert gate.run(args("gate", "--baseline", "openai==2.53.0", "--candidate", "openai==2.54.0",
                         "--strict", "--report-dir", str(tmp_path)), fake) == 0
    assert "0 change(s), 0 blocking" in capsys.readouterr().out


def test_gate_setup_problems_exit_two(tmp_path, capsys):
    fake = FakeRunner(token_behaviour, uninstallable={"9.9.9"})
    assert gate.run(args("gate", "--baseline", "openai==1.0.0", "--candidate", "openai==9.9.9",
                         "--report-dir", str(tmp_path)), fake) == 2
    assert "cannot install openai==9.9.9" in capsys.readouterr().err
    assert gate.run(args("gate", "--baseline", "openai", "--candidate", "openai==1",
                         "--report-dir", str(tmp_path)), fake) == 2


def test_matrix_marks_where_observations_changed(tmp_path, capsys):
    def behaviour(version):
        n = {"1.0.0": 1, "2.0.0": 1, "3.0.0": 2}[version]
        return results(version, **{"chat.a": ("pass", {"n": n}),
                                   TOKEN: ("unsupported" if version == "1.0.0" else "pass", {})})

    fake = FakeRunner(behaviour)
    assert matrix.run(args("matrix", "openai==3.0.0", "openai==1.0.0", "openai==2.0.0",
                           "--report-dir", str(tmp_path)), fake) == 0
    assert [v for v, _ in fake.ran] == ["1.0.0", "2.0.0", "3.0.0"]
    md = (tmp_path / "matrix.md").read_text()
    assert f"| `{TOKEN}` | unsupported | pass | pass |" in md
    assert "| `chat.a` | pass | pass | **pass*** |" in md
    assert 'class="pass changed"' in (tmp_path / "matrix.html").read_text()
    assert "pass*" in capsys.readouterr().out


VERSIONS = ["1.99.0", "1.100.0", "1.101.0", "1.102.0", "1.103.0", "1.104.0", "1.104.1",
            "1.105.0", "1.106.0", "1.106.1", "1.107.0", "1.108.0", "1.109.0", "1.109.1",
            "1.110.0", "1.111.0", "2.0.0b1"]


@pytest.mark.parametrize(("good", "bad"), [("1.110.0", "1.100.0"), ("1.100.0", "1.110.0")])
def test_bisect_names_the_release_in_about_log2_runs(good, bad, tmp_path, capsys):
    fake = FakeRunner(token_behaviour)
    code = bisection.run(args("bisect", TOKEN, "--good", f"openai=={good}", "--bad",
                              f"openai=={bad}", "--report-dir", str(tmp_path)), fake,
                         versions=VERSIONS)
    assert code == 0
    out = capsys.readouterr().out
    assert f"{TOKEN} changes in openai 1.106.0 (the release after 1.105.0)" in out
    assert "authorization: Bearer <function wrapper> -> Bearer <token#1>" in out
    span = 14  # 1.100.0 .. 1.110.0
    assert len(fake.ran) <= 2 + math.ceil(math.log2(span))
    assert all(a == (f"--conformance-check={TOKEN}",) for _, a in fake.ran)


def test_bisect_steps_over_uninstallable_versions():
    def outcome(version):
        if version in ("1.105.0", "1.106.0"):
            raise Uninstallable(version)
        return ("pass" if Pin("openai", version).key >= (1, 106, 0) else "unsupported", {})

    search = bisection.Search(bisection.between(VERSIONS, "1.100.0", "1.110.0"), outcome)
    assert search.first_change() == ("1.104.1", "1.106.1")
    assert search.seen["1.106.0"] is None


def test_bisect_reports_no_change_and_refuses_mixed_pins(tmp_path, capsys):
    fake = FakeRunner(lambda v: results(v, **{TOKEN: ("pass", {})}))
    assert bisection.run(args("bisect", TOKEN, "--good", "openai==1.100.0", "--bad",
                              "openai==1.110.0", "--report-dir", str(tmp_path)), fake,
                         versions=VERSIONS) == 1
    assert "no change between" in capsys.readouterr().out
    assert len(fake.ran) == 2
    assert bisection.run(args("bisect", TOKEN, "--good", "openai==1.1.0", "--bad",
                              "httpx==1.0.0"), fake, versions=VERSIONS) == 2


def test_between_keeps_final_releases_in_order():
    assert bisection.between(VERSIONS, "1.109.0", "2.0.0") == ["1.109.0", "1.109.1", "1.110.0",
                                                               "1.111.0"]


def test_environment_requirements_and_constraints():
    old = Pin.parse("openai==1.55.2")
    assert requirements(old)[:2] == ["openai==1.55.2", "httpx<0.28"]
    assert "httpx<0.28" not in requirements(Pin.parse("openai==1.55.3"))
    pinned = constraints(Pin.parse("openai==2.54.0"))
    assert f"pytest=={pytest.__version__}" in pinned
    assert not any(c.startswith("openai==") for c in pinned)
    assert not any(c.startswith("httpx==") for c in constraints(old))


def test_the_environment_cache_key_follows_the_pin(tmp_path):
    envs = Environments(tmp_path)
    assert envs.path(Pin.parse("openai==2.54.0")) == envs.path(Pin.parse("openai==2.54.0"))
    assert envs.path(Pin.parse("openai==2.54.0")) != envs.path(Pin.parse("openai==2.53.0"))
    assert envs.path(Pin.parse("openai==2.54.0")).name.startswith("openai-2.54.0-")


@pytest.mark.slow
@pytest.mark.network
def test_a_real_environment_runs_the_checks_and_is_reused(tmp_path):
    """The one end-to-end run: builds an environment for the installed SDK's version (so
    nothing new is downloaded when the package cache is warm) and runs the auth checks."""
    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH (the venv + pip path downloads every dependency)")
    pin = Pin("openai", openai.__version__)
    runner = Runner(Environments(tmp_path / "envs"), echo=False)
    first = runner(pin, tmp_path / "run", ["--conformance-feature=auth"])
    assert first.sdk_info["version"] == openai.__version__
    assert {c.verdict for c in first.checks} == {Verdict.PASS}
    assert (tmp_path / "run" / "report.md").is_file()
    python = Environments(tmp_path / "envs").python(pin)  # cached: no rebuild
    assert python.exists()
    with pytest.raises(SetupError):
        runner(pin, tmp_path / "run2", ["--conformance-check=nope.nope"])


# -- driver SDK pins: javascript@X, go@vX, java@X -----------------------------------------------


@pytest.mark.parametrize(("text", "pin", "shown"), [
    ("javascript@6.48.0", Pin("javascript", "6.48.0"), "javascript@6.48.0"),
    ("go@v3.100.0", Pin("go", "3.100.0"), "go@v3.100.0"),
    ("go@3.99.0", Pin("go", "3.99.0"), "go@v3.99.0"),
    ("java@4.105.0", Pin("java", "4.105.0"), "java@4.105.0"),
    ("openai==2.54.0", Pin("openai", "2.54.0"), "openai==2.54.0"),
])
def test_a_pin_names_a_python_distribution_or_a_driver_sdk(text, pin, shown):
    assert Pin.parse(text) == pin
    assert str(pin) == shown
    assert pin.driver == (pin.distribution != "openai")


@pytest.mark.parametrize("text", ["javascript==6.48.0", "javascript@v6.48.0", "ruby@1.0.0",
                                  "python@2.54.0", "java@", "openai@2.54.0"])
def test_a_malformed_pin_is_refused_with_the_forms_it_takes(text):
    with pytest.raises(ValueError, match=r"javascript@6\.4[89]\.0"):
        Pin.parse(text)


def cross_sdk(sdk: str, version: str, **checks: tuple[str, dict]) -> Results:
    """A cross-SDK run as ``run --sdk SDK@VERSION`` writes it: each check carries its SDK."""
    return Results(
        sdk_info={"name": "openai-node", "version": version}, target={"mode": "replay"},
        checks=[CheckResult(id=i, feature=i.split(".")[0], verdict=Verdict(v), observations=o,
                            sdk=sdk, sdk_version=version)
                for i, (v, o) in checks.items()])


@pytest.mark.parametrize(("baseline", "candidate", "sdk", "old", "new"), [
    ("javascript@6.48.0", "javascript@6.49.0", "javascript", "6.48.0", "6.49.0"),
    ("go@v3.99.0", "go@v3.100.0", "go", "3.99.0", "3.100.0"),
    ("java@4.104.0", "java@4.105.0", "java", "4.104.0", "4.105.0"),
])
def test_gate_a_driver_sdk_diffs_per_check_and_sdk_and_blocks_on_a_retry_change(
        baseline, candidate, sdk, old, new, tmp_path, capsys):
    def behaviour(version):
        attempts = 3 if version == old else 2
        return cross_sdk(sdk, version, **{"retries.default-attempts": ("pass", {
            "attempts": attempts}), "chat.basic": ("pass", {"n": 1})})

    fake = FakeRunner(behaviour)
    code = gate.run(args("gate", "--baseline", baseline, "--candidate", candidate,
                         "--report-dir", str(tmp_path), "--", "-k", "x"), fake)
    assert code == 1
    assert sorted(fake.ran) == sorted([(old, ("-k", "x")), (new, ("-k", "x"))])
    out = capsys.readouterr().out
    assert f"retries.default-attempts[{sdk}]" in out
    assert "attempts: 3 -> 2" in out
    assert "1 blocking" in out
    for name in (f"baseline-{sdk}-{old}/report.md", f"candidate-{sdk}-{new}/junit.xml",
                 "diff.md", "diff.txt", "report.md", "report.html"):
        assert (tmp_path / name).is_file(), name
    assert f"- baseline {baseline}:" in (tmp_path / "report.md").read_text()


def test_gate_a_driver_sdk_with_nothing_changed_passes(tmp_path, capsys):
    fake = FakeRunner(lambda v: cross_sdk("javascript", v, **{"chat.basic": ("pass", {})}))
    assert gate.run(args("gate", "--baseline", "javascript@6.48.0", "--candidate",
                         "javascript@6.49.0", "--strict", "--report-dir", str(tmp_path)),
                    fake) == 0
    assert "0 change(s), 0 blocking" in capsys.readouterr().out


@pytest.mark.parametrize(("baseline", "candidate"), [
    ("javascript@6.48.0", "go@v3.100.0"), ("openai==2.54.0", "javascript@6.49.0")])
def test_gate_refuses_pins_of_two_sdks(baseline, candidate, tmp_path, capsys):
    fake = FakeRunner(token_behaviour)
    assert gate.run(args("gate", "--baseline", baseline, "--candidate", candidate,
                         "--report-dir", str(tmp_path)), fake) == 2
    assert "pin different SDKs" in capsys.readouterr().err
    assert fake.ran == []


class FakeProcess:
    """What ``subprocess.run`` returns; writes the results the child run would have."""

    def __init__(self, results: Results, report_dir: Path) -> None:
        self.results, self.report_dir = results, report_dir

    def __call__(self, command, **kwargs):
        self.command, self.env = command, kwargs["env"]
        write_run(self.results, self.report_dir)
        return subprocess.CompletedProcess(command, 1, "", "")


def test_the_runner_builds_the_driver_then_runs_this_python_with_sdk_at_the_version(
        tmp_path, monkeypatch):
    built: list[tuple[str, str]] = []
    python_run = results("2.54.0", **{"chat.a": ("pass", {})})
    python_run.checks[0].sdk, python_run.checks[0].sdk_version = "go", "3.99.0"
    child = FakeProcess(python_run, tmp_path / "run")
    monkeypatch.setattr(subprocess, "run", child)
    runner = Runner(Environments(tmp_path / "envs"), echo=False,
                    build=lambda sdk, version: built.append((sdk, version)))
    got = runner(Pin.parse("go@v3.99.0"), tmp_path / "run", ["-k", "x"])
    assert built == [("go", "3.99.0")]
    assert child.command[:3] == [sys.executable, "-m", "conformance"]
    assert "--sdk=go@3.99.0" in child.command
    assert child.command[-2:] == ["-k", "x"]
    assert not list((tmp_path / "envs").glob("go-*"))  # no Python environment was built
    # the results (and this side's reports) are headed by the SDK the run was about
    assert got.sdk_info["name"] == "openai-go" and got.sdk_info["version"] == "3.99.0"
    assert Results.load(tmp_path / "run" / "results.json").sdk_info["name"] == "openai-go"
    assert "openai-go 3.99.0" in (tmp_path / "run" / "report.md").read_text()


def test_a_driver_that_cannot_be_built_is_a_setup_problem_not_a_verdict(tmp_path, monkeypatch):
    from conformance import environments
    from conformance.drivers import BuildFailed, DriverUnavailable

    def no_npm(sdk, version):
        raise DriverUnavailable(sdk, "node, npm not found on PATH", "Install Node.js 20")

    def bad_version(sdk, version):
        raise BuildFailed(sdk, ["npm", "install", f"openai@{version}"], "E404 No matching version")

    monkeypatch.setattr("conformance.drivers.build.start",
                        lambda sdk, version=None: no_npm(sdk, version))
    with pytest.raises(SetupError, match=r"Install Node\.js 20") as caught:
        environments._build_driver("javascript", "6.49.0")
    assert not isinstance(caught.value, Uninstallable)
    monkeypatch.setattr("conformance.drivers.build.start",
                        lambda sdk, version=None: bad_version(sdk, version))
    with pytest.raises(Uninstallable, match="E404"):
        environments._build_driver("javascript", "0.0.1")


@pytest.mark.parametrize("problem", ["broken", "timed out"])
def test_a_broken_driver_cache_or_a_build_past_its_deadline_is_setup_not_uninstallable(
        monkeypatch, tmp_path, problem):
    """bisect steps over an uninstallable version; a damaged cache or a hung registry says
    nothing about the version, so they stop the gate (exit 2) instead."""
    from conformance import environments
    from conformance.drivers.build import BuildTimedOut, DriverCacheBroken

    def fails(sdk, version=None):
        if problem == "broken":
            raise DriverCacheBroken(sdk, tmp_path / "javascript-6.49.0-abc", "no hello")
        raise BuildTimedOut(sdk, ["npm", "ci"], "npm ci did not finish within 1 s")

    monkeypatch.setattr("conformance.drivers.build.start", fails)
    with pytest.raises(SetupError) as caught:
        environments._build_driver("javascript", "6.49.0")
    assert not isinstance(caught.value, Uninstallable)
    if problem == "broken":
        assert str(tmp_path / "javascript-6.49.0-abc") in str(caught.value)


def test_a_delay_timed_at_the_wire_is_compared_by_its_hint_window_not_to_the_millisecond():
    """Drivers have no virtual clock: two runs of one SDK version wait 53 and 56 ms for a
    50 ms hint. That is no behaviour change; waiting a backoff instead of the hint is."""
    def hinted(delay: float) -> Results:
        return cross_sdk("javascript", "6.49.0", **{"retries.sdks-retry-after-ms": ("pass", {
            "delay_s": delay, "timed_by": "wire arrival times", "hint_s": 0.05})})

    assert compare(hinted(0.053), hinted(0.056)) == []
    changed = compare(hinted(0.053), hinted(0.45))
    assert [(v.path, v.before, v.after) for c in changed for v in c.values] == [
        ("delay_s", "hint [0.03, 0.3] s", 0.45)]
    # a delay the virtual clock computed (python) is kept exactly
    virtual = [cross_sdk("python", "2.54.0", **{"retries.sdks-retry-after-ms": ("pass", {
        "delay_s": d, "timed_by": "virtual clock", "hint_s": 0.05})}) for d in (0.05, 0.06)]
    assert len(compare(*virtual)) == 1


JS_VERSIONS = ["6.44.0", "6.45.0", "6.46.0", "6.47.0", "6.48.0", "6.49.0", "7.0.0-beta.1"]
RETRY = "retries.sdks-default-attempts"


def test_bisect_a_driver_sdk_names_its_release(tmp_path, capsys):
    def behaviour(version):
        attempts = 3 if Pin("javascript", version).key < (6, 47, 0) else 2
        return cross_sdk("javascript", version, **{RETRY: ("pass", {"attempts": attempts})})

    fake = FakeRunner(behaviour)
    assert bisection.run(args("bisect", RETRY, "--good", "javascript@6.44.0", "--bad",
                              "javascript@6.49.0", "--report-dir", str(tmp_path)), fake,
                         versions=JS_VERSIONS) == 0
    out = capsys.readouterr().out
    assert f"{RETRY} changes in javascript 6.47.0 (the release after 6.46.0)" in out
    assert "attempts: 3 -> 2" in out
    assert bisection.run(args("bisect", RETRY, "--good", "javascript@6.44.0", "--bad",
                              "go@v3.100.0"), fake, versions=JS_VERSIONS) == 2


def test_a_driver_sdks_releases_are_read_from_its_index_answer():
    from conformance.drivers import releases

    assert releases.npm_versions('["6.48.0", "6.49.0"]') == ["6.48.0", "6.49.0"]
    assert releases.npm_versions('"1.0.0"') == ["1.0.0"]
    assert releases.go_versions("github.com/openai/openai-go/v3 v3.99.0 v3.100.0\n") == [
        "3.99.0", "3.100.0"]
    assert releases.maven_versions(
        "<metadata><versioning><versions><version>4.104.0</version>"
        "<version>4.105.0</version></versions></versioning></metadata>") == ["4.104.0",
                                                                           "4.105.0"]
    for parse, answer in ((releases.npm_versions, "npm ERR! 404"),
                          (releases.npm_versions, '{"error": "E404"}'),
                          (releases.go_versions, "go: module not found"),
                          (releases.maven_versions, "<html>")):
        with pytest.raises(releases.ListingFailed):
            parse(answer)


def test_a_listing_that_fails_is_a_setup_problem(monkeypatch):
    from conformance.drivers import releases

    def offline(command, **kwargs):
        raise OSError("npm: not found")

    monkeypatch.setattr(releases.subprocess, "run", offline)
    with pytest.raises(SetupError, match="cannot list the released versions of javascript"):
        bisection.released_versions("javascript")
