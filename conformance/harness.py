"""What a check runs inside: its wire (server + cassette replay) and the verdict rules.

This module is runner-agnostic; :mod:`conformance.pytest_plugin` wires it into pytest.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .registry import Check, CheckFailed, Unsupported, Verdict
from .wire import Cassette, CassetteNotFound, Chunking, Exchange, RecordedRequest, Replay
from .wire.proxy import Forward
from .wire.server import Reply, Responder, ServerFault, WireServer


class ReplayMismatch(CheckFailed):
    """The SDK's requests and the cassette disagree: a miss or an unused interaction."""


class HarnessFault(Exception):
    """The harness side of the wire failed during a check (a cassette it could not serve, an
    upstream that failed, timed out or redirected, a resource limit): the check is an
    ``error`` whatever the SDK then did."""


def record_command(check: Check, cassette_root: Path | None = None) -> str:
    where = f" --cassettes {cassette_root}" if cassette_root is not None else ""
    return (
        f"aoai-conformance record {check.id} "
        f"--endpoint https://RESOURCE.openai.azure.com/openai/v1/{where}"
    )


@dataclass
class Wire:
    """The wire as one check sees it: the shared server, this check's responder and log."""

    server: WireServer
    replay: Replay | None = None
    forward: Forward | None = None
    # Live: the user's deployment names (doc name -> theirs) the forwarder sends upstream.
    deployments: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # pytest prints a failing check's fixture arguments; in a live run the exchange log
        # and the forwarder hold what the resource said, so the repr shows neither.
        serving = ("forwarding" if self.forward is not None else
                   f"replaying {self.replay.cassette.path.name}" if self.replay is not None
                   else "scripted")
        return f"Wire({serving})"

    @classmethod
    def for_check(
        cls, server: WireServer, check: Check, cassette_root: Path, chunking: Chunking
    ) -> Wire:
        if check.cassette is None:
            return cls(server)
        path = cassette_root / check.cassette
        try:
            cassette = Cassette.load(path)
        except CassetteNotFound:
            raise CassetteNotFound(
                f"cassette not found: {path}\nrecord it with: "
                f"{record_command(check, cassette_root)}"
            ) from None
        replay = Replay(cassette, chunking)
        server.use(replay)
        return cls(server, replay)

    @classmethod
    def forwarding(cls, server: WireServer, forward: Forward,
                   deployments: Mapping[str, str] | None = None) -> Wire:
        server.use(forward)
        return cls(server, forward=forward, deployments=dict(deployments or {}))

    def deployment_sent(self, doc_name: str) -> str:
        """The deployment name that went upstream when the SDK asked for ``doc_name``: the
        user's name for it in a live run, the recorder's (``metadata.deployments`` of a
        cassette ``record`` wrote) in replay, else ``doc_name`` itself. A judgement about
        what the service echoes compares with this, never with the doc's name."""
        if self.forward is not None:
            return self.deployments.get(doc_name, doc_name)
        recorded = self.cassette.metadata.get("deployments") if self.cassette else None
        if isinstance(recorded, Mapping) and isinstance(recorded.get(doc_name), str):
            return str(recorded[doc_name])
        return doc_name

    def recorded(self, check: Check, cassette_root: Path, sdk: str) -> Cassette | None:
        """The cassette a recording run made for ``check`` (unsaved), or None."""
        if self.forward is None or not self.forward.interactions or check.cassette is None:
            return None
        metadata: dict[str, Any] = {
            "provenance": "recorded",
            "recorded_at": dt.date.today().isoformat(),
            "recorded_by": f"aoai-conformance record {check.id}",
            "sdk": sdk,
            "endpoint": "https://RESOURCE.openai.azure.com/openai/v1/",
        }
        used = {}
        for interaction in self.forward.interactions:
            try:
                body = interaction.request_json()
            except ValueError:
                continue
            model = body.get("model") if isinstance(body, dict) else None
            if isinstance(model, str) and model in self.deployments:
                used[model] = self.deployments[model]
        if used:  # what went upstream, so replay judges the echo against it
            metadata["deployments"] = dict(sorted(used.items()))
        return Cassette(cassette_root / check.cassette, list(self.forward.interactions),
                        metadata)

    @property
    def cassette(self) -> Cassette | None:
        """The cassette being replayed, if any."""
        return self.replay.cassette if self.replay is not None else None

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def exchanges(self) -> list[Exchange]:
        return self.server.exchanges

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.server.requests

    def reply(self, index: int = -1) -> Reply:
        """The reply the server sent to request ``index``; fails the check on a reset."""
        if not self.exchanges:
            raise CheckFailed("the SDK sent no request")
        action = self.exchanges[index].action
        if not isinstance(action, Reply):
            raise CheckFailed(f"request {index} was answered with a connection reset")
        return action

    def response_json(self, index: int = -1) -> Any:
        """The JSON body the server sent to request ``index``."""
        return json.loads(self.reply(index).streamed)

    def use(self, responder: Responder) -> None:
        """Serve this check from ``responder`` instead of a cassette (scripted scenarios)."""
        self.replay = None
        self.server.use(responder)

    def problems(self) -> list[str]:
        return self.replay.problems() if self.replay is not None else []

    def faults(self) -> list[ServerFault]:
        """The wire server's own failures during this check."""
        return list(self.server.faults)


# Exceptions raised inside these distributions are the SDK's behaviour, not the harness's.
SDK_PACKAGES = ("openai", "httpx", "httpx2", "httpcore", "httpcore2", "h11", "anyio",
                "pydantic", "pydantic_core", "azure")


@cache
def _package_roots() -> tuple[tuple[str, str], ...]:
    roots: list[tuple[str, str]] = []
    for name in SDK_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots.extend(("sdk", str(Path(p).resolve())) for p in spec.submodule_search_locations)
    roots.append(("project", str(Path(__file__).resolve().parent)))
    return tuple(roots)


def origin(exc: BaseException) -> str:
    """``sdk`` if the last SDK-or-project frame of the traceback is the SDK's, else ``project``."""
    last = "project"
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        filename = str(Path(frame.f_code.co_filename).resolve())
        for kind, root in _package_roots():
            if filename.startswith(root + "/"):
                last = kind
                break
    return last


@dataclass
class Classification:
    verdict: Verdict
    message: str = ""
    detail: list[str] = field(default_factory=list)


def classify(exc: BaseException | None, phase: str = "call") -> Classification:
    """The verdict a check earns from the exception that ended a phase (None: it passed).
    An interrupt (KeyboardInterrupt, SIGTERM's :class:`~.interruption.Terminated`) is no
    verdict: it is raised again, to end the run."""
    if exc is None:
        return Classification(Verdict.PASS)
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    text = str(exc).strip()
    name = type(exc).__name__
    if phase != "call":
        return Classification(Verdict.ERROR, f"harness error during {phase}: {name}: {text}")
    if isinstance(exc, HarnessFault):
        return Classification(Verdict.ERROR, text)
    if isinstance(exc, Unsupported):
        return Classification(Verdict.UNSUPPORTED, text)
    if isinstance(exc, AssertionError):
        return Classification(Verdict.FAIL, text or name)
    if isinstance(exc, Exception) and origin(exc) == "sdk":
        return Classification(Verdict.FAIL, f"the SDK raised {_qualified(exc)}: {text}")
    return Classification(Verdict.ERROR, f"check error: {name}: {text}")


def _qualified(exc: BaseException) -> str:
    module = type(exc).__module__
    public = module.split(".")[0]
    if public in sys.modules and getattr(sys.modules[public], type(exc).__name__, None) is type(
        exc
    ):
        module = public
    return f"{module}.{type(exc).__qualname__}"
