"""SSE framing: events split and parsed exactly, chunking never changes the bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.wire import Chunking, parse_events, split_events


def test_split_keeps_every_byte_and_each_terminator_style():
    body = b"data: a\n\ndata: b\r\n\r\nevent: x\rdata: c\r\r: comment\n\ndata: tail"
    pieces = split_events(body)
    assert b"".join(pieces) == body
    assert pieces == [b"data: a\n\n", b"data: b\r\n\r\n", b"event: x\rdata: c\r\r",
                      b": comment\n\n", b"data: tail"]


def test_parse_events_names_data_and_multiline_data():
    events = parse_events(b"event: response.created\ndata: {\"a\":1}\n\n"
                          b"data: line1\ndata: line2\n\n: keepalive\n\ndata: [DONE]\n\n")
    assert [(e.name, e.data) for e in events] == [
        ("response.created", '{"a":1}'), (None, "line1\nline2"), (None, "[DONE]")]
    assert events[0].json() == {"a": 1}


@pytest.mark.parametrize("text", ["event", "whole", "random:7", "fixed:3"])
def test_chunking_round_trips_through_its_name(text):
    assert str(Chunking.parse(text)) == text


@pytest.mark.parametrize("text", ["", "random", "random:x", "fixed:0", "bytes:3", "event:1"])
def test_bad_chunking_is_a_clear_error(text):
    with pytest.raises(ValueError, match=r"event, whole, random:SEED or fixed:BYTES|at least 1"):
        Chunking.parse(text)


events = st.lists(
    st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30)
    .map(lambda data: f"data: {data}\n\n".encode()),
    max_size=12,
).map(b"".join)


@given(body=events, seed=st.integers(0, 2**32))
def test_random_chunking_preserves_the_stream(body, seed):
    chunks = Chunking("random", seed).split(body)
    assert b"".join(chunks) == body
    assert all(chunks)


@given(body=events)
def test_event_chunking_gives_one_event_per_chunk(body):
    chunks = Chunking().split(body)
    assert b"".join(chunks) == body
    assert len(chunks) == body.count(b"\n\n")
