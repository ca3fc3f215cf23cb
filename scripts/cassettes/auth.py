"""Auth cassettes. The single-call auth checks replay chat/completion.yaml."""

from __future__ import annotations

from conformance.wire import Cassette, make_interaction

from .chat import COMPLETION_SOURCES, chat_request, completion_ok
from .common import BASE, CASSETTES, REQUEST_HEADERS, compact, constructed, example, source


def entra_token_per_attempt() -> Cassette:
    rate_limited = example("error-429-rate-limit.json")
    # The hint in milliseconds, so the SDKs that really sleep (every driver) wait 10 ms, not
    # the example's 2 s; retry-after stays as Azure sends it.
    headers = {k: ("10" if k.lower() == "retry-after-ms" else v)
               for k, v in rate_limited["headers"].items()}
    return Cassette(
        CASSETTES / "auth" / "entra-token-per-attempt.yaml",
        [
            make_interaction(
                method="POST",
                uri=f"{BASE}/chat/completions",
                request_json=chat_request(),
                request_headers=REQUEST_HEADERS,
                status=429,
                reason="Too Many Requests",
                response_headers=headers,
                body=compact(rate_limited["body"]),
            ),
            completion_ok(),
            completion_ok(),
        ],
        constructed("the chat sample twice on one client: the first request's first attempt "
                    "is rate limited (retry-after-ms: 10), its retry and the second request "
                    "succeed", source("error-429-rate-limit.json"), *COMPLETION_SOURCES),
    )


BUILDERS = [entra_token_per_attempt]
