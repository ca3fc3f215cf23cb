"""auth: token providers under concurrency, two requests in flight on one client, every SDK.

``auth.entra-token-per-attempt`` shows each attempt carrying a token the provider gave, one
request at a time. Here the driver starts two calls on one client at once (docs/driver-protocol
.md: ``repeat`` 2, ``concurrent``; each call its own user message, ``params_each``), and the
responder holds each request until both have arrived (no sleeps), so that one request is in
flight at the server while the other is built and goes out: an SDK that keeps the token on the
client and shares it with whatever request is built next puts one call's token on the other's
request. The driver reports the tokens the provider returned during each call (``calls``).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect
from conformance.secrets import Scrubber
from conformance.wire import RecordedRequest, Reply
from conformance.wire.http import NOT_RETRIED
from conformance.wire.script import reply

from ._faults import COMPLETION
from ._requests import CHAT_MESSAGES, CHAT_REQUEST
from ._scenario import no_error, scenario, token_auth
from .auth import TOKEN_LIFETIME_S, TOKENS, _bearer, _reject_stringified_provider

# The two requests, told apart on the wire by their user message.
FIRST, SECOND = "first", "second"
# How long a step waits for the other request before giving up: only an SDK that never lets
# the two requests overlap (or never sends one) waits this long, and the check then fails.
PATIENCE = 10.0


def _messages(label: str) -> list[dict[str, Any]]:
    return [*CHAT_MESSAGES[:-1], {"role": "user",
                                  "content": f"{CHAT_MESSAGES[-1]['content']} ({label})"}]


def _label(request: RecordedRequest) -> str | None:
    try:
        content = json.loads(request.body)["messages"][-1]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return next((label for label in (FIRST, SECOND) if content.endswith(f"({label})")), None)


class Overlap:
    """Holds each request until both have arrived, so they are in flight together."""

    concurrent = True  # called outside the server's lock: both requests wait here at once

    def __init__(self) -> None:
        self.arrived = {FIRST: threading.Event(), SECOND: threading.Event()}
        self.overlapped = True

    def respond(self, request: RecordedRequest) -> Reply:
        label = _label(request)
        if label is not None:
            self.arrived[label].set()
        for event in self.arrived.values():
            if not event.wait(PATIENCE):
                self.overlapped = False
        return reply(200, COMPLETION, headers=(NOT_RETRIED,))


@check(
    "auth.entra-token-concurrent",
    doc="JavaScript / Authentication ('obtain tokens for each request'); Python / "
    "Authentication (get_bearer_token_provider passed as api_key)",
    claim="Two requests in flight at once on one client, each given a token by the doc's "
    "Entra provider: each goes out carrying a token the provider gave its own call, never "
    "only the other's.",
    cassette=None,
    refs=("sdk-behavior §2.7 (the provider is called before every attempt)",
          "sdk-behavior §8 #10, #11", "docs/driver-protocol.md (concurrent, calls)"),
    sdks=ALL_SDKS,
)
def entra_token_concurrent(wire: Wire, driver: Driver, observe: Observations,
                           scrubber: Scrubber) -> None:
    for n, token in enumerate(TOKENS, 1):
        scrubber.add(token, f"token#{n}")
    overlap = Overlap()
    wire.use(overlap)
    performed = scenario(wire, "chat.completions.create", CHAT_REQUEST, max_retries=0,
                         auth=token_auth(*TOKENS, expires_in_s=TOKEN_LIFETIME_S))
    performed["operation"].update(repeat=2, concurrent=True, params_each=[
        {**CHAT_REQUEST, "messages": _messages(label)} for label in (FIRST, SECOND)])
    outcome = driver.run(performed)
    if wire.requests:
        _reject_stringified_provider(wire.requests[0], observe, driver.sdk)
    no_error(outcome, driver.sdk)
    calls = outcome.calls
    if not isinstance(calls, list) or len(calls) != 2:  # the driver's answer, not the SDK
        raise LookupError(f"the {driver.sdk} driver did not report the tokens of each call")
    given = {label: [_label_of(t) for t in call]
             for label, call in zip((FIRST, SECOND), calls, strict=True)}
    carried = {label: _label_of(t) if (t := _bearer(r)) else None
               for r in wire.requests if (label := _label(r)) is not None}
    observe("requests", len(wire.requests))
    observe("overlapped", overlap.overlapped)
    # Which call's provider ran first is the scheduler's: observed without the order, so a
    # diff shows a release that swaps or shares tokens, never the threads' luck.
    wrong = {label: token for label, token in carried.items() if token not in given[label]}
    observe("tokens_given", sorted(t for call in given.values() for t in call))
    observe("tokens_carried", sorted(str(t) for t in carried.values()))
    observe("each_request_carries_its_calls_token", not wrong)
    expect(overlap.overlapped, f"the two requests were never in flight together: {driver.sdk} "
           "sent one only after the other's response")
    expect(sorted(carried) == [FIRST, SECOND], f"expected the two requests on the wire, saw "
           f"{sorted(carried)}")
    expect(not wrong, f"each request should carry a token its own call was given {given}; "
           f"they carried {dict(sorted(carried.items()))}")


def _label_of(token: str) -> str:
    return f"token#{TOKENS.index(token) + 1}" if token in TOKENS else "other"
