"""An interrupted run: SIGINT or SIGTERM during a check ends the run with 130 or 143, the
check that was running gets no verdict, and results.json, report.md, report.html, junit.xml
and the terminal all say "interrupted after N of M checks". No real sleeps: the blocking
check says it started through a FIFO, then the test sends the signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from conformance import interruption
from conformance.harness import classify
from conformance.interruption import Interrupted, Terminated
from conformance.registry import Verdict
from conformance.reports import junit, markdown
from conformance.results import SCHEMA_FILE, CheckResult, Results

ROOT = Path(__file__).resolve().parent.parent

# Two checks: the first passes, the second says it started and then waits for good.
PROBES = """
import os
import threading
from pathlib import Path

from conformance.registry import check


@check("chat.interrupt-probe-first", doc="d", claim="finishes", cassette=None)
def test_interrupt_probe_first(observe):
    observe("finished", True)


# Its cassette is never played: an interrupt is no replay mismatch either.
@check("chat.interrupt-probe-blocks", doc="d", claim="waits for a signal",
       cassette="chat/completion.yaml")
def test_interrupt_probe_blocks(wire, observe):
    Path(os.environ["PROBE_STARTED"]).write_text("started\\n")  # a FIFO the test reads
    threading.Event().wait()
"""


def interrupted_run(tmp_path: Path, signum: int, *, group: bool,
                    extra: tuple[str, ...] = ()) -> tuple[int, str, Path]:
    probes = tmp_path / "probes" / "test_interrupt_probes.py"
    probes.parent.mkdir()
    probes.write_text(textwrap.dedent(PROBES))
    started = tmp_path / "started"
    os.mkfifo(started)
    report = tmp_path / "report"
    env = {**os.environ, "PROBE_STARTED": str(started),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", f"--report-dir={report}", "--",
         str(probes), "-k", "interrupt_probe", "-p", "no:randomly", *extra],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        assert started.read_text() == "started\n"  # the second check is running
        if group:  # a terminal's Ctrl-C: the whole foreground process group
            os.killpg(run.pid, signum)
        else:  # a CI runner's cancel: the process alone
            os.kill(run.pid, signum)
        output, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    return run.returncode, output, report


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "name", "status", "group", "extra"), [
    (signal.SIGINT, "SIGINT", 130, True, ()),
    (signal.SIGTERM, "SIGTERM", 143, False, ()),
    # a run spread over xdist workers (conformance.workers): the controller reports
    (signal.SIGINT, "SIGINT", 130, True, ("-n", "2", "--dist", "loadgroup")),
    (signal.SIGTERM, "SIGTERM", 143, False, ("-n", "2", "--dist", "loadgroup")),
], ids=["SIGINT", "SIGTERM", "SIGINT-workers", "SIGTERM-workers"])
def test_a_signal_during_a_check_ends_the_run_non_zero_and_every_report_says_so(
        tmp_path, signum, name, status, group, extra):
    code, output, report = interrupted_run(tmp_path, signum, group=group, extra=extra)
    assert code == status, output
    data = json.loads((report / "results.json").read_text())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    assert data["interrupted"] == {"signal": name, "after": 1, "of": 2}
    # the check that was running has no verdict: an interrupt is never a fail or an error
    assert [(c["id"], c["verdict"]) for c in data["checks"]] == [
        ("chat.interrupt-probe-first", "pass")]
    said = f"interrupted ({name}) after 1 of 2 checks"
    assert f"**INTERRUPTED**: {said}" in (report / "report.md").read_text()
    assert said in (report / "report.html").read_text()
    assert 'type="interrupted"' in (report / "junit.xml").read_text()
    assert f"INTERRUPTED: {said}" in output  # the terminal table
    assert output.rstrip().splitlines()[-1].startswith(f"aoai-conformance: {said}")


def test_an_interrupt_is_never_classified_as_a_verdict():
    for exc in (KeyboardInterrupt(), Terminated()):
        with pytest.raises(KeyboardInterrupt):
            classify(exc)


def test_an_interrupted_run_never_passes_in_any_report():
    results = Results(sdk_info={"name": "openai-python", "version": "3.57.0"},
                      target={"mode": "replay"},
                      checks=[CheckResult("chat.a", "chat", Verdict.PASS)],
                      interrupted=Interrupted("SIGINT", 1, 142))
    assert not results.ok
    data = results.as_dict()
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    assert "passed" not in markdown.totals(results)
    assert "interrupted (SIGINT) after 1 of 142 checks" in markdown.render(results)
    assert 'errors="1"' in junit.render([results])


def test_results_written_before_interruptions_existed_load_and_a_bad_field_is_refused(
        tmp_path):
    results = Results(sdk_info={"name": "openai-python", "version": "3.57.0"},
                      target={"mode": "replay"})
    path = results.write(tmp_path)
    assert "interrupted" not in json.loads(path.read_text())
    assert Results.load(path).interrupted is None
    data = json.loads(path.read_text())
    data["interrupted"] = {"signal": "SIGINT", "after": "9"}
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="'interrupted' must be"):
        Results.load(path)


def test_a_child_run_that_was_interrupted_interrupts_the_gate(tmp_path, monkeypatch):
    """gate, matrix and bisect run each side in a child: its 130 or 143 is theirs too, never
    a setup problem or a verdict."""
    from conformance import cli
    from conformance.environments import Runner

    def interrupted_child(command, **kwargs):
        return subprocess.CompletedProcess(command, 143, "", "")

    monkeypatch.setattr(subprocess, "run", interrupted_child)
    monkeypatch.setattr(Runner, "__call__", _run_with(interrupted_child))
    monkeypatch.setattr(Runner, "prepare", lambda self, pin: None)  # both sides installed
    code = cli.main(["gate", "--baseline", "go@v3.99.0", "--candidate", "go@v3.100.0",
                     "--report-dir", str(tmp_path / "gate")])
    assert code == interruption.EXIT_SIGTERM


def _run_with(child):
    def call(self, pin, report_dir, pytest_args=()):
        interruption.raise_for(child([]).returncode)
        raise AssertionError("not reached")
    return call


def test_a_driver_runs_in_a_session_of_its_own_so_a_ctrl_c_reaches_the_harness_alone(
        tmp_path):
    """A terminal's Ctrl-C goes to its foreground process group; a driver in that group would
    die of it mid-scenario and its death become an `error` verdict (Java: exit status 130)."""
    from conformance.drivers.process import DriverProcess

    script = tmp_path / "driver.py"
    script.write_text(
        "import json, os, sys\n"
        "print(json.dumps({'type': 'hello', 'protocol': 2, 'sdk': 'go', 'sdk_version': "
        "str(os.getsid(0)), 'runtime': 'stand-in'}), flush=True)\n"
        "sys.stdin.readline()\n")
    with DriverProcess("go", [sys.executable, str(script)]) as driver:
        assert driver.hello is not None
        assert int(driver.hello.sdk_version) != os.getsid(0)
