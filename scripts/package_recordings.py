"""Package real recordings from ``tests/corpus/real/`` as the checks' cassettes.

Each packaged cassette in :data:`RECORDED` is one corpus exchange, labelled ``provenance:
recorded`` with its source (corpus file, repository, commit, path, licence) and every
alteration: the corpus import's scrubbing, plus one move of the request onto the v1 surface the
checks drive (``https://RESOURCE.openai.azure.com/openai/v1/<operation>``, no ``api-version``
query; a legacy ``/openai/deployments/{name}/...`` request gets its deployment name as
``model``, which the v1 body carries instead of the path). The response is left as recorded.
The checks that replay these call the SDK with the recorded request, kept in
``metadata.sdk_calls`` (``conformance/suites/_recorded.py``).
``scripts/construct_cassettes.py`` builds the others.

    python scripts/package_recordings.py            # rewrite the recorded cassettes
    python scripts/package_recordings.py --check    # exit 1 if one is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from cassettes.common import write_or_check  # noqa: E402

from conformance.wire import Cassette, safe_yaml  # noqa: E402
from conformance.wire.http import has_header  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "real"
CASSETTES = ROOT / "cassettes"
V1 = "https://RESOURCE.openai.azure.com/openai/v1/"

# packaged cassette -> (corpus file(s), why these recordings serve the check)
RECORDED: dict[str, tuple[str | tuple[str, ...], str]] = {
    "errors/openai-envelope.yaml": (
        ("openai/pydantic-ai/error-400-developer-role.yaml",
         "openai/otel-contrib/error-404-model.yaml",
         "azure/openllmetry/error-404-deployment.yaml",
         "openai/mirascope/error-400-params.yaml"),
        "family A error envelopes answered to chat requests: OpenAI 400 and 404, Azure's 404 "
        "DeploymentNotFound"),
    "chat/completion.yaml": (
        "azure/openllmetry/chat.yaml",
        "an Azure chat completion with prompt and choice filter results"),
    "request-ids/chat-completion.yaml": (
        "azure/openllmetry/chat.yaml",
        "an Azure chat completion answered with both x-request-id and apim-request-id"),
    "request-ids/chat-stream.yaml": (
        "azure/openllmetry/chat-stream.yaml",
        "an Azure chat stream answered with both x-request-id and apim-request-id"),
    "streaming/chat-buffered.yaml": (
        "azure/crewai/chat-stream.yaml",
        "an Azure chat stream in the default filter mode with include_usage: prompt "
        "annotation, role, content, finish and usage chunks"),
    "streaming/responses-events.yaml": (
        "openai/mirascope/responses-stream-reasoning-summary.yaml",
        "an OpenAI platform Responses stream with a reasoning item (summary) and a message"),
    "reasoning/responses.yaml": (
        "openai/pydantic-ai/responses-reasoning-summary.yaml",
        "an OpenAI platform Responses call to o3-mini with reasoning effort high, a detailed "
        "summary and encrypted reasoning content"),
    "embeddings/multiple-inputs.yaml": (
        "openai/openinference/embeddings-base64.yaml",
        "an OpenAI platform embeddings call with two inputs, base64 vectors"),
    "streaming/chat-helper-tool-calls.yaml": (
        "azure/crewai/chat-stream-tool-calls.yaml",
        "an Azure chat stream of a tool call, its arguments in seven fragments"),
    "request-ids/apim-only.yaml": (
        "azure/pydantic-ai/chat.yaml",
        "an Azure chat completion answered with apim-request-id and no x-request-id"),
    "reasoning/chat-usage.yaml": (
        "azure/openllmetry/chat-reasoning.yaml",
        "an Azure reasoning-model chat completion (reasoning_effort low) reporting "
        "reasoning_tokens"),
    "responses/create.yaml": (
        "azure/pydantic-ai/responses-gpt-5.4.yaml",
        "an Azure v1 Responses call with content_filters"),
    "mcp/tool-config.yaml": (
        "openai/pydantic-ai/responses-mcp-list-and-call.yaml",
        "an OpenAI platform Responses call with a remote MCP server (list and call)"),
}

# packaged cassette of checks that run live -> the doc's deployment name they send live
# (`metadata.live_model`). A recorded request names the recorder's own deployment (or platform
# model) and stays as recorded; `aoai-conformance deployments`, preflight and the --deployment
# map read this instead, since a live run sends the doc's sample.
DOC_MODEL: dict[str, str] = {
    "chat/completion.yaml": "gpt-4o",
    "request-ids/chat-completion.yaml": "gpt-4o",
    "request-ids/chat-stream.yaml": "gpt-4o",
    "streaming/chat-buffered.yaml": "gpt-4o",
    "streaming/responses-events.yaml": "gpt-5-mini",
    "reasoning/responses.yaml": "o4-mini",
    "embeddings/multiple-inputs.yaml": "text-embedding-3-small",
    "reasoning/chat-usage.yaml": "o4-mini",
    "responses/create.yaml": "gpt-4.1-nano",
    "mcp/tool-config.yaml": "gpt-5",
}

_LEGACY = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/(?P<operation>.+)$")


def manifest() -> dict[str, dict[str, Any]]:
    data = safe_yaml.load_file(CORPUS.parent / "real-manifest.yaml")
    return {entry["file"]: entry for entry in data["files"]}


def onto_v1(cassette: Cassette) -> list[str]:
    """Move every request onto the v1 surface; returns what was altered."""
    altered: list[str] = []
    for interaction in cassette.interactions:
        request = interaction.request
        path = re.sub(r"/{2,}", "/", request.path)
        body = interaction.request_json()
        legacy = _LEGACY.match(path)
        if legacy:
            operation = legacy["operation"]
            altered.append(f"request moved from {path}?{request.parsed_uri.query} to the v1 "
                           f"path /openai/v1/{operation}")
            if isinstance(body, dict) and "model" not in body:
                body = {"model": legacy["deployment"], **body}
                request.body = json.dumps(body).encode()
                altered.append(f"request body given model {legacy['deployment']!r}, the "
                               "deployment the legacy path named")
        elif path.startswith("/v1/"):
            operation = path[len("/v1/"):]
            altered.append(f"request moved from {path} (api.openai.com) to the v1 path "
                           f"/openai/v1/{operation}")
        else:
            operation = path[len("/openai/v1/"):]
        request.uri = V1 + operation
        if body is not None and not has_header(request.headers.items(), "content-type"):
            # vcrpy compares bodies as JSON only when the request says it is JSON.
            request.headers["content-type"] = "application/json"
            altered.append("request header content-type: application/json added (the source "
                           "recorder dropped it; the body is JSON)")
    return altered


def build(target: str) -> Cassette:
    given, why = RECORDED[target]
    names = (given,) if isinstance(given, str) else given
    entries = [manifest()[name] for name in names]
    interactions = [i for name in names for i in Cassette.load(CORPUS / name).interactions]
    cassette = Cassette(CASSETTES / target, interactions)
    moved = onto_v1(cassette)
    sources = [{"corpus": f"tests/corpus/real/{name}", **entry["source"],
                "licence": entry["licence"]} for name, entry in zip(names, entries, strict=True)]
    altered = list(dict.fromkeys(a for entry in entries for a in entry["altered"]))
    cassette.metadata = {
        "provenance": "recorded",
        "platform": "+".join(sorted({entry["platform"] for entry in entries})),
        "why": why,
        **({"source": sources[0]} if len(sources) == 1 else {"sources": sources}),
        "altered": [*altered, *dict.fromkeys(moved)],
        # What the check calls the SDK with: the recorded request bodies, kept apart from the
        # interactions so that a test may edit what the replay matches and nothing else.
        "sdk_calls": [i.request_json() for i in cassette.interactions],
        **({"live_model": DOC_MODEL[target]} if target in DOC_MODEL else {}),
    }
    return cassette


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if a cassette would change")
    args = parser.parse_args()
    return write_or_check((build(target) for target in RECORDED), args.check, "packaged",
                          "python scripts/package_recordings.py")


if __name__ == "__main__":
    raise SystemExit(main())
