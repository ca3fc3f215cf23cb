"""The retry and error policy of each SDK, as data, and a model that predicts what it does.

Three layers, each cited, make up a policy:

1. **Documented**: what the seed doc's *Error handling* and *Retries* sections say, per SDK
   (Python, JavaScript and .NET give different numbers).
2. **Refinements**: numbers the doc leaves open ("a brief exponential backoff") and the
   reference pins down (``sdk-behavior.md``). A check holds the SDK to them as to the doc.
3. **Deviations**: where the SDK does something other than the doc says. Each is declared
   here with its source and a verdict: ``tolerated`` (the check passes and records the
   deviation as a named observation) or ``fail``.

``baseline = documented + refinements`` and ``actual = baseline + deviations``. An SDK passes a
scenario when what it did matches the actual model (the deviations that shaped that prediction
are reported by id) or the baseline (it follows the doc where a deviation was declared). What
matches neither fails. Version-dependent deviations name a capability of ``conformance.sdk``
(``CAPABILITIES``); the caller passes ``has(capability)`` so this module knows no version
numbers.

:func:`predict` takes a script (what the server does on each attempt; the last step repeats)
and client options, and returns the number of attempts, the bounds of each retry delay and the
final outcome (``success`` or an exception class).
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Literal

Has = Callable[[str], bool]
DeviationVerdict = Literal["tolerated", "fail"]
FaultKind = Literal["connection", "timeout"]


def every_capability(capability: str) -> bool:
    return True


# -- what the server does, what the client asked for, what comes out ---------------------------


@dataclass(frozen=True)
class Answer:
    """An HTTP response to one attempt: a status and its headers (the body does not matter to
    the retry policy)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        from .wire.http import header  # the wire package loads vcrpy: not at import

        return header(self.headers, name)


@dataclass(frozen=True)
class Fault:
    """No response: the connection failed (reset, closed early) or the read timed out."""

    kind: FaultKind


Step = Answer | Fault
OK = Answer(200)


@dataclass(frozen=True)
class Options:
    """``OpenAI(max_retries=...)`` and ``client.with_options(max_retries=...)``; None: unset."""

    max_retries: int | None = None
    per_request: int | None = None


@dataclass(frozen=True)
class Outcome:
    """``success``, or an exception class: exactly that class, or (``exact=False``) any
    subclass of it, where the doc names only the base class."""

    name: str
    exact: bool = True

    def matches(self, classes: Sequence[str]) -> bool:
        """``classes``: the observed exception's class names, most derived first (its MRO)."""
        if not classes:
            return False
        return classes[0] == self.name if self.exact else self.name in classes

    def __str__(self) -> str:
        return self.name if self.exact else f"{self.name} (or a subclass)"


SUCCESS = Outcome("success")


@dataclass(frozen=True)
class Bound:
    """A retry delay in seconds, low <= delay <= high."""

    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low - 1e-9 <= value <= self.high + 1e-9

    def __str__(self) -> str:
        if self.high == math.inf:
            return f">= {self.low:g} s"
        if self.low == self.high:
            return f"{self.low:g} s"
        return f"[{self.low:.4g}, {self.high:.4g}] s"


ANY_DELAY = Bound(0.0, math.inf)
# How far a retry delay timed at the wire (arrival times: drivers have no virtual clock) may
# lie before and after a server's hint and still be "waited for the hint": the cross-SDK
# checks judge by it, and the diff normaliser compares such delays by it.
WIRE_HINT_SLACK_S = (0.02, 0.25)


def wire_hint_window(hint: float) -> Bound:
    """The delays timed at the wire that count as waiting for ``hint`` seconds."""
    early, late = WIRE_HINT_SLACK_S
    return Bound(hint - early, hint + late)


@dataclass(frozen=True)
class Observed:
    """What the SDK did: attempts on the wire, delays from the virtual clock, and the class
    names of the exception it raised (most derived first), or ``("success",)``."""

    attempts: int
    delays: tuple[float, ...]
    outcome: tuple[str, ...]


@dataclass(frozen=True)
class Prediction:
    attempts: int
    delays: tuple[Bound, ...]
    outcome: Outcome

    def mismatches(self, observed: Observed,
                   slack: tuple[float, float] = (0.0, 0.0)) -> list[str]:
        """How ``observed`` differs; ``slack`` (early, late) widens every delay bound, for
        delays timed at the wire rather than by the virtual clock."""
        found: list[str] = []
        if observed.attempts != self.attempts:
            found.append(f"{observed.attempts} attempt(s), expected {self.attempts}")
        if not self.outcome.matches(observed.outcome):
            got = observed.outcome[0] if observed.outcome else "nothing"
            found.append(f"outcome {got}, expected {self.outcome}")
        if len(observed.delays) != len(self.delays):
            found.append(f"{len(observed.delays)} retry delay(s), expected {len(self.delays)}")
        for n, (delay, bound) in enumerate(zip(observed.delays, self.delays, strict=False)):
            if not Bound(bound.low - slack[0], bound.high + slack[1]).contains(delay):
                found.append(f"delay before retry {n + 1} was {delay:.4g} s, expected {bound}")
        return found

    def describe(self) -> str:
        delays = ", ".join(map(str, self.delays)) or "none"
        return f"{self.attempts} attempt(s), delays {delays}, outcome {self.outcome}"

    def loose(self) -> Prediction:
        """The same prediction with any delay allowed: what the doc's "a brief exponential
        backoff" pins down (how often, and how it ends; not how long)."""
        return replace(self, delays=tuple(ANY_DELAY for _ in self.delays))


class Ambiguous(ValueError):
    """An HTTP-date Retry-After too close to a threshold to predict: the SDK reads the clock a
    moment after the model does."""


# -- the policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """``min(initial * factor**n, cap) * (1 - jitter * U)`` before retry n+1 (n from 0)."""

    initial: float
    factor: float = 2.0
    cap: float | None = None
    jitter: float = 0.0

    def bound(self, n: int) -> Bound:
        base = self.initial * self.factor ** min(n, 1000)
        if self.cap is not None:
            base = min(base, self.cap)
        return Bound(base * (1 - self.jitter), base)


@dataclass(frozen=True)
class RetryAfter:
    """How a server's wait hint is read and used.

    ``retry-after-ms`` (float milliseconds), then ``retry-after`` as float seconds, then as an
    HTTP-date. A hint inside the window replaces the backoff (``combine="replace"``) or is used
    only when longer than it (``"max"``); a longer finite hint falls back to the backoff or
    stops the retries (``above``); anything else (zero or negative where the window excludes
    it, NaN, infinities, garbage, a past date) falls back to the backoff.

    Older releases read less: no ``retry-after-ms`` (``ms_header=False``), and ``retry-after``
    only as an integer (``integer_seconds``: ``"0.25"`` is garbage) or an HTTP-date whose
    distance is truncated to whole seconds (a wider ``date_slack``).

    Some releases clamp instead: ``above="clamp"`` waits ``maximum`` for any longer finite
    hint; ``negative="zero"`` retries at once for a negative hint or a past date.
    """

    maximum: float
    low_inclusive: bool = False
    above: Literal["backoff", "no-retry", "clamp"] = "backoff"
    overflow_is_too_long: bool = False
    combine: Literal["replace", "max"] = "replace"
    date_slack: float = 1.0  # seconds the SDK may read the clock after the model
    ms_header: bool = True  # retry-after-ms is read (first)
    integer_seconds: bool = False  # retry-after seconds must be an integer
    negative: Literal["backoff", "zero"] = "backoff"  # a negative hint or a past date
    past_date: Literal["backoff", "zero"] | None = None  # a past date (None: as ``negative``)
    junk: Literal["backoff", "zero"] = "backoff"  # a retry-after neither number nor date


@dataclass(frozen=True)
class RetryPolicy:
    sdk: str
    default_max_retries: int
    retry_statuses: frozenset[int]
    retry_from: int | None  # every status >= this is retried
    retry_connection_errors: bool
    retry_timeouts: bool
    x_should_retry: bool  # the server's x-should-retry: true|false is obeyed
    retry_after: RetryAfter | None  # None: hints are not used
    backoff: Backoff | None  # None: the doc gives no numbers
    classes: Mapping[int, str]
    class_from: tuple[int, str] | None  # (500, "InternalServerError"): every status >= 500
    other_status: Outcome  # any other error status
    connection_error: Outcome
    timeout_error: Outcome
    retry_count_header: str | None = None  # sent on each attempt as "0", "1", ...; None: not
    retry_count_on_first: bool = True  # False: only retries carry it ("1", "2", ...)
    # How often the documented Entra path calls the token provider the caller gave it:
    # before every attempt (retries included), or once per request (retries reuse it).
    token_provider_called: Literal["attempt", "request"] = "attempt"
    # How many times it is called each of those times (an SDK may ask twice).
    token_provider_calls: int = 1
    per_request_max_retries: bool = True  # a per-call max retries option exists

    def retry_counts(self, attempts: int) -> list[str | None]:
        """The retry-count header's value on each of ``attempts`` attempts (None: absent)."""
        if self.retry_count_header is None:
            return [None] * attempts
        return [None if n == 0 and not self.retry_count_on_first else str(n)
                for n in range(attempts)]

    def retries_status(self, status: int) -> bool:
        return status in self.retry_statuses or (
            self.retry_from is not None and status >= self.retry_from
        )

    def status_outcome(self, status: int) -> Outcome:
        if status in self.classes:
            return Outcome(self.classes[status])
        if self.class_from is not None and status >= self.class_from[0]:
            return Outcome(self.class_from[1])
        return self.other_status


# -- the model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hint:
    seconds: float
    from_date: bool = False
    junk: bool = False  # unreadable, but used (a release that sleeps NaN: at once)


_INFINITY_LITERALS = frozenset({"inf", "+inf", "infinity", "+infinity"})


def retry_after_hint(rule: RetryAfter, answer: Answer, now: float) -> _Hint | None:
    """The server's wait hint in seconds, as the reference describes the parsing (sdk-behavior
    §2.1): ``retry-after-ms`` first, then ``retry-after`` as a number, then as an HTTP-date."""
    headers = (("retry-after-ms", 1000.0), ("retry-after", 1.0))
    for name, divisor in headers if rule.ms_header else headers[1:]:
        value = answer.header(name)
        if value is None:
            continue
        try:
            seconds = float(int(value)) if rule.integer_seconds else float(value)
        except ValueError:
            continue
        if (rule.overflow_is_too_long and seconds == math.inf
                and value.strip().lower() not in _INFINITY_LITERALS):
            return _Hint(rule.maximum + 1)  # a numeric overflow is an excessive delay
        return _Hint(seconds / divisor)
    value = answer.header("retry-after")
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return _Hint(math.nan, junk=True) if rule.junk == "zero" and value else None
        date = email.utils.mktime_tz(parsed)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return _Hint(float(date - now), from_date=True)


def _in_window(rule: RetryAfter, seconds: float) -> bool:
    low_ok = seconds >= 0 if rule.low_inclusive else seconds > 0
    return math.isfinite(seconds) and low_ok and seconds <= rule.maximum


def _too_long(rule: RetryAfter, seconds: float) -> bool:
    return math.isfinite(seconds) and seconds > rule.maximum


def _check_ambiguity(rule: RetryAfter, hint: _Hint) -> None:
    if not hint.from_date:
        return
    for threshold in (0.0, rule.maximum):
        if threshold <= hint.seconds <= threshold + rule.date_slack:
            raise Ambiguous(f"an HTTP-date {hint.seconds:.3f} s away is within "
                            f"{rule.date_slack} s of the {threshold:g} s threshold")


def predict(
    policy: RetryPolicy,
    script: Sequence[Step],
    options: Options = Options(),  # frozen: never mutated
    *,
    now: float | None = None,
) -> Prediction:
    """What an SDK following ``policy`` does when the server plays ``script`` (one step per
    attempt, the last step repeating). ``now`` is the clock HTTP-dates are read against."""
    if not script:
        raise ValueError("a script needs at least one step")
    clock = time.time() if now is None else now
    max_retries = next(
        (m for m in (options.per_request, options.max_retries) if m is not None),
        policy.default_max_retries,
    )
    delays: list[Bound] = []
    attempt = 0
    while True:
        step = script[min(attempt, len(script) - 1)]
        outcome, retry, hint = _step(policy, step, clock)
        if outcome == SUCCESS or not retry or attempt >= max_retries:
            return Prediction(attempt + 1, tuple(delays), outcome)
        delays.append(_delay(policy, attempt, hint))
        attempt += 1


def _step(policy: RetryPolicy, step: Step, now: float) -> tuple[Outcome, bool, _Hint | None]:
    if isinstance(step, Fault):
        if step.kind == "timeout":
            return policy.timeout_error, policy.retry_timeouts, None
        return policy.connection_error, policy.retry_connection_errors, None
    if step.status < 400:
        return SUCCESS, False, None
    rule = policy.retry_after
    hint = retry_after_hint(rule, step, now) if rule is not None else None
    if rule is not None and hint is not None:
        _check_ambiguity(rule, hint)
    should = step.header("x-should-retry") if policy.x_should_retry else None
    if rule is not None and hint is not None and rule.above == "no-retry" and _too_long(
        rule, hint.seconds
    ):
        retry = False
    elif should in ("true", "false"):
        retry = should == "true"
    else:
        retry = policy.retries_status(step.status)
    return policy.status_outcome(step.status), retry, hint


def _delay(policy: RetryPolicy, n: int, hint: _Hint | None) -> Bound:
    backoff = policy.backoff.bound(n) if policy.backoff is not None else ANY_DELAY
    rule = policy.retry_after
    if rule is not None and hint is not None:
        if rule.above == "clamp" and _too_long(rule, hint.seconds):
            return Bound(rule.maximum, rule.maximum)
        past = rule.past_date if hint.from_date and rule.past_date else rule.negative
        if past == "zero" and math.isfinite(hint.seconds) and hint.seconds < 0:
            return Bound(0.0, 0.0)
        if hint.junk:
            return Bound(0.0, 0.0)
    if rule is None or hint is None or not _in_window(rule, hint.seconds):
        return backoff
    low = hint.seconds - (rule.date_slack if hint.from_date else 0.0)
    used = Bound(max(low, 0.0), hint.seconds)
    if rule.combine == "max":
        return Bound(max(backoff.low, used.low), max(backoff.high, used.high))
    return used


# -- declared policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """Where an SDK does something other than (or more than) its doc section says.

    ``kind`` is ``differs`` (the doc says otherwise or leaves it out) or ``refines`` (the doc
    is vague and the reference gives the numbers; refinements are part of the baseline: they
    are what the release itself promises, so a release is held to them).
    ``capability`` and ``until`` gate it by SDK version (names in
    ``conformance.sdk.CAPABILITIES``): it applies from the release that has ``capability`` up
    to, not including, the release that has ``until``; so one claim can be declared per release
    range.
    ``apply`` changes a policy accordingly (None: the check observes it directly, the retry
    model is not concerned)."""

    id: str
    sdk: str
    doc: str
    actual: str
    source: str
    kind: Literal["differs", "refines"] = "differs"
    verdict: DeviationVerdict = "tolerated"
    capability: str | None = None
    apply: Callable[[RetryPolicy, Has], RetryPolicy] | None = field(
        default=None, compare=False, repr=False
    )
    until: str | None = None

    def applies(self, has: Has) -> bool:
        return ((self.capability is None or has(self.capability))
                and (self.until is None or not has(self.until)))

    def as_observation(self) -> dict[str, str]:
        return {"id": self.id, "doc": self.doc, "sdk": self.actual, "source": self.source,
                "verdict": self.verdict}


# What the seed doc says, SDK by SDK (the numbers differ: 2 retries for Python and JavaScript,
# "up to three more times" for .NET; the status lists and error tables differ too). The Go and
# Java sections say nothing about retries or error classes: those SDKs are judged by their own
# policy alone (their profile's ``own``, conformance/sdks/).
# The JavaScript and .NET sections print the same error table (seed: Error handling).
_DOC_ERROR_TABLE = {400: "Bad Request Error", 401: "Authentication Error",
                    403: "Permission Denied Error", 404: "Not Found Error",
                    422: "Unprocessable Entity Error", 429: "Rate Limit Error",
                    500: "Internal Server Error", 503: "Service Unavailable",
                    504: "Gateway Timeout"}

DOCUMENTED: dict[str, RetryPolicy] = {
    "python": RetryPolicy(
        sdk="python",
        default_max_retries=2,  # "retried twice by default"
        retry_statuses=frozenset({408, 429}),  # "Connection Errors, 408, 429, >=500"
        retry_from=500,
        retry_connection_errors=True,
        retry_timeouts=False,  # not listed (sdk-behavior §8 #3)
        x_should_retry=False,
        retry_after=None,
        backoff=None,  # "a brief exponential backoff"
        classes={400: "BadRequestError", 401: "AuthenticationError",
                 403: "PermissionDeniedError", 404: "NotFoundError",
                 422: "UnprocessableEntityError", 429: "RateLimitError"},
        class_from=(500, "InternalServerError"),  # ">=500 | InternalServerError"
        # The fine-tuning example's last branch: "Another non-200-range status code".
        other_status=Outcome("APIStatusError", exact=False),
        connection_error=Outcome("APIConnectionError"),  # "N/A | APIConnectionError"
        timeout_error=Outcome("APIConnectionError"),
    ),
    "javascript": RetryPolicy(
        sdk="javascript",
        default_max_retries=2,  # "maxRetries: 0, // default is 2"
        retry_statuses=frozenset({408, 429}),
        retry_from=500,
        retry_connection_errors=True,
        retry_timeouts=False,
        x_should_retry=False,
        retry_after=None,
        backoff=None,
        classes=_DOC_ERROR_TABLE,
        class_from=None,
        other_status=Outcome("APIError", exact=False),
        connection_error=Outcome("APIConnectionError"),
        timeout_error=Outcome("APIConnectionError"),
    ),
    "dotnet": RetryPolicy(
        sdk="dotnet",
        default_max_retries=3,  # "up to three more times using exponential backoff"
        retry_statuses=frozenset({408, 429, 500, 502, 503, 504}),
        retry_from=None,
        retry_connection_errors=False,  # not listed
        retry_timeouts=False,
        x_should_retry=False,
        retry_after=None,
        backoff=None,
        classes=_DOC_ERROR_TABLE,
        class_from=None,
        other_status=Outcome("ClientResultException", exact=False),
        connection_error=Outcome("ClientResultException", exact=False),
        timeout_error=Outcome("ClientResultException", exact=False),
    ),
}


def _python_retry_after(policy: RetryPolicy, has: Has) -> RetryPolicy:
    window = 120.0 if has("retry_after_refusal") else 60.0
    return replace(policy, retry_after=RetryAfter(maximum=window))


# Before openai 1.9.0 only retry-after was read, with a 60 s window, and an HTTP-date's distance
# was truncated to whole seconds (so the SDK may see up to a second less than the model).
_RETRY_AFTER_NO_MS = RetryAfter(maximum=60.0, ms_header=False, date_slack=2.0)


def _python_refusal(policy: RetryPolicy, has: Has) -> RetryPolicy:
    rule = policy.retry_after or RetryAfter(maximum=120.0)
    return replace(policy, retry_after=replace(rule, above="no-retry"))


def _python_overflow(policy: RetryPolicy, has: Has) -> RetryPolicy:
    rule = policy.retry_after or RetryAfter(maximum=120.0)
    return replace(policy, retry_after=replace(rule, overflow_is_too_long=True))


def _add_status(status: int) -> Callable[[RetryPolicy, Has], RetryPolicy]:
    def apply(policy: RetryPolicy, has: Has) -> RetryPolicy:
        return replace(policy, retry_statuses=policy.retry_statuses | {status})

    return apply


def _class(status: int, name: str) -> Callable[[RetryPolicy, Has], RetryPolicy]:
    def apply(policy: RetryPolicy, has: Has) -> RetryPolicy:
        return replace(policy, classes={**policy.classes, status: name})

    return apply


def _set(**changes: object) -> Callable[[RetryPolicy, Has], RetryPolicy]:
    def apply(policy: RetryPolicy, has: Has) -> RetryPolicy:
        return replace(policy, **changes)  # type: ignore[arg-type]  # fields checked by replace

    return apply


# Public names for the SDK profiles (conformance/sdks/) that declare their own deviations.
def changes(**fields: object) -> Callable[[RetryPolicy, Has], RetryPolicy]:
    """A deviation's ``apply`` that sets these fields of the policy."""
    return _set(**fields)


def retries_also(status: int) -> Callable[[RetryPolicy, Has], RetryPolicy]:
    """A deviation's ``apply`` that adds ``status`` to the retried statuses."""
    return _add_status(status)


def _no_status_classes(name: str) -> Callable[[RetryPolicy, Has], RetryPolicy]:
    def apply(policy: RetryPolicy, has: Has) -> RetryPolicy:
        return replace(policy, classes={}, class_from=(400, name))

    return apply


DEVIATIONS: tuple[Deviation, ...] = (
    # -- Python (openai-python) ---------------------------------------------------------------
    Deviation(
        "python.backoff", "python", "a brief exponential backoff (no numbers)",
        "min(0.5 s * 2**n, 8 s) * (1 - 0.25 * U): each delay in [0.75, 1] x its base",
        "sdk-behavior §2.1 (_calculate_retry_timeout); wire §3.3", kind="refines",
        capability="backoff_from_half_second",
        apply=_set(backoff=Backoff(0.5, cap=8.0, jitter=0.25)),
    ),
    Deviation(
        "python.backoff-one-ahead", "python", "a brief exponential backoff (no numbers)",
        "min(0.5 s * 2**(n + 1), 8 s) * (1 - 0.25 * U): the retry loop counts the retry it is "
        "about to make as taken, so the first retry waits 0.75-1 s, the next 1.5-2 s",
        "sdk-behavior §2.1 (_calculate_retry_timeout); released wheels up to 1.46.1: "
        "_retry_request passes remaining_retries - 1 (run against 1.0.0, 1.45.1, 1.46.0)",
        kind="refines", until="backoff_from_half_second",
        apply=_set(backoff=Backoff(1.0, cap=8.0, jitter=0.25)),
    ),
    Deviation(
        "python.retry-after", "python", "nothing about server wait hints",
        "retry-after-ms, then retry-after (seconds, then HTTP-date) replace the backoff when "
        "0 < hint <= 120 s (60 s before 2.52.0); other values fall back to the backoff",
        "sdk-behavior §2.1; wire §3.2, §3.3 (older releases capped at 60 s; released wheels "
        "2.51.0 and 2.52.0)", kind="refines", capability="retry_after_ms",
        apply=_python_retry_after,
    ),
    Deviation(
        "python.retry-after-seconds", "python", "nothing about server wait hints",
        "retry-after (float seconds, then HTTP-date) replaces the backoff when 0 < hint <= 60 "
        "s; retry-after-ms is not read",
        "sdk-behavior §2.1; released wheels 1.3.7-1.8.0 (_calculate_retry_timeout)",
        kind="refines", capability="retry_after_float", until="retry_after_ms",
        apply=_set(retry_after=_RETRY_AFTER_NO_MS),
    ),
    Deviation(
        "python.retry-after-integer", "python", "nothing about server wait hints",
        "retry-after (integer seconds, then HTTP-date) replaces the backoff when 0 < hint <= "
        "60 s; a fractional value such as 0.25 and retry-after-ms are not read",
        "sdk-behavior §2.1; released wheels 1.0.0-1.3.6 (_calculate_retry_timeout: "
        "int(retry_header))", kind="refines", until="retry_after_float",
        apply=_set(retry_after=replace(_RETRY_AFTER_NO_MS, integer_seconds=True)),
    ),
    Deviation(
        "python.retry-count-header", "python", "nothing about a retry counter",
        "every attempt carries x-stainless-retry-count: '0', '1', '2', ...",
        "sdk-behavior §2.2, §7; wire §3.1", kind="refines",
        capability="retry_count_header_first_attempt",
        apply=_set(retry_count_header="x-stainless-retry-count"),
    ),
    Deviation(
        "python.retry-count-header-on-retries", "python", "nothing about a retry counter",
        "retries carry x-stainless-retry-count: '1', '2', ...; the first attempt has none",
        "sdk-behavior §2.2; released wheel 1.47.x (_build_headers sets it when retries_taken > "
        "0; run against 1.47.0)", kind="refines", capability="retry_count_header",
        until="retry_count_header_first_attempt",
        apply=_set(retry_count_header="x-stainless-retry-count", retry_count_on_first=False),
    ),
    Deviation(
        "python.retry-after-too-long", "python", "429 and >=500 are retried twice",
        "a finite hint over 120 s stops the retries, whatever the status and even with "
        "x-should-retry: true; the error is raised after the first attempt",
        "sdk-behavior §2.1, §8 #3; wire §3.3", capability="retry_after_refusal",
        apply=_python_refusal,
    ),
    Deviation(
        "python.retry-after-overflow", "python", "429 and >=500 are retried twice",
        "a hint that overflows a float (1e400) counts as too long: no retry",
        "sdk-behavior §2.1 (>= 3.9.0)", capability="retry_after_overflow_refusal",
        apply=_python_overflow,
    ),
    Deviation(
        "python.409-retried", "python", "retried: connection errors, 408, 429, >=500",
        "409 is retried too", "sdk-behavior §1, §2.1, §8 #3; wire §3.3, §4.3",
        apply=_add_status(409),
    ),
    Deviation(
        "python.409-conflict-error", "python", "the error table has no row for 409",
        "409 raises ConflictError (a subclass of APIStatusError)",
        "sdk-behavior §2.5, §8 #7; wire §4.3", apply=_class(409, "ConflictError"),
    ),
    Deviation(
        "python.408-status-error", "python",
        "408 is retried, but the error table has no row for it",
        "408 raises APIStatusError itself (no dedicated class)",
        "sdk-behavior §2.5 (any other 4xx -> APIStatusError); wire §4.3",
        apply=_class(408, "APIStatusError"),
    ),
    Deviation(
        "python.timeouts-retried", "python", "retried: connection errors, 408, 429, >=500",
        "timeouts are retried too", "sdk-behavior §2.1, §8 #3",
        apply=_set(retry_timeouts=True),
    ),
    Deviation(
        "python.timeout-error", "python", "N/A -> APIConnectionError",
        "a timeout raises APITimeoutError, a subclass of APIConnectionError (so the doc's "
        "except clause still catches it)", "sdk-behavior §2.5, §8 #7",
        apply=_set(timeout_error=Outcome("APITimeoutError")),
    ),
    Deviation(
        "python.x-should-retry", "python", "the retried statuses are fixed",
        "x-should-retry: true retries any status, x-should-retry: false stops a retry of "
        "any status (exact lowercase values only)", "sdk-behavior §2.1; wire §3.3",
        apply=_set(x_should_retry=True),
    ),
    Deviation(
        "python.cause-httpx2", "python",
        "APIConnectionError.__cause__ is 'an underlying Exception, likely raised within httpx'",
        "in openai 3.x the cause is an httpx2 exception", "sdk-behavior §7, §8 #9",
        capability="httpx2",
    ),
    # -- .NET (OpenAI on System.ClientModel); modelled, not run here --------------------------
    Deviation(
        "dotnet.backoff", "dotnet", "exponential backoff (no numbers)",
        "0.8 s * 2**n, no jitter, no cap (System.ClientModel >= 1.9.0); a Retry-After is used "
        "only when longer than the computed delay", "sdk-behavior §6", kind="refines",
        apply=_set(backoff=Backoff(0.8),
                   retry_after=RetryAfter(maximum=math.inf, low_inclusive=True, combine="max")),
    ),
    Deviation(
        "dotnet.io-retried", "dotnet", "retried: 408, 429, 500, 502, 503, 504",
        "IOException and network-timeout cancellations are retried too",
        "sdk-behavior §6, §8 #1",
        apply=_set(retry_connection_errors=True, retry_timeouts=True),
    ),
    Deviation(
        "dotnet.single-exception", "dotnet",
        "an error type per status (Bad Request Error ... Gateway Timeout; 502 missing)",
        "one ClientResultException with .Status for every status",
        "sdk-behavior §6, §8 #2", apply=_no_status_classes("ClientResultException"),
    ),
)


@dataclass(frozen=True)
class ErrorAttribute:
    """An attribute the SDK's status errors carry, from the release that has ``capability``
    (a name in ``conformance.sdk.CAPABILITIES``; None: every release)."""

    name: str
    carries: str
    source: str
    capability: str | None = None


ERROR_ATTRIBUTES: dict[str, tuple[ErrorAttribute, ...]] = {
    "python": (
        ErrorAttribute("status_code", "the HTTP status", "seed doc, Python: Error handling "
                       "(print(e.status_code))"),
        ErrorAttribute("response", "the HTTP response", "seed doc, Python: Error handling "
                       "(print(e.response))"),
        ErrorAttribute("message", "a message with the body's message", "sdk-behavior §2.5"),
        *(ErrorAttribute(name, f"the error object's {name}", "sdk-behavior §2.5; released "
                         "wheels before 1.2.2 read it from the whole body, so a wrapped "
                         "error's is None (openai-python #759)", capability="error_fields")
          for name in ("code", "param", "type")),
        ErrorAttribute("body", "the error object (the whole body when it has no wrapper)",
                       "sdk-behavior §2.5; released wheels before 1.3.8 declare APIError.body "
                       "but never assign it (openai-python #949)", capability="error_body"),
        ErrorAttribute("request_id", "the x-request-id response header", "sdk-behavior §2.5, "
                       "§8 #8; APIStatusError.request_id first ships in the 1.19.0 wheel "
                       "(openai-python #1317)", capability="error_request_id"),
    ),
}


@dataclass(frozen=True)
class Policies:
    """One SDK's baseline (doc + refinements) and actual (+ deviations) policy, for one
    release: ``refinements`` are what that release promises beyond the doc (its numbers,
    its headers), ``deviations`` where it differs from the doc, ``attributes`` what its
    errors carry. ``documented`` is the doc alone, ``documented_actual`` the doc with the
    deviations: what "conforms to the doc" is judged against."""

    sdk: str
    baseline: RetryPolicy
    actual: RetryPolicy
    deviations: tuple[Deviation, ...]  # the applicable "differs" deviations, in order
    has: Has = field(compare=False, repr=False)
    refinements: tuple[Deviation, ...] = ()  # the applicable "refines" deviations, in order
    documented: RetryPolicy | None = None  # None: the doc's section for this SDK is silent
    documented_actual: RetryPolicy | None = None
    attributes: tuple[ErrorAttribute, ...] = ()  # every declared one, this release's or not
    start: RetryPolicy | None = None  # what the refinements apply to (the doc, or the SDK's own)

    def without(self, deviation: Deviation) -> RetryPolicy:
        return _build(self.baseline, [d for d in self.deviations if d != deviation], self.has)

    def without_refinement(self, refinement: Deviation) -> RetryPolicy:
        start = self.start or self.documented or DOCUMENTED[self.sdk]
        kept = [r for r in self.refinements if r != refinement]
        return _build(_build(start, kept, self.has), self.deviations, self.has)

    def deviation(self, id: str) -> Deviation:  # the deviation's own vocabulary
        return next(d for d in self.deviations if d.id == id)

    def attribute(self, name: str) -> ErrorAttribute:
        return next(a for a in self.attributes if a.name == name)

    def exposes(self, name: str) -> bool:
        """Whether this release's status errors carry attribute ``name``."""
        capability = self.attribute(name).capability
        return capability is None or self.has(capability)


def _build(start: RetryPolicy, deviations: Iterable[Deviation], has: Has) -> RetryPolicy:
    return reduce(lambda p, d: d.apply(p, has) if d.apply else p, deviations, start)


def policies(sdk: str, has: Has = every_capability, *,
             deviations: Iterable[Deviation] | None = None,
             own: RetryPolicy | None = None) -> Policies:
    """The policies of ``sdk`` for an SDK version that has the capabilities ``has`` says it has.

    ``deviations`` are that SDK's declared deviations (default: this module's
    :data:`DEVIATIONS`; a profile in ``conformance.sdks`` passes its own). The refinements
    apply to what the doc says for the SDK (:data:`DOCUMENTED`), or, where the doc's section is
    silent, to ``own``: the SDK's own policy before any release-ranged refinement."""
    declared = DEVIATIONS if deviations is None else tuple(deviations)
    mine = [d for d in declared if d.sdk == sdk and d.applies(has)]
    refines = tuple(d for d in mine if d.kind == "refines")
    documented = DOCUMENTED.get(sdk)
    start = documented or own
    if start is None:
        raise ValueError(f"the doc says nothing about {sdk!r}: pass the SDK's own policy")
    baseline = _build(start, refines, has)
    differs = tuple(d for d in mine if d.kind == "differs")
    return Policies(sdk, baseline, _build(baseline, differs, has), differs, has, refines,
                    documented, _build(documented, differs, has) if documented else None,
                    ERROR_ATTRIBUTES.get(sdk, ()), start)


@dataclass(frozen=True)
class Judgement:
    """How an observed run compares with the model: ``matched`` is ``sdk`` (the actual
    model), ``doc`` (the baseline: the SDK follows the doc where a deviation is declared) or
    None (neither: ``problems`` says how it differs from the actual model).

    Two questions are answered apart. ``conforms_to_doc``: did the run do what the doc says
    (allowing the declared deviations; the doc's "brief exponential backoff" gives no numbers,
    so delays are not judged here)? ``matched is not None``: did it do what this release
    itself promises (``Policies.refinements``)? When only the second fails, ``broken`` names
    the release's own declared behaviour that the run broke."""

    matched: Literal["sdk", "doc"] | None
    actual: Prediction
    baseline: Prediction
    deviations: tuple[Deviation, ...] = ()  # the declared deviations this scenario showed
    problems: tuple[str, ...] = ()
    conforms_to_doc: bool = True
    broken: tuple[Deviation, ...] = ()  # refinements of this release the run broke

    @property
    def failing(self) -> tuple[Deviation, ...]:
        return tuple(d for d in self.deviations if d.verdict == "fail")

    @property
    def matches_release(self) -> bool:
        return self.matched is not None


def judge(
    policy: Policies, script: Sequence[Step], options: Options, observed: Observed,
    *, now: float | None = None, slack: tuple[float, float] = (0.0, 0.0),
) -> Judgement:
    """Compare what the SDK did with both predictions, and name the deviations that explain
    the difference from the doc (a deviation shows when the prediction without it differs).
    ``slack``: how far delays timed at the wire may lie early and late (see
    :data:`WIRE_HINT_SLACK_S`); the virtual clock needs none."""
    clock = time.time() if now is None else now
    actual = predict(policy.actual, script, options, now=clock)
    baseline = predict(policy.baseline, script, options, now=clock)
    problems = actual.mismatches(observed, slack)
    if not problems:
        shown = tuple(
            d for d in policy.deviations
            if d.apply is not None
            and predict(policy.without(d), script, options, now=clock) != actual
        )
        return Judgement("sdk", actual, baseline, shown)
    if not baseline.mismatches(observed, slack):
        return Judgement("doc", actual, baseline)
    doc = _conforms_to_doc(policy, script, options, observed, clock)
    broken: tuple[Deviation, ...] = ()
    if doc:
        broken = tuple(
            r for r in policy.refinements
            if r.apply is not None
            and predict(policy.without_refinement(r), script, options, now=clock) != actual
        )
    return Judgement(None, actual, baseline, problems=tuple(problems), conforms_to_doc=doc,
                     broken=broken)


def _conforms_to_doc(policy: Policies, script: Sequence[Step], options: Options,
                     observed: Observed, now: float) -> bool:
    candidates = [p for p in (policy.documented, policy.documented_actual) if p is not None]
    if not candidates:  # the doc's section says nothing to conform to
        return True
    return any(not predict(p, script, options, now=now).loose().mismatches(observed)
               for p in candidates)



# -- what the checks run on every SDK say about the doc -----------------------
# Each SDK's own policy, per release, is its profile's (conformance/sdks/): ``policies`` above.

DOC_SCOPE = "https://cognitiveservices.azure.com/.default"
DOC_TOKEN_CLAIM = ("JavaScript / Authentication: the token provider obtains tokens for each "
                   "request")


def doc_vs_sdk(sdk: str, topic: str, doc: object, actual: object,
               source: str) -> dict[str, str]:
    """One departure of ``sdk`` from the doc on ``topic``, observed by a cross-SDK check, in
    the shape of :meth:`Deviation.as_observation` (a ``doc_vs_sdk`` item); ``source`` is
    where the SDK's own behaviour is documented."""
    return {"id": f"{sdk}-{topic.replace(' ', '-')}", "doc": str(doc), "sdk": str(actual),
            "source": source, "verdict": "tolerated"}


__all__ = [
    "DEVIATIONS",
    "DOCUMENTED",
    "DOC_SCOPE",
    "DOC_TOKEN_CLAIM",
    "ERROR_ATTRIBUTES",
    "OK",
    "SUCCESS",
    "Ambiguous",
    "Answer",
    "Backoff",
    "Bound",
    "Deviation",
    "ErrorAttribute",
    "Fault",
    "Judgement",
    "Observed",
    "Options",
    "Outcome",
    "Policies",
    "Prediction",
    "RetryAfter",
    "RetryPolicy",
    "Step",
    "changes",
    "doc_vs_sdk",
    "judge",
    "policies",
    "predict",
    "retries_also",
    "retry_after_hint",
]
