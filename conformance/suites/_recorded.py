"""Checks that replay a real recording call the SDK with the recorded request.

A recorded request rarely equals the doc's sample, and the replay matches request bodies
exactly. Rather than loosen the matcher, such a check takes its parameters from the cassette
it replays (``metadata.provenance: recorded``); on a constructed cassette, or a live run, it
uses the doc's sample.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.harness import Wire
from conformance.sdk import call_sdk as call_sdk  # the one helper, re-exported for the checks


def request_params(wire: Wire, sample: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    """The recorded request of interaction ``index`` of a recorded cassette being replayed
    (``metadata.sdk_calls``, which scripts/package_recordings.py writes, else the interaction's
    own request body); ``sample`` for a constructed cassette or a live run."""
    cassette = wire.cassette
    if cassette is None or cassette.provenance != "recorded":
        return dict(sample)
    calls = cassette.metadata.get("sdk_calls")
    if isinstance(calls, list) and index < len(calls) and isinstance(calls[index], dict):
        return dict(calls[index])
    # A cassette `aoai-conformance record` made: its requests are what the check sent.
    body = cassette.interactions[index].request_json()
    if not isinstance(body, dict):
        raise TypeError(f"{cassette.path}: request {index} has no JSON body to call the SDK with")
    return body


# The SDK method for each operation a recorded interaction may call.
METHODS_BY_PATH = {"chat/completions": ("chat", "completions"), "responses": ("responses",),
              "embeddings": ("embeddings",)}


def call_recorded(client: Any, wire: Wire, index: int, otherwise: Callable[[Any], Any]) -> Any:
    """Make request ``index`` of a recorded cassette through the SDK method its path names,
    with its recorded parameters; without a recorded cassette, ``otherwise(client)``."""
    cassette = wire.cassette
    if cassette is None or cassette.provenance != "recorded":
        return otherwise(client)
    path = cassette.interactions[index].request.path.rstrip("/")
    operation = next((names for suffix, names in METHODS_BY_PATH.items()
                      if path.endswith("/" + suffix)), None)
    if operation is None:
        raise TypeError(f"{cassette.path}: no SDK method for {path}")
    resource = client
    for name in operation:
        resource = getattr(resource, name)
    return call_sdk(resource.create, request_params(wire, {}, index))
