"""The wire server's actions performed in process, for faults a socket can only show by waiting.

A read timeout over a real socket costs the timeout itself. :func:`transport` builds a
``MockTransport`` of the HTTP library the SDK uses (``httpx`` or ``httpx2``; the caller passes
the module) that hands every request to a dispatcher (normally :meth:`WireServer.dispatch`, so
the exchange log is the same one socket traffic goes to) and performs the action without a
socket:

- :class:`Reply`: the response, streamed chunk by chunk when it has chunks;
  ``reset_after_chunks`` raises the library's ``ReadError`` mid-body and ``cut_after`` its
  ``RemoteProtocolError``, as a real peer that hangs up would make it raise;
- :class:`Reset`: ``ReadError`` before any byte;
- :class:`Stall`: ``ReadTimeout`` at once, the outcome of a client read timeout shorter than the
  stall, without the wait.

Exceptions are the library's own transport exceptions, raised where the library's transport
would raise them, so the SDK maps them exactly as it maps real network failures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any

from .server import Action, Reply, Reset, Stall

Dispatch = Callable[[str, str, Iterable[tuple[str, str]], bytes], Action]

# Framing headers describe the socket transfer; an in-process response has none.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def transport(dispatch: Dispatch, http: ModuleType) -> Any:
    """A ``http.MockTransport`` that performs ``dispatch``'s action for each request."""

    def handle(request: Any) -> Any:
        body = request.read()
        target = request.url.raw_path.decode("ascii")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        action = dispatch(request.method, target, headers, body)
        if isinstance(action, Reset):
            raise http.ReadError("connection reset by peer (in-process)", request=request)
        if isinstance(action, Stall):
            raise http.ReadTimeout("read timed out (in-process stall)", request=request)
        return _response(http, action, request)

    return http.MockTransport(handle)


def _response(http: ModuleType, reply: Reply, request: Any) -> Any:
    headers = [(k, v) for k, v in reply.headers if k.lower() not in _FRAMING]
    if reply.chunks is None and reply.cut_after is None:
        return http.Response(reply.status, headers=headers, content=reply.body, request=request)
    return http.Response(reply.status, headers=headers, content=_body(http, reply, request),
                         request=request)


def _body(http: ModuleType, reply: Reply, request: Any) -> Iterator[bytes]:
    if reply.chunks is None:
        yield reply.body[: reply.cut_after]
        raise http.RemoteProtocolError(
            "peer closed connection without sending complete message body (in-process)",
            request=request,
        )
    for n, chunk in enumerate(reply.chunks):
        if reply.reset_after_chunks is not None and n >= reply.reset_after_chunks:
            raise http.ReadError("connection reset by peer (in-process)", request=request)
        yield chunk
    if reply.reset_after_chunks is not None and reply.reset_after_chunks <= len(reply.chunks):
        raise http.ReadError("connection reset by peer (in-process)", request=request)
