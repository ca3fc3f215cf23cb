"""The wire layer: loopback server, cassettes, replay, scripted faults and SSE framing. Imports
nothing else from the project."""

from . import safe_yaml, validation
from .cassette import (
    Cassette,
    CassetteDefect,
    CassetteError,
    CassetteNotFound,
    Interaction,
    iter_cassette_files,
    make_interaction,
)
from .replay import Miss, Replay
from .script import Script
from .server import (
    Action,
    Exchange,
    Fault,
    RecordedRequest,
    Reply,
    Reset,
    Responder,
    Stall,
    WireFault,
    WireServer,
)
from .sse import (
    DONE,
    Chunking,
    Decoder,
    Event,
    InvalidUtf8,
    encode_event,
    encode_json,
    is_event_stream,
    json_payloads,
    parse_events,
    split_events,
)

__all__ = [
    "DONE",
    "Action",
    "Cassette",
    "CassetteDefect",
    "CassetteError",
    "CassetteNotFound",
    "Chunking",
    "Decoder",
    "Event",
    "Exchange",
    "Fault",
    "Interaction",
    "InvalidUtf8",
    "Miss",
    "RecordedRequest",
    "Replay",
    "Reply",
    "Reset",
    "Responder",
    "Script",
    "Stall",
    "WireFault",
    "WireServer",
    "encode_event",
    "encode_json",
    "is_event_stream",
    "iter_cassette_files",
    "json_payloads",
    "make_interaction",
    "parse_events",
    "safe_yaml",
    "split_events",
    "validation",
]
