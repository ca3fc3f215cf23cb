"""scan-secrets: every kind is caught where it hides (headers, query, bodies, !!binary, gzip,
metadata), the secret is never printed, and real traffic full of high-entropy ids is clean:
the packaged cassettes, the reference corpus, and every file of tests/corpus/real/ (when
that folder exists)."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import paths
from conformance.cli import main
from conformance.secret_scan import scan_paths, scan_text
from conformance.secrets import DETECTORS, Scrubber
from conformance.wire import Cassette, iter_cassette_files

CORPUS = Path(__file__).parent / "corpus"
HEX_KEY = "0123456789abcdef0123456789abcdef"
NEW_KEY = "A" * 20 + "b1C2d3E4f5G6h7J8k9L0m1N2p3Q4r5S6" + "JQQJ99" + "BACOGz" + "x" * 20
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4eXoifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
ARM = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/prod-rg/providers/"
       "Microsoft.CognitiveServices/accounts/contoso-ai")


def planted(tmp_path: Path, name: str, change) -> Path:
    """A copy of a packaged cassette with ``change`` applied to its first interaction."""
    path = tmp_path / name.replace("/", "-")
    shutil.copy(paths.cassette_root() / name, path)
    cassette = Cassette.load(path)
    change(cassette.interactions[0], cassette)
    cassette.save()
    return path


def add_json(field, value):
    def change(interaction, _):
        body = interaction.response_json()
        body[field] = value
        interaction.set_response_json(body)
    return change


def set_header(side, name, value):
    def change(interaction, _):
        headers = interaction.request.headers if side == "request" else (
            interaction.response["headers"])
        headers[name] = [value]
    return change


def set_uri(uri):
    def change(interaction, _):
        interaction.request.uri = uri
    return change


def binary_body(secret):
    def change(interaction, _):
        interaction.body = b"\xff\xfe\x80 upstream said " + secret.encode() + b" \xc3("
    return change


def gzip_body(secret):
    def change(interaction, _):
        interaction.response["headers"]["content-encoding"] = ["gzip"]
        interaction.body = gzip.compress(json.dumps({"echo": secret}).encode())
    return change


def metadata(change_meta):
    def change(_, cassette):
        change_meta(cassette.metadata)
    return change


CHAT = "chat/completion.yaml"
PLANTS = {
    "azure-key in a request header": (set_header("request", "api-key", HEX_KEY),
                                      "request.headers.api-key azure-key"),
    "azure-key in the query": (set_uri("https://RESOURCE.openai.azure.com/openai/v1/chat/"
                                       f"completions?x=1&key={HEX_KEY}"),
                               "request.uri azure-key"),
    "azure-key in prose": (add_json("message", f"Key '{HEX_KEY}' is not valid"),
                           "response.body azure-key"),
    "84-character key in a body": (add_json("k", NEW_KEY), "response.body azure-key"),
    "api-key query parameter": (set_uri("https://RESOURCE.openai.azure.com/openai/v1/chat/"
                                        "completions?api-key=not-hex-but-secret"),
                                "request.uri api-key-query"),
    "api-key header, any value": (set_header("response", "api-key", "custom-gateway-secret"),
                                  "response.headers.api-key api-key"),
    "sk- key in a body": (add_json("echo", "sk-proj-abcdefghijklmnopqrstuvwxyz0123"),
                          "response.body openai-key"),
    "bearer token in a header": (set_header("request", "Authorization", "Bearer abc.def-1234"),
                                 "request.headers.authorization bearer-token"),
    "basic credentials in a header": (set_header("request", "Authorization", "Basic dXNlcjpw"),
                                      "request.headers.authorization bearer-token"),
    "JWT in a body": (add_json("token", JWT), "response.body jwt"),
    "resource host in a body": (add_json("url", "https://contoso.openai.azure.com/x"),
                                "response.body azure-host"),
    "AI services host in the uri": (set_uri("https://contoso.services.ai.azure.com/openai/v1/"
                                            "chat/completions"), "request.uri azure-host"),
    "cognitive services host in a header": (
        set_header("response", "x-origin", "contoso.cognitiveservices.azure.com"),
        "response.headers.x-origin azure-host"),
    "tenant in a header": (set_header("response", "x-ms-tenant-id", TENANT),
                           "response.headers.x-ms-tenant-id tenant-id"),
    "tenant in a login URL": (add_json("authority",
                                       f"https://login.microsoftonline.com/{TENANT}/v2.0"),
                              "response.body tenant-id"),
    "subscription in a body": (add_json("subscription_id", SUBSCRIPTION),
                               "response.body subscription-id"),
    "ARM resource id in a body": (add_json("resource", ARM), "response.body arm-resource-id"),
    "cookie": (set_header("response", "set-cookie", "session=abc; HttpOnly"),
               "response.headers.set-cookie cookie"),
    "key in a !!binary body": (binary_body(f"api-key: {HEX_KEY}"), "response.body azure-key"),
    "JWT in a gzip body": (gzip_body(JWT), "response.body jwt"),
    "host in the metadata": (metadata(lambda m: m.update(endpoint="https://contoso.openai."
                                                         "azure.com/openai/v1/")),
                             "metadata azure-host"),
}


@pytest.mark.parametrize("plant", PLANTS)
def test_each_kind_is_found_where_it_hides(tmp_path, capsys, plant):
    change, expected = PLANTS[plant]
    path = planted(tmp_path, CHAT, change)
    assert main(["scan-secrets", str(path)]) == 1
    out = capsys.readouterr().out
    index = "-" if expected.startswith("metadata") else "0"
    assert out == f"{path}:{index} {expected}\n"
    for secret in (HEX_KEY, NEW_KEY, TENANT, SUBSCRIPTION, JWT, "contoso", "abc.def-1234",
                   "not-hex-but-secret", "session=abc"):
        assert secret not in out


def test_every_detector_has_a_planted_example():
    planted_kinds = {expected.split()[-1] for _, expected in PLANTS.values()}
    assert planted_kinds == {d.kind for d in DETECTORS}


SAMPLES = {
    "azure-key": [f"api-key: {HEX_KEY}", f'{{"key1": "{HEX_KEY}"}}', f"x {NEW_KEY} y"],
    "api-key-query": ["https://RESOURCE.openai.azure.com/openai/v1/models?api-key=secret1"],
    "openai-key": ['{"k": "sk-proj-abcdefghijklmnopqrstuvwxyz0123"}'],
    "bearer-token": ["Authorization: Basic dXNlcjpw", "auth was Bearer abc.def-1234"],
    "jwt": [f"token={JWT}"],
    "api-key": ['{"api-key": "gateway-secret"}'],
    "azure-host": ["https://contoso.openai.azure.com/openai/v1/"],
    "arm-resource-id": [ARM + "/deployments/gpt-4o-prod"],
    "subscription-id": [f'{{"subscriptionId": "{SUBSCRIPTION}"}}'],
    "tenant-id": [f"https://sts.windows.net/{TENANT}/", f'{{"tid": "{TENANT}"}}'],
    "cookie": ["Cookie: session=1"],
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_the_scrubber_leaves_nothing_to_find(kind):
    """Placeholders are fixed points: what the scrubber wrote, the scanner passes, and it is
    shaped like what it replaced (GUIDs stay GUIDs, hosts stay hosts)."""
    for text in SAMPLES[kind]:
        assert scan_text(text) == [kind], text
        scrubbed = Scrubber().text(text)
        assert scan_text(scrubbed) == [] and Scrubber().text(scrubbed) == scrubbed
    assert set(SAMPLES) == {d.kind for d in DETECTORS}


def test_placeholders_keep_the_shape():
    assert Scrubber().text(ARM + "/deployments/gpt-4o-prod") == (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/RESOURCE_GROUP/"
        "providers/Microsoft.CognitiveServices/accounts/RESOURCE/deployments/RESOURCE")


def test_unreadable_input_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n")
    assert main(["scan-secrets", str(bad)]) == 2
    assert main(["scan-secrets", str(tmp_path / "missing.yaml")]) == 2
    undecodable = planted(tmp_path, CHAT, lambda i, _: (
        i.response["headers"].update({"content-encoding": ["gzip"]}),
        setattr(i, "body", b"\x1f\x8b not really gzip")))
    assert main(["scan-secrets", str(undecodable)]) == 2
    assert "cannot be searched" in capsys.readouterr().err


# -- no false positives ----------------------------------------------------------------------


def test_the_packaged_cassettes_are_clean(capsys):
    assert main(["scan-secrets", str(paths.cassette_root())]) == 0
    assert capsys.readouterr().out == ""


def _corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


# True positives: two reference requests were recorded (by pydantic-ai, published) against
# resources whose real host names they kept, in the URI and the Host header.
REFERENCE_HOSTS = {"chat-completion.azure.request.json", "responses.azure.request.json"}


@pytest.mark.parametrize("path", _corpus_files(CORPUS / "reference"), ids=lambda p: p.name)
def test_the_reference_corpus_is_clean(path):
    found = scan_text(path.read_bytes().decode("utf-8", "replace"))
    assert found == (["azure-host"] if path.name in REFERENCE_HOSTS else [])


def test_every_real_exchange_is_clean():
    """tests/corpus/real/ holds real recorded exchanges (gathered separately): cassettes are
    scanned as cassettes, any other file as text."""
    files = _corpus_files(CORPUS / "real")
    if not files:
        pytest.skip("tests/corpus/real/ does not exist yet")
    problems = []
    for path in files:
        if path.suffix in (".yaml", ".yml"):
            for result in scan_paths([path]):
                problems += [str(f) for f in result.findings]
        else:
            problems += [f"{path}: {k}" for k in scan_text(
                path.read_bytes().decode("utf-8", "replace"))]
    assert problems == []


@given(st.binary(min_size=16, max_size=4096), st.booleans(), st.uuids(), st.uuids())
def test_ids_and_blobs_are_not_secrets(blob, urlsafe, request_id, response_id):
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(blob).decode()
    body = json.dumps({
        "id": f"chatcmpl-{request_id.hex}", "object": "response", "request_id": str(request_id),
        "system_fingerprint": f"fp_{response_id.hex[:10]}", "encrypted_content": encoded,
        "embedding": encoded, "previous_response_id": f"resp_{response_id.hex}",
        "message": f"Please include the request ID {request_id} in your message.",
    })
    headers = (f"apim-request-id: {request_id}\nx-request-id: {request_id.hex}\n"
               f"x-ms-client-request-id: {response_id}")
    assert scan_text(body) == [] and scan_text(headers) == []


def test_cassettes_in_folders_are_found(tmp_path):
    (tmp_path / "notes.yaml").write_text("just: notes\n")
    assert [r.note is not None for r in scan_paths([tmp_path])] == [True]
    assert list(iter_cassette_files([tmp_path])) == [tmp_path / "notes.yaml"]


# -- --secret-env: the value the user names, in every form -----------------------------------

GATEWAY_KEY = "gw-Key.0123~456789+abcdef!zz"  # no shape a detector knows; a valid name


def _encoded_inside(secret: bytes, shift: int, urlsafe: bool) -> str:
    """``secret`` base64-encoded inside a longer text, ``shift`` bytes in."""
    data = b"x" * shift + secret + b"tail"
    encoded = base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)
    return encoded.decode()


KNOWN_PLANTS = {
    "raw in a header value": (set_header("response", "x-echo", GATEWAY_KEY),
                              "response.headers.x-echo"),
    "raw in a header name": (set_header("response", f"x-k-{GATEWAY_KEY}", "1"),
                             "response.headers.x-k-<AZURE_OPENAI_API_KEY>"),
    "url-encoded in the query": (set_uri("https://RESOURCE.openai.azure.com/openai/v1/chat/"
                                         "completions?code=" + quote(GATEWAY_KEY, safe="")),
                                 "request.uri"),
    "url-encoded, lower-case hex": (set_uri("https://RESOURCE.openai.azure.com/openai/v1/x?c="
                                            + quote(GATEWAY_KEY, safe="").lower()
                                            .replace("gw-key", "gw-Key")), "request.uri"),
    "form-encoded in a body": (add_json("q", quote_plus(GATEWAY_KEY, safe="")),
                               "response.body"),
    "in a !!binary body": (binary_body(GATEWAY_KEY), "response.body"),
    **{f"base64{'url' if urlsafe else ''} at offset {shift}": (
        add_json("blob", _encoded_inside(GATEWAY_KEY.encode(), shift, urlsafe)),
        "response.body") for shift in range(3) for urlsafe in (False, True)},
    "in the metadata": (metadata(lambda m: m.update(note=GATEWAY_KEY)), "metadata"),
}


@pytest.mark.parametrize("plant", KNOWN_PLANTS)
def test_a_named_secret_is_found_in_every_form_and_never_printed(tmp_path, capsys,
                                                                monkeypatch, plant):
    change, location = KNOWN_PLANTS[plant]
    path = planted(tmp_path, CHAT, change)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", GATEWAY_KEY)
    monkeypatch.setenv("OTHER_SECRET", "another-secret-value")
    assert main(["scan-secrets", str(path)]) == 0  # no shape: only the value finds it
    assert main(["scan-secrets", "--secret-env", "AZURE_OPENAI_API_KEY",
                 "--secret-env", "OTHER_SECRET", str(path)]) == 1
    captured = capsys.readouterr()
    index = "-" if location == "metadata" else "0"
    assert captured.out == f"{path}:{index} {location} env:AZURE_OPENAI_API_KEY\n"
    printed = captured.out + captured.err
    for form in (GATEWAY_KEY, quote(GATEWAY_KEY, safe=""), "0123~456789"):
        assert form not in printed


def test_a_named_secret_that_is_missing_or_short_is_a_usage_error(tmp_path, capsys,
                                                                 monkeypatch):
    path = planted(tmp_path, CHAT, lambda i, c: None)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    monkeypatch.setenv("SHORT_ONE", "abc")
    assert main(["scan-secrets", "--secret-env", "NOT_SET_ANYWHERE", str(path)]) == 2
    assert main(["scan-secrets", "--secret-env", "SHORT_ONE", str(path)]) == 2
    err = capsys.readouterr().err
    assert "NOT_SET_ANYWHERE: the variable is not set" in err and "shorter than 8" in err
    assert "abc" not in err.replace("aoai", "")


def test_a_header_name_holding_a_shaped_secret_is_found_and_not_printed(tmp_path, capsys):
    path = planted(tmp_path, CHAT, set_header("response", f"x-k-{JWT}", "1"))
    assert main(["scan-secrets", str(path)]) == 1
    out = capsys.readouterr().out
    assert out == f"{path}:0 response.headers.x-k-<jwt> jwt\n"


def test_an_unreadable_header_name_is_reported_without_the_secret_in_it(tmp_path, capsys,
                                                                      monkeypatch):
    secret = "gw/key=0123456789"  # not a valid header name: the cassette cannot be read
    path = planted(tmp_path, CHAT, set_header("response", f"x-k-{secret}", "1"))
    monkeypatch.setenv("GW_KEY", secret)
    assert main(["scan-secrets", "--secret-env", "GW_KEY", str(path)]) == 2
    captured = capsys.readouterr()
    assert "not an HTTP token" in captured.err and secret not in captured.out + captured.err
