"""retries: how often, after which failures and how long each SDK waits before trying again.

The doc's claims (Python / Retries; JavaScript / Retries): connection errors, 408, 429 and >=500
are retried twice by default with a brief exponential backoff; ``max_retries`` on the client
sets or disables retries and a per-request option overrides them. The reference refines them
per SDK and release (sdk-behavior §1-§5, §9): the backoff's numbers and the server's
Retry-After hints. Every check here runs on python, javascript, go and java: each scenario
scripts the wire server attempt by attempt, the SDK's driver makes one call
(:mod:`._retry_runs`), and the run is judged by the policy model (``conformance.policy``) under
the policy of the release the driver loaded. Python's delays come from the virtual clock; the
other SDKs sleep for real and are timed at the wire, so scenarios whose claim is not the wait
use a 10 ms hint, and long waits are judged up to a short deadline.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from typing import Any

from conformance import sdk as python_sdk
from conformance.drivers.pool import Driver
from conformance.drivers.python import PythonDriver
from conformance.harness import Wire
from conformance.policy import DOC_TOKEN_CLAIM, OK, Options, Step, doc_vs_sdk
from conformance.registry import ALL_SDKS, Observations, check, expect, unsupported
from conformance.wire import Script

from ._faults import CONNECTION, TIMEOUT, action, answer
from ._retry_runs import RetryRuns, fast
from ._scenario import token_auth
from .auth import _reject_stringified_provider

PYTHON_RETRIES = "Python / Retries"
JS_RETRIES = "JavaScript / Retries"
SDK_RETRIES = "sdk-behavior §1-§5, §9 (each SDK's retry policy per release)"
# Azure's throttling hint (seconds; a 429 from Azure OpenAI carries both headers).
AZURE_HINT_S = 5
# Long waits are judged up to this deadline on the SDKs that really sleep: past the first
# backoff (0.5 s, with the wire's slack), so a release that falls back to it is told apart.
WAIT_DEADLINE_S = 1.2


@check(
    "retries.default-attempts",
    doc=f"{PYTHON_RETRIES} ('retried twice by default'); {JS_RETRIES}",
    claim="Without max retries a retryable failure is attempted three times (two retries) "
    "before the SDK's error is raised, each attempt numbered by the retry-count header; a "
    "failure that clears in time ends in success.",
    cassette=None,
    refs=(SDK_RETRIES, "wire §3.1, §3.3"),
    sdks=ALL_SDKS,
)
def default_attempts(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    runs.play("persistent 500", [fast(500)])
    persistent = runs.play("persistent 503", [fast(503)])
    runs.play("persistent 429", [fast(429)])
    runs.play("persistent connection reset", [CONNECTION])
    runs.play("429, 503, then success", [fast(429), fast(503), OK])
    wanted = runs.policy.actual.retry_counts(persistent.observed.attempts)
    observe("retry_count_header", persistent.retry_counts)
    if persistent.retry_counts != wanted:
        runs.problem(f"persistent 503: x-stainless-retry-count went {persistent.retry_counts}, "
                     f"expected {wanted}")
    runs.close(observe)


@check(
    "retries.retryable-set",
    doc=f"{PYTHON_RETRIES} (Connection Errors, 408, 429, >=500); {JS_RETRIES}",
    claim="Connection errors, 408, 429 and every status >= 500 are retried; the other error "
    "statuses of the doc's table (400, 401, 403, 404, 422) are raised at once. Where an SDK "
    "retries more (409, timeouts) its release's policy says so (doc_vs_sdk).",
    cassette=None,
    refs=(SDK_RETRIES, "sdk-behavior §8 #3", "wire §3.3, §4.3"),
    sdks=ALL_SDKS,
)
def retryable_set(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    for status in (408, 429, 500, 501, 502, 503, 504, 599, 409):
        runs.play(f"{status}, then success", [fast(status), OK])
    for status in (400, 401, 403, 404, 422):
        runs.play(f"{status}", [fast(status), OK])
    runs.play("connection reset, then success", [CONNECTION, OK])
    runs.play("timeout, then success", [TIMEOUT, OK])
    runs.close(observe)


@check(
    "retries.max-retries-zero",
    doc=f"{PYTHON_RETRIES} (OpenAI(max_retries=0)); {JS_RETRIES} (maxRetries: 0)",
    claim="A client built with max retries 0 makes exactly one attempt, whatever the failure.",
    cassette=None,
    refs=("sdk-behavior §2.4", SDK_RETRIES),
    sdks=ALL_SDKS,
)
def max_retries_zero(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    zero = Options(max_retries=0)
    for name, step in (("500", fast(500)), ("429", fast(429)), ("408", fast(408)),
                       ("connection reset", CONNECTION), ("timeout", TIMEOUT)):
        runs.play(name, [step, OK], zero)
    runs.close(observe)


@check(
    "retries.client-max-retries",
    doc=f"{PYTHON_RETRIES} ('Use max_retries to set/disable the retry behavior'); "
    f"{JS_RETRIES} (maxRetries on the client)",
    claim="max retries N set on the client makes N + 1 attempts at a persistent retryable "
    "failure (0: one attempt).",
    cassette=None,
    refs=("sdk-behavior §2.4", SDK_RETRIES),
    sdks=ALL_SDKS,
)
def client_max_retries(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    attempts = {}
    for n in (0, 1, 4):
        run = runs.play(f"max retries {n}, persistent 503", [fast(503)], Options(max_retries=n))
        attempts[str(n)] = run.observed.attempts
    runs.play("max retries 1, persistent connection reset", [CONNECTION],
              Options(max_retries=1))
    observe("attempts_by_max_retries", attempts)
    runs.close(observe)


# The doc's per-request sample, verbatim.
DOC_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "When was Microsoft founded?"}]
DOC_MODEL = "gpt-4o"


@check(
    "retries.per-request-override",
    doc=f"{PYTHON_RETRIES} (client.with_options(max_retries=5).chat.completions.create(...)); "
    f"{JS_RETRIES} (per-request maxRetries)",
    claim="Max retries set for one request overrides the client's: 5 makes six attempts and "
    "resends the doc's request unchanged, 2 on a client with 0 makes three, 0 on a client with "
    "3 makes one; the client's own setting is unchanged. An SDK without a per-request option is "
    "unsupported.",
    cassette=None,
    refs=("sdk-behavior §2.4, §7", SDK_RETRIES),
    sdks=ALL_SDKS,
)
def per_request_override(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    doc = {"messages": DOC_MESSAGES, "model": DOC_MODEL}
    run = runs.play("request max retries 5, persistent 500", [fast(500)], Options(per_request=5),
                    params=doc)
    sent = run.requests[0].json() if run.requests else None
    observe("request", sent)
    expect(sent == doc, f"the doc's sample sent {sent!r}")
    expect(len({r.body for r in run.requests}) == 1, "the retries did not send the same body")
    runs.play("client max retries 0, request max retries 2, persistent 503", [fast(503)],
              Options(max_retries=0, per_request=2))
    runs.play("client max retries 3, request max retries 0, persistent 500", [fast(500)],
              Options(max_retries=3, per_request=0))
    runs.play("client max retries 3, no request option, persistent 500", [fast(500)],
              Options(max_retries=3))
    if isinstance(driver, PythonDriver):  # in process: the very client with_options came from
        seen = observe("with_options_then_original_attempts", _original_client(wire, driver))
        if seen != [6, 3]:
            runs.problem(f"with_options(max_retries=5), then the client it came from, made "
                         f"{seen} attempts at a persistent 500, expected [6, 3]")
    runs.close(observe)


def _original_client(wire: Wire, driver: PythonDriver) -> list[int]:
    """Attempts of ``client.with_options(max_retries=5)``, then of ``client`` itself."""
    client = driver.handle.client()
    attempts = []
    for target in (client.with_options(max_retries=5), client):
        wire.use(Script([action(fast(500))]))
        # The 500 after the retries is raised: the attempts are what is judged.
        with contextlib.suppress(Exception):
            target.chat.completions.create(messages=DOC_MESSAGES, model=DOC_MODEL)
        attempts.append(len(wire.requests))
    return attempts


@check(
    "retries.backoff",
    doc=f"{PYTHON_RETRIES} ('a brief exponential backoff'); {JS_RETRIES}",
    claim="Without a hint, retry n waits the release's exponential backoff (openai-python, "
    "openai-node, openai-go, openai-java: min(0.5 s * 2**n, 8 s) less up to 25 % jitter; "
    "openai < 1.47.0 one step ahead): delays double up to the cap and, on the virtual clock, "
    "are not all the same fraction of it.",
    cassette=None,
    refs=(SDK_RETRIES + " (_calculate_retry_timeout, calculateDefaultRetryTimeoutMillis, "
          "retryDelay, getRetryBackoffDuration)", "wire §3.3"),
    sdks=ALL_SDKS,
)
def backoff(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    # The SDKs that really sleep show two doublings (0.5 s then 1 s: about 1.4 s at the wire);
    # the virtual clock shows the whole curve up to the cap, and the jitter.
    probe = runs.play("max retries 2, persistent 500", [answer(500)], Options(max_retries=2))
    if not probe.virtual:
        runs.close(observe)
        return
    many = Options(max_retries=7)
    played = [runs.play("max retries 7, persistent 500", [answer(500)], many),
              runs.play("max retries 7, persistent connection reset", [CONNECTION], many)]
    declared = runs.policy.baseline.backoff
    bases = [declared.bound(n).high if declared else min(0.5 * 2**n, 8.0) for n in range(7)]
    fractions = [d / b for run in played
                 for d, b in zip(run.observed.delays, bases, strict=False)]
    observe("fraction_of_base", [round(f, 3) for f in fractions])
    if not any(f < 0.999 for f in fractions):
        runs.problem("every delay was exactly its base: the backoff has no jitter")
    runs.close(observe)


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def _azure_hint(seconds: int = AZURE_HINT_S) -> tuple[tuple[str, str], ...]:
    return (("retry-after-ms", str(seconds * 1000)), ("retry-after", str(seconds)))


@check(
    "retries.retry-after",
    doc=f"{PYTHON_RETRIES} (429 Rate Limit); {JS_RETRIES}",
    claim="A server's wait hint replaces the backoff: retry-after-ms (milliseconds), else "
    "retry-after in seconds or as an HTTP-date, when it lies within the release's limits; "
    "Azure's throttling hint (seconds, both headers) is waited for, not refused.",
    cassette=None,
    refs=(SDK_RETRIES + " (_parse_retry_after_header, retryRequest, parseRetryAfterHeader)",
          "wire §3.2, §3.3"),
    sdks=ALL_SDKS,
)
def retry_after(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    short: list[tuple[str, list[tuple[str, str]]]] = [
        ("retry-after-ms 50", [("retry-after-ms", "50")]),
        ("retry-after 0.3 (seconds, a float)", [("retry-after", "0.3")]),
        ("retry-after-ms wins over retry-after", [("retry-after-ms", "100"),
                                                  ("retry-after", "7")]),
        ("junk retry-after-ms, retry-after 0.2", [("retry-after-ms", "soon"),
                                                  ("retry-after", "0.2")]),
    ]
    virtual = [runs.play(name, [answer(429, *headers), OK]) for name, headers in short][-1]\
        .virtual
    # Waits of seconds: waited in full on the virtual clock, up to a deadline at the wire
    # (still waiting there: neither refused nor replaced by the backoff).
    wait = WAIT_DEADLINE_S
    runs.play(f"Azure's 429 (retry-after-ms {AZURE_HINT_S * 1000}, retry-after "
              f"{AZURE_HINT_S})", [answer(429, *_azure_hint()), OK], deadline_s=wait)
    runs.play("retry-after as an HTTP-date 30 s ahead",
              [answer(429, ("retry-after", _http_date(30))), OK], deadline_s=wait)
    if virtual:  # the virtual clock waits for nothing: the hints of seconds in full too
        runs.play("503 without a hint, then Azure's 429, then success",
                  [answer(503), answer(429, *_azure_hint()), OK])
        for name, headers in [("retry-after 3", [("retry-after", "3")]),
                              ("retry-after 45", [("retry-after", "45")]),
                              ("the reference 429 (retry-after 2, retry-after-ms 2000)",
                               [("retry-after", "2"), ("retry-after-ms", "2000")])]:
            runs.play(name, [answer(429, *headers), OK])
        runs.play("503 with retry-after 5", [answer(503, ("retry-after", "5")), OK])
    runs.close(observe)


@check(
    "retries.retry-after-limits",
    doc=f"{PYTHON_RETRIES} (429 Rate Limit, >=500 Internal Errors are retried twice); "
    f"{JS_RETRIES}",
    claim="Hints the SDK does not use (zero, negative, junk, a past date) fall back to the "
    "backoff (or retry at once, where the release says) and are still retried; a hint beyond "
    "the release's limit is handled as its policy says: refused (openai-python >= 2.52.0 and "
    "openai-go >= 3.67.0 over 120 s: the error at once), clamped (openai-java >= 4.71.0: 8 s), "
    "replaced by the backoff (openai-node >= 7.5.0 over 60 s) or waited in full (openai-node "
    "6.x).",
    cassette=None,
    refs=(SDK_RETRIES, "sdk-behavior §8 #3, §9.1", "wire §3.3 (quota 429s say 86400 s)"),
    sdks=ALL_SDKS,
)
def retry_after_limits(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    fallbacks: list[tuple[str, tuple[str, str]]] = [
        ("retry-after 0", ("retry-after", "0")),
        ("retry-after -5", ("retry-after", "-5")),
        ("retry-after junk", ("retry-after", "later")),
        ("retry-after a past HTTP-date", ("retry-after", _http_date(-3600))),
        ("retry-after-ms nan", ("retry-after-ms", "nan")),
    ]
    virtual = [runs.play(name, [answer(429, header), OK]) for name, header in fallbacks][-1]\
        .virtual
    rule = runs.policy.actual.retry_after
    cap = rule.maximum if rule is not None else None
    long: list[tuple[str, Step]] = [
        ("retry-after 300", answer(429, ("retry-after", "300"))),
        ("retry-after-ms 150000", answer(429, ("retry-after-ms", "150000"))),
        ("retry-after 86400 (exhausted quota)", answer(429, ("retry-after", "86400"))),
        ("503 with retry-after 300", answer(503, ("retry-after", "300"))),
        ("retry-after 300 with x-should-retry: true",
         answer(429, ("retry-after", "300"), ("x-should-retry", "true"))),
        ("retry-after 1e400 (overflows a float)", answer(429, ("retry-after", "1e400"))),
        ("retry-after an HTTP-date an hour ahead",
         answer(429, ("retry-after", _http_date(3600)))),
    ]
    clamp = cap is not None and rule is not None and rule.above == "clamp"
    if virtual:
        for name, step in long:
            runs.play(name, [step, OK])
    elif clamp:
        # Waited out to the clamp (an SDK that clamps and has no virtual clock: openai-java
        # before its public sleeper, 8 s): a build whose cap is gone would still be waiting,
        # one that refuses or falls back would not.
        assert cap is not None
        runs.play(long[0][0], [long[0][1], OK], deadline_s=cap + 2.0)
    else:  # still waiting at the deadline (openai-node 6.x), or refused at once (openai-go)
        runs.play(long[0][0], [long[0][1], OK], deadline_s=WAIT_DEADLINE_S)
    if cap is not None and cap != float("inf"):
        # One second past the release's cap: refused or replaced where the release does
        # (clamped: shown above at the wire, so only the virtual clock plays it again).
        hint = observe("past_cap_hint_s", int(cap) + 1)
        if virtual or not clamp:
            runs.play(f"retry-after {hint} (one second past the cap)",
                      [answer(429, ("retry-after", str(hint))), OK],
                      deadline_s=WAIT_DEADLINE_S)
    else:
        observe("past_cap_hint_s", None)  # no cap: the long hints are waited in full
    runs.close(observe)


@check(
    "retries.x-should-retry",
    doc=f"{PYTHON_RETRIES} (the retried statuses); {JS_RETRIES}",
    claim="The server's x-should-retry header is handled as the release's policy says: 'true' "
    "retries any status, 'false' stops the retry of any status, other spellings are ignored (a "
    "declared deviation: the doc's list is fixed).",
    cassette=None,
    refs=(SDK_RETRIES, "wire §3.3"),
    sdks=ALL_SDKS,
)
def x_should_retry(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    for name, step in (
        ("400 with x-should-retry: true", fast(400, ("x-should-retry", "true"))),
        ("404 with x-should-retry: true", fast(404, ("x-should-retry", "true"))),
        ("503 with x-should-retry: false", fast(503, ("x-should-retry", "false"))),
        ("429 with x-should-retry: false", fast(429, ("x-should-retry", "false"))),
        ("400 with x-should-retry: True", fast(400, ("x-should-retry", "True"))),
        ("503 with x-should-retry: FALSE", fast(503, ("x-should-retry", "FALSE"))),
    ):
        runs.play(name, [step, OK])
    runs.close(observe)


@check(
    "retries.retry-count-header",
    doc=f"{PYTHON_RETRIES}; {JS_RETRIES}",
    claim="Every attempt carries x-stainless-retry-count: '0' on the first, then '1', '2', ... "
    "(openai-python 1.47.x: the retries only); each retry resends the same request.",
    cassette=None,
    refs=("sdk-behavior §2.2, §3, §4, §5, §7", "wire §3.1"),
    sdks=ALL_SDKS,
)
def retry_count_header(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    played = [
        runs.play("persistent 503", [fast(503)]),
        runs.play("reset, 429, then success", [CONNECTION, fast(429), OK],
                  Options(max_retries=4)),
        runs.play("max retries 5, persistent 500", [fast(500)], Options(max_retries=5)),
    ]
    # The header is this release's own policy (python.retry-count-header; each profile's).
    sends_count = runs.policy.actual.retry_count_header is not None
    for run in played:
        wanted = runs.policy.actual.retry_counts(len(run.requests))
        if sends_count and run.retry_counts != wanted:
            runs.problem(f"{run.name}: x-stainless-retry-count went {run.retry_counts}, "
                         f"expected {wanted}")
        first = run.requests[0]
        for again in run.requests[1:]:
            if (again.method, again.target, again.body) != (first.method, first.target,
                                                            first.body):
                runs.problem(f"{run.name}: retry {again.header('x-stainless-retry-count')} "
                             f"sent {again.describe()} with another body than the first")
    runs.close(observe)
    if not sends_count and driver.sdk == "python":
        unsupported(f"x-stainless-retry-count needs "
                    f"{python_sdk.since('retry_count_header')}; installed "
                    f"{python_sdk.installed().version}")


TOKENS = ("entra-token-1", "entra-token-2", "entra-token-3")


@check(
    "retries.token-per-attempt",
    doc="Python / Authentication (get_bearer_token_provider); JavaScript / Authentication "
    "(getBearerTokenProvider); Go / Authentication (azure.WithTokenCredential); Java / "
    "Authentication (BearerTokenCredential); Python / Retries",
    claim="The doc's token provider is asked for a token before every attempt, retries after "
    "connection errors and error statuses included, and each attempt carries a token it "
    "issued; a release that reuses the first attempt's token says so in its policy "
    "(doc_vs_sdk).",
    cassette=None,
    refs=("sdk-behavior §2.7, §3, §4, §5, §8 #10, #11",),
    sdks=ALL_SDKS,
)
def token_per_attempt(wire: Wire, driver: Driver, observe: Observations) -> None:
    runs = RetryRuns(wire, driver)
    # Tokens that expire in 60 s: inside every caching provider's refresh window, so a
    # provider asked per attempt fetches a fresh one.
    run = runs.play("reset, 503, then success", [CONNECTION, fast(503), OK],
                    auth=token_auth(*TOKENS, expires_in_s=60))
    if run.requests:
        _reject_stringified_provider(run.requests[0], observe, driver.sdk)
    sent = [r.header("authorization") for r in run.requests]
    labels = observe("token_per_attempt", [
        f"token#{TOKENS.index(v[7:]) + 1}" if v and v.startswith("Bearer ")
        and v[7:] in TOKENS else "other" for v in sent])
    observe("tokens_issued", len(run.outcome.token_calls))
    policy = runs.policy.actual
    provider_calls = observe("provider_calls", run.outcome.provider_call_count)
    if "other" in labels:
        runs.problem(f"an attempt carried an Authorization the credential did not issue: "
                     f"{labels}")
    attempts = len(labels)
    expected = (attempts if policy.token_provider_called == "attempt" else 1) \
        * policy.token_provider_calls
    if provider_calls != expected:
        runs.problem(f"the token provider was called {provider_calls} time(s) for one request "
                     f"of {attempts} attempt(s); the release calls it once per "
                     f"{policy.token_provider_called} ({runs.profile.policy_source})")
    # Asked before each attempt is the claim; a caching provider may still hand back a
    # still-valid token (reuse, not a provider skipped): recorded, as a release that asks once
    # per request is.
    if attempts > 1 and len(set(labels)) < attempts:
        asked = ("the provider is asked once per request: retries resend its token"
                 if policy.token_provider_called == "request"
                 else "a still-valid token is reused for a retry")
        runs.note(doc_vs_sdk(driver.sdk, "token per attempt", DOC_TOKEN_CLAIM,
                             f"{asked} ({labels})", runs.profile.policy_source))
    runs.close(observe)
