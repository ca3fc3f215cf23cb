"""The token budget: usage read from answers and streams, the output cap, the budget skip."""

from __future__ import annotations

import json

import pytest

from conformance import paths, usage
from conformance.usage import OUTPUT_CAP, Usage
from conformance.wire import Cassette

from .fake_resource import FakeResource, serving

KEY = "live-secret-key-0123456789abcdef"


def body_of(name: str) -> tuple[bytes, str | None]:
    interaction = Cassette.load(paths.cassette_root() / name).interactions[0]
    return interaction.body, interaction.header("content-type")


@pytest.mark.parametrize(
    ("cassette", "expected"),
    [
        # real recordings (tests/corpus/real/)
        ("chat/completion.yaml", Usage(15, 24)),  # usage of a chat completion
        ("streaming/chat-buffered.yaml", Usage(9, 10)),  # its usage chunk
        ("embeddings/multiple-inputs.yaml", Usage(20, 0)),
        ("mcp/tool-config.yaml", Usage(1207, 535)),  # a Response
    ],
)
def test_usage_is_read_where_the_service_reports_it(cassette, expected):
    assert usage.of_body(*body_of(cassette)) == expected


def test_stream_usage_comes_from_the_usage_chunk_or_the_final_response():
    chat = (b'data: {"choices":[],"usage":null}\n\n'
            b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,'
            b'"total_tokens":10}}\n\ndata: [DONE]\n\n')
    assert usage.of_body(chat, "text/event-stream") == Usage(7, 3)
    responses = (b'event: response.created\ndata: {"response":{"usage":null}}\n\n'
                 b'event: response.completed\ndata: {"response":{"usage":{"input_tokens":5,'
                 b'"output_tokens":2,"total_tokens":7}}}\n\n')
    assert usage.of_body(responses, "text/event-stream; charset=utf-8") == Usage(5, 2)
    assert usage.of_body(b"\xff not json", None) == Usage()


@pytest.mark.parametrize(
    ("path", "sent", "upstream"),
    [
        ("/openai/v1/chat/completions", {"max_tokens": 100}, {"max_tokens": OUTPUT_CAP}),
        ("/openai/v1/chat/completions", {"max_completion_tokens": 8},
         {"max_completion_tokens": 8}),
        ("/openai/v1/chat/completions", {}, {"max_completion_tokens": OUTPUT_CAP}),
        ("/openai/v1/responses", {"max_output_tokens": 500}, {"max_output_tokens": OUTPUT_CAP}),
        ("/openai/v1/responses", {}, {"max_output_tokens": OUTPUT_CAP}),
        ("/openai/v1/embeddings", {}, {}),
    ],
)
def test_every_live_request_is_capped(path, sent, upstream):
    body = json.dumps({"model": "m", **sent}).encode()
    assert json.loads(usage.cap_output(path, body)) == {"model": "m", **upstream}


@pytest.fixture
def resource():
    with serving(FakeResource(KEY, paths.cassette_root())) as fake:
        yield fake


def test_a_check_that_would_exceed_the_token_budget_is_skipped(pytester, resource,
                                                                monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    report = pytester.path / "report"
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", f"--conformance-endpoint={resource.endpoint}",
        "--conformance-max-tokens=45", "--conformance-feature=chat")
    data = json.loads((report / "results.json").read_text())
    verdicts = sorted(c["verdict"] for c in data["checks"])
    assert verdicts == ["pass", "skipped", "skipped"]
    skipped = [c["message"] for c in data["checks"] if c["verdict"] == "skipped"]
    # The estimate comes from the packaged recording (15 in, 24 out), the spend from the answer.
    assert skipped[0] == ("the live token budget (45) has 22 token(s) left and this check needs "
                          "about 39 (raise it with --max-tokens)")
    ran = next(c for c in data["checks"] if c["verdict"] == "pass")
    assert ran["observations"]["live_usage"] == {"requests": 1, "input_tokens": 14,
                                                 "output_tokens": 9}
    assert data["target"]["tokens_used"] == 23 and data["target"]["token_budget"] == 45
    # What went upstream carried the cap; what the SDK sent (and the check judged) did not.
    assert [r.json()["max_tokens"] for r in resource.work] == [OUTPUT_CAP]
    outcome.stdout.fnmatch_lines(["live: preflight passed (2 request(s), no tokens); 3 check(s) "
                                  "go upstream: about 3 request(s) and 117 token(s)*",
                                  "live: 1 request(s) of 60, 23 token(s) of 45*"])
