"""Replaying a cassette: each recorded interaction is played at most once, in order.

Requests are matched with vcrpy's own matchers on method, path, query and the JSON body, so
telemetry headers (``x-stainless-*``, ``user-agent``) and the host never matter. A request
that matches nothing is a *miss*; an interaction never asked for is *unused*. Both fail the
check that replayed the cassette.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from vcr import matchers
from vcr.request import Request as VcrRequest

from .cassette import Cassette, Interaction
from .server import Action, RecordedRequest, Reply, refusal
from .sse import Chunking, is_event_stream
from .validation import decode_body


def body(r1: VcrRequest, r2: VcrRequest) -> None:
    """vcrpy's body matcher, except that a JSON body's ``"stream": false`` equals its absence:
    the API's default, and how SDKs that stream through another method say it (openai-go's
    ``Responses.New`` has no stream field; ``NewStreaming`` sends ``true``)."""
    try:
        matchers.body(r1, r2)
    except AssertionError:
        first, second = _without_default_stream(r1), _without_default_stream(r2)
        if first is None or first != second:
            raise


def _without_default_stream(request: VcrRequest) -> dict[str, object] | None:
    try:
        data = json.loads(request.body or b"")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("stream") is False:
        del data["stream"]
    return data


MATCHERS = (matchers.method, matchers.path, matchers.query, body)
MISS_STATUS = 400  # a status no SDK retries, so one miss stays one request


@dataclass(frozen=True)
class Miss:
    request: RecordedRequest
    closest: Interaction | None
    closest_index: int | None
    differences: list[tuple[str, str]]
    # Known cause: the request matched an interaction already played to an earlier request
    # that the wire server could not answer (so the SDK asked again).
    cause: str | None = None

    def describe(self) -> str:
        lines = [f"request #{self.request.index} {self.request.describe()} matched no unplayed "
                 "recorded interaction"]
        if self.cause is not None:
            lines.append(f"  because: {self.cause}")
        if self.closest is not None:
            lines.append(
                f"  expected interaction {self.closest_index}: {self.closest.describe()}; "
                "it differs in "
                + ", ".join(name for name, _ in self.differences)
            )
        lines.extend(f"  {name}: {detail}" for name, detail in self.differences if detail)
        return "\n".join(lines)


@dataclass
class Replay:
    cassette: Cassette
    chunking: Chunking = field(default_factory=Chunking)
    played: list[bool] = field(init=False)
    misses: list[Miss] = field(default_factory=list)
    # request index -> the interaction played to it, and why it could not be sent (if so)
    served: dict[int, int] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.played = [False] * len(self.cassette.interactions)

    def respond(self, request: RecordedRequest) -> Action:
        incoming = request.as_vcr()
        for index, interaction in enumerate(self.cassette.interactions):
            if not self.played[index] and matchers.requests_match(
                incoming, interaction.request, MATCHERS
            ):
                self.played[index] = True
                self.served[request.index] = index
                return self.reply(interaction)
        miss = self._miss(request)
        self.misses.append(miss)
        return refusal(
            MISS_STATUS, "cassette_miss", miss.describe(), marker="replay-miss",
            param=None, type="replay_error",
        )

    def reply(self, interaction: Interaction) -> Reply:
        # The body is served decoded, as check-cassettes judged it: the content-encoding
        # described the recorded transfer, not this one.
        body = decode_body(interaction.body, interaction.header("content-encoding"))
        headers = [(k, v) for k, v in interaction.headers if k.lower() != "content-encoding"]
        if is_event_stream(interaction.header("content-type")):
            return Reply(interaction.status, headers, chunks=self.chunking.split(body),
                         reason=interaction.reason)
        return Reply(interaction.status, headers, body, reason=interaction.reason)

    def failed(self, request: RecordedRequest, message: str) -> None:
        """The wire server could not send what this replay answered to ``request``."""
        self.failures[request.index] = message

    def _cause(self, incoming: VcrRequest) -> str | None:
        for earlier, index in self.served.items():
            if earlier in self.failures and matchers.requests_match(
                incoming, self.cassette.interactions[index].request, MATCHERS
            ):
                return (f"it matches interaction {index}, already played to request #{earlier}, "
                        f"which the wire server could not send: {self.failures[earlier]}")
        return None

    def _miss(self, request: RecordedRequest) -> Miss:
        incoming = request.as_vcr()
        cause = self._cause(incoming)
        if cause is not None:
            return Miss(request, None, None, [], cause)
        best: tuple[int, int, list[tuple[str, str]]] | None = None
        # Prefer the next unplayed interaction; among equals, the one with fewest differences.
        for index, interaction in enumerate(self.cassette.interactions):
            if self.played[index]:
                continue
            _, failed = matchers.get_matchers_results(incoming, interaction.request, MATCHERS)
            if best is None or len(failed) < best[1]:
                best = (index, len(failed), [(n, str(m or "")) for n, m in failed])
        if best is None:
            return Miss(request, None, None, [("count", "every recorded interaction was "
                                                        "already played")])
        index, _, differences = best
        return Miss(request, self.cassette.interactions[index], index, differences)

    @property
    def unused(self) -> list[tuple[int, Interaction]]:
        return [
            (i, interaction)
            for i, interaction in enumerate(self.cassette.interactions)
            if not self.played[i]
        ]

    def problems(self) -> list[str]:
        """Why this replay does not prove anything, or an empty list."""
        where = f"cassette {self.cassette.path}"
        found = [f"{where}: {miss.describe()}" for miss in self.misses]
        unused = self.unused
        if unused:
            made = sum(self.played)
            found.append(
                f"{where}: {len(unused)} recorded interaction(s) never requested "
                f"(the SDK made {made + len(self.misses)} request(s), "
                f"{len(self.cassette.interactions)} recorded): "
                + "; ".join(f"interaction {i} {it.describe()}" for i, it in unused)
            )
        return found
