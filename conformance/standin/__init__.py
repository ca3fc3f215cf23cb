"""A stand-in Azure OpenAI v1 resource on loopback, for testing applications against Azure's
quirks: it answers chat, Responses, streaming, embeddings and GET models for any deployment
name from the project's verified recordings, authenticates like Azure, and plays a scenario
(an async-filter stream, a 429 then success, an error envelope, ...) when a request asks for
one. ``aoai-conformance standin`` serves it; the ``aoai_standin`` pytest fixture starts it for a
test session."""

from .library import Library
from .responder import SCENARIO_HEADER, SCENARIO_QUERY, LoggedRequest, Standin
from .scenarios import SCENARIOS, Scenario
from .server import NotLoopback, Running, StandinServer, loopback, serving

__all__ = [
    "SCENARIOS",
    "SCENARIO_HEADER",
    "SCENARIO_QUERY",
    "Library",
    "LoggedRequest",
    "NotLoopback",
    "Running",
    "Scenario",
    "Standin",
    "StandinServer",
    "loopback",
    "serving",
]
