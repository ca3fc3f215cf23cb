"""Server-sent events: the one parser and encoder of the project, and the cutting of a recorded
stream into the chunks the wire server sends.

Everything that reads an event stream (the checks, the usage counter, the cassette validator)
reads it with :func:`parse_events` (:class:`Decoder`), so the harness sees exactly the events a
standard client sees; everything that writes one builds it with :func:`encode_event`.

vcrpy stores a whole event stream as one body string and replays it as one chunk, so a parser
that mishandles an event split across reads is never exercised. The wire server instead sends
the recorded bytes unchanged, but cut into chunks by a :class:`Chunking` policy.
"""

from __future__ import annotations

import codecs
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

# An event ends at the first blank line: two line terminators in a row, any of CR, LF, CRLF
# (WHATWG HTML, "Parsing an event stream").
_EVENT_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def is_event_stream(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == (
        "text/event-stream"
    )


def split_events(body: bytes) -> list[bytes]:
    """Cut ``body`` after each event terminator. The pieces concatenate back to ``body``."""
    pieces: list[bytes] = []
    start = 0
    for match in _EVENT_END.finditer(body):
        pieces.append(body[start : match.end()])
        start = match.end()
    if start < len(body):
        pieces.append(body[start:])
    return pieces


@dataclass(frozen=True)
class Event:
    """One dispatched event: its type (``event:``; None when the field was absent or empty, which
    a browser calls ``message``), its data (the ``data:`` lines joined by LF) and the last event
    ID in force when it was dispatched (``""`` when none was set)."""

    name: str | None
    data: str
    id: str = ""

    def json(self) -> Any:
        return json.loads(self.data)


class InvalidUtf8(ValueError):
    """A stream that is not UTF-8 (only from ``strict`` parsing): ``event`` is the position the
    event holding the bad bytes would have (how many events were dispatched before them),
    ``offset`` the index of the first bad byte in the body."""

    def __init__(self, event: int, offset: int, reason: str) -> None:
        super().__init__(f"event {event} is not UTF-8 (byte {offset:,}: {reason})")
        self.event = event
        self.offset = offset


# The only line terminators of an event stream. Not str.splitlines, which also ends lines at
# U+2028, U+2029, U+0085, VT, FF and the C1/FS..RS controls, all of which are data.
_EOL = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"[0-9]+")
DONE = "[DONE]"  # the data of the event that ends a chat completion stream (not JSON)


class Decoder:
    """The WHATWG HTML event stream interpretation (section "Server-sent events", "Parsing an
    event stream" and "Interpreting an event stream"), fed bytes in pieces of any size.

    Hand-rolled because no well-kept library does exactly this on recorded bytes: httpx-sse
    (0.4.3) parses lines from an ``httpx.Response`` only (its decoder class is private), and
    departs from the standard where a conformance harness must not: it dispatches an event
    whose data buffer is empty (``event: x`` then a blank line), keeps a leading BOM (so the
    first field name is U+FEFF followed by ``data`` and the first event is lost) and reads
    ``retry:`` with ``int()`` (so ``+5`` and non-ASCII digits count). This project also needs
    what no client exposes: strict UTF-8 that names the event holding a bad byte.
    tests/test_wire_sse.py holds the standard's own examples and property tests of every rule
    below.

    - bytes are decoded as UTF-8 (``errors="replace"``: U+FFFD, as the standard says; with
      ``strict=True`` a bad byte raises :class:`InvalidUtf8` instead, for validators); one
      leading U+FEFF (BOM) is dropped;
    - lines end at CRLF, LF or CR, and at nothing else (a CRLF split across pieces is one
      terminator);
    - a line starting with ``:`` is a comment; otherwise the field name is what precedes the
      first ``:`` (the whole line when there is none) and one leading space of the value is
      dropped;
    - ``data`` appends the value and LF to the data buffer, ``event`` sets the event type,
      ``id`` sets the last event ID unless the value holds NUL, ``retry`` sets the
      reconnection time (:attr:`retry`) when the value is ASCII digits only; other fields are
      ignored;
    - a blank line dispatches the event, unless the data buffer is empty (then the data and
      type buffers are only reset); the data's final LF is removed; the last event ID is kept
      for later events;
    - at the end of the stream an unfinished event (no blank line after it) is discarded.
    """

    def __init__(self, *, strict: bool = False) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")("strict" if strict else "replace")
        self._consumed = 0  # bytes fed before the current piece (for InvalidUtf8.offset)
        self._dispatched = 0
        self._started = False  # the first character (a BOM or not) has been seen
        self._skip_lf = False  # the last piece ended in CR: a LF starting the next is its pair
        self._line: list[str] = []  # the unfinished line
        self._data: list[str] = []
        self._type = ""
        self._last_id = ""
        self.retry: int | None = None  # the reconnection time the stream set, in milliseconds

    def feed(self, piece: bytes) -> list[Event]:
        """The events that ``piece`` completes."""
        return self._lines(self._decode(piece, final=False))

    def end(self) -> list[Event]:
        """The end of the stream: events completed by the last bytes; an unfinished event is
        discarded."""
        events = self._lines(self._decode(b"", final=True))
        self._line, self._data, self._type = [], [], ""
        return events

    def _decode(self, piece: bytes, *, final: bool) -> str:
        try:
            text = self._text.decode(piece, final)
        except UnicodeDecodeError as exc:  # exc.start counts from the bytes held back before
            held = self._text.getstate()[0]
            good = (held + piece)[: exc.start]
            raise InvalidUtf8(self._dispatched + self._completed(good),
                              self._consumed - len(held) + exc.start, exc.reason) from None
        self._consumed += len(piece)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        return text

    def _completed(self, good: bytes) -> int:
        """How many events the valid bytes ``good`` (from where the last piece left off)
        complete."""
        probe = Decoder()
        probe._started, probe._skip_lf = self._started, self._skip_lf
        probe._line, probe._data = list(self._line), list(self._data)
        probe._type = self._type
        return len(probe.feed(good))

    def _lines(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._skip_lf and text:
            self._skip_lf = False
            text = text.removeprefix("\n")
        start = 0
        for match in _EOL.finditer(text):
            self._line.append(text[start : match.start()])
            line = "".join(self._line)
            self._line = []
            start = match.end()
            if match.group() == "\r" and start == len(text):
                self._skip_lf = True
            event = self._interpret(line)
            if event is not None:
                events.append(event)
        if start < len(text):
            self._line.append(text[start:])
        return events

    def _interpret(self, line: str) -> Event | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon:
            value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._type = value
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
        elif field == "retry" and _DIGITS.fullmatch(value):
            self.retry = int(value)
        return None

    def _dispatch(self) -> Event | None:
        data, name = self._data, self._type
        self._data, self._type = [], ""
        if not data:
            return None
        self._dispatched += 1
        return Event(name or None, "\n".join(data), self._last_id)


def parse_events(body: bytes, *, strict: bool = False) -> list[Event]:
    """The events of a whole stream, as :class:`Decoder` reads them: an unfinished last event
    is dropped, invalid UTF-8 becomes U+FFFD (``strict``: raises :class:`InvalidUtf8`)."""
    decoder = Decoder(strict=strict)
    return decoder.feed(body) + decoder.end()


def json_payloads(body: bytes) -> list[Any]:
    """The JSON ``data`` of each event, in order (``[DONE]`` left out)."""
    return [event.json() for event in parse_events(body) if event.data != DONE]


def encode_event(data: str, *, name: str | None = None, id: str | None = None,
                 retry: int | None = None, newline: str = "\n") -> bytes:
    """One event as UTF-8 bytes: ``event:``, ``id:``, ``retry:`` when given, one ``data:``
    line per line of ``data``, then a blank line; every line ended by ``newline`` (LF, CRLF or
    CR). Raises ValueError for what no event stream can carry (a CR in ``data``; CR or LF in
    ``name`` or ``id``; NUL in ``id``)."""
    if newline not in ("\n", "\r\n", "\r"):
        raise ValueError(f"an event stream ends lines with LF, CRLF or CR, not {newline!r}")
    if "\r" in data:
        raise ValueError("event data cannot hold CR: it would end the line")
    lines = []
    for field, value in (("event", name), ("id", id)):
        if value is not None:
            if "\r" in value or "\n" in value or (field == "id" and "\0" in value):
                raise ValueError(f"an event's {field} cannot hold CR, LF or NUL: {value!r}")
            lines.append(f"{field}: {value}")
    if retry is not None:
        if retry < 0:
            raise ValueError(f"retry is a number of milliseconds, not {retry}")
        lines.append(f"retry: {retry}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return (newline.join(lines) + newline + newline).encode("utf-8")


def encode_json(value: Any, *, name: str | None = None, ensure_ascii: bool = True,
                sort_keys: bool = False) -> bytes:
    """One event whose data is ``value`` as compact JSON (``data: {...}``, a blank line),
    named ``name`` when given."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii,
                      sort_keys=sort_keys)
    return encode_event(text, name=name)


DONE_EVENT = encode_event(DONE)  # how a chat completion stream ends


def edit_json_data(body: bytes, edit: Callable[[Any], object]) -> bytes:
    """``body`` (an event stream) with ``edit`` applied to each JSON object in a one-line
    ``data:`` field; a field ``edit`` changed (it returns true) is written again as compact
    JSON, every other line byte for byte (framing, names, ``[DONE]``, data that is not JSON).
    One re-encoder for what edits a recorded stream (the stand-in, the tests' fake resource)."""
    lines = body.split(b"\n")
    for n, line in enumerate(lines):
        if not line.startswith(b"data:"):
            continue
        text = line[5:].removeprefix(b" ")
        ending = b"\r" if text.endswith(b"\r") else b""
        try:
            value = json.loads(text.removesuffix(b"\r"))
        except ValueError:
            continue
        if isinstance(value, dict) and edit(value):
            lines[n] = b"data: " + json.dumps(value, separators=(",", ":")).encode() + ending
    return b"\n".join(lines)


@dataclass(frozen=True)
class Chunking:
    """How an event stream is cut into HTTP chunks.

    - ``event``: one event per chunk, the recorded framing (the default);
    - ``whole``: the whole stream in one chunk, as vcrpy replays it;
    - ``random:SEED``: cuts at pseudo-random byte offsets, ignoring event boundaries, so
      events (and multi-byte characters) are split across chunks;
    - ``fixed:N``: chunks of N bytes.
    """

    mode: Literal["event", "whole", "random", "fixed"] = "event"
    value: int = 0

    @classmethod
    def parse(cls, text: str) -> Chunking:
        mode, _, arg = text.partition(":")
        if mode in ("event", "whole") and not arg:
            return cls(mode)  # type: ignore[arg-type]  # narrowed by the membership test
        if mode in ("random", "fixed") and arg.isdigit():
            if mode == "fixed" and int(arg) < 1:
                raise ValueError("fixed chunk size must be at least 1")
            return cls(mode, int(arg))  # type: ignore[arg-type]  # narrowed as above
        raise ValueError(
            f"unknown SSE chunking {text!r}: use event, whole, random:SEED or fixed:BYTES"
        )

    def __str__(self) -> str:
        return self.mode if self.mode in ("event", "whole") else f"{self.mode}:{self.value}"

    def split(self, body: bytes) -> list[bytes]:
        if not body:
            return []
        if self.mode == "whole":
            return [body]
        if self.mode == "event":
            return split_events(body)
        if self.mode == "fixed":
            return [body[i : i + self.value] for i in range(0, len(body), self.value)]
        return list(_random_cuts(body, random.Random(self.value)))


def _random_cuts(body: bytes, rng: random.Random) -> Iterator[bytes]:
    start = 0
    while start < len(body):
        # Mostly small pieces, so event terminators and UTF-8 sequences get split.
        size = rng.choice((1, 2, 3, 5, 8, 13, 40, 120))
        yield body[start : start + size]
        start += size
