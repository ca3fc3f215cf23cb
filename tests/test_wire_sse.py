"""SSE framing: events split and parsed exactly, chunking never changes the bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.wire import Chunking, parse_events, split_events
from conformance.wire.sse import Decoder, InvalidUtf8, encode_event


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


# -- the parser: the standard's own examples ---------------------------------------------------
# WHATWG HTML, "Server-sent events", section "Event stream format" (the examples, byte for byte).


def _seen(body: bytes) -> list[tuple[str | None, str, str]]:
    return [(e.name, e.data, e.id) for e in parse_events(body)]


def test_spec_example_comment_ids_and_a_leading_space():
    body = (b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
            b"data:  third event\n\n")
    assert _seen(body) == [(None, "first event", "1"), (None, "second event", ""),
                           (None, " third event", "")]


def test_spec_example_the_end_of_the_stream_does_not_dispatch():
    # "the last still has to end with a blank line, the end of the stream is not enough"
    body = b": test stream\n\ndata: first event\nid: 1\n\ndata:  third event\n"
    assert _seen(body) == [(None, "first event", "1")]


def test_spec_example_empty_data_and_a_lone_newline():
    # "The first block fires events with the data set to the empty string [...] The middle
    # block fires an event with the data set to a single newline character. The last block
    # is discarded because it is not followed by a blank line."
    assert _seen(b"data\n\ndata\ndata\n\ndata:") == [(None, "", ""), (None, "\n", "")]


def test_spec_example_one_space_after_the_colon_is_optional():
    assert _seen(b"data:test\n\ndata: test\n\n") == [(None, "test", ""), (None, "test", "")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # no data: the buffers are reset, nothing is dispatched (httpx-sse 0.4.3 dispatches)
        (b"event: x\n\ndata: a\n\n", [(None, "a", "")]),
        (b"id: 7\n\n", []),
        # the last event ID stays for later events; an id with NUL is ignored
        (b"id: 7\ndata: a\n\nid: 8\x00\ndata: b\n\n", [(None, "a", "7"), (None, "b", "7")]),
        # a leading BOM is dropped once; a second one is part of the field name
        (b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n", [(None, "a", "")]),
        (b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n", []),
        # only CRLF, LF and CR end lines
        (b"data: a\rdata: b\r\n\r\nevent: e\rdata: c\r\r", [(None, "a\nb", ""), ("e", "c", "")]),
        ("data: a\u2028b\u2029c\x85d\x0be\x0cf\x1c\n\n".encode(),
         [(None, "a\u2028b\u2029c\x85d\x0be\x0cf\x1c", "")]),
        # the first colon splits; only one space is dropped; unknown fields are ignored
        (b"data:  a: b\nfoo: bar\nDATA: x\n\n", [(None, " a: b", "")]),
        (b"event:\ndata: a\n\n", [(None, "a", "")]),
        # invalid UTF-8 is U+FFFD, as the standard decodes it
        (b"data: \xff\xe2\x82\n\n", [(None, "\ufffd\ufffd", "")]),
    ],
    ids=["type-without-data", "id-only", "id-kept-nul-ignored", "bom-once", "two-boms",
         "cr-and-crlf", "unicode-line-separators-are-data", "first-colon", "empty-event-name",
         "replacement-character"],
)
def test_interpretation_rules(body, expected):
    assert _seen(body) == expected


def test_retry_takes_ascii_digits_only():
    for value, expected in [(b"2500", 2500), (b"+5", None), (b"-1", None), (b"", None),
                            ("\u0663".encode(), None), (b"1.5", None), (b" 7", None)]:
        decoder = Decoder()
        decoder.feed(b"retry: " + value + b"\ndata: a\n\n")
        assert decoder.retry == expected, value


def test_strict_parsing_names_the_event_holding_invalid_utf8():
    body = b"data: a\n\ndata: b\n\ndata: \xc3(\n\n"
    with pytest.raises(InvalidUtf8, match=r"event 2 is not UTF-8 \(byte 24: ") as raised:
        parse_events(body, strict=True)
    assert (raised.value.event, raised.value.offset) == (2, 24)
    assert _seen(body)[2] == (None, "\ufffd(", "")


# -- the parser: properties ----------------------------------------------------------------

NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])
_LINE_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
                     max_size=12)
_DATA = st.lists(_LINE_TEXT, min_size=1, max_size=3).map("\n".join)
_NAME = st.one_of(st.none(), _LINE_TEXT.filter(bool))
_ID = st.one_of(st.none(), _LINE_TEXT.filter(lambda t: "\x00" not in t))
EVENTS = st.lists(st.tuples(_NAME, _DATA, _ID), max_size=8)


def _expected(events):
    last_id, out = "", []
    for name, data, given_id in events:
        last_id = last_id if given_id is None else given_id
        out.append((name, data, last_id))
    return out


def _encode(events, newline):
    return b"".join(encode_event(data, name=name, id=given_id, newline=newline)
                    for name, data, given_id in events)


def _feed(pieces, strict=False):
    decoder = Decoder(strict=strict)
    events = [e for piece in pieces for e in decoder.feed(piece)] + decoder.end()
    return [(e.name, e.data, e.id) for e in events]


def _cuts(body, cuts):
    points = sorted({min(c, len(body)) for c in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


@given(events=EVENTS, newline=NEWLINES, bom=st.booleans(), comment=st.booleans(),
       cuts=st.lists(st.integers(0, 400), max_size=12))
def test_any_events_with_any_line_ending_and_any_chunking_parse_back(events, newline, bom,
                                                                     comment, cuts):
    body = _encode(events, newline)
    if comment:
        body = (": keep-alive" + newline).encode() + body
    if bom:
        body = b"\xef\xbb\xbf" + body
    assert _feed(_cuts(body, cuts)) == _expected(events)
    assert _feed(_cuts(body, cuts), strict=True) == _expected(events)


@given(events=EVENTS, newline=NEWLINES, tail=st.lists(_LINE_TEXT, min_size=1, max_size=3),
       cuts=st.lists(st.integers(0, 400), max_size=6))
def test_an_unfinished_last_event_is_dropped(events, newline, tail, cuts):
    # The stream ends inside an event: its lines may end, but no blank line follows them.
    unfinished = newline.join(f"data: {line}" for line in tail).encode()
    body = _encode(events, newline) + unfinished
    assert _feed(_cuts(body, cuts)) == _expected(events)
    assert _feed([body + newline.encode()]) == _expected(events)


@given(data=st.text(st.sampled_from("a\u00e9\u20ac\U0001f600\u2028\u2029\u0085\x0b\x0c\x1c"),
                    max_size=10), newline=NEWLINES)
def test_a_split_anywhere_even_inside_a_character_changes_nothing(data, newline):
    body = encode_event(data, newline=newline) * 2
    expected = [(None, data, "")] * 2
    for cut in range(len(body) + 1):
        assert _feed([body[:cut], body[cut:]]) == expected
    assert _feed([body[i : i + 1] for i in range(len(body))]) == expected


@given(events=EVENTS.filter(bool), newline=NEWLINES, data=st.data())
def test_strict_parsing_finds_the_event_of_a_bad_byte(events, newline, data):
    encoded = [encode_event(d, name=n, id=i, newline=newline) for n, d, i in events]
    which = data.draw(st.integers(0, len(encoded) - 1))
    bad = data.draw(st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xe2\x82"]))
    before = b"".join(encoded[:which])
    body = before + bad + encoded[which]  # bytes before the event's first field
    with pytest.raises(InvalidUtf8) as raised:
        _feed(_cuts(body, data.draw(st.lists(st.integers(0, 400), max_size=4))), strict=True)
    assert (raised.value.event, raised.value.offset) == (which, len(before))


def test_the_encoder_refuses_what_a_stream_cannot_carry():
    for kwargs in ({"data": "a\rb"}, {"data": "a", "name": "x\ny"}, {"data": "a", "id": "1\x00"},
                   {"data": "a", "newline": "\u2028"}, {"data": "a", "retry": -1}):
        with pytest.raises(ValueError, match=r"cannot hold|ends lines|milliseconds"):
            encode_event(**kwargs)


def test_edit_json_data_rewrites_only_the_json_objects_it_changed():
    from conformance.wire import edit_json_data

    body = (b'event: x\r\ndata: {"a": 1}\r\n\r\ndata: {"b": 2}\n\ndata: [DONE]\n\n'
            b"data: 7\n\ndata: {broken\n\n")

    def bump(value):
        if "a" in value:
            value["a"] += 1
            return True
        return False

    assert edit_json_data(body, bump) == (
        b'event: x\r\ndata: {"a":2}\r\n\r\ndata: {"b": 2}\n\ndata: [DONE]\n\n'
        b"data: 7\n\ndata: {broken\n\n")
