"""Build the constructed cassettes in ``cassettes/`` from the reference examples.

Nobody recorded these interactions against /openai/v1: each pairs a request the seed doc's
samples make with response bodies from ``tests/corpus/reference/`` (whose README says which
were recorded and which constructed). Every cassette built here is labelled
``provenance: constructed`` and lists its sources. Builders live in ``scripts/cassettes/``,
one module per feature.

    python scripts/construct_cassettes.py            # rewrite cassettes/
    python scripts/construct_cassettes.py --check    # exit 1 if cassettes/ is out of date
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from cassettes.common import write_or_check  # noqa: E402

# Why each constructed cassette is not a real recording: tests/corpus/real/ has no exchange the
# check needs (its README lists what no permissively licensed recording shows).
WHY_CONSTRUCTED = {
    "auth/entra-token-per-attempt.yaml": "needs a 429 then a 200 for one request, then a 200 "
    "for a second one; no 429 is recorded",
    "embeddings/dimensions.yaml": "no recording asks for dimensions=256",
    "embeddings/encodings.yaml": "needs the same input embedded as base64 and as float; no "
    "recording pair exists",
    "embeddings/vector-lengths.yaml": "needs default calls to three model families; not "
    "recorded",
    "errors/azure-envelope.yaml": "needs Azure gateway envelopes for 401, 403, 404, 408 and 429; "
    "only a 401 is recorded (tests/corpus/real/azure/openllmetry/error-401-embeddings.yaml)",
    "errors/bare-envelope.yaml": "no recording has a {statusCode, message} body",
    "errors/content-filter.yaml": "no recording of Azure's content-filter 400 kept its status "
    "(the one found was edited to 200)",
    "image-input/chat-doc-sample.yaml": "the check sends the doc's image sample; no recording "
    "of it exists",
    "image-input/chat-url-and-data-url.yaml": "needs an https and a data-URL part in one "
    "request; not recorded",
    "mcp/approval-flow.yaml": "no MCP approval round trip is recorded",
    "mcp/failed-call.yaml": "no failed MCP call is recorded (a resource fails one only by "
    "chance)",
    "mcp/streaming-events.yaml": "needs the same MCP stream under both argument-event "
    "spellings; Azure's spec spelling is not recorded",
    "reasoning/chat.yaml": "the check sends the .NET sample (developer message, "
    "max_completion_tokens 100000); no recording of it exists",
    "reasoning/effort-values.yaml": "needs every effort value per model family; not recorded",
    "reasoning/max-tokens-rejected.yaml": "the doc's rejected max_tokens to a reasoning model "
    "is not recorded",
    "responses/output-text.yaml": "needs several messages with several parts and a refusal; "
    "no recording has them",
    "streaming/chat-async-filter-blocked.yaml": "an asynchronous-filter block is not recorded",
    "streaming/chat-async-filter.yaml": "Azure's asynchronous filter mode is not recorded",
    "streaming/chat-bom-comments.yaml": "no recorded stream opens with a BOM or carries comment "
    "lines",
    "streaming/chat-cr.yaml": "no recorded stream ends its lines with CR alone",
    "streaming/chat-crlf.yaml": "no recorded stream ends its lines with CRLF",
    "streaming/chat-error-payload.yaml": "fault injection: an error payload inside a chat stream",
    "streaming/chat-line-separators.yaml": "no recording in tests/corpus/real/ has U+2028, U+2029 "
    "or U+0085 in streamed text",
    "streaming/chat-tool-calls.yaml": "needs parallel tool calls with a multi-byte character "
    "split across fragments; the recorded tool-call stream "
    "(streaming/chat-helper-tool-calls.yaml) has one call",
    "streaming/responses-error-event.yaml": "fault injection: an error event mid-stream",
    "streaming/responses-error-payload.yaml": "fault injection: error payload variants",
    "streaming/responses-failed.yaml": "a response.failed stream is not recorded",
    "streaming/responses-unknown-events.yaml": "fault injection: event types the SDK does not "
    "know",
}


def builders() -> list:  # type: ignore[type-arg]
    found = []
    for module in sorted((ROOT / "scripts" / "cassettes").glob("*.py")):
        if module.stem not in ("__init__", "common"):
            found.extend(importlib.import_module(f"cassettes.{module.stem}").BUILDERS)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if a cassette would change")
    args = parser.parse_args()
    return write_or_check(_constructed(), args.check, "rebuilt",
                          "python scripts/construct_cassettes.py")


def _constructed() -> Iterator[Any]:
    for build in builders():
        cassette = build()
        rel = cassette.path.relative_to(ROOT / "cassettes").as_posix()
        cassette.metadata["why_constructed"] = WHY_CONSTRUCTED[rel]
        yield cassette


if __name__ == "__main__":
    raise SystemExit(main())
