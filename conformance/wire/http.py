"""Small HTTP facts written once: the v1 API's base path, a case-insensitive header lookup
over the ``(name, value)`` pairs the wire layer keeps (requests, replies, cassette
interactions, upstream answers), and the headers of a refusal (an answer the harness gives
instead of the service's, which no SDK retries: :func:`conformance.wire.server.refusal`)."""

from __future__ import annotations

from collections.abc import Iterable

# The v1 API's path on a resource (and on the wire server): /openai/v1/ROUTE.
BASE_PATH = "/openai/v1/"
JSON = "application/json"
EVENT_STREAM = "text/event-stream"
# An answer no SDK retries (every SDK under test obeys x-should-retry: false).
NOT_RETRIED = ("x-should-retry", "false")


def header(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` in ``pairs``, whatever the case of either."""
    wanted = name.lower()
    return next((v for k, v in pairs if k.lower() == wanted), None)


def has_header(pairs: Iterable[tuple[str, str]], name: str) -> bool:
    wanted = name.lower()
    return any(k.lower() == wanted for k, _ in pairs)


def header_names(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """The names in ``pairs``, lowercase, in order."""
    return [k.lower() for k, _ in pairs]
