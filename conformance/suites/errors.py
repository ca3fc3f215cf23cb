"""errors: which exception each SDK raises for each failure, and what it carries.

The doc's claims (Python / Error handling): the error codes table (400 BadRequestError ...
>=500 InternalServerError, N/A APIConnectionError), the fine-tuning example's except clauses,
and, through the JavaScript and .NET tables, 503 and 504. Azure answers errors in four envelope
families (wire §4.2); each is replayed from a cassette built from the reference examples, and
the body is held to the error contract (conformance.contract.errors) before the SDK is judged.

Each claim runs on every SDK (``sdks=ALL_SDKS``): the ``driver`` performs the scenario and the
outcome's error view (docs/driver-protocol.md) is judged by that SDK's own policy for the
release it loaded (``_driven.ErrorLedger``; the class the doc names for Python is the class the
SDK's own table names for the others). Where an SDK differs from the doc the check names the
declared deviation in the ``doc_vs_sdk`` observation. What only openai-python exposes
(``err.__cause__``, ``err.body``) is judged where the error view carries it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import conformance.sdk
from conformance.contract.errors import CONTENT_FILTER_CODE, family, validate_error
from conformance.drivers.outcome import ErrorView
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import Answer, Options, Step
from conformance.registry import ALL_SDKS, Observations, check, expect, fail, unsupported
from conformance.wire import Action, Reply
from conformance.wire import script as actions

from ._driven import NO_RETRIES, ErrorLedger, classes
from ._faults import (
    COMPLETION,
    CONNECTION,
    TIMEOUT,
    answer,
)
from ._requests import CHAT_REQUEST
from ._scenario import recorded

PYTHON_ERRORS = "Python / Error handling (Error codes table)"
# Every status in the doc's error tables (Python; 503 and 504 from the JavaScript and .NET
# tables; 502 from the .NET retry list), plus 408 and 409, which the doc's retry lists name.
STATUSES = (400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504)
HTTP_PACKAGES = ("httpx", "httpx2", "httpcore", "httpcore2")
# A stalled reply times out after this long (every SDK's own timeout option, retries off):
# long enough for a cold JVM's first TLS handshake through the Azure host's proxy on a busy
# machine (at 200 ms openai-java timed out before its request reached the server).
TIMEOUT_MS = 1000


def _root(qualified: str | None) -> str | None:
    return None if qualified is None else qualified.split(".")[0]


def _envelope(status: int) -> dict[str, Any]:
    return {"error": {"code": f"code-{status}", "message": f"status {status} from the wire",
                      "param": None, "type": None}}


# -- status -> class ------------------------------------------------------------------------


@check(
    "errors.status-classes",
    doc=f"{PYTHON_ERRORS}; JavaScript and .NET / Error handling (503, 504); Python / Retries "
    "(408)",
    claim="Each status of the doc's error tables (400, 401, 403, 404, 422, 429, 500, 503, 504), "
    "502 of the .NET retry list and the retried 408 and 409 raise the documented exception "
    "class (each SDK's own table where the doc has none for it; a difference from the doc's "
    "table is a declared doc_vs_sdk), a status error carrying the status, the envelope's code "
    "as a string and x-request-id as its request id.",
    cassette=None,
    refs=("sdk-behavior §2.5, §3, §4, §5 (exception tables), §8 #7", "wire §4.3"),
    sdks=ALL_SDKS,
)
def status_classes(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger = ErrorLedger(driver)
    seen: dict[str, str] = {}
    for status in STATUSES:
        request_id = f"req-{status}"
        outcome, attempts = ledger.run(wire, [actions.reply(
            status, _envelope(status), headers=[("x-request-id", request_id)])])
        error = outcome.error
        seen[str(status)] = classes(error)[0]
        ledger.judge(f"status {status}", [answer(status)], outcome, attempts)
        if error is None or error.kind != "status":
            ledger.problem(f"{status}: {seen[str(status)]} is not the SDK's status error "
                           f"(kind {_kind(error)!r}), so a catch of it misses it")
            continue
        if error.status != status:
            ledger.problem(f"{status}: the error carries status {error.status!r}")
        if (ledger.exposes("code", "the error's code from the envelope")
                and (error.code, error.code_type) != (f"code-{status}", "string")):
            ledger.problem(f"{status}: code {error.code!r} ({error.code_type}), "
                           f"the envelope's is 'code-{status}'")
        if (ledger.exposes("request_id", "the error's request id")
                and error.request_id != request_id):
            ledger.problem(f"{status}: request_id is {error.request_id!r}, the reply's "
                           f"x-request-id was {request_id!r}")
    observe("classes", seen)
    ledger.close(observe)


# -- failures without a response --------------------------------------------------------------


@check(
    "errors.connection-error",
    doc="Python / Error handling (N/A | APIConnectionError; the fine-tuning example's "
    "e.__cause__)",
    claim="A connection that fails before a complete response (reset before the headers, reset "
    "mid-body, body cut short) raises the SDK's connection error (APIConnectionError; in "
    "openai-python its __cause__ is the HTTP library's exception).",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.5, §8 #9",),
    sdks=ALL_SDKS,
)
def connection_error(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger = ErrorLedger(driver)
    completion = actions.reply(200, COMPLETION)
    faults: dict[str, Action] = {
        "reset before headers": actions.reset(),
        "reset mid-body": actions.reset_mid_body(completion, after_chunks=2),
        "body cut short": actions.cut(completion, after_bytes=20),
    }
    causes: dict[str, str | None] = {}
    for name, fault in faults.items():
        outcome, attempts = ledger.run(wire, [fault])
        error = outcome.error
        ledger.judge(name, [CONNECTION], outcome, attempts)
        if _kind(error) != "connection":
            ledger.problem(f"{name}: {classes(error)[0]} is not the SDK's connection "
                           f"error (kind {_kind(error)!r})")
        if error is not None and error.has("cause"):
            # openai-python: e.__cause__, which the doc's example prints
            cause = causes[name] = error.cause
            if _root(cause) not in HTTP_PACKAGES:
                ledger.problem(f"{name}: __cause__ is {cause or 'none'}, not an exception of "
                               "the HTTP library")
            shown = error.str_form if error.has("str") else error.message
            if shown != "Connection error.":
                ledger.problem(f"{name}: the message is {error.message!r}")
    if causes:
        observe("causes", causes)
    ledger.close(observe)


@check(
    "errors.timeout",
    doc="Python / Error handling (N/A | APIConnectionError)",
    claim="A request that times out (the SDK's own timeout option) raises an error the doc's "
    "connection-error catch catches (APIConnectionError; each SDK's timeout error, which "
    "openai-python raises as its subclass APITimeoutError caused by the HTTP library's "
    "timeout).",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.5, §8 #7",),
    sdks=ALL_SDKS,
)
def timeout(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger = ErrorLedger(driver)
    outcome, attempts = ledger.run(wire, [actions.stall(5.0)], timeout_ms=TIMEOUT_MS)
    error = outcome.error
    observe("class", classes(error)[0])
    observe("kind", _kind(error))
    ledger.judge("read timeout", [TIMEOUT], outcome, attempts)
    documented = ledger.policy.documented
    if documented is not None:  # the doc's except clause for this SDK's section
        catch = documented.connection_error.name  # an except clause catches subclasses too
        expect(catch in classes(outcome.error),
               f"a timeout raised {classes(outcome.error)[0]}, which the doc's `except "
               f"{catch}` does not catch")
    # The doc's table lists no timeout error: the SDK's own, or its connection error.
    expect(_kind(error) in ("timeout", "connection"),
           f"a timeout raised {classes(outcome.error)[0]} (kind {_kind(error)!r}), "
           "not the SDK's timeout error")
    if error is not None and error.has("cause"):  # openai-python: the HTTP library's timeout
        cause = observe("cause", error.cause)
        expect(cause is not None and "Timeout" in cause and _root(cause) in HTTP_PACKAGES,
               f"the cause is {cause!r}, not the HTTP library's timeout")
    ledger.close(observe)


# -- envelopes ------------------------------------------------------------------------------


def _replay_errors(wire: Wire, driver: Driver, observe: Observations, expected_family: str
                   ) -> tuple[ErrorLedger, list[tuple[Reply, Any, ErrorView]]]:
    """Call once per interaction of the check's cassette (retries off) and hold each error
    body to the contract and each error to the body; returns the replies, their bodies and
    the error views."""
    if wire.cassette is None:
        pytest.skip("this check replays the error envelopes of its cassette; it has no live "
                    "form (a live endpoint does not answer with each family on demand)")
    ledger = ErrorLedger(driver)
    seen: list[tuple[Reply, Any, ErrorView]] = []
    families: list[str | None] = []
    for n in range(len(wire.cassette.interactions)):
        outcome, attempts = ledger.run(wire, params=recorded(wire, CHAT_REQUEST, n))
        error = outcome.error
        reply = wire.reply(-1)
        raw = reply.streamed
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        name = f"interaction {n}: {reply.status}"
        violations = validate_error(reply.status, body)
        if violations:
            ledger.problem(f"{name}: the error body breaks the contract: "
                           + "; ".join(map(str, violations)))
        families.append(family(body))
        if family(body) != expected_family:
            ledger.problem(f"{name}: expected a family {expected_family} envelope, got "
                           f"{family(body)}")
        ledger.judge(name, [Answer(reply.status, tuple(reply.headers))], outcome, attempts)
        if error is None or error.kind != "status":
            ledger.problem(f"{name}: raised {classes(error)[0]}, not the SDK's status error")
            continue
        _compare(ledger, name, reply, body, error)
        seen.append((reply, body, error))
    observe("families", families)
    return ledger, seen


def _compare(ledger: ErrorLedger, name: str, reply: Reply, body: Any,
             error: ErrorView) -> None:
    """The error carries what the body and headers said (wire §4.3, sdk-behavior §2.5)."""
    wrapped = isinstance(body, dict) and isinstance(body.get("error"), dict)
    fields: dict[str, Any] = body["error"] if wrapped else {}
    code = fields.get("code")
    expected: dict[str, Any] = {"status": reply.status,
                                "request_id": reply.header("x-request-id"),
                                "code": None if code is None else str(code),
                                "param": fields.get("param"), "type": fields.get("type")}
    for attribute, value in expected.items():
        if not ledger.exposes(attribute, f"err.{attribute}"):
            continue
        got = getattr(error, attribute)
        if attribute == "code" and got is not None:
            got = str(got)  # a number code is the SDK's own typing, judged by status-classes
        if got != value:
            ledger.problem(f"{name}: the error's {attribute} is {got!r}, the response says "
                           f"{value!r}")
    if error.has("body") and ledger.exposes("body", "err.body"):  # openai-python: err.body
        whole = body["error"] if wrapped else body
        if error.body != whole:
            ledger.problem(f"{name}: err.body is {error.body!r}, not the error object")
    message = fields.get("message") if wrapped else (
        body.get("message") if isinstance(body, dict) else None)
    # A wrapped envelope's message is the error's on every SDK; a bare body's only where the
    # release declares it (openai-python, sdk-behavior §2.5: openai-node and openai-go say
    # "401 status code (no body)" / "401 Unauthorized" for it).
    declared = any(a.name == "message" for a in ledger.policy.attributes)
    if (isinstance(message, str) and (wrapped or declared)
            and message not in str(error.message)):
        ledger.problem(f"{name}: the body's message is not in the error's message "
                       f"({error.message!r})")


@check(
    "errors.openai-envelope",
    doc=PYTHON_ERRORS,
    claim="OpenAI-style error bodies (family A: message, type, param, code) raise the table's "
    "class, and the error exposes the status, code, param, type, message and request id "
    "(openai-python also the error object as err.body).",
    refs=("wire §4.2 family A, §4.3", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def openai_envelope(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger, seen = _replay_errors(wire, driver, observe, "A")
    observe("exposed", [{"status": r.status, "code": e.code, "param": e.param,
                         "type": e.type} for r, _, e in seen])
    ledger.close(observe)


@check(
    "errors.content-filter",
    doc=f"{PYTHON_ERRORS} (400 | BadRequestError)",
    claim="Azure's content-filter 400 (family B) raises the SDK's 400 class with code "
    "'content_filter' and param 'prompt'; where the SDK exposes the error object "
    "(openai-python err.body), the innererror with its content_filter_result stays reachable "
    "on it.",
    refs=("wire §4.2 family B, §4.4, §17 #4", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def content_filter(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger, seen = _replay_errors(wire, driver, observe, "B")
    wanted = ledger.policy.actual.status_outcome(400)
    for _, body, error in seen:
        inner = body["error"].get("innererror")
        observe("innererror_code", inner.get("code") if isinstance(inner, dict) else None)
        if not wanted.matches(classes(error)):
            ledger.problem(f"raised {error.class_name}, not {wanted}")
        if (ledger.exposes("code", "err.code")
                and (error.code, error.param) != (CONTENT_FILTER_CODE, "prompt")):
            ledger.problem(f"the error's code/param are {error.code!r}/"
                           f"{error.param!r}, expected 'content_filter'/'prompt'")
        exposed = error.body if isinstance(error.body, dict) else {}
        if error.has("body") and inner is not None and exposed.get("innererror") != inner:
            ledger.problem("err.body['innererror'] is not the innererror the service sent")
        result = (exposed.get("innererror") or {}).get("content_filter_result")
        observe("filtered_categories", sorted(k for k, v in (result or {}).items()
                                              if isinstance(v, dict) and v.get("filtered")))
    ledger.close(observe)


@check(
    "errors.azure-envelope",
    doc=PYTHON_ERRORS,
    claim="The Azure gateway's short envelopes (family C: string codes such as '401', "
    "'DeploymentNotFound', '429', no type or param) raise the table's class for 401, 403, 404, "
    "408 and 429, with the string code, the message and the status exposed.",
    refs=("wire §2.2, §4.2 family C, §4.3", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def azure_envelope(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger, seen = _replay_errors(wire, driver, observe, "C")
    observe("exposed", [{"status": r.status, "class": e.class_name, "code": e.code}
                        for r, _, e in seen])
    ledger.close(observe)


@check(
    "errors.bare-envelope",
    doc=PYTHON_ERRORS,
    claim="Bodies without an error wrapper (family D: {statusCode, message}) still raise the "
    "table's class; code, param and type are absent (openai-python: err.body is the whole "
    "object).",
    refs=("wire §2.2, §4.2 family D, §4.3", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def bare_envelope(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger, seen = _replay_errors(wire, driver, observe, "D")
    observe("exposed", [{"status": r.status, "class": e.class_name,
                         "body_keys": sorted(e.body) if isinstance(e.body, dict) else None}
                        for r, _, e in seen])
    ledger.close(observe)


@check(
    "errors.non-json-body",
    doc=f"{PYTHON_ERRORS} (>=500 | InternalServerError)",
    claim="A >=500 reply whose body is not an error envelope (a gateway's HTML page, an empty "
    "body, truncated JSON, plain text) still raises the SDK's >=500 class with its status and "
    "no code (openai-python keeps the body text, stripped, on err.body).",
    cassette=None,
    refs=("wire §4.3 (502/503/504 bodies may be non-JSON)", "sdk-behavior §2.5"),
    sdks=ALL_SDKS,
)
def non_json_body(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger = ErrorLedger(driver)
    replies = {
        "502 html": actions.reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>",
                                  content_type="text/html"),
        "503 empty": actions.reply(503, b""),
        "500 truncated json": actions.malformed_json(500),
        "504 text": actions.reply(504, "upstream request timeout", content_type="text/plain"),
    }
    kept: dict[str, Any] = {}
    for name, reply in replies.items():
        outcome, attempts = ledger.run(wire, [reply])
        error = outcome.error
        if not ledger.judge(name, [Answer(reply.status)], outcome, attempts):
            continue
        assert error is not None  # the model predicted an error class and it matched
        if error.status != reply.status:
            ledger.problem(f"{name}: the error carries status {error.status!r}")
        if error.code is not None:
            ledger.problem(f"{name}: the error's code is {error.code!r} for a body "
                           "with no code")
        if error.has("body") and ledger.exposes("body", "err.body"):
            kept[name] = error.body
            if error.body != reply.body.decode("utf-8").strip():
                ledger.problem(f"{name}: err.body is {error.body!r}, not the body text")
    if kept:
        observe("bodies_kept", kept)
    ledger.close(observe)


# -- the doc's example --------------------------------------------------------------------------

FINE_TUNING_MODEL = "gpt-4o"
FINE_TUNING_FILE = "file-test"
FINE_TUNING = {"model": FINE_TUNING_MODEL, "training_file": FINE_TUNING_FILE}
# Every error answer carries a millisecond hint, so the SDKs that really sleep retry at once
# (the claim is where the example lands, not how long it waits; the retries checks judge that).
HINT = ("retry-after-ms", "10")


def _kind(error: ErrorView | None) -> str | None:
    return None if error is None else error.kind


def _branch(error: ErrorView | None, ledger: ErrorLedger) -> str:
    """The except clause of the doc's example that catches ``error``, in the SDK's terms:
    ``except openai.APIConnectionError`` (the SDK's connection or timeout error),
    ``except openai.RateLimitError`` (its class for 429), ``except openai.APIStatusError``
    (any other status error)."""
    if error is None:
        return "no error"
    found = classes(error)
    actual = ledger.policy.actual
    if error.kind in ("connection", "timeout") or actual.connection_error.matches(found):
        return "APIConnectionError"
    if error.kind != "status":
        return f"none ({found[0]} escapes every except clause)"
    if error.status == 429 and actual.status_outcome(429).matches(found):
        return "RateLimitError"
    return "APIStatusError"


@check(
    "errors.fine-tuning-example",
    doc="Python / Error handling (the client.fine_tuning.jobs.create example)",
    claim="The doc's example sends POST <base>/fine_tuning/jobs {model: 'gpt-4o', "
    "training_file: 'file-test'}; an unreachable or timed-out server lands in its "
    "APIConnectionError branch (the SDK's connection error; openai-python with a __cause__), "
    "and, after the SDK's default retries, a 429 in its RateLimitError branch (the SDK's 429 "
    "class), any other error status in its APIStatusError branch with the status.",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.5", "wire §4.3", "docs/driver-protocol.md "
          "(fine_tuning.jobs.create)"),
    sdks=ALL_SDKS,
)
def fine_tuning_example(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger = ErrorLedger(driver)
    stalled = actions.stall(5.0)
    scenarios: list[tuple[str, Step, Action, str]] = [
        ("unreachable", CONNECTION, actions.reset(), "APIConnectionError"),
        ("timed out", TIMEOUT, stalled, "APIConnectionError"),
        *((name, answer(status, HINT), actions.reply(status, _envelope(status), headers=[
            HINT, ("x-request-id", f"req-{status}")]), branch)
          for name, status, branch in (
              ("rate limited", 429, "RateLimitError"),
              ("deployment not found", 404, "APIStatusError"),
              ("bad request", 400, "APIStatusError"),
              ("server error", 500, "APIStatusError"),
              ("conflict", 409, "APIStatusError"))),
    ]
    branches: dict[str, str] = {}
    for name, step, action, branch in scenarios:
        # A failure without a response is not retried here: its backoff (seconds for the
        # SDKs that really sleep) is the retries checks' to time; a status carries a 10 ms hint.
        options = Options() if isinstance(step, Answer) else NO_RETRIES
        outcome, attempts = ledger.run(
            wire, [action], operation="fine_tuning.jobs.create", params=FINE_TUNING,
            options=options, timeout_ms=TIMEOUT_MS if action is stalled else None)
        error = outcome.error
        ledger.judge(name, [step], outcome, attempts, options=options)
        taken = branches[name] = _branch(error, ledger)
        if taken != branch:
            ledger.problem(f"{name}: the example took its {taken} branch, not {branch}")
        for request in wire.requests:
            body = request.json()
            if (request.method, request.path) != ("POST", "/openai/v1/fine_tuning/jobs") \
                    or body != FINE_TUNING:
                ledger.problem(f"{name}: the example sent {request.describe()} {body!r}")
                break
        if error is None:
            continue
        if branch == "APIConnectionError" and error.has("cause") and error.cause is None:
            ledger.problem(f"{name}: e.__cause__ is None; the example prints it")
        if isinstance(step, Answer) and branch == "APIStatusError":
            status = step.status
            carried = error.response_status if error.has("response_status") else status
            if error.status != status or carried != status:
                ledger.problem(f"{name}: the error (e.status_code, e.response) does not carry "
                               f"{status}")
    observe("branches", branches)
    ledger.close(observe)


# -- streams ------------------------------------------------------------------------------------


CHUNK: dict[str, Any] = {
    "id": "chatcmpl-conformance-stream", "object": "chat.completion.chunk",
    "created": 1700000000, "model": "gpt-4o-2024-11-20",
    "choices": [{"index": 0, "delta": {"content": "Paris"}, "finish_reason": None}],
}


@check(
    "errors.stream-connection-reset",
    doc="Python / Error handling (N/A | APIConnectionError); Python / Streaming",
    claim="A connection reset in the middle of a streamed response raises the SDK's connection "
    "error (APIConnectionError) from the iteration, after the chunks that did arrive; a "
    "started stream is not retried.",
    cassette=None,
    refs=("sdk-behavior §2.8 (>= 3.14.0)", "wire §8.1"),
    sdks=ALL_SDKS,
)
def stream_connection_reset(wire: Wire, driver: Driver, observe: Observations) -> None:
    ledger = ErrorLedger(driver)
    reset = actions.event_stream([CHUNK, CHUNK, CHUNK, b"data: [DONE]\n\n"], reset_after=2)
    outcome, attempts = ledger.run(wire, [reset], operation="chat.completions.stream",
                                   params={**CHAT_REQUEST, "stream": True},
                                   options=Options())
    error = outcome.error
    received = observe("chunks_received", len(outcome.events))
    observe("raised", list(classes(error)[:3]))
    observe("kind", _kind(error))
    observe("message", None if error is None else error.message)
    observe("attempts", attempts)
    expect(attempts == 1, f"{driver.sdk} requested the stream {attempts} times")
    expect(received == 2, f"{received} chunk(s) reached the caller before the reset, not 2")
    connection = ledger.policy.actual.connection_error
    if _kind(error) != "connection" and not connection.matches(classes(error)):
        message = (f"a reset mid-stream raised {classes(error)[0]} (kind "
                   f"{_kind(error)!r}), which a catch of the SDK's connection "
                   f"error ({connection}) does not catch")
        if driver.sdk == "python" and not conformance.sdk.has("stream_connection_errors"):
            unsupported(f"{message}; mid-stream transport errors are wrapped from openai "
                        f"{conformance.sdk.CAPABILITIES['stream_connection_errors'].minimum}")
        fail(message)
