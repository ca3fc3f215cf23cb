"""streaming (chat): bytes that broke real SSE readers, and an error payload inside a chat stream.

The streams are the doc's sample answered with what a standard event stream may carry and a
careless reader gets wrong: raw U+2028, U+2029 and U+0085 in the text (``str.splitlines`` ends a
line at each), CRLF and CR-only line endings, a leading BOM, comment lines, and events cut
inside a multi-byte character. Each is judged on the text user code reads: the doc's loop over
``create(stream=True)`` and, where the release has it, the stream helper; both against the text
the wire's events carry as a standard parser reads them (:mod:`conformance.wire.sse`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from conformance.contract.chat_stream import summarize
from conformance.drivers.outcome import DriverOutcome, ErrorView
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, Unsupported, check, expect, fail
from conformance.sdk import has, require_capability
from conformance.wire import Reply, Script, parse_events
from conformance.wire.script import EVENT_STREAM
from conformance.wire.sse import DONE, DONE_EVENT, encode_json

from ._requests import CHAT_MESSAGES, DEPLOYMENT
from ._scenario import no_error, scenario
from .streaming import HELPER, STREAM, pieces, printed, same_chunks

DOC = ("Python / Chat / chat.completions.create() - streaming; JavaScript / Streaming; Go and "
       "Java / the streaming samples")
SEPARATORS = "streaming/chat-line-separators.yaml"
CRLF = "streaming/chat-crlf.yaml"
CR = "streaming/chat-cr.yaml"
BOM_COMMENTS = "streaming/chat-bom-comments.yaml"
ERROR_PAYLOAD = "streaming/chat-error-payload.yaml"
REFS = ("wire §8.1 (text/event-stream)", "WHATWG HTML, Parsing an event stream",
        "sdk-behavior §2.8")
REQUEST = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES}


def _wire_summary(wire: Wire, index: int = -1) -> Any:
    return summarize([(e.name, e.data) for e in parse_events(wire.reply(index).streamed)])


def read_text(wire: Wire, driver: Driver, observe: Observations, known: str | None = None,
              *, every_event: bool = True) -> None:
    """The SDK's loop prints exactly the wire's text and the SDK yields one chunk per JSON
    event. ``known`` (openai-python only): the capability (conformance.sdk.CAPABILITIES)
    before which the release is known to read this stream wrongly; there what it did is
    observed, and the verdict is ``unsupported`` naming the release that reads it right.
    Without ``every_event`` the events the SDK lost are observed (``events_lost``), not
    judged."""
    with known_misreading(driver.sdk, known, observe):
        outcome = driver.run(scenario(wire, STREAM, REQUEST))
        no_error(outcome, driver.sdk)
        summary = _wire_summary(wire)
        _judge_text(outcome, summary, observe, every_event, driver.sdk)
    read_helper_text(wire, driver, observe, summary.choice(0).text)


@contextmanager
def known_misreading(sdk: str, known: str | None, observe: Observations) -> Iterator[None]:
    """For openai-python below the release that has ``known`` (conformance.sdk.CAPABILITIES),
    a failure inside is that release's known misreading: observed as ``error``, then
    ``unsupported`` naming the release. From that release on, for another SDK (or with
    ``known`` None) it stands."""
    try:
        yield
    except Exception as exc:
        if sdk != "python" or known is None or has(known):
            raise
        observe("error", f"{type(exc).__name__}: {exc}"[:200])
        require_capability(known)
        raise


def _judge_text(outcome: DriverOutcome, summary: Any, observe: Observations,
                every_event: bool, sdk: str) -> None:
    text = summary.choice(0).text
    got = printed(outcome)
    observe("wire_text", text)
    observe("printed", got)
    observe("sdk_chunks", len(outcome.events))
    expect(got == text, f"{sdk}'s loop printed {got!r}; the wire streamed {text!r}")
    if every_event:
        same_chunks(outcome.events, summary, sdk)
    else:
        observe("events_lost", len(summary.chunks) - len(outcome.events))


def read_helper_text(wire: Wire, driver: Driver, observe: Observations, text: str) -> None:
    """The SDK's stream helper (``chat.completions.stream_helper``) reading the same stream
    (the reply the loop read is served again) gives exactly ``text``, and a final completion
    with it. An SDK or release without a helper is observed (``helper``: None); openai-python's
    helper that breaks on Azure's filter chunks (before 1.74.0) has ``helper_error`` observed;
    neither changes the loop's verdict."""
    wire.use(Script([wire.reply(0)], repeat_last=False))
    try:
        outcome = driver.run(scenario(wire, HELPER, REQUEST))
    except Unsupported:
        observe("helper", None)
        return
    observe("helper", outcome.read.helper)
    error = outcome.error
    if error is not None and driver.sdk == "python" and not has(
            "chat_stream_helper_azure_chunks"):
        observe("helper_error", f"{error.class_name}: {error.message}"[:200])
        return
    no_error(outcome, driver.sdk)
    deltas = observe("helper_text", printed(outcome))
    expect(deltas == text, f"{driver.sdk}'s stream helper's content.delta events add up to "
           f"{deltas!r}; the wire streamed {text!r}")
    content = outcome.read.content
    expect(content == text, f"{driver.sdk}'s stream helper's final completion says "
           f"{content!r}; the wire streamed {text!r}")


def _claim(what: str) -> str:
    return (f"A chat stream {what} is read as a standard event stream: the SDK's streaming "
            "loop prints exactly the wire's text, the SDK yields one chunk per JSON event, and "
            "the SDK's stream helper (client.chat.completions.stream, client.beta.chat in older "
            "openai-python, ChatCompletionAccumulator in Go and Java) adds up to the same "
            "text.")


LINE_SEPARATORS = ("whose text holds raw U+2028, U+2029 and U+0085 (data, not line ends) and "
                   "2- to 4-byte UTF-8 characters")


@check("streaming.chat-line-separators", doc=DOC, claim=_claim(LINE_SEPARATORS),
       cassette=SEPARATORS, refs=REFS, live=False, sdks=ALL_SDKS)
def chat_line_separators(wire: Wire, driver: Driver, observe: Observations) -> None:
    read_text(wire, driver, observe, known="stream_byte_lines")


@check("streaming.chat-crlf-lines", doc=DOC, claim=_claim("whose lines end in CRLF"),
       cassette=CRLF, refs=REFS, live=False, sdks=ALL_SDKS)
def chat_crlf_lines(wire: Wire, driver: Driver, observe: Observations) -> None:
    read_text(wire, driver, observe)


@check("streaming.chat-cr-lines", doc=DOC, claim=_claim("whose lines end in CR alone"),
       cassette=CR, refs=REFS, live=False, sdks=ALL_SDKS)
def chat_cr_lines(wire: Wire, driver: Driver, observe: Observations) -> None:
    read_text(wire, driver, observe)


BOM_AND_COMMENTS = ("that opens with a UTF-8 BOM (right before its first data line) and "
                    "carries ': ping' comment lines inside and between events")
# openai-python (3.57.0 included) keeps a leading BOM, so it reads a field named U+FEFF data
# and loses the first event, Azure's prompt annotation: the text is right, the loss is
# observed (events_lost) rather than judged.


@check("streaming.chat-bom-comments", doc=DOC, cassette=BOM_COMMENTS, refs=REFS, live=False,
       claim=f"A chat stream {BOM_AND_COMMENTS} is read as a standard event stream as far as "
       "user code can see: the SDK's streaming loop and its stream helper (where it has one) "
       "give exactly the wire's text (an event lost to a kept BOM is observed as "
       "events_lost).", sdks=ALL_SDKS)
def chat_bom_comments(wire: Wire, driver: Driver, observe: Observations) -> None:
    read_text(wire, driver, observe, every_event=False)


# -- an event cut inside a multi-byte character, at every position ---------------------------

SPLIT_TEXT = ("Zü", "rich € 😀", " ok")  # 2-, 3- and 4-byte characters


def split_stream() -> bytes:
    """A minimal chat stream carrying SPLIT_TEXT, one piece per chunk, raw UTF-8."""
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-split", "object": "chat.completion.chunk", "created": 0,
                "model": DEPLOYMENT, "choices": [{"index": 0, "delta": delta,
                                                  "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in SPLIT_TEXT]
    events.append(chunk({}, "stop"))
    return b"".join(encode_json(e, ensure_ascii=False) for e in events) + DONE_EVENT


def character_cuts(body: bytes) -> list[int]:
    """Every offset that falls inside a multi-byte UTF-8 character of ``body``."""
    return [n for n in range(1, len(body)) if body[n] & 0xC0 == 0x80]


@check(
    "streaming.chat-split-characters",
    doc=DOC,
    claim="However a chat stream is cut into reads, inside any multi-byte UTF-8 character at "
    "any of its bytes included, the SDK's streaming loop prints exactly the streamed text.",
    cassette=None,
    refs=("wire §8.1, §8.4 #5 (multi-byte characters split across HTTP chunks)",
          "sdk-behavior §2.8"),
    sdks=ALL_SDKS,
)
def chat_split_characters(wire: Wire, driver: Driver, observe: Observations) -> None:
    body = split_stream()
    cuts = character_cuts(body)
    headers = (("content-type", EVENT_STREAM),)
    # Each cut is two HTTP chunks (chunked transfer-encoding): the SDK's HTTP stack hands them
    # over as separate reads (a cut it gets whole is still a stream it must read right).
    wire.use(Script([Reply(200, headers, body, chunks=[body[:cut], body[cut:]])
                     for cut in cuts], repeat_last=False))
    text = "".join(SPLIT_TEXT)
    wrong: dict[int, str] = {}
    for cut in cuts:
        outcome = driver.run(scenario(wire, STREAM, REQUEST))
        no_error(outcome, driver.sdk)
        if printed(outcome) != text or "".join(pieces(outcome.events)) != text:
            wrong[cut] = printed(outcome)
    observe("cuts", len(cuts))
    observe("wrong_cuts", sorted(wrong))
    expect(not wrong, f"cut inside a character at byte(s) {sorted(wrong)}, {driver.sdk}'s loop "
           f"printed {next(iter(wrong.values()), '')!r} instead of {text!r}")


# -- an error payload inside a chat stream ---------------------------------------------------

FIXED_MESSAGE = "An error occurred during streaming"  # what releases before 1.13.4 say
OLD_SPELLING = "An error ocurred during streaming"  # what releases before 1.6.0 say


@check(
    "streaming.chat-error-payload",
    doc="Python / Error handling (openai.APIError family); Python / Chat (streaming)",
    claim="A chat stream event whose JSON has a truthy error key makes the SDK raise its "
    "stream error (openai-python: openai.APIError, not an APIStatusError: the HTTP status was "
    "200; with the error object as body) carrying the error's message, after yielding the "
    "chunks before it.",
    cassette=ERROR_PAYLOAD,
    refs=("sdk-behavior §2.8 (any JSON payload with a truthy error key raises APIError; the "
          "code path Responses streams share)", "wire §8.1"),
    live=False,  # the cassette forces an answer a resource gives only by chance
    sdks=ALL_SDKS,
)
def chat_error_payload(wire: Wire, driver: Driver, observe: Observations) -> None:
    outcome = driver.run(scenario(wire, STREAM, REQUEST))
    received = outcome.events
    error = outcome.error
    if error is None:
        fail(f"{driver.sdk} yielded {len(received)} chunks and raised nothing for an event "
             "with a truthy error key")
    status = error.status
    if error.kind == "status" or (isinstance(status, int) and status >= 400):
        fail(f"{driver.sdk} raised {error.class_name} (status {status}) for an error inside "
             "a 200 stream; sdk-behavior §2.8 says a stream error without an error status")
    datas = [e.data for e in parse_events(wire.reply().streamed) if e.data != DONE]
    payloads = [_json(d) for d in datas]
    at = next((n for n, p in enumerate(payloads)
               if isinstance(p, Mapping) and p.get("error")), None)
    message = str(error.message)
    observe("exception", error.class_name)
    observe("kind", error.kind)
    observe("message", message)
    observe("chunks_before", len(received))
    if at is None:
        fail(f"{driver.sdk} raised {error.class_name} ({message}) but no event on the wire "
             "has an error key")
    wire_error = payloads[at]["error"]
    expect([c.get("id") for c in received] == [p.get("id") for p in payloads[:at]],
           f"the chunks before the error payload were not all yielded by {driver.sdk}")
    said = wire_error.get("message") if isinstance(wire_error, Mapping) else None
    if driver.sdk != "python":
        expect(said is None or said in message,
               f"{driver.sdk}'s stream error says {message!r}, not the error's message "
               f"{said!r}")
        return
    _python_error_payload(outcome, error, wire_error, said)


def _python_error_payload(outcome: DriverOutcome, error: ErrorView,
                          wire_error: Any, said: str | None) -> None:
    """openai-python, judged as deeply as ever: APIError, its body, and the message each
    release gives (a fixed text before 1.13.4, misspelt before 1.6.0)."""
    expect(error.class_name == "APIError" or "APIError" in (error.bases or []),
           f"python raised {error.class_name}, not an openai.APIError")
    expect(outcome.error_body == wire_error or not has("error_body"),
           "APIError.body is not the error object of the event")
    message = error.message
    wanted = said or FIXED_MESSAGE
    if message == wanted:
        return
    if not has("stream_error_message"):
        fixed = FIXED_MESSAGE if has("stream_error_spelling") else OLD_SPELLING
        expect(message == fixed, f"APIError.message {message!r} is neither the error's "
               f"message nor this release's fixed {fixed!r}")
        require_capability("stream_error_message")  # observed above: the fixed text
    fail(f"APIError.message {message!r} is not the error's message {wanted!r}")


def _json(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
