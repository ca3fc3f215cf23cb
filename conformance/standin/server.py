"""Serving the stand-in: the project's wire server with the :class:`~.responder.Standin`
responder, on a loopback address only, with a bounded exchange log."""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import paths
from ..wire import Chunking, WireServer
from ..wire.server import MAX_REQUEST_BODY, _Handler, _HTTPServer
from .library import Library
from .responder import LoggedRequest, Standin

EXCHANGES_KEPT = 100  # the wire server's own log (raw requests): the newest only


class NotLoopback(ValueError):
    """A host that is not a loopback address: the stand-in never listens beyond this machine."""


def loopback(host: str) -> str:
    """``host`` as the IPv4 loopback address to bind, or :class:`NotLoopback`."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise NotLoopback(f"--host {host!r} is not an IP address; the stand-in listens on "
                          "loopback only (127.0.0.1)") from None
    if address.version != 4 or not address.is_loopback:
        raise NotLoopback(f"--host {host} is not an IPv4 loopback address; the stand-in "
                          "listens on loopback only (127.0.0.0/8)")
    return host


@dataclass
class StandinServer(WireServer):
    """A :class:`WireServer` on a chosen loopback port whose exchange log stays short (the
    stand-in's own request log is the record; a long-running stand-in must not grow)."""

    listen_port: int = 0

    def start(self) -> StandinServer:
        self.host = loopback(self.host)
        httpd = _HTTPServer((self.host, self.listen_port), _Handler)
        httpd.wire = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"aoai-standin:{self.port}")
        self._thread.start()
        return self

    def _dispatch(self, method: str, target: str, headers: Any, body: bytes,
                  arrived: float) -> Any:
        action = super()._dispatch(method, target, headers, body, arrived)
        with self._lock:
            del self.exchanges[:-EXCHANGES_KEPT]
        return action


@dataclass
class Running:
    """A serving stand-in, as a test sees it: where it is, its key, what it was sent.

    Its repr names no key (pytest prints a failing test's fixture arguments)."""

    server: StandinServer = field(repr=False)
    standin: Standin = field(repr=False)

    def __repr__(self) -> str:
        return f"Running(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/openai/v1/``: the SDK's base URL."""
        return self.server.base_url

    @property
    def key(self) -> str:
        return self.standin.key

    @property
    def requests(self) -> list[LoggedRequest]:
        """The requests received so far, oldest first, scrubbed of the key and tokens."""
        return self.standin.requests

    def clear(self) -> None:
        """Forget the logged requests and the attempt counters."""
        self.standin.clear()

    def environment(self) -> dict[str, str]:
        """The variables a test runner in any language points its SDK with."""
        return {"AZURE_OPENAI_BASE_URL": self.base_url, "AZURE_OPENAI_API_KEY": self.key,
                "OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": self.key}


@contextmanager
def serving(*, host: str = "127.0.0.1", port: int = 0, key: str | None = None,
            cassettes: Path | None = None, chunking: Chunking | None = None,
            clock: Callable[[], float] | None = None,
            max_request_body: int | None = None) -> Iterator[Running]:
    """The stand-in on ``host:port`` (port 0: any free port) for the span of the block."""
    library = Library(cassettes or paths.cassette_root(), chunking)
    standin = Standin(library, key or new_key(), clock or time.time)
    server = StandinServer(host=loopback(host), listen_port=port,
                           max_request_body=max_request_body or MAX_REQUEST_BODY)
    with server:
        server.use(standin)
        yield Running(server, standin)


def new_key() -> str:
    """A made-up resource key, new for each stand-in (32 hex digits, like Azure's)."""
    return secrets.token_hex(16)
