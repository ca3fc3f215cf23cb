"""Setup problems are found before any check and said in one paragraph (exit 2): a driver SDK
version that cannot be built, a gate pin that cannot be installed; and every openai release
since 1.0.0 can be installed."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import caches, gate
from conformance.cli import _parser
from conformance.drivers import build as driver_build
from conformance.drivers.build import BuildFailed
from conformance.environments import Environments, Pin, Uninstallable, constraints, why
from conformance.results import Results

NPM_ETARGET = """npm error code ETARGET
npm error notarget No matching version found for openai@0.0.0-nope.
npm error notarget In most cases you or one of your dependencies are requesting
npm error notarget a package version that doesn't exist.
npm error A complete log of this run can be found in: /root/.npm/_logs/debug-0.log
"""


def test_a_driver_that_cannot_be_built_stops_the_run_before_any_check(suite, monkeypatch):
    built: list[tuple[str, Any]] = []

    def failing(sdk: str, **kwargs: Any) -> Any:
        built.append((sdk, kwargs.get("version")))
        raise BuildFailed(sdk, ["npm", "install", "openai@0.0.0-nope"], NPM_ETARGET)

    monkeypatch.setattr(driver_build, "build", failing)
    report = suite.pytester.path / "report"
    outcome = suite.pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-cassettes={suite.cassettes}", f"--conformance-report-dir={report}",
        "--conformance-sdk=javascript@0.0.0-nope")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR  # `aoai-conformance run` exits 2
    assert built == [("javascript", "0.0.0-nope")]  # once, before the checks
    errors = [line for line in outcome.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1, outcome.errlines
    assert ("cannot build the javascript driver with javascript 0.0.0-nope: `npm install"
            in errors[0])
    assert "No matching version found for openai@0.0.0-nope" in errors[0]
    assert "Traceback" not in outcome.stdout.str() + outcome.stderr.str()
    assert not (report / "results.json").exists()  # no check ran


@pytest.mark.drivers
@pytest.mark.slow
def test_run_with_an_unbuildable_driver_version_exits_2_in_one_paragraph(tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("npm not found on PATH")
    # The registry is a closed loopback port: npm fails at once, with or without a network.
    env = dict(os.environ, npm_config_registry="http://127.0.0.1:9/",
               npm_config_fetch_retries="0", AOAI_CONFORMANCE_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "conformance", "run",
                           "--sdk", "javascript@0.0.0-nope", f"--report-dir={tmp_path / 'r'}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "cannot build the javascript driver with javascript 0.0.0-nope" in output
    assert "Traceback" not in output and " error " not in done.stdout, output
    assert len(output.strip().splitlines()) <= 4, output


# -- gate: both pins installed before any check; an uninstallable one said in one line ---------


class PreparingRunner:
    """A runner whose ``prepare`` fails for the versions in ``uninstallable``."""

    def __init__(self, uninstallable: set[str]) -> None:
        self.uninstallable = uninstallable
        self.prepared: list[str] = []
        self.ran: list[str] = []

    def prepare(self, pin: Pin) -> Path:
        self.prepared.append(str(pin))
        if pin.version in self.uninstallable:
            raise Uninstallable(f"cannot install {pin}: No matching distribution found for "
                                f"{pin} (installer output: envs/{pin.name}.install.log)")
        return Path(sys.executable)

    def __call__(self, pin: Pin, report_dir: Path, pytest_args: Any = ()) -> Results:
        self.ran.append(str(pin))
        raise AssertionError("no check may run before both pins are installed")


def gate_args(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(["gate", *argv])


def test_gate_installs_both_pins_before_any_check_and_names_the_one_that_failed(tmp_path,
                                                                                capsys):
    fake = PreparingRunner({"9.9.9"})
    code = gate.run(gate_args("--baseline", "openai==3.57.0", "--candidate", "openai==9.9.9",
                              "--report-dir", str(tmp_path)), fake)
    assert code == 2
    assert fake.prepared == ["openai==3.57.0", "openai==9.9.9"] and fake.ran == []
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["aoai-conformance: the candidate openai==9.9.9 cannot be used: cannot install "
                   "openai==9.9.9: No matching distribution found for openai==9.9.9 (installer "
                   "output: envs/openai-9.9.9.install.log)"]


def test_an_environment_that_cannot_be_installed_says_why_in_one_line(tmp_path, monkeypatch):
    pip_said = ("ERROR: Could not find a version that satisfies the requirement openai==9.9.9 "
                "(from versions: " + ", ".join(f"1.{n}.0" for n in range(500)) + ")\n"
                "ERROR: No matching distribution found for openai==9.9.9\n")

    def installer(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        failed = "install" in command
        return subprocess.CompletedProcess(command, 1 if failed else 0, "",
                                           pip_said if failed else "")

    monkeypatch.setattr(caches, "run_step", installer)  # every install step goes through it
    with pytest.raises(Uninstallable) as caught:
        Environments(tmp_path).python(Pin.parse("openai==9.9.9"))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message
    assert message.startswith("cannot install openai==9.9.9: No matching distribution found")
    log = tmp_path / "openai-9.9.9.install.log"
    assert f"(installer output: {log})" in message and "1.499.0" in log.read_text()


def test_uvs_resolution_failure_is_one_line_with_its_cause():
    uv_said = (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because openai==1.0.0 depends on anyio>=3.5.0,<4 and you require "
        "openai==1.0.0, we can conclude that you require anyio>=3.5.0,<4.\n"
        "         And because you require anyio==4.9.0, we can conclude that your requirements "
        "are unsatisfiable.\n")
    assert why(uv_said) == (
        "Because openai==1.0.0 depends on anyio>=3.5.0,<4 and you require openai==1.0.0, we can "
        "conclude that you require anyio>=3.5.0,<4. And because you require anyio==4.9.0, we can "
        "conclude that your requirements are unsatisfiable.")


# -- gate: every release since 1.0.0 can be installed --------------------------------------------


def test_only_the_harness_dependencies_are_constrained_not_the_sdks():
    # openai 1.0.0 to 1.3.7 need anyio<4: pinning this environment's anyio 4.x made them
    # uninstallable. The SDK's own dependencies float; the harness's stay identical.
    for pin in ("openai==1.0.0", "openai==1.3.7", "openai==3.57.0"):
        pinned = {c.split("==")[0] for c in constraints(Pin.parse(pin))}
        assert {"pytest", "vcrpy", "azure-identity", "pyyaml"} <= pinned
        assert not pinned & {"openai", "anyio", "httpx", "pydantic", "sniffio", "distro"}, pinned


@pytest.mark.network
@pytest.mark.slow
def test_openai_1_0_0_installs_with_the_anyio_it_needs(tmp_path):
    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH (the venv + pip path downloads every dependency)")
    python = Environments(tmp_path).python(Pin.parse("openai==1.0.0"))
    done = subprocess.run([str(python), "-c", "import anyio, openai, importlib.metadata as m; "
                           "print(openai.__version__, m.version('anyio'))"],
                          capture_output=True, text=True, check=True)
    version, anyio = done.stdout.split()
    assert version == "1.0.0" and int(anyio.split(".")[0]) < 4
