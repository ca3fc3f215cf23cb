"""The pytest11 plugin is loaded into every pytest session of an environment that has this
package: it must cost nothing and touch nothing until conformance checks are collected.

Each test runs pytest in a subprocess (a fresh interpreter: what a plugin imports at load shows
in ``sys.modules``), in a throwaway project with ``filterwarnings = error`` that also uses
pytest-recording, respx, pytest-httpx2, syrupy and hypothesis, with the plugins loaded in each
order. pytest-recording calls ``register_assert_rewrite("vcr.matchers")`` when it loads: had
this plugin imported vcr first, that warning would fail the whole session.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conformance import settings
from conformance.wire import proxy

# What the plugin must not import until a check is collected. The project's own plugins import
# some of them (pytest-recording vcr, respx httpx, pytest-httpx2 httpx2) for its tests.
HEAVY = ("vcr", "openai", "httpx", "httpx2", "azure.identity", "azure.core", "conformance.wire",
         "conformance.drivers", "conformance.harness", "conformance.reports")
NOT_THE_PROJECTS = ("openai", "azure.identity", "azure.core", "conformance.wire",
                    "conformance.drivers", "conformance.harness", "conformance.reports")

USER_TESTS = '''
import json
import os
import sys

import pytest
from hypothesis import given, strategies as st

HEAVY = {heavy!r}


def test_plain():
    assert 1 + 1 == 2


@pytest.mark.vcr
def test_with_a_cassette_of_its_own():
    assert True


def test_respx(respx_mock):
    assert respx_mock is not None


@given(st.integers())
def test_hypothesis(n):
    assert n == n


def test_the_plugin_loaded_nothing_heavy(pytestconfig):
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    with open(os.environ["LOADED_FILE"], "w") as out:
        json.dump({{"loaded": loaded,
                   "plugins": [n for n, _ in pytestconfig.pluginmanager.list_name_plugin()]}},
                  out)
'''

ORDERS = {
    "conformance first (-p)": (["-p", "conformance", "-p", "recording"], {}),
    "recording first (-p)": (["-p", "recording", "-p", "conformance"], {}),
    "conformance first (PYTEST_PLUGINS)": ([], {
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTEST_PLUGINS": "conformance.pytest_plugin,pytest_recording.plugin,respx.plugin,"
                          "_hypothesis_pytestplugin,syrupy,pytest_httpx2"}),
    "recording first (PYTEST_PLUGINS)": ([], {
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTEST_PLUGINS": "pytest_recording.plugin,conformance.pytest_plugin,respx.plugin,"
                          "_hypothesis_pytestplugin,syrupy,pytest_httpx2"}),
    "entry points as this machine orders them": ([], {}),
}


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n")
    pytester.makepyfile(test_user=USER_TESTS.format(heavy=HEAVY))
    return pytester


def _run(project: pytest.Pytester, args: list[str], env: dict[str, str],
         monkeypatch: pytest.MonkeyPatch) -> tuple[pytest.RunResult, dict[str, list[str]]]:
    loaded = project.path / "loaded.json"
    monkeypatch.setenv("LOADED_FILE", str(loaded))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = project.runpytest_subprocess(*args, "-p", "no:cacheprovider")
    return result, json.loads(loaded.read_text()) if loaded.exists() else {}


@pytest.mark.slow
@pytest.mark.parametrize("order", list(ORDERS))
def test_a_project_using_pytest_recording_passes_in_every_plugin_order(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, order: str):
    args, env = ORDERS[order]
    result, seen = _run(project, args, env, monkeypatch)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, output
    result.assert_outcomes(passed=5)
    assert "Warning" not in output and "= conformance =" not in output, output
    ours = [m for m in seen["loaded"] if m in NOT_THE_PROJECTS]
    assert ours == [], f"the plugin imported {ours} in a session with no check"
    assert "conformance" in seen["plugins"] or "conformance.pytest_plugin" in seen["plugins"]
    assert not (project.path / "conformance-report").exists()


@pytest.mark.slow
def test_a_users_own_suite_runs_as_without_the_package(project: pytest.Pytester,
                                                        monkeypatch: pytest.MonkeyPatch):
    with_plugin, loaded_with = _run(project, ["-v"], {}, monkeypatch)
    without, loaded_without = _run(project, ["-v", "-p", "no:conformance"], {}, monkeypatch)

    def verdicts(result: pytest.RunResult) -> list[str]:
        return sorted(" ".join(line.split()[:2]) for line in result.outlines
                      if "::" in line and (" PASSED" in line or " FAILED" in line))

    assert with_plugin.ret == without.ret == 0
    assert verdicts(with_plugin) == verdicts(without) and len(verdicts(with_plugin)) == 5
    # The same modules loaded with the package installed as without it.
    assert loaded_with["loaded"] == loaded_without["loaded"]
    assert "conformance-run" in loaded_with["plugins"]
    assert "conformance-run" not in loaded_without["plugins"]  # the package was left out


def test_importing_the_plugin_imports_nothing_heavy():
    code = ("import sys, json, conformance.pytest_plugin; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout) == [] and done.stderr == ""


@pytest.mark.slow
def test_checks_collected_without_any_option_still_run_and_report(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    # No --conformance-* option: the first collected check starts the run (and, with xdist,
    # the first verdict on the controller, which collects nothing).
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    for workers in ([], ["-n", "2"]):
        report = pytester.path / "conformance-report"
        result = pytester.runpytest_subprocess(
            "--pyargs", "conformance.suites", "-k", "chat.request-shape", "-p", "no:cacheprovider",
            *workers)
        assert result.ret == 0, result.stdout.str()
        written = list(report.glob("*/results.json"))
        assert len(written) == 1, result.stdout.str()
        checks = json.loads(written[0].read_text())["checks"]
        assert checks and {c["verdict"] for c in checks} == {"pass"}
        for path in written:
            path.unlink()


def test_the_options_defaults_are_the_modules_own():
    # settings holds what the plugin declares its options from; the wire package keeps its
    # own default for a Forward (it imports nothing outside itself): the two must agree.
    assert proxy.DEFAULT_REQUEST_TIMEOUT_S == settings.DEFAULT_REQUEST_TIMEOUT_S
