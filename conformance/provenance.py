"""What a check replays: a real recording, a constructed cassette, or a scripted wire."""

from __future__ import annotations

from .paths import cassette_root
from .registry import Check
from .wire import Cassette, CassetteError


def replays(check: Check) -> str:
    """``recorded`` or ``constructed`` (the provenance of the check's packaged cassette),
    ``scripted`` for a check without one, ``missing`` when its cassette cannot be read."""
    if check.cassette is None:
        return "scripted"
    try:
        provenance = Cassette.load(cassette_root() / check.cassette).provenance
    except CassetteError:
        return "missing"
    return provenance if provenance in ("recorded", "constructed") else "missing"
