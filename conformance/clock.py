"""The virtual clock: the one place this project reaches inside the SDK.

Every other observation happens at the HTTP boundary. Retry delays cannot be observed there
without waiting for them, so the clock replaces the SDK's delay computation with a recorder
that keeps the delay the SDK computed and returns zero. The seam,
``openai._base_client.BaseClient._calculate_retry_timeout``, has the same signature in
openai 1.x, 2.x and 3.x (the SDK's own tests patch it too).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

SEAM_MODULE = "openai._base_client"
SEAM_CLASS = "BaseClient"
SEAM_METHOD = "_calculate_retry_timeout"


@dataclass
class VirtualClock:
    """Delays (seconds) the SDK computed before each retry, in order."""

    delays: list[float] = field(default_factory=list)


@contextmanager
def virtual_clock() -> Iterator[VirtualClock]:
    cls: Any = getattr(importlib.import_module(SEAM_MODULE), SEAM_CLASS)
    original = cls.__dict__[SEAM_METHOD]
    clock = VirtualClock()

    def computed_then_zero(self: Any, *args: Any, **kwargs: Any) -> float:
        clock.delays.append(float(original(self, *args, **kwargs)))
        return 0.0

    setattr(cls, SEAM_METHOD, computed_then_zero)
    try:
        yield clock
    finally:
        setattr(cls, SEAM_METHOD, original)
