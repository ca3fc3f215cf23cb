"""Model-based fuzzing of the retry and error policy.

Hypothesis draws what the server does attempt by attempt (statuses with retry hints, including
junk, negative, huge and HTTP-date values in visible ASCII; x-should-retry; connection faults
and timeouts; success) and the client's options (max_retries, a with_options override). The
SDK runs against it with the virtual clock; the attempts it made, the delays it computed and
how it ended must be what conformance.policy predicts for the installed version, and every
attempt must carry the next x-stainless-retry-count.

Profiles (tests/conftest.py): ``ci`` (derandomized, 200 examples, every run) and ``deep``
(``HYPOTHESIS_PROFILE=deep``: 5000 random examples, on demand). Cases ``deep`` finds are pinned
below with @example.
"""

from __future__ import annotations

import email.utils
import importlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from hypothesis import example, find, given, reject, settings
from hypothesis import strategies as st

from conformance.clock import virtual_clock
from conformance.policy import OK, Ambiguous, Answer, Fault, Observed, Options, judge, policies
from conformance.sdk import ENVIRONMENT, TEST_API_KEY, has, installed
from conformance.suites._faults import COMPLETION, classes_of, envelope
from conformance.wire import Action, Script, WireServer
from conformance.wire import script as actions
from conformance.wire.inprocess import transport

from . import fault_mutants as mutants

pytestmark = pytest.mark.fuzz

HTTP = importlib.import_module(installed().http_library)
POLICY = policies("python", has)
BASE_URL = "http://wire.invalid/openai/v1/"
MESSAGES = [{"role": "user", "content": "When was Microsoft founded?"}]

# -- what the server does ---------------------------------------------------------------------


@dataclass(frozen=True)
class DateIn:
    """A retry-after HTTP-date ``seconds`` from the moment the example runs (formatted then, so
    a replayed or shrunk example means the same thing)."""

    seconds: int


Value = str | DateIn


@dataclass(frozen=True)
class Status:
    status: int
    headers: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class Failure:
    kind: str  # "reset", "mid-body", "cut" (connection errors) or "timeout"


@dataclass(frozen=True)
class Success:
    pass


Spec = Status | Failure | Success


DEFAULTS = Options()


@dataclass(frozen=True)
class Case:
    script: tuple[Spec, ...]
    options: Options = DEFAULTS


STATUSES = [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 501, 502, 503, 504, 599]
VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
NUMBERS = st.one_of(
    st.integers(-10, 400).map(str),
    st.floats(-5, 300, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.sampled_from(["0", "-0", "0.001", "59", "60", "61", "119.99", "120", "120.5", "121",
                     "1e3", "1e9", "1e400", "-1e400", "nan", "inf", "-inf", "Infinity",
                     "1_0", "+5", ".5", "5."]),
)
JUNK = st.text(VISIBLE, min_size=1, max_size=10)
# Away from 0, 60 and 120 s by more than the slack of a whole-second date (policy.Ambiguous).
OFFSETS = st.one_of(st.integers(-10**6, -3), st.integers(3, 56), st.integers(64, 117),
                    st.integers(124, 10**6))
SHOULD_RETRY = st.sampled_from(["true", "false", "True", "FALSE", "yes", "1"])


@st.composite
def statuses(draw: st.DrawFn) -> Status:
    headers: list[tuple[str, Value]] = []
    if draw(st.booleans()):
        headers.append(("retry-after-ms", draw(st.one_of(NUMBERS, JUNK))))
    if draw(st.booleans()):
        headers.append(("retry-after", draw(st.one_of(NUMBERS, JUNK, OFFSETS.map(DateIn)))))
    if draw(st.integers(0, 3)) == 0:
        headers.append(("x-should-retry", draw(SHOULD_RETRY)))
    return Status(draw(st.sampled_from(STATUSES)), tuple(headers))


def specs(timeouts: bool = True) -> st.SearchStrategy[Spec]:
    kinds = ["reset", "mid-body", "cut", *(["timeout"] if timeouts else [])]
    return st.one_of(statuses(), st.sampled_from(kinds).map(Failure), st.just(Success()))


def cases(timeouts: bool = True) -> st.SearchStrategy[Case]:
    retries = st.one_of(st.none(), st.integers(0, 4))
    return st.builds(
        Case,
        script=st.lists(specs(timeouts), min_size=1, max_size=5).map(tuple),
        options=st.builds(Options, max_retries=retries, per_request=retries),
    )


# -- running a case ---------------------------------------------------------------------------


def materialize(case: Case, now: float) -> tuple[list[Any], list[Action]]:
    """The policy steps and the wire actions of a case."""
    steps: list[Any] = []
    wire: list[Action] = []
    completion = actions.reply(200, COMPLETION)
    for spec in case.script:
        if isinstance(spec, Success):
            steps.append(OK)
            wire.append(completion)
        elif isinstance(spec, Failure):
            steps.append(Fault("timeout" if spec.kind == "timeout" else "connection"))
            wire.append({"reset": actions.reset(), "timeout": actions.stall(),
                         "mid-body": actions.reset_mid_body(completion, after_chunks=1),
                         "cut": actions.cut(completion, after_bytes=12)}[spec.kind])
        else:
            headers = tuple(
                (k, email.utils.formatdate(now + v.seconds, usegmt=True)
                 if isinstance(v, DateIn) else v) for k, v in spec.headers)
            steps.append(Answer(spec.status, headers))
            wire.append(actions.reply(spec.status, envelope(spec.status), headers=headers))
    return steps, wire


def disagreements(case: Case, server: WireServer, http_client: Any,
                  base_url: str = BASE_URL) -> list[str] | None:
    """How the SDK departs from the model on ``case`` (empty: it agrees); None when the case
    cannot be judged (an HTTP-date right at a threshold)."""
    steps, wire = materialize(case, time.time())
    server.use(Script(wire))
    kwargs = {} if case.options.max_retries is None else {"max_retries":
                                                           case.options.max_retries}
    client: Any = openai.OpenAI(api_key=TEST_API_KEY, base_url=base_url,
                                http_client=http_client, **kwargs)
    if case.options.per_request is not None:
        client = client.with_options(max_retries=case.options.per_request)
    error: BaseException | None = None
    with virtual_clock() as clock:
        started = time.time()
        try:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        except Exception as exc:
            error = exc
    observed = Observed(len(server.exchanges), tuple(clock.delays), classes_of(error))
    try:
        verdict = judge(POLICY, steps, case.options, observed, now=started)
    except Ambiguous:
        return None
    found = list(verdict.problems)
    if verdict.matched == "doc":
        found.append("matched the doc, not the declared deviations of this SDK version")
    counts = [e.request.header("x-stainless-retry-count") for e in server.exchanges]
    if counts != [str(n) for n in range(len(counts))]:
        found.append(f"x-stainless-retry-count went {counts}")
    if any(e.request.header("authorization") != f"Bearer {TEST_API_KEY}"
           for e in server.exchanges):
        found.append("an attempt went out without the key")
    return found


def in_process(case: Case) -> list[str] | None:
    server = WireServer()  # never started: the transport dispatches to it directly
    return disagreements(case, server, openai.DefaultHttpxClient(
        transport=transport(server.dispatch, HTTP)))


@pytest.fixture(scope="module", autouse=True)
def _clean_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ENVIRONMENT:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[WireServer, Any]]:
    """One server and one connection pool for every example (a client per example is cheap;
    a transport is not: it builds a TLS context)."""
    shared = HTTP.HTTPTransport()
    with WireServer() as server:
        yield server, shared
    shared.close()


# -- the properties ---------------------------------------------------------------------------


@given(case=cases())
@example(case=Case((Status(429, (("retry-after", "1e400"),)), Success())))
@example(case=Case((Status(429, (("retry-after", "inf"),)), Success())))
@example(case=Case((Status(503, (("retry-after", DateIn(3600)), ("x-should-retry", "true"))),)))
@example(case=Case((Status(429, (("retry-after-ms", "soon"), ("retry-after", "2"))), Success())))
@example(case=Case((Status(409,), Failure("timeout"), Success()), Options(per_request=1)))
@example(case=Case((Status(400, (("x-should-retry", "true"),)), Failure("cut"), Success())))
@example(case=Case((Failure("mid-body"),), Options(max_retries=4, per_request=0)))
@example(case=Case((Status(408, (("retry-after", DateIn(30)),)), Success())))
def test_the_sdk_does_what_the_model_predicts(case: Case) -> None:
    found = in_process(case)
    if found is None:
        reject()
    assert not found, found


@settings(max_examples=max(25, settings.default.max_examples // 4))
@given(case=cases(timeouts=False))
@example(case=Case((Failure("reset"), Status(502), Success())))
def test_the_same_over_the_socket(loopback: tuple[WireServer, Any], case: Case) -> None:
    server, shared = loopback
    found = disagreements(case, server, openai.DefaultHttpxClient(transport=shared),
                          server.base_url)
    if found is None:
        reject()
    assert not found, found


def _statuses(script: tuple[Spec, ...]) -> list[Status]:
    return [spec for spec in script if isinstance(spec, Status)]


def _retryable(spec: Status) -> bool:
    """The documented retry rule: 408, 409, 429, 5xx, or the server says x-should-retry: true
    (the last attempt of a script repeats, so one such answer is retried again and again)."""
    if any(name == "x-should-retry" for name, _ in spec.headers):
        return dict(spec.headers)["x-should-retry"] == "true"
    return spec.status in (408, 409, 429) or spec.status >= 500


def _retried(script: tuple[Spec, ...]) -> bool:
    return any(isinstance(spec, Failure) or (isinstance(spec, Status) and _retryable(spec))
               for spec in script)


def _hinted(script: tuple[Spec, ...]) -> bool:
    return any(name in ("retry-after", "retry-after-ms")
               for spec in _statuses(script) for name, _ in spec.headers)


# Each mutant, and what a script must hold to expose it: the shrunk example the fuzzer returns
# names the broken behaviour, not just any disagreement.
BROKEN = {
    "3-retries-by-default": (mutants.retries_by_default(3), _retried),
    "429-not-retried": (mutants.never_retries(429),
                        lambda s: any(spec.status == 429 for spec in _statuses(s))),
    "retry-after-ignored": (mutants.ignores_retry_after, _hinted),
    "429-as-APIStatusError": (mutants.raises_for(429, "APIStatusError"),
                              lambda s: any(spec.status == 429 for spec in _statuses(s))),
    "retry-after-cap-600s": (mutants.long_retry_after_cap, _hinted),
    "flat-backoff": (mutants.flat_backoff, _retried),
    "400-retried": (mutants.retries_everything,
                    lambda s: any(not _retryable(spec) for spec in _statuses(s))),
}


@pytest.mark.parametrize("name", BROKEN)
def test_the_fuzzer_finds_a_broken_sdk(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    mutant, exposes = BROKEN[name]
    mutant(monkeypatch)
    found = find(cases(), lambda case: bool(in_process(case)),
                 settings=settings(max_examples=500, derandomize=True, database=None,
                                   deadline=None))
    assert exposes(found.script), found
