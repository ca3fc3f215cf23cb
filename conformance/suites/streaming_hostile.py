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
from conformance.harness import Wire
from conformance.registry import Observations, Unsupported, check, expect, fail
from conformance.sdk import Sdk, has, require_capability
from conformance.wire import Reply, Script, parse_events
from conformance.wire.script import EVENT_STREAM
from conformance.wire.sse import DONE, DONE_EVENT, encode_json

from ._faults import in_process_client
from ._requests import CHAT_MESSAGES, DEPLOYMENT
from .streaming import _same_chunks, doc_loop, stream_helper

DOC = "Python / Chat / chat.completions.create() - streaming"
SEPARATORS = "streaming/chat-line-separators.yaml"
CRLF = "streaming/chat-crlf.yaml"
CR = "streaming/chat-cr.yaml"
BOM_COMMENTS = "streaming/chat-bom-comments.yaml"
ERROR_PAYLOAD = "streaming/chat-error-payload.yaml"
REFS = ("wire §8.1 (text/event-stream)", "WHATWG HTML, Parsing an event stream",
        "sdk-behavior §2.8")
REQUEST = {"model": DEPLOYMENT, "messages": CHAT_MESSAGES, "stream": True}


def _wire_summary(wire: Wire, index: int = -1) -> Any:
    return summarize([(e.name, e.data) for e in parse_events(wire.reply(index).streamed)])


def read_text(wire: Wire, sdk: Sdk, observe: Observations, known: str | None = None,
              *, every_event: bool = True) -> None:
    """The doc's loop prints exactly the wire's text and the SDK yields one chunk per JSON
    event. ``known``: the capability (conformance.sdk.CAPABILITIES) before which the release is
    known to read this stream wrongly; there what it did is observed, and the verdict is
    ``unsupported`` naming the release that reads it right. Without ``every_event`` the
    events the SDK lost are observed (``events_lost``), not judged."""
    with known_misreading(known, observe):
        chunks = list(sdk.client().chat.completions.create(**REQUEST))
        summary = _wire_summary(wire)
        _judge_text(chunks, summary, observe, every_event)
    read_helper_text(wire, sdk, observe, summary.choice(0).text)


@contextmanager
def known_misreading(known: str | None, observe: Observations) -> Iterator[None]:
    """Below the release that has ``known`` (conformance.sdk.CAPABILITIES), a failure inside
    is that release's known misreading: observed as ``error``, then ``unsupported`` naming the
    release. From that release on (or with ``known`` None) it stands."""
    try:
        yield
    except Exception as exc:
        if known is None or has(known):
            raise
        observe("error", f"{type(exc).__name__}: {exc}"[:200])
        require_capability(known)
        raise


def _judge_text(chunks: list[Any], summary: Any, observe: Observations,
                every_event: bool) -> None:
    text = summary.choice(0).text
    printed = "".join(doc_loop(chunks))
    observe("wire_text", text)
    observe("printed", printed)
    observe("sdk_chunks", len(chunks))
    expect(printed == text, f"the doc's loop printed {printed!r}; the wire streamed {text!r}")
    if every_event:
        _same_chunks(chunks, summary)
    else:
        observe("events_lost", len(summary.chunks) - len(chunks))


def read_helper_text(wire: Wire, sdk: Sdk, observe: Observations, text: str) -> None:
    """The stream helper, wherever this release has it, reading the same stream (the reply
    the loop read is served again) yields content.delta events adding up to exactly ``text``,
    and a final completion with it. A release without a helper is observed (``helper``: None);
    one whose helper breaks on Azure's filter chunks (before 1.74.0) has ``helper_error``
    observed; neither changes the loop's verdict."""
    client = sdk.client()
    try:
        place, helper = stream_helper(client)
    except Unsupported:
        observe("helper", None)
        return
    observe("helper", place)
    wire.use(Script([wire.reply(0)], repeat_last=False))
    params = {k: v for k, v in REQUEST.items() if k != "stream"}
    deltas: list[str] = []
    try:
        with helper(**params) as stream:
            deltas.extend(e.delta for e in stream if e.type == "content.delta")
            final = stream.get_final_completion()
    except Exception as exc:
        if has("chat_stream_helper_azure_chunks"):
            raise
        observe("helper_error", f"{type(exc).__name__}: {exc}"[:200])
        return
    observe("helper_text", "".join(deltas))
    expect("".join(deltas) == text, f"the stream helper's content.delta events add up to "
           f"{''.join(deltas)!r}; the wire streamed {text!r}")
    content = final.choices[0].message.content if final.choices else None
    expect(content == text, f"the stream helper's final completion says {content!r}; the "
           f"wire streamed {text!r}")


def _claim(what: str) -> str:
    return (f"A chat stream {what} is read as a standard event stream: the doc's loop prints "
            "exactly the wire's text, the SDK yields one chunk per JSON event, and the stream "
            "helper (client.chat or client.beta.chat, where the release has one) adds up to "
            "the same text.")


LINE_SEPARATORS = ("whose text holds raw U+2028, U+2029 and U+0085 (data, not line ends) and "
                   "2- to 4-byte UTF-8 characters")


@check("streaming.chat-line-separators", doc=DOC, claim=_claim(LINE_SEPARATORS),
       cassette=SEPARATORS, refs=REFS, live=False)
def chat_line_separators(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    read_text(wire, sdk, observe, known="stream_byte_lines")


@check("streaming.chat-crlf-lines", doc=DOC, claim=_claim("whose lines end in CRLF"),
       cassette=CRLF, refs=REFS, live=False)
def chat_crlf_lines(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    read_text(wire, sdk, observe)


@check("streaming.chat-cr-lines", doc=DOC, claim=_claim("whose lines end in CR alone"),
       cassette=CR, refs=REFS, live=False)
def chat_cr_lines(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    read_text(wire, sdk, observe)


BOM_AND_COMMENTS = ("that opens with a UTF-8 BOM (right before its first data line) and "
                    "carries ': ping' comment lines inside and between events")
# openai-python (3.57.0 included) keeps a leading BOM, so it reads a field named U+FEFF data
# and loses the first event, Azure's prompt annotation: the text is right, the loss is
# observed (events_lost) rather than judged.


@check("streaming.chat-bom-comments", doc=DOC, cassette=BOM_COMMENTS, refs=REFS, live=False,
       claim=f"A chat stream {BOM_AND_COMMENTS} is read as a standard event stream as far as "
       "user code can see: the doc's loop and the stream helper (where the release has one) "
       "give exactly the wire's text (an event lost to a kept BOM is observed as "
       "events_lost).")
def chat_bom_comments(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    read_text(wire, sdk, observe, every_event=False)


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
    "any of its bytes included, the doc's loop prints exactly the streamed text.",
    cassette=None,
    refs=("wire §8.1, §8.4 #5 (multi-byte characters split across HTTP chunks)",
          "sdk-behavior §2.8"),
)
def chat_split_characters(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    body = split_stream()
    cuts = character_cuts(body)
    headers = (("content-type", EVENT_STREAM),)
    wire.use(Script([Reply(200, headers, body, chunks=[body[:cut], body[cut:]])
                     for cut in cuts], repeat_last=False))
    # In process: each cut reaches the SDK as two reads, which a socket does not promise.
    client = in_process_client(sdk, wire)
    text = "".join(SPLIT_TEXT)
    wrong: dict[int, str] = {}
    for cut in cuts:
        printed = "".join(doc_loop(client.chat.completions.create(**REQUEST)))
        if printed != text:
            wrong[cut] = printed
    observe("cuts", len(cuts))
    observe("wrong_cuts", sorted(wrong))
    expect(not wrong, f"cut inside a character at byte(s) {sorted(wrong)}, the doc's loop "
           f"printed {next(iter(wrong.values()), '')!r} instead of {text!r}")


# -- an error payload inside a chat stream ---------------------------------------------------

FIXED_MESSAGE = "An error occurred during streaming"  # what releases before 1.13.4 say
OLD_SPELLING = "An error ocurred during streaming"  # what releases before 1.6.0 say


@check(
    "streaming.chat-error-payload",
    doc="Python / Error handling (openai.APIError family); Python / Chat (streaming)",
    claim="A chat stream event whose JSON has a truthy error key makes the SDK raise "
    "openai.APIError (not an APIStatusError: the HTTP status was 200) with the error's message "
    "and the error object as body, after yielding the chunks before it.",
    cassette=ERROR_PAYLOAD,
    refs=("sdk-behavior §2.8 (any JSON payload with a truthy error key raises APIError; the "
          "code path Responses streams share)", "wire §8.1"),
    live=False,  # the cassette forces an answer a resource gives only by chance
)
def chat_error_payload(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    import openai

    received: list[Any] = []
    try:
        for chunk in sdk.client().chat.completions.create(**REQUEST):
            received.append(chunk)
    except openai.APIStatusError as exc:
        fail(f"the SDK raised {type(exc).__name__} (status {exc.status_code}) for an error "
             "inside a 200 stream; sdk-behavior §2.8 says APIError without a status")
    except openai.APIError as exc:
        datas = [e.data for e in parse_events(wire.reply().streamed) if e.data != DONE]
        payloads = [_json(d) for d in datas]
        at = next((n for n, p in enumerate(payloads)
                   if isinstance(p, Mapping) and p.get("error")), None)
        observe("exception", type(exc).__name__)
        observe("message", exc.message)
        observe("chunks_before", len(received))
        if at is None:
            fail(f"the SDK raised {type(exc).__name__} ({exc.message}) but no event on the "
                 "wire has an error key")
        error = payloads[at]["error"]
        expect(getattr(exc, "body", None) == error or not has("error_body"),
               "APIError.body is not the error object of the event")
        expect([c.id for c in received] == [p.get("id") for p in payloads[:at]],
               "the chunks before the error payload were not all yielded")
        message = error.get("message") if isinstance(error, Mapping) else None
        wanted = message or FIXED_MESSAGE
        if exc.message == wanted:
            return
        if not has("stream_error_message"):
            fixed = FIXED_MESSAGE if has("stream_error_spelling") else OLD_SPELLING
            expect(exc.message == fixed, f"APIError.message {exc.message!r} is neither the "
                   f"error's message nor this release's fixed {fixed!r}")
            require_capability("stream_error_message")  # observed above: the fixed text
        fail(f"APIError.message {exc.message!r} is not the error's message {wanted!r}")
    else:
        fail(f"the SDK yielded {len(received)} chunks and raised nothing for an event with a "
             "truthy error key")


def _json(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
