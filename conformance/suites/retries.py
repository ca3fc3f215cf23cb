"""retries: how often, after which failures and how long the SDK waits before trying again.

The doc's claims (Python / Retries): connection errors, 408, 429 and >=500 are retried twice by
default with a brief exponential backoff; ``OpenAI(max_retries=0)`` disables retries and
``client.with_options(max_retries=5)`` overrides them per request. The reference refines them
(sdk-behavior §2.1): the backoff's numbers and the server's Retry-After hints. Every scenario
scripts the wire server attempt by attempt and is judged against the policy model
(conformance.policy); delays come from the virtual clock, so nothing sleeps.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

from conformance.clock import VirtualClock
from conformance.credentials import COGNITIVE_SERVICES_SCOPE, FakeCredential
from conformance.harness import Wire
from conformance.policy import OK, Options, Step
from conformance.registry import Observations, check, expect
from conformance.sdk import Sdk
from conformance.secrets import Scrubber

from ._faults import CONNECTION, TIMEOUT, Ledger, answer

PYTHON_RETRIES = "Python / Retries"
SDK_RETRIES = "sdk-behavior §2.1"


@check(
    "retries.default-attempts",
    doc=f"{PYTHON_RETRIES} ('retried twice by default')",
    claim="Without max_retries a retryable failure is attempted three times (two retries) "
    "before the error is raised; a failure that clears in time ends in success.",
    cassette=None,
    refs=(SDK_RETRIES, "wire §3.1, §3.3"),
)
def default_attempts(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger = Ledger()
    ledger.play("persistent 500", wire, sdk, clock, [answer(500)])
    ledger.play("persistent 429", wire, sdk, clock, [answer(429)])
    ledger.play("persistent connection reset", wire, sdk, clock, [CONNECTION])
    ledger.play("429, 503, then success", wire, sdk, clock, [answer(429), answer(503), OK])
    ledger.close(observe)


@check(
    "retries.retryable-set",
    doc=f"{PYTHON_RETRIES} (Connection Errors, 408, 429, >=500)",
    claim="Connection errors, 408, 429 and every status >= 500 are retried; the other error "
    "statuses of the doc's table (400, 401, 403, 404, 422) are raised at once.",
    cassette=None,
    refs=(SDK_RETRIES, "sdk-behavior §8 #3", "wire §3.3, §4.3"),
)
def retryable_set(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger = Ledger()
    for status in (408, 429, 500, 501, 502, 503, 504, 599, 409):
        ledger.play(f"{status}, then success", wire, sdk, clock, [answer(status), OK])
    for status in (400, 401, 403, 404, 422):
        ledger.play(f"{status}", wire, sdk, clock, [answer(status), OK])
    ledger.play("connection reset, then success", wire, sdk, clock, [CONNECTION, OK])
    ledger.play("timeout, then success", wire, sdk, clock, [TIMEOUT, OK])
    ledger.close(observe)


@check(
    "retries.max-retries-zero",
    doc=f"{PYTHON_RETRIES} (OpenAI(max_retries=0))",
    claim="A client built with max_retries=0 makes exactly one attempt, whatever the failure.",
    cassette=None,
    refs=("sdk-behavior §2.4",),
)
def max_retries_zero(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger = Ledger()
    zero = Options(max_retries=0)
    for name, step in (("500", answer(500)), ("429", answer(429)), ("408", answer(408)),
                       ("connection reset", CONNECTION), ("timeout", TIMEOUT)):
        ledger.play(name, wire, sdk, clock, [step], zero)
    ledger.close(observe)


@check(
    "retries.client-max-retries",
    doc=f"{PYTHON_RETRIES} ('Use max_retries to set/disable the retry behavior')",
    claim="OpenAI(max_retries=N) makes N + 1 attempts at a persistent retryable failure.",
    cassette=None,
    refs=("sdk-behavior §2.4",),
)
def client_max_retries(wire: Wire, sdk: Sdk, observe: Observations,
                       clock: VirtualClock) -> None:
    ledger = Ledger()
    for n in (1, 4):
        ledger.play(f"max_retries={n}, persistent 503", wire, sdk, clock, [answer(503)],
                    Options(max_retries=n))
    ledger.play("max_retries=3, persistent connection reset", wire, sdk, clock, [CONNECTION],
                Options(max_retries=3))
    ledger.close(observe)


# The doc's per-request sample, verbatim.
DOC_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "When was Microsoft founded?"}]
DOC_MODEL = "gpt-4o"


@check(
    "retries.per-request-override",
    doc=f"{PYTHON_RETRIES} (client.with_options(max_retries=5).chat.completions.create(...))",
    claim="client.with_options(max_retries=5) makes six attempts for that request and leaves "
    "the client it came from unchanged; with_options(max_retries=0) disables retries for the "
    "request.",
    cassette=None,
    refs=("sdk-behavior §2.4, §7",),
)
def per_request_override(wire: Wire, sdk: Sdk, observe: Observations,
                         clock: VirtualClock) -> None:
    ledger = Ledger()
    client = sdk.client()

    def doc_sample(target: Any) -> Any:
        return target.chat.completions.create(messages=DOC_MESSAGES, model=DOC_MODEL)

    run = ledger.play("with_options(max_retries=5), persistent 500", wire, sdk, clock,
                      [answer(500)], Options(per_request=5), call=doc_sample, client=client)
    bodies = {r.body for r in run.requests}
    sent = run.requests[0].json() if run.requests else None
    observe("request", sent)
    expect(sent == {"messages": DOC_MESSAGES, "model": DOC_MODEL},
           f"the doc's sample sent {sent!r}")
    expect(len(bodies) == 1, "the retries did not send the same body")
    ledger.play("the original client afterwards, persistent 500", wire, sdk, clock,
                [answer(500)], Options(), call=doc_sample, client=client)
    strict = sdk.client(max_retries=3)
    ledger.play("with_options(max_retries=0) on max_retries=3, persistent 500", wire, sdk,
                clock, [answer(500)], Options(max_retries=3, per_request=0), call=doc_sample,
                client=strict)
    ledger.close(observe)


@check(
    "retries.backoff",
    doc=f"{PYTHON_RETRIES} ('a brief exponential backoff')",
    claim="Retry n waits min(0.5 s * 2**n, 8 s) (openai < 1.47.0: min(0.5 s * 2**(n + 1), 8 s)) "
    "reduced by up to 25 % random jitter: delays double up to the 8 s cap and are not all the "
    "same fraction of it.",
    cassette=None,
    refs=(SDK_RETRIES + " (_calculate_retry_timeout)", "wire §3.3"),
)
def backoff(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger = Ledger()
    many = Options(max_retries=7)
    runs = [ledger.play("max_retries=7, persistent 500", wire, sdk, clock, [answer(500)], many),
            ledger.play("max_retries=7, persistent connection reset", wire, sdk, clock,
                        [CONNECTION], many)]
    # This release's declared bases (conformance.policy: python.backoff and its older range).
    declared = ledger.policy.baseline.backoff
    bases = [declared.bound(n).high if declared else min(0.5 * 2**n, 8.0) for n in range(7)]
    fractions = [d / b for run in runs for d, b in zip(run.observed.delays, bases, strict=False)]
    observe("fraction_of_base", [round(f, 3) for f in fractions])
    expect(any(f < 0.999 for f in fractions),
           "every delay was exactly its base: the backoff has no jitter")
    ledger.close(observe)


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@check(
    "retries.retry-after",
    doc=f"{PYTHON_RETRIES} (429 Rate Limit)",
    claim="A server's wait hint replaces the backoff: retry-after-ms (milliseconds), else "
    "retry-after in seconds or as an HTTP-date, when 0 < hint <= the SDK's limit.",
    cassette=None,
    refs=(SDK_RETRIES + " (_parse_retry_after_header)", "wire §3.2, §3.3"),
)
def retry_after(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger = Ledger()
    hints: list[tuple[str, list[tuple[str, str]]]] = [
        ("retry-after-ms 1500", [("retry-after-ms", "1500")]),
        ("retry-after 3", [("retry-after", "3")]),
        ("retry-after 0.25 (a float)", [("retry-after", "0.25")]),
        ("retry-after-ms wins over retry-after", [("retry-after-ms", "250"),
                                                  ("retry-after", "7")]),
        ("junk retry-after-ms, retry-after 2", [("retry-after-ms", "soon"),
                                                ("retry-after", "2")]),
        ("retry-after 45", [("retry-after", "45")]),
        ("the reference 429 (retry-after 2, retry-after-ms 2000)",
         [("retry-after", "2"), ("retry-after-ms", "2000")]),
    ]
    for name, headers in hints:
        ledger.play(name, wire, sdk, clock, [answer(429, *headers), OK])
    ledger.play("503 with retry-after 5", wire, sdk, clock, [answer(503, ("retry-after", "5")),
                                                              OK])
    ledger.play("retry-after as an HTTP-date 30 s ahead", wire, sdk, clock,
                [answer(429, ("retry-after", _http_date(30))), OK])
    ledger.close(observe)


@check(
    "retries.retry-after-limits",
    doc=f"{PYTHON_RETRIES} (429 Rate Limit, >=500 Internal Errors are retried twice)",
    claim="Hints the SDK does not use (zero, negative, junk, a past date) fall back to the "
    "backoff and are still retried; a hint beyond the SDK's limit is handled as the model "
    "says (openai >= 2.52.0: > 120 s stops the retries, a declared deviation from 'retried "
    "twice').",
    cassette=None,
    refs=(SDK_RETRIES, "sdk-behavior §8 #3", "wire §3.3 (quota 429s say 86400 s)"),
)
def retry_after_limits(wire: Wire, sdk: Sdk, observe: Observations,
                       clock: VirtualClock) -> None:
    ledger = Ledger()
    fallbacks: list[tuple[str, tuple[str, str]]] = [
        ("retry-after 0", ("retry-after", "0")),
        ("retry-after -5", ("retry-after", "-5")),
        ("retry-after junk", ("retry-after", "later")),
        ("retry-after a past HTTP-date", ("retry-after", _http_date(-3600))),
        ("retry-after-ms nan", ("retry-after-ms", "nan")),
    ]
    for name, header in fallbacks:
        ledger.play(name, wire, sdk, clock, [answer(429, header), OK])
    long: list[tuple[str, Step]] = [
        ("retry-after 90", answer(429, ("retry-after", "90"))),
        ("retry-after 300", answer(429, ("retry-after", "300"))),
        ("retry-after 86400 (exhausted quota)", answer(429, ("retry-after", "86400"))),
        ("retry-after-ms 150000", answer(429, ("retry-after-ms", "150000"))),
        ("503 with retry-after 300", answer(503, ("retry-after", "300"))),
        ("retry-after 300 with x-should-retry: true",
         answer(429, ("retry-after", "300"), ("x-should-retry", "true"))),
        ("retry-after 1e400 (overflows a float)", answer(429, ("retry-after", "1e400"))),
        ("retry-after an HTTP-date an hour ahead",
         answer(429, ("retry-after", _http_date(3600)))),
    ]
    for name, step in long:
        ledger.play(name, wire, sdk, clock, [step, OK])
    ledger.close(observe)


@check(
    "retries.x-should-retry",
    doc=f"{PYTHON_RETRIES} (the retried statuses)",
    claim="The server's x-should-retry header is handled as the model says: 'true' retries any "
    "status, 'false' stops the retry of any status, other spellings are ignored (a declared "
    "deviation: the doc's list is fixed).",
    cassette=None,
    refs=(SDK_RETRIES, "wire §3.3"),
)
def x_should_retry(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger = Ledger()
    for name, step in (
        ("400 with x-should-retry: true", answer(400, ("x-should-retry", "true"))),
        ("404 with x-should-retry: true", answer(404, ("x-should-retry", "true"))),
        ("503 with x-should-retry: false", answer(503, ("x-should-retry", "false"))),
        ("429 with x-should-retry: false", answer(429, ("x-should-retry", "false"))),
        ("400 with x-should-retry: True", answer(400, ("x-should-retry", "True"))),
        ("503 with x-should-retry: FALSE", answer(503, ("x-should-retry", "FALSE"))),
    ):
        ledger.play(name, wire, sdk, clock, [step, OK])
    ledger.close(observe)


@check(
    "retries.retry-count-header",
    doc=f"{PYTHON_RETRIES}",
    claim="Every attempt carries x-stainless-retry-count: '0' on the first, then '1', '2', ... "
    "(openai 1.47.x: the retries only); each retry resends the same request.",
    cassette=None,
    refs=("sdk-behavior §2.2, §7", "wire §3.1"),
)
def retry_count_header(wire: Wire, sdk: Sdk, observe: Observations,
                       clock: VirtualClock) -> None:
    ledger = Ledger()
    runs = [
        ledger.play("persistent 503", wire, sdk, clock, [answer(503)]),
        ledger.play("reset, 429, then success", wire, sdk, clock,
                    [CONNECTION, answer(429), OK], Options(max_retries=4)),
        ledger.play("max_retries=5, persistent 500", wire, sdk, clock, [answer(500)],
                    Options(max_retries=5)),
    ]
    # The header is this release's own policy (conformance.policy: python.retry-count-header).
    sends_count = ledger.policy.actual.retry_count_header is not None
    for run in runs:
        wanted = ledger.policy.actual.retry_counts(len(run.requests))
        expect(run.retry_counts == wanted or not sends_count,
               f"x-stainless-retry-count went {run.retry_counts}, expected {wanted}")
        first = run.requests[0]
        for again in run.requests[1:]:
            expect((again.method, again.target, again.body)
                   == (first.method, first.target, first.body),
                   f"retry {again.header('x-stainless-retry-count')} sent "
                   f"{again.describe()} with another body than the first attempt")
    if not sends_count:
        ledger.need("retry_count_header", "x-stainless-retry-count")
    ledger.close(observe)


@check(
    "retries.token-per-attempt",
    doc="Python / Authentication (get_bearer_token_provider); Python / Retries",
    claim="A token provider passed as api_key is called again before every attempt, retries "
    "after connection errors and error statuses included, and each attempt carries its own "
    "token.",
    cassette=None,
    refs=("sdk-behavior §2.7, §8 #10, #11",),
)
def token_per_attempt(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock,
                      scrubber: Scrubber) -> None:
    from azure.identity import get_bearer_token_provider

    from .auth import _bearer, _reject_stringified_provider

    ledger = Ledger()
    credential = FakeCredential()
    provider = get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE)
    client = sdk.client(api_key=provider)
    run = ledger.play("reset, 503, then success", wire, sdk, clock,
                      [CONNECTION, answer(503), OK], Options(), client=client)
    for n, token in enumerate(credential.issued, 1):
        scrubber.add(token, f"token#{n}")
    expect(run.requests, "the SDK sent no request")
    _reject_stringified_provider(run.requests[0], observe)
    labels = [credential.label(t) if (t := _bearer(r)) else None for r in run.requests]
    observe("token_per_attempt", labels)
    observe("tokens_issued", len(credential.issued))
    wanted = [f"token#{n}" for n in range(1, len(run.requests) + 1)]
    expect(labels == wanted, f"each attempt should carry a fresh token {wanted}; the attempts "
           f"carried {labels}")
    ledger.close(observe)

