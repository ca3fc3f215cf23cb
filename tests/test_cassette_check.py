"""aoai-conformance check-cassettes: every reference example, wrapped into a cassette, passes;
broken ones are reported one line per violation; unreadable input is exit 2, nothing lost."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance import cassette_check, paths
from conformance.cli import main
from conformance.wire import Cassette, make_interaction

REFERENCE = Path(__file__).parent / "corpus" / "reference"
AZURE = "https://RESOURCE.openai.azure.com/openai/v1"
JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}


def ref(name):
    return json.loads((REFERENCE / name).read_text())


def ref_bytes(name):
    return (REFERENCE / name).read_bytes()


def headers_of(name):
    return {k: v for k, v in ref(name)["headers"].items() if k != "content-length"}


def save(path, *interactions, metadata=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Cassette(path, list(interactions), metadata or {"provenance": "constructed"}).save()
    return path


def post(uri, request, body, *, status=200, headers=JSON):
    return make_interaction(method="POST", uri=uri, request_json=request, status=status,
                            reason="OK" if status == 200 else "Error",
                            response_headers=headers, body=body)


def recorded(name):
    """A reference ``*.request.json``: its URI and body."""
    data = ref(name)
    return data["uri"], data["body"]


CHAT = recorded("chat-completion.azure.request.json")
CHAT_BODY = ref("chat-completion.azure.json")
CHAT_HEADERS = headers_of("chat-completion.azure.response-headers.json")
RESPONSES = recorded("responses.azure.request.json")
RESPONSES_BODY = ref("responses.azure.json")
RESPONSES_HEADERS = headers_of("responses.azure.response-headers.json")


def _stream_request(name, **changes):
    uri, body = recorded(name)
    return uri, {**body, **changes}


def _embedding_response(request):
    length = request.get("dimensions", 3072 if "large" in request["model"] else 1536)
    vector = [0.0] * (length - 1) + [1.0]
    if request.get("encoding_format") == "base64":
        vector = base64.b64encode(struct.pack(f"<{length}f", *vector)).decode()
    inputs = request["input"]
    count = len(inputs) if isinstance(inputs, list) and not isinstance(inputs[0], int) else 1
    return {"object": "list", "model": request["model"],
            "data": [{"object": "embedding", "index": n, "embedding": vector}
                     for n in range(count)],
            "usage": {"prompt_tokens": 2, "total_tokens": 2}}


def _errors(name):
    example = ref(name)
    status = example["status"] if isinstance(example["status"], int) else 400
    headers = {k: v for k, v in example["headers"].items() if not v.startswith("<")}
    return [post(CHAT[0], CHAT[1], example["body"], status=status, headers=headers)]


def _mcp_approval():
    example = ref("responses-mcp-approval.json")
    first = example["step1_request"]
    second = example["step2_request"]
    # No response to step 2 was recorded or constructed; the request is what is judged.
    answer = copy.deepcopy(example["step1_response"])
    return [post(first["uri"], first["body"], example["step1_response"]),
            post(second["uri"], second["body"], answer)]


# Every reference example, as the interactions that carry it. Requests ride with a response
# that fits them; responses with the request that produced them.
CASES = {
    "chat-completion.azure.json": lambda: [
        post(CHAT[0], CHAT[1], CHAT_BODY, headers=CHAT_HEADERS)],
    "chat-completion.azure.request.json": lambda: [post(CHAT[0], CHAT[1], CHAT_BODY)],
    "chat-completion.azure.response-headers.json": lambda: [
        post(CHAT[0], CHAT[1], CHAT_BODY, headers=CHAT_HEADERS)],
    "chat-request-image.json": lambda: [post(*recorded("chat-request-image.json"), CHAT_BODY)],
    "chat-request-reasoning.json": lambda: [
        post(*recorded("chat-request-reasoning.json"), CHAT_BODY)],
    "chat-stream.azure.request.json": lambda: [
        post(*recorded("chat-stream.azure.request.json"), ref_bytes("chat-stream.azure.sse"),
             headers=SSE)],
    "chat-stream.azure.sse": lambda: [
        post(*recorded("chat-stream.azure.request.json"), ref_bytes("chat-stream.azure.sse"),
             headers=SSE)],
    "chat-stream-async-filter.azure.sse": lambda: [
        post(*_stream_request("chat-stream.azure.request.json", stream_options=None),
             ref_bytes("chat-stream-async-filter.azure.sse"), headers=SSE)],
    "chat-stream-async-filter-blocked.azure.sse": lambda: [
        post(*_stream_request("chat-stream.azure.request.json", stream_options=None),
             ref_bytes("chat-stream-async-filter-blocked.azure.sse"), headers=SSE)],
    "embeddings.base64.openai.json": lambda: [
        post(*recorded("embeddings.base64.openai.request.json"),
             ref("embeddings.base64.openai.json"))],
    "embeddings.base64.openai.request.json": lambda: [
        post(*recorded("embeddings.base64.openai.request.json"),
             ref("embeddings.base64.openai.json"))],
    "embeddings.float.derived.json": lambda: [
        post(*_stream_request("embeddings.base64.openai.request.json", encoding_format="float"),
             ref("embeddings.float.derived.json"))],
    "embeddings.request-variants.json": lambda: [
        post(f"{AZURE}/embeddings", request, _embedding_response(request))
        for name, request in ref("embeddings.request-variants.json").items() if name != "note"],
    "responses.azure.json": lambda: [
        post(*RESPONSES, RESPONSES_BODY, headers=RESPONSES_HEADERS)],
    "responses.azure.request.json": lambda: [post(*RESPONSES, RESPONSES_BODY)],
    "responses.azure.response-headers.json": lambda: [
        post(*RESPONSES, RESPONSES_BODY, headers=RESPONSES_HEADERS)],
    "responses-request-image.json": lambda: [
        post(*recorded("responses-request-image.json"), RESPONSES_BODY)],
    "responses-stream.azure.request.json": lambda: [
        post(*recorded("responses-stream.azure.request.json"),
             ref_bytes("responses-stream.azure.sse"), headers=SSE)],
    "responses-stream.azure.sse": lambda: [
        post(*recorded("responses-stream.azure.request.json"),
             ref_bytes("responses-stream.azure.sse"), headers=SSE)],
    "responses-mcp.openai.json": lambda: [
        post(*recorded("responses-mcp.openai.request.json"), ref("responses-mcp.openai.json"))],
    "responses-mcp.openai.request.json": lambda: [
        post(*recorded("responses-mcp.openai.request.json"), ref("responses-mcp.openai.json"))],
    "responses-mcp.openai.followup-request.json": lambda: [
        # Its response was not kept; the first one stands in (the request is what is judged).
        post(*recorded("responses-mcp.openai.followup-request.json"),
             ref("responses-mcp.openai.json"))],
    "responses-mcp-stream.sse": lambda: [
        post(*_stream_request("responses-mcp.openai.request.json", stream=True),
             ref_bytes("responses-mcp-stream.sse"), headers=SSE)],
    "responses-mcp-approval.json": _mcp_approval,
    **{p.name: (lambda name=p.name: _errors(name)) for p in REFERENCE.glob("error-*.json")},
}


def test_every_reference_example_has_a_case():
    examples = {p.name for p in REFERENCE.iterdir() if p.name != "README.md"}
    assert examples == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_reference_example_passes(tmp_path, capsys, name):
    cassette = save(tmp_path / f"{name}.yaml", *CASES[name]())
    code = main(["check-cassettes", str(cassette)])
    out, err = capsys.readouterr()
    assert (code, out) == (0, ""), out + err
    assert "0 skipped, 0 violation(s)" in err


def test_all_reference_examples_in_one_folder_pass(tmp_path, capsys):
    for name, build in CASES.items():
        save(tmp_path / "nested" / f"{name}.yml", *build())
    assert main(["check-cassettes", str(tmp_path)]) == 0
    assert f"{len(CASES)} cassette(s)" in capsys.readouterr().err


def test_the_packaged_cassettes_pass(capsys):
    code = main(["check-cassettes", str(paths.cassette_root())])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out == ""


# -- violations --------------------------------------------------------------------------------


def _broken_embeddings(tmp_path):
    uri, request = recorded("embeddings.base64.openai.request.json")
    good = ref("embeddings.base64.openai.json")
    swapped = copy.deepcopy(good)
    swapped["data"] = [dict(swapped["data"][0], index=0), dict(swapped["data"][0], index=1)]
    swapped["data"].reverse()
    no_usage = {k: v for k, v in good.items() if k != "usage"}
    return save(tmp_path / "embeddings.yaml", post(uri, request, good),
                post(uri, request, swapped), post(uri, request, no_usage))


def test_violations_are_one_line_each_in_the_documented_format(tmp_path, capsys):
    path = _broken_embeddings(tmp_path)
    assert main(["check-cassettes", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{path}:1 embeddings.order data[0].index: item 0 carries index 1: items are out of "
        "input order",
        f"{path}:1 embeddings.order data[1].index: item 1 carries index 0: items are out of "
        "input order",
        f"{path}:1 embeddings.count data: the request has 1 input(s), the response 2 item(s)",
        f"{path}:2 embeddings.usage usage: expected {{prompt_tokens, total_tokens}} "
        "non-negative integers, got None",
    ]
    assert "1 cassette(s), 3 interaction(s) checked, 0 skipped, 4 violation(s)" in err


def test_check_cassette_returns_findings(tmp_path):
    path = _broken_embeddings(tmp_path)
    findings = cassette_check.check_cassette(path)
    assert [(f.interaction, f.rule) for f in findings] == [
        (1, "embeddings.order"), (1, "embeddings.order"), (1, "embeddings.count"),
        (2, "embeddings.usage")]
    assert not any(f.fatal for f in findings)


def test_a_chat_violation_and_an_error_violation(tmp_path, capsys):
    body = copy.deepcopy(CHAT_BODY)
    body["usage"]["total_tokens"] += 1
    path = save(tmp_path / "chat.yaml", post(CHAT[0], CHAT[1], body),
                post(CHAT[0], CHAT[1], {"detail": "nope"}, status=500))
    assert main(["check-cassettes", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[:2] for line in lines] == [
        [f"{path}:0", "usage.total"], [f"{path}:1", "error.envelope"]]


def test_stream_requested_but_json_answered(tmp_path, capsys):
    uri, request = recorded("chat-stream.azure.request.json")
    path = save(tmp_path / "c.yaml", post(uri, request, CHAT_BODY))
    assert main(["check-cassettes", str(path)]) == 1
    assert capsys.readouterr().out == (
        f'{path}:0 cassette.stream-framing the request has "stream": true, the answer is '
        "application/json\n")


def test_a_body_that_is_not_json(tmp_path, capsys):
    path = save(tmp_path / "c.yaml", post(CHAT[0], CHAT[1], b"<html>oops</html>",
                                          headers={"content-type": "text/html"}))
    assert main(["check-cassettes", str(path)]) == 1
    assert f"{path}:0 cassette.json-body the body is not JSON" in capsys.readouterr().out


def test_request_side_violations_are_reported_with_a_request_path(tmp_path, capsys):
    uri, request = recorded("chat-request-image.json")
    request = copy.deepcopy(request)
    request["messages"][0]["content"][1]["image_url"]["detail"] = "ultra"
    path = save(tmp_path / "c.yaml", post(uri, request, CHAT_BODY))
    assert main(["check-cassettes", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:0 image-input.detail request.messages[0]"), out


def test_other_traffic_is_skipped(tmp_path, capsys):
    token = make_interaction(method="POST", uri="https://login.microsoftonline.com/t/oauth2/"
                             "v2.0/token", status=400, body={"error": "invalid_client"})
    models = make_interaction(method="GET", uri=f"{AZURE}/models", body={"object": "list"})
    path = save(tmp_path / "c.yaml", token, models, post(CHAT[0], CHAT[1], CHAT_BODY))
    assert main(["check-cassettes", str(path)]) == 0
    assert "1 interaction(s) checked, 2 skipped" in capsys.readouterr().err


def test_an_api_error_on_another_path_is_judged(tmp_path, capsys):
    error = make_interaction(method="GET", uri=f"{AZURE}/models/nope", status=404,
                             body={"error": {"code": 404}})
    path = save(tmp_path / "c.yaml", error)
    assert main(["check-cassettes", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}:0 error.")


# -- what recorders write ----------------------------------------------------------------------


def test_gzip_binary_bodies_are_decompressed(tmp_path, capsys):
    interaction = post(CHAT[0], CHAT[1], gzip.compress(json.dumps(CHAT_BODY).encode()),
                       headers={"content-type": "application/json", "content-encoding": "gzip"})
    path = save(tmp_path / "c.yaml", interaction)
    assert "!!binary" in path.read_text()
    assert main(["check-cassettes", str(path)]) == 0, capsys.readouterr().out


def test_a_decoded_body_under_a_stale_gzip_header_is_accepted(tmp_path):
    interaction = post(CHAT[0], CHAT[1], CHAT_BODY,
                       headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert cassette_check.check_cassette(save(tmp_path / "c.yaml", interaction)) == []


def test_an_undecodable_body_is_one_counted_violation_and_the_rest_is_still_checked(
        tmp_path, capsys):
    broken = post(CHAT[0], CHAT[1], b"\x1b\x00garbage",
                  headers={"content-type": "application/json", "content-encoding": "br"})
    body = copy.deepcopy(CHAT_BODY)
    body["object"] = "chat.completions"
    path = save(tmp_path / "c.yaml", broken, post(CHAT[0], CHAT[1], body))
    assert main(["check-cassettes", str(path)]) == 1  # a cassette.* violation, as README says
    printed = capsys.readouterr()
    out = printed.out.splitlines()
    assert out[0].startswith(f"{path}:0 cassette.undecodable-body content-encoding 'br'")
    assert out[1].startswith(f"{path}:1 chat.object")
    assert len(out) == 2 and ", 2 violation(s)," in printed.err  # one rule, one count each


def test_parsed_body_cassettes_are_read(tmp_path, capsys):
    """pydantic-ai's serializer stores JSON bodies as YAML under parsed_body."""
    data = {"interactions": [{
        "request": {"method": "POST", "uri": CHAT[0], "parsed_body": CHAT[1],
                    "headers": {"content-type": ["application/json"]}},
        "response": {"status": {"code": 200, "message": "OK"},
                     "headers": {"content-type": ["application/json"]},
                     "parsed_body": copy.deepcopy(CHAT_BODY)},
    }], "version": 1}
    path = tmp_path / "pydantic.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["check-cassettes", str(path)]) == 0, capsys.readouterr()
    data["interactions"][0]["response"]["parsed_body"]["object"] = "nope"
    path.write_text(yaml.safe_dump(data))
    assert main(["check-cassettes", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}:0 chat.object object:")


def test_a_string_request_body_and_response_string(tmp_path):
    """vcrpy keeps bodies as str or bytes; both read the same."""
    path = save(tmp_path / "c.yaml", post(CHAT[0], CHAT[1], json.dumps(CHAT_BODY)))
    text = path.read_text()
    assert "string: '" in text
    assert cassette_check.check_cassette(path) == []


# -- files that cannot be checked -------------------------------------------------------------


def test_missing_and_unreadable_files_are_exit_2_and_the_others_still_checked(tmp_path, capsys):
    good = save(tmp_path / "good.yaml", post(CHAT[0], CHAT[1], CHAT_BODY))
    broken = _broken_embeddings(tmp_path)
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("interactions: [ {")
    code = main(["check-cassettes", str(tmp_path / "missing.yaml"), str(garbage), str(good),
                 str(broken)])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{tmp_path / 'missing.yaml'}: no such file\n" in err
    assert f"{garbage}: not YAML this project reads: " in err
    assert len(out.splitlines()) == 4  # the broken cassette's violations are all there
    assert "2 cassette(s), 4 interaction(s) checked" in err
    assert "2 file(s) could not be read" in err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty file"),
        ("  \n\n", "empty file"),
        ("# only a comment\n", "empty YAML document"),
        ("interactions: [ {", "not YAML this project reads"),
        ("on: push\njobs: {}\n", "YAML, but not a vcrpy cassette (no 'interactions' list)"),
        ("- 1\n- 2\n", "YAML, but not a vcrpy cassette"),
        ("interactions: 3\n", "YAML, but not a vcrpy cassette"),
        ("\xff\xfe", "not YAML (not UTF-8 text"),
    ],
)
def test_unreadable_files_get_one_line_each_named_alone_or_in_a_folder(
    tmp_path, capsys, content, reason
):
    folder = tmp_path / "folder"
    save(folder / "a.yaml", post(CHAT[0], CHAT[1], CHAT_BODY))
    bad = folder / "b.yml"
    bad.write_bytes(content.encode("latin-1"))
    save(folder / "c.yaml", post(CHAT[0], CHAT[1], CHAT_BODY))
    for argv in ([str(bad)], [str(folder)]):
        assert main(["check-cassettes", *argv]) == 2
        err = capsys.readouterr().err
        lines = err.splitlines()
        assert f"{bad}: {reason}" in err, err
        assert [line for line in lines if line.startswith(str(bad))] == [lines[0]]
        assert "Traceback" not in err
        assert "1 file(s) could not be read" in lines[-1]
    assert "2 cassette(s), 2 interaction(s) checked" in lines[-1]  # the folder: both others


def test_a_folder_named_like_a_cassette_is_a_line_not_a_traceback(tmp_path, capsys):
    (tmp_path / "dir.yaml").mkdir()
    assert main(["check-cassettes", str(tmp_path / "dir.yaml")]) == 2
    assert "dir.yaml: no cassette (*.yaml, *.yml) in this folder" in capsys.readouterr().err


def test_stored_responses_are_judged_and_other_calls_skipped(tmp_path, capsys):
    stored = make_interaction(method="GET", uri=f"{AZURE}/responses/resp_1", body=RESPONSES_BODY)
    broken = make_interaction(method="GET", uri=f"{AZURE}/responses/resp_1",
                              body={**RESPONSES_BODY, "object": "nope"})
    deleted = make_interaction(method="DELETE", uri=f"{AZURE}/responses/resp_1",
                               body={"object": "response.deleted", "id": "resp_1"})
    items = make_interaction(method="GET", uri=f"{AZURE}/responses/resp_1/input_items",
                             body={"object": "list", "data": []})
    path = save(tmp_path / "c.yaml", stored, broken, deleted, items)
    assert main(["check-cassettes", str(path)]) == 1
    out, err = capsys.readouterr()
    assert {line.split(" ")[0] for line in out.splitlines()} == {f"{path}:1"}
    assert "2 interaction(s) checked, 2 skipped" in err


def test_a_folder_without_cassettes_is_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["check-cassettes", str(tmp_path / "empty")]) == 2
    assert "empty: no cassette (*.yaml, *.yml) in this folder" in capsys.readouterr().err


def test_no_path_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["check-cassettes"])
    assert exited.value.code == 2


def test_help_documents_the_output_format(capsys):
    with pytest.raises(SystemExit):
        main(["check-cassettes", "--help"])
    out = capsys.readouterr().out
    assert "FILE:INTERACTION_INDEX RULE_ID message" in out
    assert "exit status" in out


def test_a_crashing_validator_is_exit_2_not_a_traceback(tmp_path, capsys, monkeypatch):
    from conformance.contract import chat

    def crash(body):
        raise RuntimeError("boom")

    monkeypatch.setattr(chat, "validate_completion", crash)
    path = save(tmp_path / "c.yaml", post(CHAT[0], CHAT[1], CHAT_BODY))
    assert main(["check-cassettes", str(path)]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:0 cassette.validator-error "), out
    assert out.endswith(".crash raised RuntimeError: boom\n")


def test_a_missing_validator_leaves_its_operation_unjudged(monkeypatch, tmp_path):
    monkeypatch.setattr(cassette_check, "_contract", lambda module, name: None)
    body = copy.deepcopy(CHAT_BODY)
    body["object"] = "nope"
    assert cassette_check.check_cassette(save(tmp_path / "c.yaml",
                                              post(CHAT[0], CHAT[1], body))) == []


# -- fault-injection cassettes -----------------------------------------------------------------


def test_declared_violations_are_expected(tmp_path, capsys):
    body = copy.deepcopy(CHAT_BODY)
    body["object"] = "nope"
    path = save(tmp_path / "c.yaml", post(CHAT[0], CHAT[1], body),
                metadata={"provenance": "constructed", "violates": ["chat.object"]})
    assert main(["check-cassettes", str(path)]) == 0, capsys.readouterr().out


def test_a_declared_violation_that_does_not_happen_is_reported(tmp_path, capsys):
    path = save(tmp_path / "c.yaml", post(CHAT[0], CHAT[1], CHAT_BODY),
                metadata={"provenance": "constructed", "violates": ["chat.object"]})
    assert main(["check-cassettes", str(path)]) == 1
    assert capsys.readouterr().out == (
        f"{path}:- cassette.expected-violation metadata says the cassette breaks chat.object; "
        "no interaction does\n")


# -- the installed script ----------------------------------------------------------------------


@pytest.mark.slow
def test_the_installed_script(tmp_path):
    script = shutil.which("aoai-conformance", path=str(Path(sys.executable).parent))
    assert script, "aoai-conformance is not installed next to this Python"
    path = _broken_embeddings(tmp_path)
    done = subprocess.run([script, "check-cassettes", str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0].startswith(f"{path}:1 embeddings.order data[0].index: ")
    assert "4 violation(s)" in done.stderr


# -- a recording made by vcrpy itself -------------------------------------------------------------


def test_a_cassette_vcrpy_recorded_from_the_sdk_passes(tmp_path, capsys):
    """What pytest-recording users have: vcrpy's own cassette of real SDK calls, gzip bodies
    kept as !!binary, the SDK's headers, a stream stored whole."""
    import openai
    import vcr

    from conformance.wire import Replay, Reply, WireServer

    embeddings = Replay(Cassette.load(paths.cassette_root() / "embeddings" / "encodings.yaml"))

    class Server:
        def respond(self, request):
            if request.path.endswith("/embeddings"):
                return embeddings.respond(request)
            if request.json().get("stream"):
                return Reply(200, [("content-type", "text/event-stream")],
                             chunks=[ref_bytes("chat-stream.azure.sse")])
            return Reply(200, [("content-type", "application/json"),
                               ("content-encoding", "gzip")],
                         gzip.compress(json.dumps(CHAT_BODY).encode()))

    recording = tmp_path / "recorded.yaml"
    with WireServer() as server:
        server.use(Server())
        client = openai.OpenAI(api_key="test-key", base_url=server.base_url, max_retries=0)
        with vcr.VCR().use_cassette(str(recording), record_mode="all"):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user",
                                                                      "content": "hi"}])
            list(client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True,
                stream_options={"include_usage": True}))
            client.embeddings.create(model="text-embedding-3-small", input=["Hello, world!"])
    assert "!!binary" in recording.read_text()
    assert main(["check-cassettes", str(recording)]) == 0, capsys.readouterr().out
    assert "3 interaction(s) checked" in capsys.readouterr().err


def test_an_unexpected_error_reading_one_file_is_a_line_and_the_run_goes_on(tmp_path, capsys,
                                                                           monkeypatch):
    first = save(tmp_path / "a.yaml", post(CHAT[0], CHAT[1], CHAT_BODY))
    save(tmp_path / "b.yaml", post(CHAT[0], CHAT[1], CHAT_BODY))
    original = Cassette.read.__func__

    def read(cls, path):
        if path == first:
            raise KeyError("surprise")
        return original(cls, path)

    monkeypatch.setattr(Cassette, "read", classmethod(read))
    assert main(["check-cassettes", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{first}: could not be read: KeyError: 'surprise' (a bug in this tool" in err
    assert "1 cassette(s), 1 interaction(s) checked" in err
