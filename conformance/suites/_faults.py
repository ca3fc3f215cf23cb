"""Fault scenarios for the errors and retries checks: script the wire, run the SDK, judge the
run against the policy model (:mod:`conformance.policy`).

A scenario is a list of policy steps (what the server does on each attempt) and client
options. :func:`play` turns the steps into wire actions, points a client at the wire (through
the socket, or in process when a step is a timeout, so nothing waits), makes one call and
returns what happened. :class:`Ledger` judges each run and turns the lot into observations and
a verdict.
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import conformance.sdk
from conformance.clock import VirtualClock
from conformance.drivers.python import error_of
from conformance.harness import Wire
from conformance.policy import (
    PYTHON_DOC,
    Answer,
    Bound,
    Deviation,
    Fault,
    Judgement,
    Observed,
    Options,
    Policies,
    RetryPolicy,
    Step,
    judge,
    policies,
)
from conformance.registry import Observations, fail, unsupported
from conformance.sdk import Sdk
from conformance.wire import Action, RecordedRequest, Script
from conformance.wire import script as actions
from conformance.wire.inprocess import transport

from ._requests import CHAT_REQUEST

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


def python_policies() -> Policies:
    """The Python SDK's policies, for the version installed."""
    return policies("python", conformance.sdk.has)


def http_library() -> Any:
    """The HTTP library module of the installed SDK (``httpx2`` from openai 3.0, else ``httpx``)."""
    return importlib.import_module(conformance.sdk.installed().http_library)


def in_process_client(sdk: Sdk, wire: Wire, **options: Any) -> Any:
    """A client whose requests reach the wire's responder and exchange log without a socket
    (``http_client=`` is public SDK API); a stall becomes a read timeout at once."""
    import openai

    wire_transport = transport(wire.server.dispatch, http_library())
    if conformance.sdk.has("default_http_client"):
        http_client = openai.DefaultHttpxClient(transport=wire_transport)
    else:  # before openai.DefaultHttpxClient: the HTTP library's client (http_client= is public)
        http_client = http_library().Client(transport=wire_transport)
    return sdk.client(http_client=http_client, **options)


def chat(client: Any) -> Any:
    return client.chat.completions.create(**CHAT_REQUEST)


def classes_of(exc: BaseException | None) -> tuple[str, ...]:
    """``("success",)`` or the exception's class names, most derived first."""
    if exc is None:
        return ("success",)
    return tuple(c.__name__ for c in type(exc).__mro__ if c not in (BaseException, object))


def raised_at(exc: BaseException) -> list[str]:
    """The last frames of an exception the SDK did not wrap: where it escaped from."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames]


@dataclass
class Run:
    """One call of a scenario: what went over the wire and what came back."""

    observed: Observed
    requests: list[RecordedRequest]
    error: BaseException | None
    result: Any = None
    started: float = 0.0  # time.time() before the call: HTTP-dates are judged against it

    @property
    def retry_counts(self) -> list[str | None]:
        return [r.header("x-stainless-retry-count") for r in self.requests]


def play(
    wire: Wire,
    sdk: Sdk,
    clock: VirtualClock,
    steps: Sequence[Step],
    options: Options = Options(),  # noqa: B008  # frozen
    *,
    call: Callable[[Any], Any] = chat,
    client: Any = None,
    wire_actions: Sequence[Action] | None = None,
) -> Run:
    """Serve ``steps`` (the last repeating) and make one call. ``client``, if given, is used
    as is (``options.max_retries`` then describes it); else one is built from ``options``.
    ``wire_actions`` plays other actions than :func:`action` would for the same steps (a reset
    mid-body instead of before the headers, say)."""
    wire.use(Script(list(wire_actions) if wire_actions is not None
                    else [action(s) for s in steps]))
    if client is None:
        client = build_client(sdk, wire, options, in_process=needs_in_process(steps))
    if options.per_request is not None:
        client = client.with_options(max_retries=options.per_request)
    first_delay = len(clock.delays)
    started = time.time()
    error: BaseException | None = None
    result = None
    try:
        result = call(client)
    except Exception as exc:  # the outcome under test, whatever the SDK raised
        error = exc
    delays = tuple(clock.delays[first_delay:])
    observed = Observed(len(wire.requests), delays, classes_of(error))
    return Run(observed, list(wire.requests), error, result, started)


def needs_in_process(steps: Sequence[Step]) -> bool:
    """A timeout over a socket costs the timeout; in process it costs nothing."""
    return any(isinstance(s, Fault) and s.kind == "timeout" for s in steps)


def build_client(sdk: Sdk, wire: Wire, options: Options, *, in_process: bool) -> Any:
    """``OpenAI(max_retries=options.max_retries)`` (unset: the SDK's default) on the wire."""
    kwargs: dict[str, Any] = {}
    if options.max_retries is not None:
        kwargs["max_retries"] = options.max_retries
    return in_process_client(sdk, wire, **kwargs) if in_process else sdk.client(**kwargs)


def release_policy(policy: Policies) -> list[dict[str, str]]:
    """What the installed release promises beyond the doc, as the report shows it: each
    refinement in force with the releases it covers."""
    return [{"id": r.id, "releases": conformance.sdk.release_range(r.capability, r.until),
             "sdk": r.actual} for r in policy.refinements]


@dataclass
class Ledger:
    """Judges scenario after scenario against the model; ``close()`` records and decides.

    A scenario can break the doc's claim (``problems``: the doc's retry count, retried set,
    error class) or only what this release itself declares (``release_problems``: the backoff's
    numbers, Retry-After limits, per release range in conformance.policy). Either fails the
    check, each message citing what was broken. An attribute the release does not have yet
    (``exposes``) is not judged; when nothing else failed the check is ``unsupported``, naming
    the release that added it."""

    policy: Policies = field(default_factory=python_policies)
    clients: dict[tuple[int | None, bool], Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    release_problems: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)  # what was broken -> its declaration
    missing: dict[str, str] = field(default_factory=dict)  # capability -> what needs it
    shown: dict[str, Deviation] = field(default_factory=dict)
    followed_doc: list[str] = field(default_factory=list)

    def judge(self, name: str, steps: Sequence[Step], options: Options, run: Run,
              **extra: Any) -> Judgement:
        verdict = judge(self.policy, steps, options, run.observed, now=run.started or None)
        # What the matching model allows for each delay, in words that do not move with the
        # clock: the diff normaliser compares jittered delays by these (results.normalise).
        model = (self.policy.baseline, verdict.baseline) if verdict.matched == "doc" else (
            self.policy.actual, verdict.actual)
        allowed = [allowance(model[0], n, bound) for n, bound in enumerate(model[1].delays)]
        row: dict[str, Any] = {
            "scenario": name,
            "attempts": run.observed.attempts,
            "retry_counts": run.retry_counts,
            "delays_s": [round(d, 4) for d in run.observed.delays],
            "allowed_delays": allowed,
            "outcome": run.observed.outcome[0],
            "predicted": f"{model[1].attempts} attempt(s), delays {', '.join(allowed) or 'none'}"
                         f", outcome {model[1].outcome}",
            "matched": verdict.matched or "neither",
            **extra,
        }
        if verdict.deviations:
            row["deviations"] = [d.id for d in verdict.deviations]
        if run.error is not None and "OpenAIError" not in run.observed.outcome:
            row["raised_at"] = raised_at(run.error)
        if run.error is not None:
            row["exception"] = error_of(run.error).to_json()  # what an except clause sees
        self.rows.append(row)
        for deviation in verdict.deviations:
            self.shown.setdefault(deviation.id, deviation)
        if verdict.matched == "doc":
            self.followed_doc.append(name)
        elif verdict.matched is None:
            line = (f"{name}: " + "; ".join(verdict.problems)
                    + f" (model: {verdict.actual.describe()})")
            if verdict.conforms_to_doc:
                self.release_problems.append(line)
                for r in verdict.broken:
                    releases = conformance.sdk.release_range(r.capability, r.until)
                    self.broken.setdefault(r.id, f"{r.id} ({releases}): {r.actual} [{r.source}]")
            else:
                self.problems.append(line)
        return verdict

    def play(self, name: str, wire: Wire, sdk: Sdk, clock: VirtualClock,
             steps: Sequence[Step], options: Options = Options(),  # noqa: B008  # frozen
             **kwargs: Any) -> Run:
        if kwargs.get("client") is None:
            # Building a client costs a TLS context (tens of ms): one per kind per check.
            key = (options.max_retries, needs_in_process(steps))
            if key not in self.clients:
                self.clients[key] = build_client(sdk, wire, options, in_process=key[1])
            kwargs["client"] = self.clients[key]
        run = play(wire, sdk, clock, steps, options, **kwargs)
        self.judge(name, steps, options, run)
        return run

    def note(self, deviation_id: str) -> None:
        """Record a declared deviation a check observed itself (outside the retry model)."""
        found = next((d for d in self.policy.deviations if d.id == deviation_id), None)
        if found is not None:
            self.shown.setdefault(found.id, found)

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def attribute_problem(self, attribute: str, message: str) -> None:
        """``err.<attribute>`` is wrong: a broken doc claim where the doc names the attribute
        (``e.status_code``), else a break of this release's own declared behaviour."""
        declared = self.policy.attribute(attribute)
        if declared.source.startswith("seed doc"):
            self.problems.append(message)
            return
        self.release_problems.append(message)
        releases = conformance.sdk.release_range(declared.capability, None)
        self.broken.setdefault(f"err.{attribute}", f"err.{attribute} carries {declared.carries} "
                               f"({releases}) [{declared.source}]")

    def exposes(self, attribute: str, needed_by: str) -> bool:
        """Whether this release's errors carry ``attribute``; if not, remember the capability
        (and ``needed_by``, what wanted it) for the ``unsupported`` verdict."""
        if self.policy.exposes(attribute):
            return True
        capability = self.policy.attribute(attribute).capability
        if capability is not None:
            self.missing.setdefault(capability, needed_by)
        return False

    def need(self, capability: str, needed_by: str) -> bool:
        """Whether the installed release has ``capability``; if not, as :meth:`exposes`."""
        if conformance.sdk.has(capability):
            return True
        self.missing.setdefault(capability, needed_by)
        return False

    def close(self, observe: Observations) -> None:
        observe("scenarios", self.rows)
        observe("doc_vs_sdk", [d.as_observation() for d in self.shown.values()])
        if self.followed_doc:
            observe("follows_doc_despite_declared_deviation", self.followed_doc)
        observe("conforms_to_doc", not self.problems)
        observe("matches_release_policy", not self.problems and not self.release_problems)
        observe("release_policy", release_policy(self.policy))
        broken = "; ".join(self.broken.values()) or "its declared policy"
        if self.problems:
            also = (f"\nand this release's own declared behaviour, {broken}:\n"
                    + "\n".join(self.release_problems) if self.release_problems else "")
            fail(f"the SDK breaks the doc's claim ({PYTHON_DOC}):\n" + "\n".join(self.problems)
                 + also)
        if self.release_problems:
            fail(f"the SDK conforms to the doc but breaks this release's own declared "
                 f"behaviour, {broken}:\n" + "\n".join(self.release_problems))
        failing = [d for d in self.shown.values() if d.verdict == "fail"]
        if failing:
            fail("declared deviations that fail this claim: "
                 + "; ".join(f"{d.id}: {d.actual} ({d.source})" for d in failing))
        if self.missing:
            unsupported("; ".join(
                f"{what} needs {conformance.sdk.since(capability)} "
                f"({conformance.sdk.CAPABILITIES[capability].source})"
                for capability, what in self.missing.items())
                + f"; installed {conformance.sdk.installed().version}")


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
