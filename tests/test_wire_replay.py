"""Cassettes and replay: vcrpy's format both ways, matching, misses and unused interactions."""

from __future__ import annotations

import json

import openai
import pytest
import vcr

from conformance.wire import (
    Cassette,
    CassetteError,
    CassetteNotFound,
    Chunking,
    Replay,
    WireServer,
    make_interaction,
)

URI = "https://RESOURCE.openai.azure.com/openai/v1/chat/completions"
REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
COMPLETION = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "finish_reason": "stop",
                           "message": {"role": "assistant", "content": "hello"}}]}


def chat_interaction(request=REQUEST, body=COMPLETION, status=200):
    return make_interaction(method="POST", uri=URI, request_json=request, status=status,
                            response_headers={"content-type": "application/json"}, body=body)


_clients: list[openai.OpenAI] = []


@pytest.fixture
def server():
    with WireServer() as server:
        yield server
        while _clients:
            _clients.pop().close()


def client(server, **options):
    made = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, **options)
    _clients.append(made)
    return made


def test_save_and_load_round_trip_with_metadata(tmp_path):
    cassette = Cassette(tmp_path / "c.yaml", [chat_interaction()], {"provenance": "constructed"})
    cassette.save()
    loaded = Cassette.load(tmp_path / "c.yaml")
    assert loaded.provenance == "constructed"
    assert loaded.interactions[0].response_json() == COMPLETION
    assert loaded.interactions[0].request_json() == REQUEST
    assert loaded.interactions[0].describe() == "POST /openai/v1/chat/completions -> 200"


def test_missing_and_malformed_cassettes_are_distinct_errors(tmp_path):
    with pytest.raises(CassetteNotFound):
        Cassette.load(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("interactions:\n- request: {}\n")
    with pytest.raises(CassetteError):
        Cassette.load(tmp_path / "bad.yaml")
    (tmp_path / "evil.yaml").write_text("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(CassetteError):
        Cassette.load(tmp_path / "evil.yaml")


def test_our_cassette_replays_under_vcrpy(tmp_path):
    path = tmp_path / "ours.yaml"
    Cassette(path, [chat_interaction()], {"provenance": "constructed"}).save()
    recorder = vcr.VCR(record_mode="none", match_on=["method", "path", "body"])
    with recorder.use_cassette(str(path)), openai.OpenAI(
        base_url="https://RESOURCE.openai.azure.com/openai/v1/", api_key="k", max_retries=0
    ) as sdk:
        result = sdk.chat.completions.create(**REQUEST)
    assert result.choices[0].message.content == "hello"


def test_a_vcrpy_recording_replays_here(tmp_path, server):
    """Record through vcrpy (pytest-recording's engine) against the wire server, then replay
    the recording with this project's server."""
    server.use(Replay(Cassette(tmp_path / "src.yaml", [chat_interaction()])))
    path = tmp_path / "vcrpy.yaml"
    with vcr.VCR(record_mode="once").use_cassette(str(path)):
        client(server).chat.completions.create(**REQUEST)
    replay = Replay(Cassette.load(path))
    server.use(replay)
    assert client(server).chat.completions.create(**REQUEST).choices[0].message.content == (
        "hello")
    assert replay.problems() == []


def test_matching_ignores_telemetry_headers_host_and_key_order(server, tmp_path):
    reordered = {"messages": REQUEST["messages"], "model": "gpt-4o"}
    replay = Replay(Cassette(tmp_path / "c.yaml", [chat_interaction(request=reordered)]))
    server.use(replay)
    c = client(server, default_headers={"User-Agent": "something-else", "X-Stainless-Lang": "x"})
    c.chat.completions.create(**REQUEST)
    assert replay.problems() == []


def test_each_interaction_plays_once_in_order(server, tmp_path):
    second = dict(COMPLETION, id="c2")
    replay = Replay(Cassette(tmp_path / "c.yaml", [chat_interaction(),
                                                   chat_interaction(body=second)]))
    server.use(replay)
    ids = [client(server).chat.completions.create(**REQUEST).id for _ in range(2)]
    assert ids == ["c1", "c2"]
    with pytest.raises(openai.BadRequestError) as raised:
        client(server).chat.completions.create(**REQUEST)
    assert "already played" in str(raised.value)
    assert len(server.requests) == 3  # the miss answer is not retried


def test_a_miss_names_the_cassette_the_expected_interaction_and_the_difference(server, tmp_path):
    replay = Replay(Cassette(tmp_path / "chat.yaml", [chat_interaction()]))
    server.use(replay)
    with pytest.raises(openai.BadRequestError):
        client(server).chat.completions.create(model="gpt-4o", messages=[{"role": "user",
                                                                           "content": "bye"}])
    (problem, unused) = replay.problems()
    assert "chat.yaml" in problem
    assert "expected interaction 0: POST /openai/v1/chat/completions -> 200" in problem
    assert "differs in body" in problem and "bye" in problem
    assert "never requested" in unused


def test_unused_interactions_are_reported(server, tmp_path):
    replay = Replay(Cassette(tmp_path / "c.yaml", [chat_interaction(), chat_interaction()]))
    server.use(replay)
    client(server).chat.completions.create(**REQUEST)
    (problem,) = replay.problems()
    assert "1 recorded interaction(s) never requested" in problem
    assert "interaction 1 POST /openai/v1/chat/completions -> 200" in problem


def test_query_is_part_of_the_match(server, tmp_path):
    interaction = make_interaction(method="GET", uri=f"{URI}?api-version=preview",
                                   body={"object": "list", "data": []},
                                   response_headers={"content-type": "application/json"})
    replay = Replay(Cassette(tmp_path / "c.yaml", [interaction]))
    server.use(replay)
    import http.client

    conn = http.client.HTTPConnection(server.host, server.port)
    conn.request("GET", "/openai/v1/chat/completions?api-version=v1")
    assert conn.getresponse().status == 400
    conn.close()
    assert "differs in query" in replay.problems()[0]


def test_event_streams_are_replayed_with_the_chosen_chunking(server, tmp_path):
    stream = b"data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n"
    interaction = make_interaction(method="POST", uri=URI, request_json=REQUEST,
                                   response_headers={"content-type": "text/event-stream"},
                                   body=stream)
    cassette = Cassette(tmp_path / "s.yaml", [interaction])
    assert Replay(cassette).reply(interaction).chunks == [b'data: {"a":1}\n\n',
                                                          b'data: {"a":2}\n\n',
                                                          b"data: [DONE]\n\n"]
    fixed = Replay(cassette, Chunking.parse("fixed:7")).reply(interaction)
    assert b"".join(fixed.chunks) == stream
    assert {len(c) for c in fixed.chunks[:-1]} == {7}


def test_json_bodies_are_replayed_verbatim(server, tmp_path):
    raw = b'{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[],' \
          b'"extra":{"unknown":true}}'
    interaction = chat_interaction()
    interaction.body = raw
    server.use(Replay(Cassette(tmp_path / "c.yaml", [interaction])))
    response = client(server).chat.completions.with_raw_response.create(**REQUEST)
    assert response.http_response.content == raw
    assert json.loads(raw)["extra"] == {"unknown": True}


@pytest.mark.parametrize(("recorded", "sent", "plays"), [
    ({**REQUEST, "stream": False}, REQUEST, True),  # openai-go's New has no stream field
    (REQUEST, {**REQUEST, "stream": False}, True),
    ({**REQUEST, "stream": True}, REQUEST, False),  # a stream is another request
    ({**REQUEST, "stream": False}, {**REQUEST, "stream": False, "n": 2}, False),
])
def test_stream_false_matches_its_absence_and_nothing_else(server, tmp_path, recorded, sent,
                                                           plays):
    replay = Replay(Cassette(tmp_path / "c.yaml", [chat_interaction(request=recorded)]))
    server.use(replay)
    if plays:
        client(server).chat.completions.create(**sent)
        assert replay.problems() == []
    else:
        with pytest.raises(openai.BadRequestError):
            client(server).chat.completions.create(**sent)
        assert "differs in body" in replay.problems()[0]
