"""A local stand-in for an Azure OpenAI resource, for live and record runs in tests.

It authenticates like the service (a wrong or missing key gets Azure's 401 body) and answers
from a folder of cassettes: any interaction whose request matches, as often as asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from vcr import matchers

from conformance.wire import Cassette, RecordedRequest, Replay, Reply, iter_cassette_files
from conformance.wire.replay import MATCHERS

UNAUTHORIZED = {"error": {"code": "401", "message": "Access denied due to invalid subscription "
                          "key or wrong API endpoint."}}


@dataclass
class FakeResource:
    key: str
    cassettes: Path
    seen: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._interactions = [
            i for path in iter_cassette_files([self.cassettes])
            for i in Cassette.load(path).interactions if i.status == 200
        ]

    def respond(self, request: RecordedRequest) -> Reply:
        self.seen.append(request)
        if request.header("authorization") != f"Bearer {self.key}" and (
            request.header("api-key") != self.key
        ):
            return Reply(401, [("content-type", "application/json")],
                         json.dumps(UNAUTHORIZED).encode())
        incoming = request.as_vcr()
        for interaction in self._interactions:
            if matchers.requests_match(incoming, interaction.request, MATCHERS):
                reply = Replay(Cassette(Path("fake"), [interaction])).reply(interaction)
                headers = [*reply.headers, ("set-cookie", "session=abc"),
                           ("x-request-id", "fake-req-1")]
                return Reply(reply.status, headers, reply.body, reply.chunks)
        return Reply(404, [("content-type", "application/json")],
                     b'{"error":{"code":"404","message":"Resource not found"}}')
