"""Exit 0 when every failed or errored verdict of a results.json is a known, documented one.

`run --sdk all` exits 1 on the pinned SDKs, truthfully: the doc's own Go Entra sample
(`option.WithBaseURL` + `azure.WithTokenCredential`) fails against openai-go v3.100.0 with
"azure: authentication requires azure.WithEndpoint"; the pinned openai-node, openai-go and
openai-java raise no connection error for a connection cut mid-body or mid-stream; openai-go
reads no event from a CR-only stream; openai-java's typed delta() throws on Azure's
asynchronous-filter chunks. CI runs that command and then this script, so any other failure or
error still fails CI, and so does a known one going away (the list is then stale: remove it).

    python scripts/known_failures.py conformance-report/all-sdks/results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# (check id, sdk): why, with where it is shown.
_GO_ENTRA = ("the doc's Go Entra sample needs azure.WithEndpoint in openai-go v3.100.0 "
             "(README: Every SDK the doc covers)")
_CUT_BODY = ("a connection cut after the headers raises no connection error: {what} "
             "(errors.connection-error, issue 19)")
_CUT_STREAM = ("a stream reset mid-way raises no connection error: {what} "
               "(errors.stream-connection-reset, issue 19)")
# The auth checks that run the doc's Entra sample fail on Go with that error; the pinned
# openai-node, openai-go and openai-java leave a body cut mid-way unwrapped.
KNOWN = {
    ("auth.entra-token-provider", "go"): _GO_ENTRA,
    ("construction.doc-client", "go"): _GO_ENTRA,
    ("auth.entra-token-per-attempt", "go"): _GO_ENTRA,
    ("auth.entra-token-concurrent", "go"): _GO_ENTRA,
    ("errors.connection-error", "javascript"): _CUT_BODY.format(
        what="openai-node 6.49.0 raises undici's TypeError: terminated"),
    ("errors.connection-error", "go"): _CUT_BODY.format(
        what="openai-go v3.100.0 returns \"error reading response body: unexpected EOF\""),
    ("errors.connection-error", "java"): _CUT_BODY.format(
        what="openai-java 4.105.0 raises OpenAIInvalidDataException"),
    ("errors.stream-connection-reset", "javascript"): _CUT_STREAM.format(
        what="openai-node 6.49.0 raises undici's TypeError: terminated"),
    ("errors.stream-connection-reset", "go"): _CUT_STREAM.format(
        what="openai-go v3.100.0's stream.Err() is a bare unexpected EOF"),
    # Issue 19: the streaming claims on every SDK (README, tests/test_streaming_sdks.py).
    ("streaming.chat-cr-lines", "go"): "openai-go v3.100.0's SSE reader ends lines at LF only: "
    "a CR-only stream is no event for it",
    **dict.fromkeys(
        [(check, "java") for check in ("streaming.chat-async-filter",
                                       "streaming.chat-async-filter-blocked",
                                       "streaming.chat-async-filter-helper",
                                       "streaming.chat-helper-blocked")],
        "openai-java 4.105.0's typed delta() throws on Azure's asynchronous-filter annotation "
        "chunks (no delta): the doc's loop and the ChatCompletionAccumulator sample read it"),
    ("mcp.failed-call", "go"): "openai-go v3.100.0 types an mcp_call's error as an object; "
    "Azure sends a string, so Go code reads an empty Message (mcp.failed-call, issue 19)",
    ("retries.token-per-attempt", "go"): "the same Go Entra sample, retried: it sends nothing "
    "(azure.WithEndpoint needed in openai-go v3.100.0)",
}


def main(path: str) -> int:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    bad = {(c["id"], c.get("sdk", "python")): c.get("message", "")
           for c in data["checks"] if c["verdict"] in ("fail", "error")}
    unknown = {k: v for k, v in bad.items() if k not in KNOWN}
    gone = [k for k in KNOWN if k not in bad]
    for (check, sdk), message in sorted(unknown.items()):
        print(f"known_failures: {check}[{sdk}] {message.splitlines()[0] if message else ''}")
    for check, sdk in gone:
        print(f"known_failures: {check}[{sdk}] no longer fails: remove it from KNOWN")
    for (check, sdk), why in KNOWN.items():
        if (check, sdk) in bad:
            print(f"known_failures: {check}[{sdk}] fails as known: {why}")
    return 1 if unknown or gone else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
