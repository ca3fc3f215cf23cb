"""Scripted responders: the wire server misbehaving on purpose, one action per attempt.

A :class:`Script` answers the first request with its first action, the second with the
second, and so on; after the last it repeats the last (a persistent fault), or, with
``repeat_last=False``, answers every further request with :data:`EXHAUSTED` and counts it as an
overrun. The exchange log of the server records what each attempt carried (its headers, the
``x-stainless-retry-count`` and ``Authorization`` among them) and which action answered it.

The builders below make the actions a fault scenario needs: replies with any status, headers
and body, malformed bodies and event streams, resets before the headers and in the middle of a
body, bodies cut short, and stalls for timeouts. Like the rest of :mod:`conformance.wire` they
know HTTP, not OpenAI: error envelopes come from the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .http import has_header
from .server import Action, RecordedRequest, Reply, Reset, Stall, refusal
from .sse import encode_json

JSON = "application/json"
EVENT_STREAM = "text/event-stream"

# What a script that ran out answers: a status no SDK retries (x-should-retry: false).
EXHAUSTED = refusal(400, "script_exhausted", "the scripted responder ran out of actions",
                    marker="script-exhausted")


@dataclass
class Script:
    """Answer request N with ``actions[N]``; the server's exchange log keeps what each carried."""

    actions: Sequence[Action]
    repeat_last: bool = True
    attempts: int = 0
    overruns: int = 0

    def __post_init__(self) -> None:
        if not self.actions:
            raise ValueError("a script needs at least one action")
        self.actions = tuple(self.actions)

    def respond(self, request: RecordedRequest) -> Action:
        n = self.attempts
        self.attempts += 1
        if n < len(self.actions):
            return self.actions[n]
        if self.repeat_last:
            return self.actions[-1]
        self.overruns += 1
        return EXHAUSTED

    def problems(self) -> list[str]:
        """Why this script did not play as written, or an empty list."""
        if self.overruns:
            return [f"the script has {len(self.actions)} action(s) but received {self.attempts} "
                    f"request(s)"]
        return []


def reply(
    status: int,
    body: Any = b"",
    *,
    headers: Iterable[tuple[str, str]] = (),
    content_type: str | None = None,
) -> Reply:
    """A reply with ``status``; a ``body`` that is not bytes or str is sent as compact JSON.

    ``content_type`` defaults to JSON for JSON bodies and is omitted for an empty body."""
    pairs = list(headers)
    if isinstance(body, (bytes, str)):
        raw = body.encode("utf-8") if isinstance(body, str) else body
    else:
        raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
        content_type = content_type or JSON
    if content_type and not has_header(pairs, "content-type"):
        pairs.insert(0, ("content-type", content_type))
    return Reply(status, tuple(pairs), raw)


def reset() -> Reset:
    """A TCP reset before any byte of the response: a connection error."""
    return Reset()


def stall(seconds: float = 30.0) -> Stall:
    """No answer at all: a client with a shorter read timeout times out."""
    return Stall(seconds)


def reset_mid_body(base: Reply, *, after_chunks: int = 1, chunk_size: int = 16) -> Reply:
    """``base`` sent chunked, reset after ``after_chunks`` chunks of ``chunk_size`` bytes (or
    of its own chunks, if it has them)."""
    chunks = list(base.chunks) if base.chunks is not None else _split(base.body, chunk_size)
    return Reply(base.status, base.headers, base.body, chunks=chunks,
                 reset_after_chunks=after_chunks, reason=base.reason)


def cut(base: Reply, *, after_bytes: int) -> Reply:
    """``base`` with a Content-Length for its whole body, of which only ``after_bytes`` are sent
    before the connection closes."""
    if base.chunks is not None:
        raise ValueError("cut() is for bodies sent with a Content-Length; use reset_mid_body()")
    return Reply(base.status, base.headers, base.body, reason=base.reason,
                 cut_after=after_bytes)


def malformed_json(status: int = 200, *, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    """A body labelled JSON that does not parse (a truncated object)."""
    return reply(status, b'{"id": "chatcmpl-malformed", "object":', headers=headers,
                 content_type=JSON)


def event_stream(
    events: Sequence[bytes | str | Any],
    *,
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (),
    reset_after: int | None = None,
) -> Reply:
    """An event stream, one event per HTTP chunk. Bytes and str are sent as given (so a test
    can send malformed framing); anything else becomes ``data: <compact JSON>``. With
    ``reset_after`` the connection is reset after that many events."""
    chunks = [_event(e) for e in events]
    pairs = [("content-type", EVENT_STREAM), *headers]
    return Reply(status, tuple(pairs), b"".join(chunks), chunks=chunks,
                 reset_after_chunks=reset_after)


def _event(event: bytes | str | Any) -> bytes:
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode("utf-8")
    return encode_json(event)


def _split(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


__all__ = [
    "EVENT_STREAM",
    "EXHAUSTED",
    "JSON",
    "Script",
    "cut",
    "event_stream",
    "malformed_json",
    "reply",
    "reset",
    "reset_mid_body",
    "stall",
]
