"""The scrubber: nothing secret-shaped leaves in a report."""

from __future__ import annotations

import pytest

from conformance.secrets import Scrubber

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiIwMDAwIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer sk-abc123456789", "Authorization: Bearer <redacted>"),
        ("token " + JWT, "token <jwt>"),
        ("api-key: 0123456789abcdef0123456789abcdef", "api-key: <redacted>"),
        ("https://contoso-eastus.openai.azure.com/openai/v1/",
         "https://RESOURCE.openai.azure.com/openai/v1/"),
        ("https://my-res.services.ai.azure.com/x", "https://RESOURCE.services.ai.azure.com/x"),
        ("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2",
         "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/oauth2"),
        ('"tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47"',
         '"tenant_id": "00000000-0000-0000-0000-000000000000"'),
        ("https://RESOURCE.openai.azure.com/", "https://RESOURCE.openai.azure.com/"),
        ("Bearer <redacted>", "Bearer <redacted>"),
        ("a bad bearer token", "a bad bearer token"),
    ],
)
def test_patterns(text, expected):
    assert Scrubber().text(text) == expected


def test_registered_values_are_replaced_everywhere_in_json():
    scrubber = Scrubber()
    scrubber.add("super-secret-key", "api-key")
    value = {"k super-secret-key": ["x super-secret-key y", 3, None]}
    assert scrubber.obj(value) == {"k <api-key>": ["x <api-key> y", 3, None]}


def test_short_values_are_refused():
    with pytest.raises(ValueError, match="shorter than 8"):
        Scrubber().add("abc", "api-key")


def test_credential_headers_lose_their_values():
    assert Scrubber().headers({"Authorization": "Bearer x", "api-key": "k", "x-ok": "1"}) == {
        "Authorization": "<redacted>", "api-key": "<redacted>", "x-ok": "1"}


def test_binary_bodies_are_scrubbed_byte_for_byte():
    scrubber = Scrubber()
    scrubber.add("live-secret-key-0123", "api-key")
    body = b"\xff\xfe live-secret-key-0123 at myres.openai.azure.com \xc3("
    scrubbed = scrubber.binary(body)
    assert b"live-secret-key" not in scrubbed and b"myres" not in scrubbed
    assert scrubbed.startswith(b"\xff\xfe <api-key> at RESOURCE.openai.azure.com")


def test_a_secret_in_a_header_name_is_replaced_and_the_name_stays_a_name():
    scrubber = Scrubber()
    scrubber.add("live-secret-key-0123", "api-key")
    assert scrubber.header_name("x-k-live-secret-key-0123") == "x-k-api-key"
    assert scrubber.header_name("x-request-id") == "x-request-id"
    assert scrubber.headers({"x-k-live-secret-key-0123": "1"}) == {"x-k-api-key": "1"}


@pytest.mark.parametrize("host", ["gw.io", "Contoso-Prod.Example.NET", "127.0.0.1:8443", "ai"])
def test_hosts_are_replaced_in_any_case_as_whole_names(host):
    scrubber = Scrubber()
    scrubber.add_host(host.lower())
    for written in (host, host.upper(), host.lower()):
        assert scrubber.text(f"https://{written}/openai/v1/ failed") == (
            "https://<resource-host>/openai/v1/ failed")
        assert scrubber.binary(f"\xff at {written}.".encode("latin-1")) == (
            b"\xff at <resource-host>.")
    longer = f"x{host}y, {host}-prod.example, sub.{host}.example"
    assert scrubber.text(longer) == longer
    assert scrubber.text(f"eu.{host}") == "eu.<resource-host>"  # a subdomain names it too
