"""gate, matrix and bisect with a fake per-version runner (no environment is built), and one
slow end-to-end run in a real environment."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import openai
import pytest

from conformance import gate
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
from conformance.results import CheckResult, Results

TOKEN = "auth.entra-token-provider"


def results(version: str, **checks: tuple[str, dict]) -> Results:
    return Results(
        sdk={"name": "openai-python", "version": version}, target={"mode": "replay"},
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
    assert fake.ran == [("2.51.0", ("-k", "x")), ("2.52.0", ("-k", "x"))]
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
def test_a_real_environment_runs_the_checks_and_is_reused(tmp_path):
    """The one end-to-end run: builds an environment for the installed SDK's version (so
    nothing new is downloaded when the package cache is warm) and runs the auth checks."""
    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH (the venv + pip path downloads every dependency)")
    pin = Pin("openai", openai.__version__)
    runner = Runner(Environments(tmp_path / "envs"), echo=False)
    first = runner(pin, tmp_path / "run", ["--conformance-feature=auth"])
    assert first.sdk["version"] == openai.__version__
    assert {c.verdict for c in first.checks} == {Verdict.PASS}
    assert (tmp_path / "run" / "report.md").is_file()
    python = Environments(tmp_path / "envs").python(pin)  # cached: no rebuild
    assert python.exists()
    with pytest.raises(SetupError):
        runner(pin, tmp_path / "run2", ["--conformance-check=nope.nope"])
