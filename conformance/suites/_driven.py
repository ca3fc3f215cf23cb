"""Error scenarios performed by the ``driver`` of any SDK and judged by that SDK's own policy.

The errors checks run on every SDK: each scenario is one driver run (retries off unless the
scenario says otherwise) against a scripted server or a replayed cassette, and the outcome's
error view (docs/driver-protocol.md, ``error``) is judged by the one policy model
(:func:`conformance.policy.judge`) with the policy of the release the driver loaded (its
profile in ``conformance.sdks``). :class:`ErrorLedger` collects the judgements: where the SDK
breaks the doc's claim (``problems``), where only its own declared behaviour
(``release_problems``), the declared departures from the doc it showed (``doc_vs_sdk``), and
what a release's errors do not carry yet (``unsupported``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance import sdks
from conformance.drivers.outcome import DriverOutcome, ErrorView
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import WIRE_HINT_SLACK_S, Observed, Options, Policies, Step, judge
from conformance.registry import Observations, fail, unsupported
from conformance.wire import Action, Script

from ._faults import allowance
from ._requests import CHAT_REQUEST
from ._scenario import scenario

NO_RETRIES = Options(max_retries=0)


def release_policy(driver: Driver) -> Policies:
    """The retry and error policy of the release the driver loaded (its hello's version)."""
    return sdks.get(driver.sdk).policies(driver.version)


def policy_source(driver: Driver) -> str:
    return sdks.get(driver.sdk).policy_source


def classes(error: ErrorView | None) -> tuple[str, ...]:
    """``("success",)`` or the class the SDK raised and its bases, nearest first."""
    if error is None:
        return ("success",)
    return error.classes


@dataclass
class ErrorLedger:
    """Judges driver runs, scenario after scenario; :meth:`close` records and decides."""

    driver: Driver
    policy: Policies = field(init=False)
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    release_problems: list[str] = field(default_factory=list)
    shown: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # attribute -> why it is wanted
    gaps: tuple[float, ...] = ()  # seconds between the last run's requests, at the wire

    def __post_init__(self) -> None:
        self.policy = release_policy(self.driver)

    @property
    def sdk(self) -> str:
        return self.driver.sdk

    def run(self, wire: Wire, actions: Sequence[Action] | None = None, *,
            operation: str = "chat.completions.create",
            params: Mapping[str, Any] = CHAT_REQUEST, options: Options = NO_RETRIES,
            timeout_ms: int | None = None) -> tuple[DriverOutcome, int]:
        """Serve ``actions`` (None: the check's cassette) and perform one call; returns the
        outcome and how many requests it sent."""
        before = len(wire.requests)
        if actions is not None:
            wire.use(Script(list(actions)))
            before = 0
        outcome = self.driver.run(scenario(wire, operation, params,
                                           max_retries=options.max_retries,
                                           timeout_ms=timeout_ms))
        times = [r.arrived for r in wire.requests[before:]]
        self.gaps = tuple(round(b - a, 3) for a, b in itertools.pairwise(times))
        return outcome, len(wire.requests) - before

    def judge(self, name: str, steps: Sequence[Step], outcome: DriverOutcome,
              attempts: int, options: Options = NO_RETRIES, **extra: Any) -> bool:
        """Judge one run by the release's policy; True when it matched it (or the doc)."""
        error = outcome.error
        if outcome.virtual_delays_s is not None:  # python: the delays the virtual clock kept
            delays, slack = outcome.virtual_delays_s, (0.0, 0.0)
        else:  # the SDKs that really sleep: timed at the wire
            delays, slack = self.gaps, WIRE_HINT_SLACK_S
        verdict = judge(self.policy, steps, options,
                        Observed(attempts, delays, classes(error)), slack=slack)
        model = verdict.baseline if verdict.matched == "doc" else verdict.actual
        policy = self.policy.baseline if verdict.matched == "doc" else self.policy.actual
        allowed = [allowance(policy, n, bound) for n, bound in enumerate(model.delays)]
        # A delay timed at the wire varies with the machine: the report keeps what the model
        # allowed for it (the virtual clock's are exact, and normalised by results.normalise).
        self.rows.append({"scenario": name, "attempts": attempts,
                          "delays_s": ([round(d, 4) for d in delays] if slack == (0.0, 0.0)
                                       else allowed if verdict.matched else
                                       [round(d, 2) for d in delays]),
                          "allowed_delays": allowed,
                          "outcome": classes(error)[0],
                          "predicted": f"{model.attempts} attempt(s), outcome {model.outcome}",
                          "matched": verdict.matched or "neither",
                          "error": None if error is None else error.to_json(), **extra})
        for deviation in verdict.deviations:
            self.shown.setdefault(deviation.id, deviation.as_observation())
        if verdict.matched is None:
            line = f"{name}: " + "; ".join(verdict.problems)
            (self.release_problems if verdict.conforms_to_doc else self.problems).append(line)
            return False
        return True

    def exposes(self, attribute: str, wanted_by: str) -> bool:
        """Whether this release's errors carry ``attribute`` (declared per release for
        openai-python; the other SDKs' errors carry what their driver reports)."""
        if not any(a.name == attribute for a in self.policy.attributes):
            return True
        if self.policy.exposes(attribute):
            return True
        self.missing.setdefault(attribute, wanted_by)
        return False

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def close(self, observe: Observations) -> None:
        source = policy_source(self.driver)
        observe("scenarios", self.rows)
        observe("doc_vs_sdk", list(self.shown.values()))
        observe("conforms_to_doc", not self.problems)
        observe("matches_release_policy", not self.problems and not self.release_problems)
        failing = [d for d in self.shown.values() if d.get("verdict") == "fail"]
        if self.problems:
            also = ("\nand its own declared behaviour:\n" + "\n".join(self.release_problems)
                    if self.release_problems else "")
            fail(f"{self.sdk} breaks the doc's claim ({source}):\n" + "\n".join(self.problems)
                 + also)
        if self.release_problems:
            fail(f"{self.sdk} conforms to the doc but breaks its own declared behaviour "
                 f"({source}):\n" + "\n".join(self.release_problems))
        if failing:
            fail("declared deviations that fail this claim: "
                 + "; ".join(f"{d['id']}: {d['sdk']} ({d['source']})" for d in failing))
        if self.missing:
            unsupported(f"{self.sdk} {self.driver.version}: errors do not carry "
                        + "; ".join(f"{name} ({why}: {self.policy.attribute(name).source})"
                                    for name, why in self.missing.items()))
