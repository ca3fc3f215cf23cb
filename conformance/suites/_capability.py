"""What the installed openai-python must have for a check that runs on every SDK.

openai-python runs in process, so a check asks the installed wheel for the capability its claim
exercises (``unsupported`` below the release that ships it, conformance.sdk.CAPABILITIES). A
driver process answers for its own SDK: an API its release lacks is a ``driver_error`` with
``unsupported: true``.
"""

from __future__ import annotations

from conformance.drivers.pool import Driver
from conformance.sdk import require_capability


def python_needs(driver: Driver, *features: str) -> None:
    """``require_capability`` for each of ``features`` when ``driver`` is openai-python."""
    if driver.sdk == "python":
        for feature in features:
            require_capability(feature)
