"""The stand-in resource (``aoai-conformance standin``): what it answers, how it authenticates,
its scenarios, its request log; each answer judged by the contract (check-cassettes)."""

from __future__ import annotations

import base64
import http.client
import json
import re
from pathlib import Path

import openai
import pytest

from conformance import paths
from conformance.cassette_check import check_cassette
from conformance.clock import virtual_clock
from conformance.standin import SCENARIOS, serving
from conformance.standin.auth import token
from conformance.standin.library import ROUTES
from conformance.wire import Cassette, make_interaction

NOW = 1_800_000_000.0
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CHAT = {"model": "my-own-name", "messages": [{"role": "user", "content": "Say hello"}]}
REQUESTS = {
    "chat": ("POST", "chat/completions", CHAT),
    "chat-stream": ("POST", "chat/completions", {**CHAT, "stream": True}),
    "responses": ("POST", "responses", {"model": "my-own-name", "input": "Say hello"}),
    "responses-stream": ("POST", "responses", {"model": "my-own-name", "input": "Say hello",
                                               "stream": True}),
    "embeddings": ("POST", "embeddings", {"model": "my-embedder", "input": ["a", "b"]}),
}


@pytest.fixture(scope="module")
def live():
    with serving(clock=lambda: NOW) as running:
        yield running


@pytest.fixture
def standin(live):
    live.clear()
    return live


def call(live, method, path, body=None, headers=None, *, auth=True):
    """One raw exchange: (status, headers with lower-case names, body)."""
    port = int(live.base_url.split(":")[2].split("/")[0])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent = {"content-type": "application/json", **({"api-key": live.key} if auth else {}),
            **(headers or {})}
    payload = body if isinstance(body, bytes) else (
        json.dumps(body).encode() if body is not None else None)
    try:
        connection.request(method, "/openai/v1/" + path, body=payload, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def judged(tmp_path: Path, exchanges, violates=()):
    """check-cassettes' findings (warnings aside) for these exchanges, as one cassette."""
    interactions = [
        make_interaction(method=method, uri="https://RESOURCE.openai.azure.com/openai/v1/" + path,
                         request_json=body, status=status,
                         response_headers={k: v for k, v in headers.items()
                                           if k in ("content-type", "apim-request-id",
                                                    "x-request-id", "retry-after",
                                                    "retry-after-ms")},
                         body=raw)
        for method, path, body, (status, headers, raw) in exchanges]
    path = tmp_path / "standin.yaml"
    Cassette(path, interactions, {"provenance": "constructed", "violates": list(violates)}).save()
    return [str(f) for f in check_cassette(path) if not f.warning]


def client(live, **options):
    return openai.OpenAI(base_url=live.base_url, api_key=live.key, **options)


# -- ordinary answers -------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_answers_any_deployment_and_the_contract_accepts_it(standin, tmp_path,
                                                                        route):
    method, path, body = REQUESTS[route]
    status, headers, raw = answer = call(standin, method, path, body)
    assert status == 200, raw[:300]
    assert headers["content-type"].startswith(
        "text/event-stream" if route.endswith("stream") else "application/json")
    assert judged(tmp_path, [(method, path, body, answer)]) == []


def test_answers_carry_azure_headers_and_a_fresh_request_id(standin):
    first = call(standin, *REQUESTS["chat"])[1]
    second = call(standin, *REQUESTS["chat"])[1]
    assert UUID.fullmatch(first["apim-request-id"])
    assert first["x-request-id"] == first["apim-request-id"] != second["apim-request-id"]
    assert first["x-ms-region"] and first["x-ms-deployment-name"] == "my-own-name"
    assert first["x-ratelimit-remaining-requests"].isdigit()
    assert not any(v.endswith("-XXX") for v in first.values())


def test_the_sdk_reads_the_request_id_and_the_text(standin):
    raw = client(standin).chat.completions.with_raw_response.create(**CHAT)
    assert raw.headers["x-request-id"] == raw.parse()._request_id
    assert raw.parse().choices[0].message.content


def test_a_recorded_request_gets_its_recorded_answer(standin):
    recorded = Cassette.load(paths.cassette_root() / "responses/output-text.yaml")
    body = json.loads(recorded.interactions[0].request.body)
    status, _, raw = call(standin, "POST", "responses", {**body, "model": "mine"})
    assert status == 200
    assert json.loads(raw)["output"] == json.loads(recorded.interactions[0].body)["output"]


@pytest.mark.parametrize(("body", "count", "length"), [
    ({"model": "emb", "input": "one"}, 1, 1536),
    ({"model": "my-text-embedding-3-large", "input": ["a", "b", "c"]}, 3, 3072),
    ({"model": "emb", "input": ["a", "b"], "dimensions": 64}, 2, 64),
    ({"model": "emb", "input": [1, 2, 3], "dimensions": 8}, 1, 8),
])
def test_embeddings_fit_the_request(standin, body, count, length):
    result = client(standin).embeddings.create(**body)
    assert [d.index for d in result.data] == list(range(count))
    assert {len(d.embedding) for d in result.data} == {length}
    floats, packed = (json.loads(call(standin, "POST", "embeddings",
                                      {**body, "encoding_format": form})[2])
                      for form in ("float", "base64"))
    assert len(floats["data"][0]["embedding"]) == length
    assert len(base64.b64decode(packed["data"][0]["embedding"])) == 4 * length


def test_responses_echo_the_deployment_and_usage_stays_within_the_cap(standin):
    body = {"model": "my-reasoner", "input": "Say hello", "max_output_tokens": 16,
            "stream": True}
    events = [json.loads(line[6:]) for line in call(standin, "POST", "responses", body)[2]
              .decode().splitlines() if line.startswith("data: {")]
    models = {e["response"]["model"] for e in events if "response" in e}
    assert models == {"my-reasoner"}
    usage = next(e["response"]["usage"] for e in events if e["type"] == "response.completed")
    assert usage["output_tokens"] <= 16
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_a_reasoning_deployment_refuses_max_tokens(standin):
    status, _, raw = call(standin, "POST", "chat/completions",
                          {**CHAT, "model": "o4-mini", "max_tokens": 50})
    assert status == 400 and json.loads(raw)["error"]["code"] == "unsupported_parameter"
    assert call(standin, "POST", "chat/completions",
                {**CHAT, "model": "gpt-4o", "max_tokens": 50})[0] == 200


def test_models_are_listed_and_any_one_is_found(standin):
    names = [m.id for m in client(standin).models.list()]
    assert "gpt-4o" in names and names == sorted(names)
    assert client(standin).models.retrieve("whatever-you-deployed").id == "whatever-you-deployed"


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("POST", "deployments/x/chat/completions", CHAT, 404, "404"),
    ("GET", "chat/completions", None, 404, "404"),
    ("POST", "chat/completions", b"{not json", 400, None),
    ("POST", "chat/completions", [1, 2], 400, None),
    ("POST", "chat/completions", {"messages": []}, 400, "missing_required_parameter"),
])
def test_what_azure_refuses_is_refused_with_its_envelope(standin, tmp_path, method, path, body,
                                                         status, code):
    answer = call(standin, method, path, body)
    assert answer[0] == status
    assert json.loads(answer[2])["error"]["code"] == code
    if isinstance(body, dict):
        assert judged(tmp_path, [(method, path, body, answer)]) == []


# -- authentication ---------------------------------------------------------------------------


def bearer(value):
    return {"authorization": f"Bearer {value}"}


@pytest.mark.parametrize(("headers", "status", "family"), [
    ("key-header", 200, None),
    ("key-bearer", 200, None),
    ({"api-key": "not-the-key-00000000"}, 401, "C"),
    ({}, 401, "C"),
    (bearer("not-the-key-00000000"), 401, "C"),
    (bearer(token(expires=NOW + 60)), 200, None),
    (bearer(token(expires=NOW + 60, aud=None) if False else token(
        "https://cognitiveservices.azure.com/", expires=NOW + 60)), 200, None),
    (bearer(token(expires=NOW - 1)), 401, "D"),
    (bearer(token("https://management.azure.com", expires=NOW + 60)), 401, "D"),
    (bearer(token(expires="never")), 401, "D"),
    (bearer("a.b.c"), 401, "D"),
    ({"authorization": "Basic dXNlcjpwYXNz"}, 401, "D"),
], ids=["api-key", "bearer-key", "wrong-key", "no-credential", "wrong-bearer-key", "token",
        "token-slash-audience", "expired-token", "wrong-audience", "no-exp", "not-a-jwt-payload",
        "basic"])
def test_authentication_is_azures(standin, headers, status, family):
    if headers == "key-header":
        headers = {"api-key": standin.key}
    elif headers == "key-bearer":
        headers = bearer(standin.key)
    answer = call(standin, "POST", "chat/completions", CHAT, headers, auth=False)
    assert answer[0] == status, answer[2][:200]
    body = json.loads(answer[2])
    if family == "C":
        assert body["error"]["code"] == "401" and "invalid subscription key" in (
            body["error"]["message"])
    elif family == "D":
        assert body["statusCode"] == 401 and "error" not in body
    assert UUID.fullmatch(answer[1]["apim-request-id"])


def test_the_sdk_with_an_expired_token_gets_an_authentication_error(standin):
    expired = openai.OpenAI(base_url=standin.base_url, api_key=token(expires=NOW - 5))
    with pytest.raises(openai.AuthenticationError) as caught:
        expired.chat.completions.create(**CHAT)
    assert caught.value.code is None and "expired" in caught.value.body["message"]


# -- scenarios -----------------------------------------------------------------------------


def request_for(name):
    """A request of a route the scenario serves, asking for it by deployment name."""
    route = SCENARIOS[name].routes[0]
    method, path, body = REQUESTS[route]
    return method, path, {**body, "model": f"scenario-{name}--my-own-name"}


EXPECTED = {
    "async-filter": 200, "async-filter-blocked": 200, "blocked-completion": 200,
    "content-filter": 400, "throttled": 429, "quota-exhausted": 429,
    "quota-exhausted-hint": 429, "server-error": 500, "unavailable": 503,
    "reset-mid-stream": None, "responses-failed": 200, "responses-error-event": 200,
    "apim-only": 200, "error-400": 400, "error-401": 401, "error-401-permission": 401,
    "error-403": 403, "error-404": 404, "error-429": 429, "error-500": 500,
    "expired-token": 401,
}


def test_every_scenario_is_tested_and_names_an_existing_source():
    assert set(EXPECTED) == set(SCENARIOS)
    for scenario in SCENARIOS.values():
        named = re.findall(r"[\w./-]+\.yaml", scenario.source)
        sections = re.findall(r"wire §\d+", scenario.source)
        assert named or sections, scenario.name
        for name in named:
            assert (paths.cassette_root() / name).exists() or (
                Path(__file__).parent.parent / name).exists(), name


@pytest.mark.parametrize("name", [n for n, status in EXPECTED.items() if status is not None])
def test_each_scenario_answers_as_its_source_and_the_contract_accepts_it(standin, tmp_path,
                                                                         name):
    method, path, body = request_for(name)
    answer = call(standin, method, path, body)
    assert answer[0] == EXPECTED[name], answer[2][:300]
    source = re.findall(r"[\w./-]+\.yaml", SCENARIOS[name].source)
    packaged = [paths.cassette_root() / s for s in source if (paths.cassette_root() / s).exists()]
    violates = [rule for p in packaged for rule in Cassette.load(p).metadata.get("violates", [])]
    assert judged(tmp_path, [(method, path, body, answer)], violates) == []
    assert ("x-request-id" in answer[1]) is (name != "apim-only")


@pytest.mark.parametrize("how", ["deployment", "header", "query"])
def test_a_scenario_is_selected_by_deployment_header_or_query(standin, how):
    method, path, body = REQUESTS["chat"]
    if how == "deployment":
        answer = call(standin, method, path, {**body, "model": "scenario-error-403--mine"})
    elif how == "header":
        answer = call(standin, method, path, body, {"x-aoai-standin-scenario": "error-403"})
    else:
        answer = call(standin, method, path + "?standin-scenario=error-403", body)
    assert answer[0] == 403
    assert standin.requests[-1].scenario == "error-403"


def test_an_unknown_scenario_or_route_is_a_clear_refusal_no_sdk_retries(standin):
    status, _, raw = call(standin, "POST", "chat/completions",
                          {**CHAT, "model": "scenario-nope--mine"})
    assert status == 404 and "standin --list" in json.loads(raw)["error"]["message"]
    status, headers, raw = call(standin, "POST", "chat/completions", CHAT,
                                {"x-aoai-standin-scenario": "nope"})
    assert status == 400 and headers["x-should-retry"] == "false"
    status, _, raw = call(standin, "POST", "chat/completions",
                          {**CHAT, "model": "scenario-async-filter--mine"})
    assert status == 400 and "chat-stream" in json.loads(raw)["error"]["message"]


def retried(standin, count):
    return call(standin, *request_for("throttled"), {"x-stainless-retry-count": str(count)})[0]


def test_then_success_counts_attempts_by_the_sdk_retry_header(standin):
    assert [retried(standin, n) for n in (0, 1, 0, 0, 1, 2)] == [429, 200, 429, 429, 200, 200]


def test_then_success_without_the_header_counts_identical_requests(standin):
    method, path, body = request_for("server-error")
    other = {**body, "messages": [{"role": "user", "content": "another question"}]}
    statuses = [call(standin, method, path, b)[0] for b in (body, other, body, body, other)]
    assert statuses == [500, 500, 200, 500, 200]
    assert [r.attempt for r in standin.requests] == [0, 0, 1, 0, 1]


def test_the_sdk_retries_a_throttled_request_after_the_hint(standin):
    with virtual_clock() as clock:
        raw = client(standin).chat.completions.with_raw_response.create(
            **{**CHAT, "model": "scenario-throttled--mine"})
    assert raw.status_code == 200 and raw.retries_taken == 1
    assert clock.delays == [0.1]  # retry-after-ms: 100


def test_the_quota_hint_is_a_day_and_the_sdk_does_not_wait_for_it(standin):
    with virtual_clock() as clock, pytest.raises(openai.RateLimitError) as caught:
        client(standin).chat.completions.create(
            **{**CHAT, "model": "scenario-quota-exhausted-hint--mine"})
    assert "86400 seconds" in caught.value.message
    assert caught.value.response.headers["retry-after"] == "86400"
    # openai-python refuses a hint over 120 s: no retry at all (sdk-behavior, wire §3.3).
    assert clock.delays == [] and len(standin.requests) == 1


def test_a_stream_reset_midway_raises_in_the_sdk_after_some_chunks(standin):
    stream = client(standin, max_retries=0).chat.completions.create(
        **{**CHAT, "model": "scenario-reset-mid-stream--mine", "stream": True})
    seen = []
    with pytest.raises(openai.APIConnectionError):
        seen.extend(stream)
    assert 0 < len(seen) < 5


def test_the_sdk_sees_the_async_filter_chunks(standin):
    chunks = list(client(standin).chat.completions.create(
        **{**CHAT, "model": "scenario-async-filter--mine", "stream": True}))
    assert chunks[0].choices == []
    assert any(c.choices and c.choices[0].delta is None for c in chunks)


def test_a_blocked_completion_has_no_message(standin):
    completion = client(standin).chat.completions.create(
        **{**CHAT, "model": "scenario-blocked-completion--mine"})
    assert completion.choices[0].finish_reason == "content_filter"
    assert getattr(completion.choices[0], "message", None) is None


# -- the request log ----------------------------------------------------------------------------


def test_the_log_holds_what_was_sent_scrubbed_of_the_key_and_tokens(standin):
    jwt = token(expires=NOW + 60, tid="72f988bf-86f1-41af-91ab-2d7cd011db47")
    call(standin, "POST", f"chat/completions?api-key={standin.key}",
         {**CHAT, "messages": [{"role": "user", "content": f"my key is {standin.key}"}]})
    call(standin, "POST", "chat/completions", {**CHAT, "note": jwt}, bearer(jwt), auth=False)
    first, second = standin.requests
    assert first.header("api-key") == second.header("authorization") == "<redacted>"
    assert first.body["messages"][0]["content"] == "my key is <standin-key>"
    assert first.query == "api-key=<standin-key>"
    text = repr(standin.requests) + repr(standin) + repr(standin.standin)
    assert standin.key not in text and jwt not in text and "72f988bf" not in text
    assert (first.status, first.deployment) == (200, "my-own-name")


def test_the_logs_are_bounded(standin, monkeypatch):
    from conformance.standin import server as standin_server

    monkeypatch.setattr(standin_server, "EXCHANGES_KEPT", 2)
    for _ in range(5):
        call(standin, "GET", "models")
    assert len(standin.server.exchanges) == 2
    assert standin.standin.log.maxlen == 1000
