"""Fault scenarios for the errors and retries checks: what the scripted server answers.

A scenario is a list of policy steps (:mod:`conformance.policy`: what the server does on each
attempt); :func:`action` turns a step into the wire action that performs it (a scripted
completion, an Azure envelope, a reset or a stall). The checks play them through the driver
of any SDK and judge the runs with ``_driven.ErrorLedger`` (errors) and
``_retry_runs.RetryRuns`` (retries); :func:`allowance` words a delay the model allows.
"""

from __future__ import annotations

from typing import Any

from conformance.policy import (
    Answer,
    Bound,
    Fault,
    RetryPolicy,
    Step,
)
from conformance.wire import Action
from conformance.wire import script as actions

# A chat completion as wire §6.1 shapes it, the smallest the SDK parses: what a scripted
# success answers.
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-conformance-scripted",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o-2024-11-20",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "The capital of France is Paris."}}],
    "usage": {"prompt_tokens": 24, "completion_tokens": 7, "total_tokens": 31},
}

REQUEST_ID = "req_conformance-scripted-0001"


def envelope(status: int) -> dict[str, Any]:
    """The Azure gateway's short envelope (wire §4.2 family C) for ``status``."""
    return {"error": {"code": str(status), "message": f"scripted {status} from the wire server"}}


def action(step: Step) -> Action:
    """The wire action that performs a policy step."""
    if isinstance(step, Fault):
        return actions.stall() if step.kind == "timeout" else actions.reset()
    headers = [*step.headers, ("x-request-id", REQUEST_ID)]
    if step.status < 400:
        return actions.reply(step.status, COMPLETION, headers=headers)
    return actions.reply(step.status, envelope(step.status), headers=headers)


def classes_of(exc: BaseException | None) -> tuple[str, ...]:
    """``("success",)`` or the exception's class names, most derived first."""
    if exc is None:
        return ("success",)
    return tuple(c.__name__ for c in type(exc).__mro__ if c not in (BaseException, object))


def allowance(policy: RetryPolicy, n: int, bound: Bound) -> str:
    """The retry delay ``n`` the model allows, labelled by where it comes from: ``backoff
    [0.375, 0.5] s`` (jittered), ``hint 1.5 s`` (the server's), or an HTTP-date hint, whose
    seconds depend on when the clock was read (so they are not written here)."""
    if policy.backoff is not None and bound == policy.backoff.bound(n):
        return f"backoff {bound}"
    if bound.low == bound.high:
        return f"hint {bound}"
    return "hint from an HTTP-date, less the moments before the clock was read"


def answer(status: int, *headers: tuple[str, str]) -> Answer:
    return Answer(status, tuple(headers))


CONNECTION = Fault("connection")
TIMEOUT = Fault("timeout")
