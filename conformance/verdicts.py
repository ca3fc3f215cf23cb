"""Verdict precedence: which verdict a check item earns when several things say something.

One phase of a check item (setup, call, teardown), in this order:

1. a skip is ``skipped`` with its reason;
2. a setup or teardown that went fine says nothing (:func:`of_phase` returns None);
3. otherwise the exception that ended the phase is classified
   (:func:`conformance.harness.classify`): pass, fail, error or unsupported; a fail or error
   in a live check names what the resource refused;
4. a live run whose credential could not be obtained turns a fail or error into a setup
   error: the SDK was never judged;
5. a request the live budgets kept back makes the call ``skipped``, whatever the check saw;
6. a passing live check whose recording is refused is an ``error`` (:func:`recording_refused`).

Across the phases of one item (:func:`stands`): the first verdict that is not a pass stands
(later phases add their observations); a teardown error after a pass turns it into an error.
After the run (:func:`recorded`): a pass whose cassette could not be written is an error.
"""

from __future__ import annotations

from collections.abc import Callable

from .registry import Verdict

Judged = tuple[Verdict, str]
_BROKEN = (Verdict.FAIL, Verdict.ERROR)


def of_phase(exc: BaseException | None, phase: str, *, skipped: bool,
             upstream_note: Callable[[], str], credential_failure: str | None,
             kept_back: str | None) -> Judged | None:
    """Rules 1 to 5 for one phase: ``exc`` ended it (None: it went fine), ``skipped`` when
    that was a skip; ``kept_back``: the first request the budgets refused (call phase)."""
    if skipped:
        verdict, message = Verdict.SKIPPED, str(getattr(exc, "msg", exc))
    elif phase != "call" and exc is None:
        return None
    else:
        from .harness import classify

        outcome = classify(exc, phase)
        verdict, message = outcome.verdict, outcome.message
        if verdict in _BROKEN:
            message += upstream_note()
        if credential_failure is not None and verdict in _BROKEN:
            verdict, message = Verdict.ERROR, f"setup error: {credential_failure}"
    if phase == "call" and kept_back is not None:
        verdict, message = Verdict.SKIPPED, kept_back
    return verdict, message


def recording_refused(verdict: Judged, refused: str | None) -> Judged:
    """Rule 6: a recording refused (a secret left in it) makes the check an error."""
    return (Verdict.ERROR, refused) if refused is not None else verdict


def stands(previous: Verdict | None) -> bool:
    """Whether an item's earlier verdict stands against a later phase's: any but a pass."""
    return previous is not None and previous is not Verdict.PASS


def recorded(verdict: Verdict, message: str, problem: str | None) -> Judged:
    """After the run: a pass whose recording was not written is an error."""
    if problem is not None and verdict is Verdict.PASS:
        return Verdict.ERROR, f"recorded, {problem}"
    return verdict, message
