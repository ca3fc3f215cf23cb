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


def test_a_request_that_could_cross_the_token_budget_is_not_sent(pytester, resource,
                                                                   monkeypatch):
    """Each request's bound (its bytes, its output cap) is held before it goes upstream: a
    budget below it sends nothing, and the checks are skipped saying why."""
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    report = pytester.path / "report"
    pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", f"--conformance-endpoint={resource.endpoint}",
        "--conformance-max-tokens=150", "--conformance-check=chat.request-shape")
    data = json.loads((report / "results.json").read_text())
    [row] = data["checks"]
    assert row["verdict"] == "skipped"
    assert row["message"].startswith("not sent: this request could cost up to ")
    assert "live token budget (150) has 150 left" in row["message"]
    assert resource.work == [] and data["target"]["tokens_used"] == 0


def test_identical_requests_go_upstream_once_and_within_the_budget(pytester, resource,
                                                                   monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    report = pytester.path / "report"
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={report}", f"--conformance-endpoint={resource.endpoint}",
        "--conformance-max-tokens=250", "--conformance-feature=chat")
    data = json.loads((report / "results.json").read_text())
    assert sorted(c["verdict"] for c in data["checks"]) == ["pass", "pass", "pass"]
    usages = sorted((c["observations"]["live_usage"] for c in data["checks"]),
                    key=lambda u: -u["requests"])
    # The three checks send the doc's sample: the first answer serves the other two.
    assert usages == [{"requests": 1, "reused": 0, "input_tokens": 14, "output_tokens": 9},
                      {"requests": 0, "reused": 1, "input_tokens": 0, "output_tokens": 0},
                      {"requests": 0, "reused": 1, "input_tokens": 0, "output_tokens": 0}]
    assert data["target"]["tokens_used"] == 23 <= data["target"]["token_budget"]
    # What went upstream carried the cap; what the SDK sent (and the check judged) did not.
    assert [r.json()["max_tokens"] for r in resource.work] == [OUTPUT_CAP]
    outcome.stdout.fnmatch_lines(["live: 1 request(s) of 60, 23 token(s) of 250*"])


def test_request_bounds_hold_what_a_request_can_cost():
    chat = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                       "max_tokens": OUTPUT_CAP}).encode()
    assert usage.request_bound(chat) >= len(chat) - 20 + OUTPUT_CAP
    image = json.dumps({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 9000}}]}]})
    assert usage.IMAGE_TOKENS <= usage.request_bound(image.encode()) < usage.IMAGE_TOKENS + 200
    mcp = json.dumps({"model": "m", "input": "x", "max_output_tokens": 16,
                      "tools": [{"type": "mcp", "server_url": "u"}]}).encode()
    assert usage.request_bound(mcp, 700) - usage.request_bound(mcp, 0) == 700


def test_the_doc_mcp_server_lists_only_the_tool_its_sample_needs_upstream():
    tool = {"type": "mcp", "server_label": "microsoft_learn",
            "server_url": "https://learn.microsoft.com/api/mcp", "require_approval": "never"}
    own = {**tool, "allowed_tools": ["microsoft_docs_fetch"]}
    other = {**tool, "server_url": "https://example.com/mcp"}
    body = json.dumps({"model": "m", "input": "x", "tools": [tool, own, other]}).encode()
    sent = json.loads(usage.cap_output("/openai/v1/responses", body))
    assert sent["tools"] == [{**tool, "allowed_tools": ["microsoft_docs_search"]}, own, other]
    # The tool call is output too, after a reasoning deployment's reasoning: it gets room.
    assert sent["max_output_tokens"] == usage.MCP_OUTPUT_CAP
