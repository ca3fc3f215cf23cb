"""A run with every verdict and awkward messages (several lines, pipes, backticks, angle
brackets, a control character), for the report tests and their snapshots."""

from __future__ import annotations

from conformance.registry import Verdict
from conformance.results import CheckResult, Results

LONG = "\n".join(f"$.choices[0].content_filter_results.{c}: missing 'filtered'"
                 for c in ("hate", "self_harm", "sexual", "violence", "jailbreak", "profanity",
                           "protected_material_text", "protected_material_code", "custom"))


def sample(version: str = "3.57.0") -> Results:
    def result(id: str, verdict: str, message: str = "", **observations: object) -> CheckResult:
        return CheckResult(
            id=id, feature=id.split(".")[0], verdict=Verdict(verdict), message=message,
            observations=dict(observations), doc=f"Python / {id.split('.')[0].title()}",
            claim=f"The claim of {id} | with a pipe", cassette=f"{id.split('.')[0]}/x.yaml",
            duration_s=0.0123,
        )

    return Results(
        sdk_info={"name": "openai-python", "version": version, "http_library": "httpx2",
             "http_library_version": "2.16.2"},
        target={"mode": "replay", "cassettes": "cassettes", "sse_chunking": "event"},
        checks=[
            result("auth.api-key-bearer", "pass", authorization="Bearer <api-key>"),
            result("auth.entra-token-provider", "unsupported",
                   "callable_api_key needs openai>=1.106.0; installed 1.105.0 "
                   "(sent Bearer <function get_bearer_token_provider.<locals>.wrapper>)"),
            result("chat.response-contract", "fail",
                   f"the response breaks the contract:\n{LONG}", violations=LONG.splitlines()),
            result("chat.request-shape", "pass", body_fields=["max_tokens", "messages", "model"]),
            result("streaming.chat-doc-loop-text", "fail",
                   "the SDK raised AttributeError: 'NoneType' has no attribute `delta`\n"
                   "```\nfor chunk in stream: print(chunk.choices[0].delta)\n```"),
            result("retries.retry-after-limits", "pass",
                   scenarios=[{"scenario": "retry-after 300", "attempts": 1,
                               "delays_s": [], "outcome": "RateLimitError"}]),
            result("errors.status-classes", "error",
                   "cassette errors/status.yaml is missing\x07: record it with "
                   "aoai-conformance record errors.status-classes"),
            result("mcp.tool-config", "skipped", "replay only: the cassette forces answers a "
                   "live resource does not give on demand"),
        ],
        started_at="2026-12-01T12:00:00+00:00",
        duration_s=4.2,
    )
