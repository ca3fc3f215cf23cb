"""errors: which exception the SDK raises for each failure, and what it carries.

The doc's claims (Python / Error handling): the error codes table (400 BadRequestError ...
>=500 InternalServerError, N/A APIConnectionError), the fine-tuning example's except clauses,
and, through the JavaScript and .NET tables, 503 and 504. Azure answers errors in four envelope
families (wire §4.2); each is replayed from a cassette built from the reference examples, and
the body is held to the error contract (conformance.contract.errors) before the SDK is judged.
Where the SDK differs from the doc the check names the declared deviation
(conformance.policy) in the ``doc_vs_sdk`` observation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import conformance.sdk
from conformance.clock import VirtualClock
from conformance.contract.errors import CONTENT_FILTER_CODE, family, validate_error
from conformance.harness import Wire
from conformance.policy import Answer, Observed, Options, Step
from conformance.registry import Observations, check, expect, fail, unsupported
from conformance.sdk import Sdk
from conformance.wire import Reply, Script
from conformance.wire import script as actions

from ._faults import (
    COMPLETION,
    CONNECTION,
    REQUEST_ID,
    TIMEOUT,
    Ledger,
    Run,
    answer,
    chat,
    classes_of,
)
from ._recorded import call_recorded

PYTHON_ERRORS = "Python / Error handling (Error codes table)"
NO_RETRIES = Options(max_retries=0)
# Every status in the doc's error tables (Python; 503 and 504 from the JavaScript and .NET
# tables; 502 from the .NET retry list), plus 408 and 409, which the doc's retry lists name.
STATUSES = (400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504)
HTTP_PACKAGES = ("httpx", "httpx2", "httpcore", "httpcore2")


def _module_root(value: object) -> str:
    return type(value).__module__.split(".")[0]


# -- status -> class ------------------------------------------------------------------------


@check(
    "errors.status-classes",
    doc=f"{PYTHON_ERRORS}; JavaScript and .NET / Error handling (503, 504); Python / Retries "
    "(408)",
    claim="Each status of the doc's error tables (400, 401, 403, 404, 422, 429, 500, 503, 504), "
    "502 of the .NET retry list and the retried 408 and 409 raise the documented exception "
    "class, an APIStatusError carrying the status as status_code and x-request-id as "
    "request_id.",
    cassette=None,
    refs=("sdk-behavior §2.5, §8 #7", "wire §4.3"),
)
def status_classes(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    import openai

    ledger = Ledger()
    classes: dict[str, str] = {}
    for status in STATUSES:
        run = ledger.play(f"status {status}", wire, sdk, clock, [answer(status)], NO_RETRIES)
        classes[str(status)] = run.observed.outcome[0]
        err = run.error
        if not isinstance(err, openai.APIStatusError):
            ledger.problem(f"{status}: {classes[str(status)]} is not an APIStatusError, so the "
                           "doc's catch-all `except openai.APIStatusError` misses it")
            continue
        if err.status_code != status:
            ledger.attribute_problem("status_code", f"{status}: status_code is "
                                     f"{err.status_code!r}")
        if (ledger.exposes("request_id", "err.request_id")
                and err.request_id != REQUEST_ID):
            ledger.attribute_problem("request_id", f"{status}: request_id is "
                                     f"{err.request_id!r}, the reply's x-request-id was "
                                     f"{REQUEST_ID!r}")
    observe("classes", classes)
    ledger.close(observe)


# -- failures without a response --------------------------------------------------------------


@check(
    "errors.connection-error",
    doc="Python / Error handling (N/A | APIConnectionError; the fine-tuning example's "
    "e.__cause__)",
    claim="A connection that fails before a complete response (reset before the headers, reset "
    "mid-body, body cut short) raises APIConnectionError, whose __cause__ is the HTTP "
    "library's exception.",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.5, §8 #9",),
)
def connection_error(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger = Ledger()
    completion = actions.reply(200, COMPLETION)
    faults = {
        "reset before headers": actions.reset(),
        "reset mid-body": actions.reset_mid_body(completion, after_chunks=2),
        "body cut short": actions.cut(completion, after_bytes=20),
    }
    causes: dict[str, str] = {}
    for name, fault in faults.items():
        run = ledger.play(name, wire, sdk, clock, [CONNECTION], NO_RETRIES,
                          wire_actions=[fault])
        cause = run.error.__cause__ if run.error is not None else None
        causes[name] = f"{type(cause).__module__}.{type(cause).__name__}" if cause else "none"
        if cause is None or _module_root(cause) not in HTTP_PACKAGES:
            ledger.problem(f"{name}: __cause__ is {causes[name]}, not an exception of the HTTP "
                           "library")
        elif _module_root(cause) == "httpx2":
            ledger.note("python.cause-httpx2")
        if run.error is not None and str(run.error) != "Connection error.":
            ledger.problem(f"{name}: the message is {str(run.error)!r}")
    observe("causes", causes)
    ledger.close(observe)


@check(
    "errors.timeout",
    doc="Python / Error handling (N/A | APIConnectionError)",
    claim="A request that times out raises an APIConnectionError (the doc's except clause "
    "catches it); the SDK raises its subclass APITimeoutError, caused by the HTTP library's "
    "timeout.",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.5, §8 #7",),
)
def timeout(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    import openai

    ledger = Ledger()
    run = ledger.play("read timeout", wire, sdk, clock, [TIMEOUT], NO_RETRIES)
    err = run.error
    observe("class", run.observed.outcome[0])
    observe("cause", f"{type(err.__cause__).__module__}.{type(err.__cause__).__name__}"
            if err is not None and err.__cause__ is not None else None)
    expect(isinstance(err, openai.APIConnectionError),
           f"a timeout raised {run.observed.outcome[0]}, which `except "
           "openai.APIConnectionError` does not catch")
    cause = err.__cause__ if err is not None else None
    expect(cause is not None and "Timeout" in type(cause).__name__
           and _module_root(cause) in HTTP_PACKAGES,
           f"the cause is {cause!r}, not the HTTP library's timeout")
    ledger.close(observe)


# -- envelopes ------------------------------------------------------------------------------


def _replay_errors(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock,
                   expected_family: str) -> tuple[Ledger, list[tuple[Reply, Any]]]:
    """Call once per interaction of the check's cassette (retries off) and hold each error
    body to the contract and each exception to the body; returns the replies and errors."""
    import openai

    if wire.cassette is None:
        pytest.skip("this check replays the error envelopes of its cassette; it has no live "
                    "form (a live endpoint does not answer with each family on demand)")
    ledger = Ledger()
    seen: list[tuple[Reply, Any]] = []
    families: list[str | None] = []
    client = sdk.client(max_retries=0)
    for n in range(len(wire.cassette.interactions)):
        first, before = len(clock.delays), len(wire.requests)
        error: BaseException | None = None
        try:
            call_recorded(client, wire, n, chat)
        except Exception as exc:  # the outcome under test
            error = exc
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
        run = Run(Observed(len(wire.requests) - before, tuple(clock.delays[first:]),
                           classes_of(error)), wire.requests[before:], error)
        # What user code prints and branches on, so a release that changes them shows in diff.
        ledger.judge(name, [Answer(reply.status, tuple(reply.headers))], NO_RETRIES, run,
                     code=getattr(error, "code", None),
                     text=None if error is None else str(error))
        if not isinstance(error, openai.APIStatusError):
            ledger.problem(f"{name}: raised {classes_of(error)[0]}, not an APIStatusError")
            continue
        _compare(ledger, name, reply, body, error)
        seen.append((reply, error))
    observe("families", families)
    return ledger, seen


def _compare(ledger: Ledger, name: str, reply: Reply, body: Any, err: Any) -> None:
    """The exception carries what the body and headers said (wire §4.3, sdk-behavior §2.5)."""
    wrapped = isinstance(body, dict) and isinstance(body.get("error"), dict)
    error = body["error"] if wrapped else body
    expected: dict[str, Any] = {"status_code": reply.status, "body": error,
                                "request_id": reply.header("x-request-id")}
    fields: dict[str, Any] = error if wrapped else {}
    code = fields.get("code")
    if code is not None and conformance.sdk.has("error_code_str"):
        code = str(code)
    expected.update(code=code, param=fields.get("param"), type=fields.get("type"))
    for attribute, value in expected.items():
        if not ledger.exposes(attribute, f"err.{attribute}"):
            continue
        got = getattr(err, attribute, "<missing>")
        if got != value:
            ledger.attribute_problem(attribute, f"{name}: err.{attribute} is {got!r}, the "
                                     f"response says {value!r}")
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, str) and message not in err.message:
        ledger.attribute_problem("message", f"{name}: the body's message is not in "
                                 f"err.message ({err.message!r})")


@check(
    "errors.openai-envelope",
    doc=PYTHON_ERRORS,
    claim="OpenAI-style error bodies (family A: message, type, param, code) raise the table's "
    "class, and the exception exposes status_code, code, param, type, message, the error "
    "object as body, and request_id.",
    refs=("wire §4.2 family A, §4.3", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def openai_envelope(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger, seen = _replay_errors(wire, sdk, observe, clock, "A")
    observe("exposed", [{"status": r.status, "code": e.code, "param": e.param, "type": e.type}
                        for r, e in seen])
    ledger.close(observe)


@check(
    "errors.content-filter",
    doc=f"{PYTHON_ERRORS} (400 | BadRequestError)",
    claim="Azure's content-filter 400 (family B) raises BadRequestError with code "
    "'content_filter' and param 'prompt', and the innererror with its content_filter_result "
    "stays reachable on err.body.",
    refs=("wire §4.2 family B, §4.4, §17 #4", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def content_filter(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    import openai

    ledger, seen = _replay_errors(wire, sdk, observe, clock, "B")
    for reply, err in seen:
        wire_error = json.loads(reply.streamed)["error"]
        inner = wire_error.get("innererror")
        observe("innererror_code", inner.get("code") if isinstance(inner, dict) else None)
        if not isinstance(err, openai.BadRequestError):
            ledger.problem(f"raised {type(err).__name__}, not BadRequestError")
        if ledger.exposes("code", "err.code") and (err.code != CONTENT_FILTER_CODE
                                                   or err.param != "prompt"):
            ledger.attribute_problem("code", f"err.code/param are {err.code!r}/"
                                     f"{err.param!r}, expected 'content_filter'/'prompt'")
        exposed = ledger.exposes("body", "err.body")
        body = err.body if exposed and isinstance(err.body, dict) else {}
        if exposed and inner is not None and body.get("innererror") != inner:
            ledger.attribute_problem("body", "err.body['innererror'] is not the innererror "
                                     "the service sent")
        result = (body.get("innererror") or {}).get("content_filter_result")
        observe("filtered_categories", sorted(k for k, v in (result or {}).items()
                                              if isinstance(v, dict) and v.get("filtered")))
    ledger.close(observe)


@check(
    "errors.azure-envelope",
    doc=PYTHON_ERRORS,
    claim="The Azure gateway's short envelopes (family C: string codes such as '401', "
    "'DeploymentNotFound', '429', no type or param) raise the table's class for 401, 403, 404, "
    "408 and 429, with the string code, the message and status_code exposed.",
    refs=("wire §2.2, §4.2 family C, §4.3", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def azure_envelope(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger, seen = _replay_errors(wire, sdk, observe, clock, "C")
    observe("exposed", [{"status": r.status, "class": type(e).__name__, "code": e.code}
                        for r, e in seen])
    ledger.close(observe)


@check(
    "errors.bare-envelope",
    doc=PYTHON_ERRORS,
    claim="Bodies without an error wrapper (family D: {statusCode, message}) still raise the "
    "table's class; err.body is the whole object, and code, param and type are None.",
    refs=("wire §2.2, §4.2 family D, §4.3", "sdk-behavior §2.5"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def bare_envelope(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    ledger, seen = _replay_errors(wire, sdk, observe, clock, "D")
    observe("exposed", [{"status": r.status, "class": type(e).__name__,
                         "body_keys": sorted(body) if isinstance(
                             body := getattr(e, "body", None), dict) else None}
                        for r, e in seen])
    ledger.close(observe)


@check(
    "errors.non-json-body",
    doc=f"{PYTHON_ERRORS} (>=500 | InternalServerError)",
    claim="A >=500 reply whose body is not an error envelope (a gateway's HTML page, an empty "
    "body, truncated JSON, plain text) still raises InternalServerError with its status_code, "
    "and the body text (stripped) is kept on err.body.",
    cassette=None,
    refs=("wire §4.3 (502/503/504 bodies may be non-JSON)", "sdk-behavior §2.5"),
)
def non_json_body(wire: Wire, sdk: Sdk, observe: Observations, clock: VirtualClock) -> None:
    import openai

    ledger = Ledger()
    replies = {
        "502 html": actions.reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>",
                                  content_type="text/html"),
        "503 empty": actions.reply(503, b""),
        "500 truncated json": actions.malformed_json(500),
        "504 text": actions.reply(504, "upstream request timeout", content_type="text/plain"),
    }
    kept: dict[str, Any] = {}
    for name, reply in replies.items():
        run = ledger.play(name, wire, sdk, clock, [Answer(reply.status)], NO_RETRIES,
                          wire_actions=[reply])
        err = run.error
        if not isinstance(err, openai.InternalServerError):
            ledger.problem(f"{name}: raised {run.observed.outcome[0]}")
            continue
        if err.status_code != reply.status:
            ledger.problem(f"{name}: status_code {err.status_code!r}")
        if not ledger.exposes("body", "err.body"):
            continue
        kept[name] = err.body
        if err.body != reply.body.decode("utf-8").strip():
            ledger.attribute_problem("body", f"{name}: err.body is {err.body!r}, not the "
                                     "body text")
        if err.code is not None:
            ledger.attribute_problem("code", f"{name}: err.code is {err.code!r} for a body "
                                     "with no code")
    observe("bodies_kept", kept)
    ledger.close(observe)


# -- the doc's example --------------------------------------------------------------------------

FINE_TUNING_MODEL = "gpt-4o"
FINE_TUNING_FILE = "file-test"


def _doc_example(client: Any) -> tuple[str, Any]:
    """Python / Error handling, as the doc writes it; returns the branch taken and the error."""
    import openai

    try:
        client.fine_tuning.jobs.create(model=FINE_TUNING_MODEL, training_file=FINE_TUNING_FILE)
    except openai.APIConnectionError as e:
        return "APIConnectionError", e  # "The server could not be reached"; e.__cause__
    except openai.RateLimitError as e:
        return "RateLimitError", e  # "A 429 status code was received; we should back off"
    except openai.APIStatusError as e:
        return "APIStatusError", e  # "Another non-200-range status code"; e.status_code
    return "no error", None


@check(
    "errors.fine-tuning-example",
    doc="Python / Error handling (the client.fine_tuning.jobs.create example)",
    claim="The doc's example sends POST <base>/fine_tuning/jobs {model: 'gpt-4o', "
    "training_file: 'file-test'}; an unreachable server lands in its APIConnectionError branch "
    "with a __cause__, a 429 in its RateLimitError branch, any other error status in its "
    "APIStatusError branch with status_code and response; after the default retries.",
    cassette=None,
    refs=("sdk-behavior §2.1, §2.5", "wire §4.3"),
)
def fine_tuning_example(wire: Wire, sdk: Sdk, observe: Observations,
                        clock: VirtualClock) -> None:
    ledger = Ledger()
    scenarios: list[tuple[str, Step, str]] = [
        ("unreachable", CONNECTION, "APIConnectionError"),
        ("timed out", TIMEOUT, "APIConnectionError"),
        ("rate limited", answer(429), "RateLimitError"),
        ("deployment not found", answer(404), "APIStatusError"),
        ("bad request", answer(400), "APIStatusError"),
        ("server error", answer(500), "APIStatusError"),
        ("conflict", answer(409), "APIStatusError"),
    ]
    branches: dict[str, str] = {}
    for name, step, branch in scenarios:
        taken: list[str] = []

        def call(client: Any, taken: list[str] = taken) -> Any:
            branch_taken, error = _doc_example(client)
            taken.append(branch_taken)
            if error is not None:
                raise error
            return None

        run = ledger.play(name, wire, sdk, clock, [step], Options(), call=call)
        branches[name] = taken[0] if taken else "none"
        if branches[name] != branch:
            ledger.problem(f"{name}: the example took its {branches[name]} branch, not "
                           f"{branch}")
        _example_request(ledger, name, run)
        err: Any = run.error
        if branch == "APIConnectionError" and (err is None or err.__cause__ is None):
            ledger.problem(f"{name}: e.__cause__ is None; the example prints it")
        if isinstance(step, Answer) and branch == "APIStatusError" and err is not None:
            status = step.status
            if err.status_code != status or err.response.status_code != status:
                ledger.problem(f"{name}: e.status_code/e.response do not carry {status}")
    observe("branches", branches)
    ledger.close(observe)


def _example_request(ledger: Ledger, name: str, run: Run) -> None:
    for request in run.requests:
        body = request.json()
        if (request.method, request.path) != ("POST", "/openai/v1/fine_tuning/jobs") or body != {
            "model": FINE_TUNING_MODEL, "training_file": FINE_TUNING_FILE
        }:
            ledger.problem(f"{name}: the example sent {request.describe()} {body!r}")
            return


# -- streams ------------------------------------------------------------------------------------


CHUNK: dict[str, Any] = {
    "id": "chatcmpl-conformance-stream", "object": "chat.completion.chunk",
    "created": 1700000000, "model": "gpt-4o-2024-11-20",
    "choices": [{"index": 0, "delta": {"content": "Paris"}, "finish_reason": None}],
}


@check(
    "errors.stream-connection-reset",
    doc="Python / Error handling (N/A | APIConnectionError); Python / Streaming",
    claim="A connection reset in the middle of a streamed response raises APIConnectionError "
    "from the iteration, after the chunks that did arrive; a started stream is not retried.",
    cassette=None,
    refs=("sdk-behavior §2.8 (>= 3.14.0)", "wire §8.1"),
)
def stream_connection_reset(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    import openai

    from ._requests import CHAT_MESSAGES, DEPLOYMENT

    wire.use(Script([actions.event_stream([CHUNK, CHUNK, CHUNK, b"data: [DONE]\n\n"],
                                          reset_after=2)]))
    received = 0
    error: BaseException | None = None
    try:
        stream = sdk.client().chat.completions.create(
            model=DEPLOYMENT, messages=CHAT_MESSAGES, stream=True)
        for _ in stream:
            received += 1
    except Exception as exc:  # the outcome under test
        error = exc
    observe("chunks_received", received)
    observe("raised", list(classes_of(error)[:3]))
    observe("attempts", len(wire.requests))
    expect(len(wire.requests) == 1, f"the stream was requested {len(wire.requests)} times")
    expect(received == 2, f"{received} chunk(s) reached the caller before the reset, not 2")
    if not isinstance(error, openai.APIConnectionError):
        message = (f"a reset mid-stream raised {classes_of(error)[0]}, which the doc's `except "
                   "openai.APIConnectionError` does not catch")
        if not conformance.sdk.has("stream_connection_errors"):
            unsupported(f"{message}; mid-stream transport errors are wrapped from openai "
                        f"{conformance.sdk.CAPABILITIES['stream_connection_errors'].minimum}")
        fail(message)
