"""What a live run costs in tokens: usage read from answers, and the output cap on requests.

Usage is read where the service reports it: ``usage`` of a chat completion, an embeddings
list or a Response; in a chat stream the usage chunk; in a Responses stream the ``response``
of its final event. Every live request is sent upstream with its output capped at
:data:`OUTPUT_CAP` (lowered if the SDK asked for more, added if it asked for nothing): the
checks judge what the SDK sent and the shape of what came back, not how long the answer is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .settings import DEFAULT_TOKEN_BUDGET as DEFAULT_TOKEN_BUDGET
from .settings import OUTPUT_CAP as OUTPUT_CAP
from .wire import Cassette, CassetteError
from .wire.sse import is_event_stream, parse_events

# route (under /openai/v1/) -> the request's output-cap fields: (present ones, the one to add)
_CAPS: dict[str, tuple[tuple[str, ...], str]] = {
    "chat/completions": (("max_tokens", "max_completion_tokens"), "max_completion_tokens"),
    "responses": (("max_output_tokens",), "max_output_tokens"),
}


@dataclass(frozen=True)
class Usage:
    input: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input + other.input, self.output + other.output)

    def capped(self, cap: int = OUTPUT_CAP) -> Usage:
        return Usage(self.input, min(self.output, cap))


def _of(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    numbers = {k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}
    given = numbers.get("prompt_tokens", numbers.get("input_tokens", 0))
    produced = numbers.get("completion_tokens", numbers.get("output_tokens", 0))
    if not given and not produced and "total_tokens" in numbers:
        given = numbers["total_tokens"]  # embeddings: prompt_tokens == total_tokens
    return Usage(given, produced)


def of_body(body: bytes, content_type: str | None) -> Usage:
    """The usage an answer reports (zero when it reports none)."""
    if is_event_stream(content_type) or body.lstrip().startswith((b"data:", b"event:")):
        found: Usage | None = None
        for event in parse_events(body):
            try:
                data = event.json()
            except ValueError:
                continue
            if isinstance(data, dict):
                response = data.get("response")
                usage = _of(data.get("usage")) or (
                    _of(response.get("usage")) if isinstance(response, dict) else None)
                found = usage or found  # the last report of the stream stands
        return found or Usage()
    try:
        data = json.loads(body)
    except ValueError:
        return Usage()
    return (_of(data.get("usage")) if isinstance(data, dict) else None) or Usage()


def total(usages: Iterable[Usage]) -> Usage:
    result = Usage()
    for usage in usages:
        result = result + usage
    return result


def cap_output(path: str, body: bytes, cap: int = OUTPUT_CAP) -> bytes:
    """The request body with its output capped at ``cap`` (unchanged for other routes)."""
    route = next((r for r in _CAPS if path.rstrip("/").endswith("/" + r)), None)
    if route is None or not body.lstrip().startswith(b"{"):
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict):
        return body
    fields, added = _CAPS[route]
    present = [f for f in fields if isinstance(data.get(f), int)]
    for name in present:
        data[name] = min(data[name], cap)
    if not present:
        data[added] = cap
    return json.dumps(data).encode()


@cache
def estimate(cassette: Path) -> tuple[int, Usage]:
    """(requests, usage with the output capped) a live check whose cassette this is will
    spend, judged from what the cassette recorded."""
    try:
        interactions = Cassette.load(cassette).interactions
    except CassetteError:
        return 0, Usage()
    spent = total(of_body(i.body, i.header("content-type")).capped() for i in interactions)
    return len(interactions), spent
