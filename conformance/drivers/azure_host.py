"""The doc's Azure host on loopback: ``https://YOUR-RESOURCE-NAME.openai.azure.com/openai/v1``.

The SDKs choose code paths by the base URL's host (openai-java's ``AZURE_UNIFIED`` vs
``NON_AZURE``, openai-go's and openai-node's Azure handling), so a ``http://127.0.0.1`` URL
never runs them. :class:`AzureHost` lets each driver be given the doc's base URL exactly as its
sample writes it while every byte stays on this machine:

- a CONNECT proxy on 127.0.0.1 that each driver process is told to use (``HTTPS_PROXY`` for
  Go's ``http.ProxyFromEnvironment`` and the JavaScript driver's undici ``ProxyAgent``;
  ``-Dhttps.proxyHost/-Dhttps.proxyPort`` for OkHttp's default proxy selector). It tunnels
  only ``*.openai.azure.com:443`` (and the other two Azure host suffixes, for the construction
  checks); anything else is refused (403), nothing is dialled out;
- inside the tunnel, TLS terminated with a certificate for the Azure names, issued by a
  throwaway test CA (``trustme``) made at start-up and trusted only by the driver processes
  (``NODE_EXTRA_CA_CERTS``, ``SSL_CERT_FILE``, a PKCS#12 ``javax.net.ssl.trustStore``), never
  installed anywhere;
- the plaintext HTTP relayed to the loopback wire server (:meth:`AzureHost.route`), which sees
  every request as the SDK sent it, path and query included.
"""

from __future__ import annotations

import contextlib
import selectors
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DOC_HOST = "YOUR-RESOURCE-NAME.openai.azure.com"
AZURE_SUFFIX = ".openai.azure.com"
# The host suffixes Azure serves the v1 API on (conformance.routes.AZURE_HOST_SUFFIXES): the
# proxy tunnels, and the test CA certifies, all three, so a construction's URL on any of them
# stays on loopback.
AZURE_SUFFIXES = (AZURE_SUFFIX, ".cognitiveservices.azure.com", ".services.ai.azure.com")
# Each SDK's base URL as its doc sample writes it: the Java Responses sample's ``resourceName``
# has no trailing slash; the Go, JavaScript and Python samples end in ``/openai/v1/``.
DOC_BASE_URLS: Mapping[str, str] = {
    "python": f"https://{DOC_HOST}/openai/v1/",
    "javascript": f"https://{DOC_HOST}/openai/v1/",
    "go": f"https://{DOC_HOST}/openai/v1/",
    "java": f"https://{DOC_HOST}/openai/v1",
}
_TRUSTSTORE_PASSWORD = "aoai-conformance-test-ca"  # guards a throwaway public certificate only
_HEAD_LIMIT = 8192


@dataclass
class AzureHost:
    """A loopback CONNECT proxy terminating TLS for the doc's Azure host. Use as a context
    manager or call :meth:`start` and :meth:`close`."""

    directory: Path | None = None
    tunnels: list[str] = field(default_factory=list)  # host:port of every CONNECT accepted
    refused: list[str] = field(default_factory=list)  # what it would not tunnel
    _target: tuple[str, int] | None = field(default=None, repr=False)
    _listener: socket.socket | None = field(default=None, repr=False)
    _context: ssl.SSLContext | None = field(default=None, repr=False)
    _owned_directory: bool = field(default=False, repr=False)
    _truststore: Path | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _closed: threading.Event = field(default_factory=threading.Event, repr=False)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> AzureHost:
        if self._listener is not None:
            return self
        import trustme  # imported here: only a run that drives other SDKs needs it

        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="aoai-azure-host-"))
            self._owned_directory = True
        ca = trustme.CA(organization_name="aoai-conformance throwaway test CA")
        certificate = ca.issue_cert(DOC_HOST, *(f"*{suffix}" for suffix in AZURE_SUFFIXES))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        context.set_alpn_protocols(["http/1.1"])  # the wire server speaks HTTP/1.1
        self._context = context
        ca.cert_pem.write_to_path(str(self.ca_file))
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True, name="azure-host").start()
        return self

    def close(self) -> None:
        self._closed.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        if self._owned_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> AzureHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the runner uses ------------------------------------------------------------------

    @property
    def ca_file(self) -> Path:
        assert self.directory is not None, "start the AzureHost first"
        return self.directory / "test-ca.pem"

    @property
    def proxy_url(self) -> str:
        assert self._listener is not None, "start the AzureHost first"
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def route(self, base_url: str) -> None:
        """Relay every tunnel from now on to the loopback server at ``base_url``."""
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1") or parts.port is None:
            raise ValueError(f"the Azure host relays to loopback only, not {base_url!r}")
        with self._lock:
            self._target = ("127.0.0.1" if parts.hostname == "localhost" else parts.hostname,
                            parts.port)

    def base_url_for(self, sdk: str, loopback_url: str) -> str:
        """The doc's base URL for ``sdk`` in place of the wire server's ``loopback_url``
        (anything after ``/openai/v1/`` kept), after routing the tunnels to that server."""
        self.route(loopback_url)
        doc = DOC_BASE_URLS.get(sdk, DOC_BASE_URLS["python"])
        rest = urlsplit(loopback_url).path.split("/openai/v1", 1)[-1].lstrip("/")
        return doc if not rest else doc.rstrip("/") + "/" + rest

    def env(self, sdk: str) -> dict[str, str]:
        """What a driver process of ``sdk`` needs to reach the Azure host: the proxy, and the
        test CA trusted by that process alone."""
        proxy = self.proxy_url
        common = {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
        if sdk == "javascript":
            return {**common, "NODE_EXTRA_CA_CERTS": str(self.ca_file)}
        if sdk == "go":
            return {**common, "SSL_CERT_FILE": str(self.ca_file)}
        if sdk == "java":
            port = proxy.rsplit(":", 1)[1]
            options = ["-Dhttps.proxyHost=127.0.0.1", f"-Dhttps.proxyPort={port}",
                       f"-Djavax.net.ssl.trustStore={self.java_truststore()}",
                       "-Djavax.net.ssl.trustStoreType=PKCS12",
                       f"-Djavax.net.ssl.trustStorePassword={_TRUSTSTORE_PASSWORD}"]
            return {"JAVA_TOOL_OPTIONS": " ".join(options)}
        return common

    def java_truststore(self) -> Path:
        """A PKCS#12 trust store holding the test CA (JDK ``keytool``; made once)."""
        if self._truststore is None:
            assert self.directory is not None
            store = self.directory / "test-ca.p12"
            keytool = shutil.which("keytool") or "keytool"
            subprocess.run([keytool, "-importcert", "-noprompt", "-alias", "aoai-test-ca",
                            "-file", str(self.ca_file), "-keystore", str(store),
                            "-storetype", "PKCS12", "-storepass", _TRUSTSTORE_PASSWORD],
                           check=True, capture_output=True, timeout=60)
            self._truststore = store
        return self._truststore

    # -- the proxy -----------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True,
                             name="azure-host-tunnel").start()

    def _tunnel(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        secure: ssl.SSLSocket | None = None
        try:
            client.settimeout(30)
            head = _read_head(client)
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, _, rest = request_line.partition(" ")
            authority = rest.split(" ", 1)[0]
            host, _, port = authority.rpartition(":")
            if (method != "CONNECT" or not host.lower().endswith(AZURE_SUFFIXES)
                    or port != "443"):
                self.refused.append(request_line)
                client.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                return
            with self._lock:
                target = self._target
            if target is None:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                return
            self.tunnels.append(authority)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            assert self._context is not None
            secure = self._context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(target, timeout=30)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _relay(secure, upstream, self._closed)
        except (OSError, ValueError):
            pass  # the SDK or the server hung up: the wire server's log tells the check
        finally:
            for sock in (upstream, secure, client):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1024)
        if not chunk:
            raise ValueError("closed before a request head")
        data += chunk
        if len(data) > _HEAD_LIMIT:
            raise ValueError("request head too long")
    return data


def _relay(secure: ssl.SSLSocket, upstream: socket.socket, closed: threading.Event) -> None:
    """Copy bytes both ways on one thread (an SSL socket is not read and written from two)."""
    selector = selectors.DefaultSelector()
    selector.register(secure, selectors.EVENT_READ, "client")
    selector.register(upstream, selectors.EVENT_READ, "upstream")
    try:
        while not closed.is_set():
            wait = 0.0 if secure.pending() else 0.5  # TLS may hold decrypted bytes already
            ready: list[Any] = [key.data for key, _ in selector.select(timeout=wait)]
            if secure.pending() and "client" not in ready:
                ready.append("client")
            for side in ready:
                if side == "client":
                    try:
                        data = secure.recv(65536)
                    except ssl.SSLWantReadError:
                        continue
                    if not data:
                        return
                    upstream.sendall(data)
                else:
                    data = upstream.recv(65536)
                    if not data:
                        return
                    secure.sendall(data)
    finally:
        selector.close()


__all__ = ["AZURE_SUFFIX", "AZURE_SUFFIXES", "DOC_BASE_URLS", "DOC_HOST", "AzureHost"]
