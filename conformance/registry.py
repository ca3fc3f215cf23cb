"""The check registry: every check is a documented claim with a stable id.

A check is a function decorated with :func:`check`. It drives an SDK against the wire server
and ends in one verdict:

- ``pass``: the claim held;
- ``fail``: it did not (an :class:`AssertionError`, a replay mismatch, or the SDK raising
  where the doc says it should not);
- ``unsupported``: the installed SDK version lacks the feature (:func:`unsupported`);
- ``skipped``: not applicable here, with a reason;
- ``error``: the harness broke (missing cassette, a bug in the check).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NoReturn, TypeVar

FEATURES = (
    "construction",
    "auth",
    "chat",
    "reasoning",
    "responses",
    "streaming",
    "mcp",
    "embeddings",
    "image-input",
    "errors",
    "retries",
    "request-ids",
)

# The SDKs a check can run against: openai-python in process, the others through a driver
# (conformance/drivers/, docs/driver-protocol.md). A check runs on python only unless it says
# ``sdks=ALL_SDKS`` (or names some), and then receives a ``driver`` fixture instead of
# ``openai_python``.
# ALL_SDKS stands for every SDK of the SDK registry (conformance/sdks/), resolved when the
# checks are collected, so an SDK registered later (a stand-in in a test) is covered too.
ALL_SDKS = ("*",)
PYTHON_ONLY = ("python",)


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    UNSUPPORTED = "unsupported"
    SKIPPED = "skipped"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class CheckFailed(AssertionError):
    """The documented claim does not hold."""


class Unsupported(Exception):
    """The installed SDK version does not have the feature the claim is about."""


def expect(condition: object, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds (survives ``python -O``)."""
    if not condition:
        raise CheckFailed(message)


def fail(message: str) -> NoReturn:
    raise CheckFailed(message)


def unsupported(reason: str) -> NoReturn:
    raise Unsupported(reason)


DEFAULT_CASSETTE = "<by id>"


@dataclass(frozen=True)
class Check:
    id: str
    feature: str
    doc: str
    claim: str
    function: Callable[..., None]
    cassette: str | None = None
    refs: tuple[str, ...] = ()
    live: bool = True
    sdks: tuple[str, ...] = PYTHON_ONLY


REGISTRY: dict[str, Check] = {}

F = TypeVar("F", bound=Callable[..., None])


def check(
    id: str,  # the registry's own vocabulary
    *,
    doc: str,
    claim: str,
    cassette: str | None = DEFAULT_CASSETTE,
    refs: tuple[str, ...] = (),
    live: bool = True,
    sdks: tuple[str, ...] = PYTHON_ONLY,
) -> Callable[[F], F]:
    """Register a check.

    ``id`` is ``<feature>.<name>`` and never changes once published. ``doc`` names the seed
    doc section the claim comes from; ``refs`` the reference sections that refine it.
    ``cassette`` is a path under the cassette root; by default ``<feature>/<name>.yaml``;
    ``None`` when the check scripts the wire server itself.
    ``live=False`` marks a check whose cassette forces answers a live resource will not give
    on demand (a 429, a filtered stream): live runs skip it. Scripted checks never go upstream.
    ``sdks`` are the SDKs the check runs against (default: python only). A check with more than
    python is written against the ``driver`` fixture (a scenario in, an outcome out) and is
    collected once per SDK, as ``<function>[<sdk>]``.
    """
    feature, _, name = id.partition(".")
    if feature not in FEATURES or not name:
        raise ValueError(f"check id {id!r} must be <feature>.<name> with a feature in {FEATURES}")
    if cassette == DEFAULT_CASSETTE:
        cassette = f"{feature}/{name}.yaml"
    malformed = [s for s in sdks if not ((s == "*" and len(sdks) == 1) or s.isalpha())]
    if malformed or not sdks:
        raise ValueError(f"check {id!r}: sdks must be ALL_SDKS or SDK names, got {sdks!r}")

    def register(function: F) -> F:
        if id in REGISTRY and REGISTRY[id].function.__qualname__ != function.__qualname__:
            raise ValueError(f"duplicate check id {id!r}")
        entry = Check(id, feature, doc, claim, function, cassette, refs, live, tuple(sdks))
        REGISTRY[id] = entry
        function.__conformance_check__ = entry  # type: ignore[attr-defined]
        return function

    return register


def check_of(function: object) -> Check | None:
    found = getattr(function, "__conformance_check__", None)
    return found if isinstance(found, Check) else None


@dataclass
class Observations:
    """What a check saw on the wire and in the SDK, in the order it saw it.

    Values must be JSON-serialisable. They are scrubbed of secrets before they are written.
    """

    items: dict[str, Any] = field(default_factory=dict)

    def __call__(self, key: str, value: Any) -> Any:
        json.dumps(value)  # reject what the report cannot hold, here, where the check is
        self.items[key] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.items)
