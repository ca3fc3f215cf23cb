"""Safe recording: only a passing check's exchanges, only a cassette every sharer replays, with
request ids made stable and nothing secret left (or nothing written)."""

from __future__ import annotations

import json
import shutil

import pytest

from conformance import paths
from conformance.recording import RecordingRefused, stabilise
from conformance.secrets import Scrubber
from conformance.wire import Cassette, make_interaction

from .fake_resource import FakeResource, serving

KEY = "live-secret-key-0123456789abcdef"


@pytest.fixture
def resource():
    with serving(FakeResource(KEY, paths.cassette_root())) as fake:
        yield fake


def record(pytester, resource, monkeypatch, root, *checks):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    report = pytester.path / "report"
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", f"--conformance-endpoint={resource.endpoint}",
        "--conformance-record", f"--conformance-cassettes={root}",
        *[f"--conformance-check={c}" for c in checks])
    data = json.loads((report / "results.json").read_text())
    return outcome, {c["id"]: c for c in data["checks"]}


def test_a_failing_check_records_nothing(pytester, resource, monkeypatch):
    resource.hostile(["error"])
    root = pytester.path / "recorded"
    _, checks = record(pytester, resource, monkeypatch, root, "chat.request-shape")
    assert checks["chat.request-shape"]["verdict"] == "fail"
    assert not root.exists()


def test_a_shared_cassette_is_kept_when_the_new_recording_breaks_a_sharer(
    pytester, resource, monkeypatch
):
    # The resource's answer lacks Azure's filter annotations: chat.request-shape (which judges
    # the request) passes, but chat.azure-filter-results would fail replaying it.
    resource.edit = lambda body: body.pop("prompt_filter_results", None)
    root = pytester.path / "cassettes"
    shutil.copytree(paths.cassette_root(), root)
    before = (root / "chat" / "completion.yaml").read_bytes()
    outcome, checks = record(pytester, resource, monkeypatch, root, "chat.request-shape")
    result = checks["chat.request-shape"]
    assert result["verdict"] == "error"
    assert result["message"].startswith("recorded, not written: replaying the new recording, "
                                        "chat.azure-filter-results fail")
    assert result["observations"]["recording"].startswith("not written")
    assert (root / "chat" / "completion.yaml").read_bytes() == before
    outcome.stdout.fnmatch_lines(["record: chat/completion.yaml: not written*"])


def test_a_recording_every_sharer_replays_is_written(pytester, resource, monkeypatch):
    root = pytester.path / "cassettes"
    outcome, checks = record(pytester, resource, monkeypatch, root, "chat.request-shape")
    assert checks["chat.request-shape"]["verdict"] == "pass"
    assert checks["chat.request-shape"]["observations"]["recording"] == "written"
    # The cross-SDK checks on the cassette replay it too (for python).
    outcome.stdout.fnmatch_lines(["record: chat/completion.yaml: written (replayed by "
                                  "auth.api-key-bearer, auth.entra-token-provider, "
                                  "chat.azure-filter-results, chat.request-shape, "
                                  "chat.response-contract)"])
    assert Cassette.load(root / "chat" / "completion.yaml").provenance == "recorded"


def _recorded(**response) -> Cassette:
    interactions = [
        make_interaction(method="POST", uri="https://RESOURCE.openai.azure.com/openai/v1/x",
                         request_json={"model": "gpt-4o"}, **response),
        make_interaction(method="POST", uri="https://RESOURCE.openai.azure.com/openai/v1/x",
                         request_json={"model": "gpt-4o"}, **response),
    ]
    return Cassette(paths.cassette_root() / "unused.yaml", interactions, {})


def test_request_ids_become_stable_fakes_everywhere():
    real = "a1b2c3d4-0000-4000-8000-123456789abc"
    cassette = stabilise(_recorded(
        status=500, response_headers={"apim-request-id": real, "x-request-id": "f" * 32},
        body=f"Please include the request ID {real} in your message.".encode()), Scrubber())
    first, second = cassette.interactions
    assert first.header("apim-request-id") == "00000000-0000-0000-0000-000000000001"
    assert first.header("x-request-id") == "0" * 31 + "2"
    assert second.header("apim-request-id") == first.header("apim-request-id")
    assert b"00000000-0000-0000-0000-000000000001 in your message" in first.body


def test_secrets_in_binary_bodies_are_scrubbed_with_stable_placeholders():
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    cassette = stabilise(_recorded(
        response_headers={"x-ms-tenant-id": tenant},
        body=b"\xff\xfe tenant_id=" + tenant.encode() + b" sk-abcdefghijklmnopqrstuvwxyz \xc3("),
        Scrubber())
    body = cassette.interactions[0].body
    assert tenant.encode() not in body and b"sk-abcdef" not in body
    assert cassette.interactions[0].header("x-ms-tenant-id") == (
        "00000000-0000-0000-0000-000000000000")


def test_a_secret_left_after_scrubbing_refuses_the_cassette():
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4eXoifQ.c2lnbmF0dXJl"
    cassette = _recorded()
    cassette.interactions[0].request.body = json.dumps({"token": jwt}).encode()
    with pytest.raises(RecordingRefused) as refused:
        stabilise(cassette, Scrubber())
    assert str(refused.value).endswith("0 request.body jwt")
    assert jwt not in str(refused.value)


class _InterruptSecond:
    """Ctrl-C while the second check runs (pytest re-raises a KeyboardInterrupt from a test)."""

    def __init__(self) -> None:
        self.calls = 0

    def pytest_runtest_call(self, item: pytest.Item) -> None:
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt


def test_an_interrupted_recording_writes_nothing_and_says_so(pytester, resource, monkeypatch):
    """The first check passed and its recording waits to be replayed by its sharers; the run
    is interrupted during the second: nothing is written, the terminal and results.json say
    why."""
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    root = pytester.path / "cassettes"
    report = pytester.path / "report"
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", f"--conformance-endpoint={resource.endpoint}",
        "--conformance-record", f"--conformance-cassettes={root}",
        "--conformance-check=chat.request-shape", "--conformance-check=chat.response-contract",
        plugins=[_InterruptSecond()], no_reraise_ctrlc=True)
    assert outcome.ret == pytest.ExitCode.INTERRUPTED
    assert not root.exists()
    outcome.stdout.fnmatch_lines(["record: interrupted (SIGINT) after 1 of 2 checks: no "
                                  "cassette written (1 recording(s) discarded)"])
    data = json.loads((report / "results.json").read_text())
    assert data["interrupted"] == {"signal": "SIGINT", "after": 1, "of": 2}
    assert [c["verdict"] for c in data["checks"]] == ["pass"]


def test_only_a_passing_python_check_is_held_back_and_a_secret_refuses_it(tmp_path):
    from conformance.cli import load_suites
    from conformance.recording import Recordings
    from conformance.registry import REGISTRY, Verdict

    load_suites()
    check = REGISTRY["chat.request-shape"]
    recordings = Recordings(tmp_path)
    for verdict, sdk in ((Verdict.FAIL, "python"), (Verdict.PASS, "go"),
                         (Verdict.ERROR, "python")):
        assert recordings.keep(check, verdict, sdk, _recorded(), Scrubber()) is None
    assert recordings.keep(check, Verdict.PASS, "python", None, Scrubber()) is None
    assert not recordings.pending
    assert recordings.keep(check, Verdict.PASS, "python", _recorded(), Scrubber()) is None
    assert recordings.recorded_by == {check.cassette: [check.id]}
    leaky = _recorded()
    leaky.interactions[0].request.body = json.dumps(
        {"token": "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4eXoifQ.c2lnbmF0dXJl"}).encode()
    refused = recordings.keep(check, Verdict.PASS, "python", leaky, Scrubber())
    assert refused is not None and refused.endswith("0 request.body jwt")
    assert recordings.recorded_by == {check.cassette: [check.id]}  # not held back
