"""A driver SDK version that cannot be built is a setup problem before any check: exit 2 and
one paragraph, never a run of ``error`` verdicts with tracebacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from conformance.drivers import build as driver_build
from conformance.drivers.build import BuildFailed

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
