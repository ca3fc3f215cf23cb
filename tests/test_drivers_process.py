"""The driver process client against fake drivers: a tiny Python script that speaks protocol
v2 well, or prints garbage, crashes, hangs or lies. Whatever it does, the client answers with a
DriverError carrying the driver's stderr, never hangs, and starts a fresh driver next time."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from conformance.drivers import DriverError, DriverProcess, ScenarioRejected, outcome_problems

FAKE = textwrap.dedent(
    """
    import json, os, sys, time
    mode = sys.argv[1]
    def send(m):
        sys.stdout.write(json.dumps(m) + "\\n"); sys.stdout.flush()
    print("fake driver starting in mode " + mode, file=sys.stderr, flush=True)
    if mode == "bad-hello":
        send({"type": "hello", "protocol": 1, "sdk": "javascript", "sdk_version": "1",
              "runtime": "fake"})
    elif mode == "garbage-hello":
        print("Welcome to the driver!", flush=True)
    elif mode == "silent":
        time.sleep(60)
    elif mode == "wrong-sdk":
        send({"type": "hello", "protocol": 2, "sdk": "go", "sdk_version": "1", "runtime": "x"})
    else:
        send({"type": "hello", "protocol": 2, "sdk": "javascript", "sdk_version": "9.9.9",
              "runtime": "fake"})
    OUTCOME = {"result": {"ok": True}, "read": {"content": "ok"}, "events": [], "error": None,
               "request_id": "req_1", "token_calls": [{"scopes": ["s"]}], "sdk_retry_count": None,
               "elapsed_ms": 3}
    for line in sys.stdin:
        m = json.loads(line)
        if m["type"] == "shutdown":
            sys.exit(0)
        print("running " + m["id"], file=sys.stderr, flush=True)
        flaky = mode == "crash-once" and not os.path.exists(sys.argv[2])
        if flaky:
            open(sys.argv[2], "w").close()
        if mode == "good" or (mode == "crash-once" and not flaky):
            send({"type": "outcome", "id": m["id"], "outcome": OUTCOME})
        elif mode == "garbage":
            print("Segmentation fault? no, just chatter", flush=True)
        elif mode in ("crash", "crash-once"):
            print("panic: the driver fell over", file=sys.stderr, flush=True)
            sys.exit(3)
        elif mode == "hang":
            time.sleep(60)
        elif mode == "wrong-id":
            send({"type": "outcome", "id": "someone-else", "outcome": OUTCOME})
        elif mode == "bad-outcome":
            send({"type": "outcome", "id": m["id"], "outcome": {"result": None}})
        elif mode == "rejects":
            send({"type": "driver_error", "id": m["id"], "message": "unsupported: per-request "
                  "retries", "unsupported": True})
    """
)

SCENARIO = {"base_url": "http://127.0.0.1:9/openai/v1/", "client": {},
            "operation": {"name": "chat.completions.create", "params": {}}, "deadline_ms": 1000}


@pytest.fixture
def fake(tmp_path: Path):
    script = tmp_path / "fake_driver.py"
    script.write_text(FAKE)
    made: list[DriverProcess] = []

    def make(mode: str, **options: float) -> DriverProcess:
        driver = DriverProcess("javascript", [sys.executable, str(script), mode,
                                              str(tmp_path / "crashed-once")], **options)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


def test_a_well_behaved_driver_says_hello_and_answers_each_scenario(fake):
    driver = fake("good")
    hello = driver.start()
    assert (hello.protocol, hello.sdk, hello.sdk_version, hello.runtime) == (
        2, "javascript", "9.9.9", "fake")
    first = driver.run(SCENARIO)
    second = driver.run(SCENARIO)
    assert first == second
    assert first.result == {"ok": True}
    assert first.request_id == "req_1"
    assert first.read.content == "ok" and first.read.present == {"content"}
    assert driver.starts == 1
    driver.close()
    assert not driver.alive


def test_garbage_on_stdout_is_a_driver_error_with_the_stderr_tail(fake):
    driver = fake("garbage")
    with pytest.raises(DriverError, match="malformed output") as caught:
        driver.run(SCENARIO)
    assert "just chatter" in caught.value.problem
    assert "running 1-1" in caught.value.stderr_tail
    assert not driver.alive  # killed: whatever it says next cannot be trusted


def test_a_crash_is_a_driver_error_with_the_exit_status_and_stderr(fake):
    driver = fake("crash")
    with pytest.raises(DriverError, match="exit status 3") as caught:
        driver.run(SCENARIO)
    assert "panic: the driver fell over" in caught.value.stderr_tail
    assert "panic: the driver fell over" in str(caught.value)


def test_after_a_crash_the_next_scenario_gets_a_fresh_driver(fake):
    driver = fake("crash-once")
    with pytest.raises(DriverError, match="exited"):
        driver.run(SCENARIO)
    outcome = driver.run(SCENARIO)
    assert outcome.result == {"ok": True}
    assert driver.starts == 2


def test_a_hang_is_cut_at_the_hard_deadline_and_the_driver_killed(fake):
    driver = fake("hang")
    with pytest.raises(DriverError, match="no answer within the deadline") as caught:
        driver.run(SCENARIO, deadline_s=0.3)
    assert "running 1-1" in caught.value.stderr_tail
    assert not driver.alive


def test_a_silent_driver_fails_at_startup_instead_of_hanging(fake):
    driver = fake("silent", startup_timeout=0.3)
    with pytest.raises(DriverError, match="waiting for its hello") as caught:
        driver.start()
    assert "starting in mode silent" in caught.value.stderr_tail


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        ("bad-hello", "protocol 1 \\(this runner speaks 2\\)"),
        ("wrong-sdk", "drives 'go'"),
        ("garbage-hello", "not a JSON line"),
    ],
)
def test_a_bad_hello_is_a_driver_error(fake, mode, problem):
    with pytest.raises(DriverError, match=problem):
        fake(mode).start()


def test_an_answer_for_another_run_is_a_driver_error(fake):
    with pytest.raises(DriverError, match="answer for id 'someone-else'"):
        fake("wrong-id").run(SCENARIO)


def test_a_malformed_outcome_is_a_driver_error_naming_what_is_missing(fake):
    with pytest.raises(DriverError, match="missing 'events'"):
        fake("bad-outcome").run(SCENARIO)


def test_a_driver_error_answer_is_a_rejected_scenario_not_a_broken_driver(fake):
    driver = fake("rejects")
    with pytest.raises(ScenarioRejected, match="per-request retries") as caught:
        driver.run(SCENARIO)
    assert caught.value.unsupported
    assert driver.alive  # the driver is fine; it just cannot do that


def test_a_driver_that_cannot_start_is_a_driver_error():
    with pytest.raises(DriverError, match="cannot start"):
        DriverProcess("go", ["/nonexistent/driver"]).start()


@pytest.mark.parametrize(
    ("outcome", "problem"),
    [
        ([], "must be a JSON object"),
        ({"result": None}, "missing 'events'"),
        ({"result": None, "read": {}, "events": [],
          "error": {"kind": "boom", "class": "E", "message": "m", "code_type": "null"},
          "request_id": None, "token_calls": [], "sdk_retry_count": None, "elapsed_ms": 1},
         "error.kind must be one of"),
        ({"result": None, "read": {}, "events": [], "error": None, "request_id": 5,
          "token_calls": [], "sdk_retry_count": None, "elapsed_ms": 1},
         "request_id must be a string"),
        ({"result": None, "read": {}, "events": [], "error": None, "request_id": None,
          "token_calls": [{"scope": "x"}], "sdk_retry_count": None, "elapsed_ms": 1},
         "token_calls must be"),
        ({"result": None, "events": [], "error": None, "request_id": None, "token_calls": [],
          "sdk_retry_count": None, "elapsed_ms": 1}, "missing 'read'"),
        ({"result": None, "read": {"content": ["Paris"]}, "events": [], "error": None,
          "request_id": None, "token_calls": [], "sdk_retry_count": None, "elapsed_ms": 1},
         "read.content must be a string or null"),
        ({"result": None, "read": {"deltas": "Paris"}, "events": [], "error": None,
          "request_id": None, "token_calls": [], "sdk_retry_count": None, "elapsed_ms": 1},
         "read.deltas must be a list of strings"),
    ],
)
def test_outcome_problems_names_each_violation(outcome, problem):
    assert any(problem in p for p in outcome_problems(outcome))


def test_the_environment_never_shows_in_a_repr():
    driver = DriverProcess("go", ["driver"], env={"AZURE_OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(driver)
    assert "'go'" in repr(driver)
