"""auth: token providers under concurrency, two requests in flight on one client.

``auth.entra-token-per-attempt`` and ``retries.token-per-attempt`` show each attempt carrying a
fresh token one request at a time. Here two threads share one client; the responder and the
token provider synchronise them with events (no sleeps), so that one request is in flight at
the server while the other asks for its token and goes out: an SDK that keeps the token on
the client and shares it with whatever request is built next puts one request's token on the
other.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from conformance.credentials import COGNITIVE_SERVICES_SCOPE, FakeCredential
from conformance.harness import Wire
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk, require_capability
from conformance.secrets import Scrubber
from conformance.wire import RecordedRequest, Reply
from conformance.wire.script import reply

from ._faults import COMPLETION
from ._requests import CHAT_MESSAGES, DEPLOYMENT
from .auth import _bearer

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
        return reply(200, COMPLETION, headers=(("x-should-retry", "false"),))


def _ordered(provider: Callable[[], str], overlap: Overlap, given: dict[str, str]
             ) -> Callable[[], str]:
    """The provider as the check hands it to the SDK: the first request asks for its token only
    once the second is in flight; each token given is noted by the request it went to."""

    def provide() -> str:
        label = threading.current_thread().name
        if label == FIRST:
            overlap.arrived[SECOND].wait(PATIENCE)
        token = provider()
        given[label] = token
        return token

    return provide


@check(
    "auth.entra-token-concurrent",
    doc="JavaScript / Authentication ('obtain tokens for each request'); Python / "
    "Authentication (get_bearer_token_provider passed as api_key)",
    claim="Two requests in flight at once on one client, each given its own token by the "
    "provider: each goes out carrying the token it was given, never the other's.",
    cassette=None,
    refs=("sdk-behavior §2.7 (the provider is called before every attempt)",
          "sdk-behavior §8 #10, #11"),
)
def entra_token_concurrent(wire: Wire, sdk: Sdk, observe: Observations,
                           scrubber: Scrubber) -> None:
    from azure.identity import get_bearer_token_provider

    require_capability("callable_api_key")
    credential = FakeCredential()
    overlap = Overlap()
    wire.use(overlap)
    given: dict[str, str] = {}
    provider = _ordered(get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE),
                        overlap, given)
    client = sdk.client(api_key=provider, max_retries=0)
    errors: dict[str, BaseException] = {}

    def send(label: str) -> None:
        try:
            client.chat.completions.create(model=DEPLOYMENT, messages=_messages(label))
        except BaseException as exc:  # judged below, on this thread's behalf
            errors[label] = exc

    threads = [threading.Thread(target=send, args=(label,), name=label)
               for label in (SECOND, FIRST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, token in enumerate(credential.issued, 1):
        scrubber.add(token, f"token#{n}")
    carried = {label: credential.label(t) if (t := _bearer(r)) else None
               for r in wire.requests if (label := _label(r)) is not None}
    wanted = {label: credential.label(token) for label, token in given.items()}
    observe("requests", len(wire.requests))
    observe("overlapped", overlap.overlapped)
    observe("token_given", dict(sorted(wanted.items())))
    observe("token_carried", dict(sorted(carried.items())))
    if errors:
        raise next(iter(errors.values()))
    expect(overlap.overlapped, "the two requests were never in flight together: the SDK sent "
           "one only after the other's response")
    expect(sorted(carried) == [FIRST, SECOND], f"expected the two requests on the wire, saw "
           f"{sorted(carried)}")
    expect(carried == wanted,
           f"each request should carry the token it was given {dict(sorted(wanted.items()))}; "
           f"they carried {dict(sorted(carried.items()))}")
