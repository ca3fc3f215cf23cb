"""The plugin's parts outside its hooks: live admission and accounting (Target.admit,
Target.charge), verdict precedence (conformance.verdicts), the event stream and its handlers,
and the speed seams (one TLS context per configuration, the python driver's in-process
timeouts)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conformance import verdicts
from conformance.events import EventStream, RunFinished, VerdictReached
from conformance.registry import REGISTRY, Check, Verdict
from conformance.run_results import Finish, RunResults
from conformance.target import Target

# -- Target.admit ---------------------------------------------------------------------------



def _live_check() -> Check:
    from conformance.cli import load_suites

    load_suites()
    return next(c for c in sorted(REGISTRY.values(), key=lambda c: c.id)
                if c.live and c.cassette is not None)


def _target() -> Target:
    return Target(mode="live", endpoint="https://example.invalid/openai/v1/")


def test_a_live_check_within_the_budgets_is_admitted():
    assert _target().admit(_live_check()) is None


def test_a_replay_only_check_is_not_admitted():
    check = _live_check()
    replay_only = Check(check.id, check.feature, check.doc, check.claim, check.function,
                        check.cassette, live=False)
    assert _target().admit(replay_only) == (
        "replay only: the cassette forces answers a live resource does not give on demand")


def test_a_spent_request_budget_is_not_admitted():
    target = _target()
    target.used = target.budget
    assert target.admit(_live_check()) == f"the live request budget ({target.budget}) is spent"


def test_a_token_budget_too_small_for_the_cassette_is_not_admitted():
    target = _target()
    target.max_tokens = 1
    refused = target.admit(_live_check())
    assert refused is not None and refused.startswith("the live token budget (1)")


def test_a_passed_deadline_is_not_admitted():
    target = _target()
    target.deadline, target.run_timeout_s = time.monotonic() - 1, 30.0
    assert target.admit(_live_check()) == (
        "the run's deadline (--conformance-run-timeout 30 s) has passed")


def test_a_missing_deployment_is_not_admitted():
    from conformance import deployments, paths

    check = next(c for c in sorted(REGISTRY.values(), key=lambda c: c.id)
                 if c.live and c.cassette and deployments.needed_by(c, paths.cassette_root()))
    target = _target()
    target.missing = set(deployments.needed_by(check, paths.cassette_root()))
    refused = target.admit(check)
    assert refused is not None and "does not exist on the resource" in refused


def test_a_live_check_is_charged_what_it_sent_and_what_its_answers_report():
    from conformance.target import Tab
    from conformance.usage import Usage
    from conformance.wire.proxy import Forward

    target = _target()
    target.used = 3
    forward = Forward("https://example.invalid/openai/v1/", dict, spending=Tab(target))
    forward.sent, forward.reused = 2, 1
    assert isinstance(forward.spending, Tab)
    forward.spending.spent = Usage(input=10, output=4)
    assert target.charge(forward) == {"requests": 2, "reused": 1, "input_tokens": 10,
                                      "output_tokens": 4}
    assert target.used == 5  # failed sends count too: what the budget counts
    unspent = Forward("https://example.invalid/openai/v1/", dict)
    assert target.charge(unspent) == {"requests": 0, "reused": 0, "input_tokens": 0,
                                      "output_tokens": 0}


# -- verdict precedence ---------------------------------------------------------------------


def _phase(exc: BaseException | None, phase: str = "call", **kwargs: object):
    options: dict[str, object] = {"skipped": False, "upstream_note": lambda: "",
                                  "credential_failure": None, "kept_back": None}
    options.update(kwargs)
    return verdicts.of_phase(exc, phase, **options)  # type: ignore[arg-type]


def test_a_setup_that_went_fine_says_nothing_and_a_call_that_did_passes():
    assert _phase(None, "setup") is None
    assert _phase(None) == (Verdict.PASS, "")


def test_a_failed_claim_fails_and_names_what_the_resource_refused():
    assert _phase(AssertionError("no"), upstream_note=lambda: " (429)") == (
        Verdict.FAIL, "no (429)")


def test_a_credential_failure_turns_a_fail_into_a_setup_error():
    assert _phase(AssertionError("no"), credential_failure="no token") == (
        Verdict.ERROR, "setup error: no token")
    assert _phase(None, credential_failure="no token") == (Verdict.PASS, "")


def test_a_request_the_budgets_kept_back_makes_the_call_skipped():
    assert _phase(AssertionError("no"), kept_back="budget spent") == (
        Verdict.SKIPPED, "budget spent")
    assert _phase(None, "setup", kept_back="budget spent") is None


def test_a_refused_recording_makes_a_pass_an_error():
    assert verdicts.recording_refused((Verdict.PASS, ""), "a secret") == (
        Verdict.ERROR, "a secret")
    assert verdicts.recording_refused((Verdict.PASS, ""), None) == (Verdict.PASS, "")
    assert verdicts.recorded(Verdict.PASS, "", "not written") == (
        Verdict.ERROR, "recorded, not written")
    assert verdicts.recorded(Verdict.FAIL, "no", "not written") == (Verdict.FAIL, "no")


def _row(verdict: str, phase: str = "call", **observations: object) -> dict[str, object]:
    return {"id": "chat.response-contract", "sdk": "python", "sdk_version": "1", "phase": phase,
            "verdict": verdict, "message": verdict, "observations": dict(observations),
            "duration_s": 0.1}


def test_the_first_verdict_that_is_not_a_pass_stands():
    results = RunResults()
    stream = EventStream()
    stream.subscribe(results)
    stream.emit(VerdictReached(_row("fail", a=1)))
    stream.emit(VerdictReached(_row("error", "teardown", b=2)))
    [row] = results.rows.values()
    assert (row.verdict, row.observations) == (Verdict.FAIL, {"a": 1, "b": 2})


def test_a_teardown_error_after_a_pass_is_an_error():
    results = RunResults()
    results.add(_row("pass"))
    results.add(_row("error", "teardown"))
    [row] = results.rows.values()
    assert row.verdict is Verdict.ERROR


# -- the event stream -----------------------------------------------------------------------


class _Heard:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def on_event(self, event: object) -> None:
        self.log.append(f"{self.name}:{type(event).__name__}")


def test_handlers_hear_events_in_order_and_before_puts_one_ahead():
    log: list[str] = []
    stream = EventStream()
    results, settler = _Heard("results", log), _Heard("settler", log)
    stream.subscribe(results)
    stream.subscribe(settler, before=results)
    stream.emit(RunFinished())
    assert log == ["settler:RunFinished", "results:RunFinished"]


def test_run_finished_writes_the_results_with_what_the_recordings_left(tmp_path: Path):
    results = RunResults()
    results.add(_row("pass"))
    finish = Finish(sdk_info={"name": "openai-python"}, target={"mode": "record"}, record=True,
                    cassettes="cassettes", sse_chunking="event", report_dir=tmp_path)
    results.on_event(RunFinished(notes={"finish": finish,
                                        "recorded": {"chat/a.yaml": None,
                                                     "chat/b.yaml": "not written: x"}}))
    import json

    target = json.loads((tmp_path / "results.json").read_text())["target"]
    assert list(target) == ["mode", "written", "not_written", "cassettes", "sse_chunking"]
    assert target["written"] == ["chat/a.yaml"]
    assert target["not_written"] == {"chat/b.yaml": "not written: x"}


# -- speed seams ----------------------------------------------------------------------------


def test_clients_of_one_configuration_share_one_tls_context(monkeypatch: pytest.MonkeyPatch):
    from conformance.sdk import OpenAIPython, installed

    library = installed().http_library
    module = __import__(f"{library}._transports.default", fromlist=["create_ssl_context"])
    handle = OpenAIPython("http://127.0.0.1:9/openai/v1/")
    try:
        first, second = handle.client(), handle.client()
        contexts = {id(c._client._transport._pool._ssl_context) for c in (first, second)}
    finally:
        handle.close()
    assert len(contexts) == 1
    assert getattr(module.create_ssl_context, "_aoai_conformance_shared", False)


def test_a_tls_context_with_other_arguments_is_not_shared():
    from conformance import tls_contexts
    from conformance.sdk import installed

    library = installed().http_library
    tls_contexts.share(library)
    module = __import__(f"{library}._transports.default", fromlist=["create_ssl_context"])
    assert module.create_ssl_context(verify=True) is module.create_ssl_context(verify=True)
    assert module.create_ssl_context(verify=True) is not module.create_ssl_context(
        verify=False)


def test_the_python_driver_times_out_a_stall_in_process():
    """A scenario with a read timeout goes through the in-process transport: the stall is
    the HTTP library's read timeout at once, logged as a wire exchange like any request."""
    from conformance.drivers.python import PythonDriver
    from conformance.sdk import OpenAIPython
    from conformance.wire import WireServer
    from conformance.wire import script as actions
    from conformance.wire.script import Script

    with WireServer() as server:
        server.use(Script([actions.stall(30.0)]))
        handle = OpenAIPython(server.base_url)
        driver = PythonDriver(handle, dispatch=server.dispatch)
        scenario = {"base_url": server.base_url,
                    "client": {"max_retries": 0, "timeout_ms": 200},
                    "operation": {"name": "chat.completions.create",
                                  "params": {"model": "gpt-4o", "messages": [
                                      {"role": "user", "content": "hi"}]}}}
        try:
            outcome = driver.run(scenario)
        finally:
            handle.close()
        assert outcome.error is not None and outcome.error.kind == "timeout"
        assert len(server.exchanges) == 1
        assert "in-process" in driver._clients
