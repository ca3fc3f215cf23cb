"""Server-sent events: splitting a recorded stream into the chunks the wire server sends.

vcrpy stores a whole event stream as one body string and replays it as one chunk, so a parser
that mishandles an event split across reads is never exercised. The wire server instead sends
the recorded bytes unchanged, but cut into chunks by a :class:`Chunking` policy.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
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
    """One parsed event: its ``event:`` name (if any) and its joined ``data:`` lines."""

    name: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse_events(body: bytes) -> list[Event]:
    """Parse an event stream the way the WHATWG algorithm does (comments and ids ignored)."""
    events: list[Event] = []
    for raw in split_events(body):
        name: str | None = None
        data: list[str] = []
        for line in re.split(r"\r\n|\r|\n", raw.decode("utf-8")):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data or name is not None:
            events.append(Event(name, "\n".join(data)))
    return events


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
