"""Chat streams whose bytes broke real SSE readers: line separators inside the text, CRLF and
CR-only line endings, a leading BOM, comment lines; and a chat stream that ends in an error
payload.

Each is the reference buffered stream (``chat-stream.azure.sse``: prompt-annotation chunk, role
chunk, content chunks, finish chunk) without its usage chunk, so the request is the doc's
sample as written (no ``stream_options``). Only the text of the content chunks and the framing
change; every event is written with :func:`conformance.wire.sse.encode_event`.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.suites._requests import CHAT_MESSAGES
from conformance.wire import Cassette, parse_events
from conformance.wire.sse import DONE, encode_event

from .common import CASSETTES, constructed, example, example_bytes, source
from .streaming import HEADER_NOTE, stream_reply, stream_request

REFERENCE = "chat-stream.azure.sse"

# Raw U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR and U+0085 NEXT LINE inside the text (a
# reader that splits lines with str.splitlines() ends a line at each), and characters of two,
# three and four UTF-8 bytes.
SEPARATOR_PIECES = ["The", " capital\u2028of", " France\u2029is", " **Paris**\u0085",
                    " (Zürich", " costs €", " 😀)."]
PLAIN_PIECES = ["The", " capital", " of", " France", " is", " **Paris**", " (Zürich €😀)."]


def _payloads(pieces: list[str]) -> list[dict[str, Any]]:
    """The reference stream's chunks, the usage chunk dropped, the content pieces replaced."""
    events = [e.data for e in parse_events(example_bytes(REFERENCE)) if e.data != DONE]
    chunks = [json.loads(data) for data in events]
    head = [c for c in chunks[:2]]  # the prompt-annotation chunk and the role chunk
    content = [c for c in chunks if c["choices"] and "content" in c["choices"][0]["delta"]
               and c["choices"][0]["delta"]["content"]]
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    template = content[0]
    body = []
    for piece in pieces:
        chunk = json.loads(json.dumps(template))
        chunk["choices"][0]["delta"]["content"] = piece
        body.append(chunk)
    return [*head, *body, *finish]


def stream_bytes(pieces: list[str], *, newline: str = "\n", bom: bool = False,
                 comments: bool = False) -> bytes:
    """The stream: one ``data:`` event per chunk, then ``data: [DONE]``; lines ended by
    ``newline``; with ``bom`` a U+FEFF right before the first ``data:`` line (a reader that
    keeps it reads a field named U+FEFF data and loses the first event); with ``comments`` a
    ``: ping`` comment line inside every later event (before its data line) and a comment
    alone between events."""
    out = [b"\xef\xbb\xbf"] if bom else []
    datas = [json.dumps(p, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
             for p in _payloads(pieces)] + [DONE]
    for n, data in enumerate(datas):
        event = encode_event(data, newline=newline)
        if comments and n:
            event = (f": ping {n}{newline}".encode() + event
                     + f": keep-alive{newline}{newline}".encode())
        out.append(event)
    return b"".join(out)


def _cassette(name: str, body: bytes, apim: str, what: str, note: str) -> Cassette:
    return Cassette(
        CASSETTES / "streaming" / f"{name}.yaml",
        [stream_reply(stream_request(CHAT_MESSAGES), body, apim)],
        constructed(
            f"the doc's streaming sample (stream=True); {what}",
            source(REFERENCE, "chunks copied (usage chunk dropped); " + note),
            built="scripts/cassettes/streaming_hostile.py",
            headers=HEADER_NOTE,
        ),
    )


def chat_line_separators() -> Cassette:
    return _cassette(
        "chat-line-separators", stream_bytes(SEPARATOR_PIECES),
        "00000000-0000-0000-0000-000000000021",
        "the text holds raw U+2028, U+2029 and U+0085 and 2-, 3- and 4-byte UTF-8 characters",
        "content pieces replaced, written as raw UTF-8 (JSON ensure_ascii off)",
    )


def chat_crlf() -> Cassette:
    return _cassette(
        "chat-crlf", stream_bytes(PLAIN_PIECES, newline="\r\n"),
        "00000000-0000-0000-0000-000000000022",
        "every line ended by CRLF", "content pieces replaced; lines ended by CRLF",
    )


def chat_cr() -> Cassette:
    return _cassette(
        "chat-cr", stream_bytes(PLAIN_PIECES, newline="\r"),
        "00000000-0000-0000-0000-000000000023",
        "every line ended by CR alone", "content pieces replaced; lines ended by CR only",
    )


def chat_bom_comments() -> Cassette:
    return _cassette(
        "chat-bom-comments", stream_bytes(PLAIN_PIECES, bom=True, comments=True),
        "00000000-0000-0000-0000-000000000024",
        "the stream opens with a UTF-8 BOM and carries ': ping' comment lines",
        "content pieces replaced; a BOM first, comment lines inside and between events",
    )


def chat_error_payload() -> Cassette:
    """Two content chunks, then the JSON error envelope of a 500 as an event; no [DONE]."""
    chunks = _payloads(PLAIN_PIECES)[:4]
    error = example("error-500-server-error.json")["body"]
    body = b"".join(encode_event(json.dumps(c, separators=(",", ":"), ensure_ascii=False,
                                            sort_keys=True)) for c in [*chunks, error])
    cassette = _cassette(
        "chat-error-payload", body, "00000000-0000-0000-0000-000000000025",
        "the stream breaks off after two content chunks with an error event",
        "first four chunks (prompt annotation, role, two content pieces), then "
        "tests/corpus/reference/error-500-server-error.json's body as an event's data",
    )
    # The fault on purpose: a data event that is no chunk, no finish_reason, no [DONE].
    cassette.metadata["violates"] = VIOLATES
    return cassette


VIOLATES = ["chat-stream.chunk", "chat-stream.done", "chat-stream.finish-reason"]
BUILDERS = [chat_line_separators, chat_crlf, chat_cr, chat_bom_comments, chat_error_payload]
