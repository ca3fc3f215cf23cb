"""Retry scenarios on every SDK: script the wire attempt by attempt, let the ``driver`` of the
SDK the item runs against make one call, judge what it did by the policy model
(:mod:`conformance.policy`) under the policy of the release it loaded (its profile in
``conformance.sdks``).

Python's delays come from the virtual clock (the python driver's ``virtual_delays_s``): it never
sleeps. JavaScript, Go and Java really sleep; their delays are the gaps between the attempts'
arrivals at the wire, judged within :data:`conformance.policy.WIRE_HINT_SLACK_S`. So the run
stays fast, a scenario whose predicted wait is long (an Azure-sized hint, a hint past a cap)
is given a ``deadline_s``: the driver abandons the call there, and the scenario is judged by
what the release does up to it (still waiting, with this many attempts made; or already
retried, or given up). That tells a release that waits a 300 s hint from one that refuses it
or falls back to the backoff without waiting 300 s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance import sdks
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import (
    WIRE_HINT_SLACK_S,
    Bound,
    Deviation,
    Fault,
    Judgement,
    Observed,
    Options,
    Outcome,
    Prediction,
    Step,
    judge,
    predict,
)
from conformance.registry import Observations, fail
from conformance.wire import Action, RecordedRequest, Script

from ._faults import action, allowance
from ._requests import CHAT_REQUEST
from ._scenario import arrival_gaps, scenario

# A short server hint for scenarios whose claim is not the wait itself (retried or not, how
# often): every SDK here uses it in place of its backoff (0 <= 10 ms <= each release's limit).
FAST = ("retry-after-ms", "10")
# A stalled reply times out after this long (timeout scenarios set the client's timeout):
# as errors.TIMEOUT_MS, long enough for the request to reach the stand-in on a busy machine
# (at 200 ms openai 1.97.1 and 1.61.0 timed out before it had, "0 attempts", in a gate).
TIMEOUT_MS = 1000
# What an attempt may cost at the wire besides the delays (the request, a TLS handshake).
ATTEMPT_MARGIN_S = 0.4
DEADLINE = Outcome("driver deadline")
# How much later than its backoff a retry after a reset may reach the wire (a new connection).
RECONNECT_S = 0.5


def fast(status: int, *headers: tuple[str, str]) -> Any:
    """An error answer carrying the short hint (``FAST``) besides ``headers``."""
    from ._faults import answer

    return answer(status, *headers, FAST)


def until_deadline(prediction: Prediction, deadline_s: float) -> Prediction:
    """What a release that does ``prediction`` has done when its call is abandoned after
    ``deadline_s``: the attempts started by then and the deadline as the outcome, or the whole
    prediction when it ends well before. A wait that may end on either side of the deadline
    is a badly chosen scenario (``ValueError``)."""
    low = high = 0.0
    for n, bound in enumerate(prediction.delays):
        low, high = low + bound.low, high + bound.high
        if low >= deadline_s:
            return Prediction(n + 1, prediction.delays[:n], DEADLINE)
        if high + ATTEMPT_MARGIN_S > deadline_s:
            raise ValueError(f"retry {n + 1} is due {low:g}-{high:g} s in: too close to the "
                             f"{deadline_s:g} s deadline to judge")
    return prediction


def _budget_s(prediction: Prediction) -> float:
    """A deadline the predicted run ends well within (the scenario's bound; a release that
    does as predicted never waits for it, and a JVM's first async call on a busy machine took
    8 s)."""
    waits = sum(min(b.high, 60.0) for b in prediction.delays)
    return waits + ATTEMPT_MARGIN_S * (prediction.attempts + 1) + 15.0


@dataclass(frozen=True)
class _Observed:
    """A departure a check observed itself, shown like a declared :class:`Deviation`."""

    observation: dict[str, str]

    @property
    def verdict(self) -> str:
        return self.observation.get("verdict", "tolerated")

    def as_observation(self) -> dict[str, str]:
        return dict(self.observation)


@dataclass
class Played:
    """One scenario: what went over the wire and what the SDK gave its caller."""

    name: str
    outcome: DriverOutcome
    requests: list[RecordedRequest]
    observed: Observed
    virtual: bool  # delays from the virtual clock (python), else timed at the wire

    @property
    def retry_counts(self) -> list[str | None]:
        return [r.header("x-stainless-retry-count") for r in self.requests]


@dataclass
class RetryRuns:
    """Plays scenario after scenario through ``driver``; :meth:`close` records and decides.

    A scenario breaks the doc's claim (``problems``: how often, which failures, how it ends;
    judged only where the SDK's doc section says anything) or only what the release itself
    declares (``release_problems``: its backoff numbers, its Retry-After limits, its retry
    counter). Either fails the check, naming the release's policy source."""

    wire: Wire
    driver: Driver
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    release_problems: list[str] = field(default_factory=list)
    shown: dict[str, Deviation | _Observed] = field(default_factory=dict)
    followed_doc: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.profile = sdks.get(self.driver.sdk)
        self.policy = self.profile.policies(self.driver.version)

    def play(
        self,
        name: str,
        steps: Sequence[Step],
        options: Options = Options(),  # noqa: B008  # frozen
        *,
        deadline_s: float | None = None,
        params: Mapping[str, Any] = CHAT_REQUEST,
        auth: Mapping[str, Any] | None = None,
        wire_actions: Sequence[Action] | None = None,
        client: Mapping[str, Any] | None = None,
    ) -> Played:
        """Serve ``steps`` (the last repeating), make one call with ``options`` (client max
        retries, per-request max retries) and judge it. ``deadline_s``: abandon the call
        there (wall-timed SDKs; a long predicted wait is judged up to it). ``client``: more
        client options of the scenario (``{"async": True}``)."""
        timeout_ms = TIMEOUT_MS if any(isinstance(s, Fault) and s.kind == "timeout"
                                       for s in steps) else None
        started = time.time()  # HTTP-date hints are judged against the clock at the call
        full = predict(self.policy.actual, steps, options, now=started)
        bound = deadline_s if deadline_s is not None else _budget_s(full)
        self.wire.use(Script(list(wire_actions) if wire_actions is not None
                             else [action(s) for s in steps]))
        sent = scenario(self.wire, "chat.completions.create", params, auth=auth,
                        max_retries=options.max_retries, timeout_ms=timeout_ms,
                        request_max_retries=options.per_request,
                        deadline_ms=int(bound * 1000))
        if client:
            sent["client"].update(client)
        outcome = self.driver.run(sent)
        requests = list(self.wire.requests)
        virtual = outcome.virtual_delays_s is not None
        error = outcome.error
        if error is None:
            classes: tuple[str, ...] = ("success",)
        elif error.message == "driver deadline" and error.kind == "other":
            classes = (DEADLINE.name,)
        else:
            classes = error.classes
        delays = (outcome.virtual_delays_s if outcome.virtual_delays_s is not None
                  else tuple(arrival_gaps(self.wire)))
        observed = Observed(len(requests), delays, classes)
        played = Played(name, outcome, requests, observed, virtual)
        self._judge(played, steps, options, None if virtual else deadline_s, started)
        return played

    def _judge(self, played: Played, steps: Sequence[Step], options: Options,
               deadline_s: float | None, now: float) -> None:
        slack = (0.0, 0.0) if played.virtual else WIRE_HINT_SLACK_S
        faults = {s.kind for s in steps if isinstance(s, Fault)}
        if not played.virtual and "timeout" in faults:
            # A gap at the wire after a timeout holds the wait for the reply too: such a
            # scenario judges whether the SDK retried, not how long it waited.
            slack = (slack[0], slack[1] + TIMEOUT_MS / 1000 + 2.0)
        elif not played.virtual and faults:
            # After a reset the SDK connects anew (a TLS handshake through the Azure host):
            # later, never earlier, than its backoff.
            slack = (slack[0], slack[1] + RECONNECT_S)
        if deadline_s is None:
            verdict = judge(self.policy, steps, options, played.observed, now=now, slack=slack)
        else:
            verdict = self._judge_until(steps, options, played.observed, deadline_s, now)
        model = verdict.baseline if verdict.matched == "doc" else verdict.actual
        # What the model allows for each delay, in words that do not move with the clock or
        # the machine's load: the diff normaliser compares delays by these
        # (results.normalise).
        declared = self.policy.baseline if verdict.matched == "doc" else self.policy.actual
        allowed = ([allowance(declared, n, b) for n, b in enumerate(model.delays)]
                   if played.virtual else
                   [f"at the wire {Bound(max(b.low - slack[0], 0.0), b.high + slack[1])}"
                    for b in model.delays])
        row: dict[str, Any] = {
            "scenario": played.name,
            "attempts": played.observed.attempts,
            "retry_counts": played.retry_counts,
            "delays_s": [round(d, 3) for d in played.observed.delays],
            "allowed_delays": allowed,
            "timed_by": "virtual clock" if played.virtual else "wire arrival times",
            "outcome": played.observed.outcome[0],
            "predicted": model.describe(),
            "matched": verdict.matched or "neither",
        }
        if deadline_s is not None:
            row["deadline_s"] = deadline_s
        if played.outcome.error:
            error = played.outcome.error
            row["error"] = {"kind": error.kind, "class": error.class_name,
                            "status": error.status}
        if verdict.deviations:
            row["deviations"] = [d.id for d in verdict.deviations]
        self.rows.append(row)
        for deviation in verdict.deviations:
            self.shown.setdefault(deviation.id, deviation)
        if verdict.matched == "doc":
            self.followed_doc.append(played.name)
        elif verdict.matched is None:
            line = (f"{played.name}: " + "; ".join(verdict.problems)
                    + f" (expected {verdict.actual.describe()})")
            raised = played.outcome.error
            if played.observed.attempts == 0 and raised:  # it failed before sending anything
                line += f"; it raised {raised.class_name}: {raised.message}"
            (self.release_problems if verdict.conforms_to_doc else self.problems).append(line)

    def _judge_until(self, steps: Sequence[Step], options: Options, observed: Observed,
                     deadline_s: float, now: float) -> Judgement:
        """:func:`conformance.policy.judge` for a call abandoned at ``deadline_s``: the
        release's prediction up to the deadline (the doc says nothing about waits that long)."""
        actual = until_deadline(predict(self.policy.actual, steps, options, now=now),
                                deadline_s)
        baseline = until_deadline(predict(self.policy.baseline, steps, options, now=now),
                                  deadline_s)
        problems = actual.mismatches(observed, WIRE_HINT_SLACK_S)
        if not problems:
            return Judgement("sdk", actual, baseline)
        if not baseline.mismatches(observed, WIRE_HINT_SLACK_S):
            return Judgement("doc", actual, baseline)
        return Judgement(None, actual, baseline, problems=tuple(problems))

    def problem(self, message: str) -> None:
        """A break of the claim the check observed itself (outside the retry model)."""
        self.problems.append(message)

    def note(self, departure: dict[str, str]) -> None:
        """A departure from the doc the check observed itself (``policy.doc_vs_sdk``)."""
        self.shown.setdefault(departure["id"], _Observed(departure))

    def close(self, observe: Observations) -> None:
        observe("scenarios", self.rows)
        observe("doc_vs_sdk", [d.as_observation() for d in self.shown.values()])
        if self.followed_doc:
            observe("follows_doc_despite_declared_deviation", self.followed_doc)
        observe("conforms_to_doc", not self.problems)
        observe("matches_release_policy", not self.problems and not self.release_problems)
        observe("release_policy", {"sdk": self.driver.sdk, "version": self.driver.version,
                                   "refinements": [r.id for r in self.policy.refinements]})
        source = self.profile.policy_source
        release = f"{self.driver.sdk} {self.driver.version}"
        if self.problems:
            also = ("\nand its release's own policy:\n" + "\n".join(self.release_problems)
                    if self.release_problems else "")
            fail(f"{release} breaks the doc's claim:\n" + "\n".join(self.problems) + also)
        if self.release_problems:
            fail(f"{release} did not retry as its release does ({source}):\n"
                 + "\n".join(self.release_problems))
        failing = [d.as_observation() for d in self.shown.values() if d.verdict == "fail"]
        if failing:
            fail("declared deviations that fail this claim: "
                 + "; ".join(f"{d['id']}: {d['sdk']} ({d['source']})" for d in failing))


__all__ = ["DEADLINE", "FAST", "TIMEOUT_MS", "Played", "RetryRuns", "fast",
           "until_deadline"]
