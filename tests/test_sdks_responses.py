"""The responses, reasoning, mcp and embeddings checks on every SDK: each passes on the packaged
cassettes and fails against a misbehaving server (a cassette variant) for python, javascript,
go and java alike.

A variant breaks several cassettes at once, one way per check, so one run per SDK and variant
shows every row of :data:`CAUGHT` failing with its reason. Tests that start a real driver (node,
go, java) are marked ``drivers``; python runs in process.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest

from conformance import sdks
from conformance.registry import Verdict
from conformance.wire import Interaction

from .conftest import Suite
from .failures import Case, caught
from .responses_support import edit_request, edit_stream

CHECKS = (
    "responses.request-shape", "responses.response-contract", "responses.azure-content-filters",
    "responses.output-text",
    "reasoning.chat-request", "reasoning.chat-usage", "reasoning.effort-values",
    "reasoning.max-tokens-rejected", "reasoning.responses-request", "reasoning.responses-items",
    "mcp.tool-config", "mcp.output-items", "mcp.failed-call", "mcp.approval-flow",
    "mcp.streaming-events",
    "embeddings.sdk-default-base64", "embeddings.explicit-format-untouched",
    "embeddings.dimensions", "embeddings.vector-lengths", "embeddings.multiple-inputs",
    "embeddings.usage",
)
# What the pinned SDKs truly do against the packaged cassettes, where it is not a pass:
# openai-go types mcp_call.error as an object union (McpToolCallErrorUnion), so Azure's error
# string reaches user code as an empty Message.
KNOWN = {("go", "mcp.failed-call"): Verdict.FAIL}


def _first(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(item for item in body["output"] if item["type"] == kind)


def _floats(body: dict[str, Any]) -> None:
    """Answer a base64 request with a float array (the service ignoring encoding_format)."""
    raw = base64.b64decode(body["data"][0]["embedding"])
    body["data"][0]["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))


def _truncate_base64(body: dict[str, Any]) -> None:
    raw = base64.b64decode(body["data"][0]["embedding"])
    body["data"][0]["embedding"] = base64.b64encode(raw[: 1536 * 4]).decode()


def _nudge(body: dict[str, Any]) -> None:
    body["data"][0]["embedding"][7] += 0.001


def _pad(body: dict[str, Any]) -> None:
    body["data"][0]["embedding"] += [0.0] * 10


def _call_arguments_differ(payloads: list[dict[str, Any]]) -> None:
    """The completed response carries other arguments than its delta events built."""
    for item in payloads[-1]["response"]["output"]:
        if item["type"] == "mcp_call":
            item["arguments"] = json.dumps({"query": "something else"})


def _no_message(interactions: list[Interaction]) -> None:
    body = interactions[1].response_json()
    body["output"] = [item for item in body["output"] if item["type"] != "message"]
    interactions[1].set_response_json(body)


def answers(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's answers break each check's claim (the requests stay as recorded)."""
    create = "responses/create.yaml"
    suite.edit_json(create, 0, lambda body: body["usage"].update(total_tokens=24))
    suite.edit_json(create, 0, lambda body: body["content_filters"][1].update(blocked="false"))
    suite.edit_json("responses/output-text.yaml", 0, lambda body: body.update(status="finished"))
    suite.edit_json("reasoning/chat-usage.yaml", 0,
                    lambda body: body["usage"].pop("completion_tokens_details"))
    suite.edit_json("reasoning/effort-values.yaml", 2,
                    lambda body: body["choices"][0].update(finish_reason="done"))
    suite.edit_json("reasoning/max-tokens-rejected.yaml", 0,
                    lambda body: body["error"].update(code="invalid_request_error"))
    suite.edit_json("reasoning/responses.yaml", 0,
                    lambda body: _first(body, "reasoning").pop("encrypted_content"))
    suite.edit_json("mcp/tool-config.yaml", 0,
                    lambda body: _first(body, "mcp_call").update(server_label="elsewhere"))
    suite.edit_json("mcp/failed-call.yaml", 0,
                    lambda body: _first(body, "mcp_call").update(status="completed"))
    suite.edit("mcp/approval-flow.yaml", _no_message)
    edit_stream(suite, "mcp/streaming-events.yaml", _call_arguments_differ)
    suite.edit_json("embeddings/encodings.yaml", 1, _nudge)
    suite.edit_json("embeddings/dimensions.yaml", 0, _pad)
    suite.edit_json("embeddings/vector-lengths.yaml", 1, _truncate_base64)
    suite.edit_json("embeddings/multiple-inputs.yaml", 0, lambda body: body.pop("usage"))


def requests(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recordings expect other requests than the doc's code sends, and other answers."""
    edit_request(suite, "responses/create.yaml", lambda body: body.update(store=False))
    edit_request(suite, "reasoning/chat.yaml", lambda body: body.update(reasoning_effort="high"))
    edit_request(suite, "reasoning/responses.yaml",
                 lambda body: body["reasoning"].update(effort="low"))
    suite.edit_json("embeddings/encodings.yaml", 0, _floats)
    suite.edit_json("embeddings/multiple-inputs.yaml", 0, lambda body: body["data"].reverse())


VARIANTS: dict[str, Case] = {"answers": answers, "requests": requests}
# (variant, check, what its failure says, whatever the SDK)
PHRASES = [
    ("answers", "responses.response-contract", "responses.usage.total"),
    ("answers", "responses.azure-content-filters", "responses.content-filters"),
    ("answers", "responses.output-text", "responses.status"),
    ("answers", "reasoning.chat-usage", "reasoning_tokens is missing"),
    ("answers", "reasoning.effort-values", "the completion breaks the contract"),
    ("answers", "reasoning.max-tokens-rejected", "error code is"),
    ("answers", "reasoning.responses-items", "has no encrypted_content"),
    ("answers", "mcp.tool-config", "name another server than 'deepwiki'"),
    ("answers", "mcp.output-items", "names server 'elsewhere'"),
    ("answers", "mcp.failed-call", "no failed mcp_call"),
    ("answers", "mcp.approval-flow", "lacks the mcp_call or the assistant's message"),
    ("answers", "mcp.streaming-events", "responses-stream.completed-output"),
    ("answers", "embeddings.sdk-default-base64", "1 of 1536 values differ (first at 7"),
    ("answers", "embeddings.dimensions", "embeddings.dimensions"),
    ("answers", "embeddings.vector-lengths", "embeddings.default-length"),
    ("answers", "embeddings.usage", "embeddings.usage"),
    ("requests", "responses.request-shape", "store"),
    ("requests", "reasoning.chat-request", "reasoning_effort"),
    ("requests", "reasoning.responses-request", "effort"),
    ("requests", "embeddings.explicit-format-untouched", "embeddings.encoding"),
    ("requests", "embeddings.multiple-inputs", "embeddings.order"),
]
# One run per SDK and variant: each check of the variant fails with its phrase on every SDK.
CAUGHT = [(VARIANTS[variant], check, sdk, phrase)
          for sdk in ("python", *sdks.driver_names()) for variant, check, phrase in PHRASES]
test_every_sdk_fails_against_a_misbehaving_server = caught(CAUGHT)

SDKS = [pytest.param(sdk, marks=() if sdk == "python" else pytest.mark.drivers)
        for sdk in sdks.names() if sdk == "python" or sdk in sdks.driver_names()]


def _verdicts(run: Any, sdk: str) -> dict[str, Verdict]:
    return {c.id: c.verdict for c in run.results.checks if c.sdk == sdk}


def _skip_if_unavailable(run: Any, sdk: str) -> None:
    verdicts = _verdicts(run, sdk)
    if verdicts and set(verdicts.values()) == {Verdict.SKIPPED}:
        pytest.skip(f"{sdk} driver unavailable")


def test_every_check_caught_has_a_row():
    assert {check for _, check, _ in PHRASES} == set(CHECKS)


@pytest.mark.parametrize("sdk", SDKS)
def test_every_sdk_passes_on_the_packaged_cassettes(suite: Suite, sdk: str):
    run = suite.run(*CHECKS, args=(f"--conformance-sdk={sdk}",))
    _skip_if_unavailable(run, sdk)
    expected = {check: KNOWN.get((sdk, check), Verdict.PASS) for check in CHECKS}
    assert _verdicts(run, sdk) == expected, run.outcome.stdout.str()
    if sdk == "go":
        assert "differs from the wire's 'Error calling tool" in run.message("mcp.failed-call",
                                                                            "go")
