"""The doc's Azure host on loopback (conformance/drivers/azure_host.py): a client that trusts
the throwaway CA reaches the wire server through the CONNECT proxy under the Azure name, with
the path and host it sent; anything that is not an Azure host is refused, nothing is dialled
out, and the CA is trusted only by whoever is handed its file."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator

import pytest

from conformance.drivers.azure_host import DOC_BASE_URLS, DOC_HOST, AzureHost
from conformance.wire import Script, WireServer
from conformance.wire import script as actions


@pytest.fixture
def host() -> Iterator[AzureHost]:
    with AzureHost() as started:
        yield started


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as started:
        yield started


def _tunnel(host: AzureHost, target: str, context: ssl.SSLContext) -> http.client.HTTPSConnection:
    port = int(host.proxy_url.rsplit(":", 1)[1])
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.set_tunnel(target, 443)
    return connection


def test_a_client_trusting_the_test_ca_reaches_the_wire_server_as_the_azure_host(host, server):
    server.use(Script([actions.reply(200, {"ok": True})]))
    base_url = host.base_url_for("java", server.base_url)
    assert base_url == f"https://{DOC_HOST}/openai/v1"  # the Java sample's, no trailing slash
    connection = _tunnel(host, DOC_HOST, ssl.create_default_context(cafile=str(host.ca_file)))
    connection.request("POST", "/openai/deployments/gpt-4o/chat/completions?api-version=x",
                       body=b"{}", headers={"content-type": "application/json"})
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (200, {"ok": True})
    connection.close()
    [request] = server.requests
    # The wire server sees what the SDK sent: a build that rewrites the doc's URL is seen.
    assert request.path == "/openai/deployments/gpt-4o/chat/completions"
    assert request.header("host") == DOC_HOST
    assert host.tunnels == [f"{DOC_HOST}:443"]


def test_a_client_without_the_test_ca_does_not_trust_the_azure_host(host, server):
    host.route(server.base_url)
    connection = _tunnel(host, DOC_HOST, ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        connection.request("GET", "/openai/v1/models")
    assert server.requests == []


@pytest.mark.parametrize("target", ["example.com", "127.0.0.1", "openai.azure.com.evil.test"])
def test_anything_but_an_azure_host_is_refused_and_nothing_is_dialled(host, server, target):
    host.route(server.base_url)
    connection = _tunnel(host, target, ssl.create_default_context(cafile=str(host.ca_file)))
    with pytest.raises(OSError, match="403"):
        connection.request("GET", "/")
    assert host.tunnels == [] and server.requests == []
    assert [line.split(" ")[:2] for line in host.refused] == [["CONNECT", f"{target}:443"]]


def test_it_relays_to_loopback_only(host):
    with pytest.raises(ValueError, match="loopback only"):
        host.route("https://example.com/openai/v1/")


def test_each_sdk_gets_its_samples_base_url_and_its_own_trust(host, server):
    assert host.base_url_for("go", server.base_url) == DOC_BASE_URLS["go"]
    assert DOC_BASE_URLS["javascript"].endswith("/openai/v1/")
    assert host.env("javascript")["NODE_EXTRA_CA_CERTS"] == str(host.ca_file)
    assert host.env("go")["SSL_CERT_FILE"] == str(host.ca_file)
    assert host.env("go")["HTTPS_PROXY"] == host.proxy_url
    assert host.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
