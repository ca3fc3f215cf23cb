"""Which SDKs a run covers: ``--sdk python --sdk javascript@6.48.0 ...`` or ``--sdk all``.

Each entry is an SDK name of the SDK registry (:func:`conformance.sdks.names`), optionally with
a version for a driver SDK (npm, Go module or Maven version; the driver is built with it instead
of its pin, see :func:`conformance.drivers.build.build`). Python's version is the installed wheel
(``aoai-conformance gate`` and ``matrix`` change it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import sdks
from .drivers.build import pinned_version
from .registry import ALL_SDKS, PYTHON_ONLY
from .sdk import installed

_ENTRY = re.compile(r"(?P<sdk>[a-z]+)(?:@(?P<version>[0-9A-Za-z.+\-]+))?")


class SdkSelectionError(ValueError):
    """An ``--sdk`` value that names no SDK, or pins Python's version."""


@dataclass(frozen=True)
class SdkSelection:
    sdks: tuple[str, ...] = PYTHON_ONLY
    versions: dict[str, str] = field(default_factory=dict)  # SDK -> version asked for
    # False when no --sdk was given (python, on every claim).
    explicit: bool = False

    def covers(self, check_sdks: tuple[str, ...]) -> tuple[str, ...]:
        """The SDKs a check with ``check_sdks`` runs against in this run (without --sdk:
        python, on every claim)."""
        if check_sdks == ALL_SDKS:
            check_sdks = sdks.names()
        return tuple(s for s in check_sdks if s in self.sdks)

    @classmethod
    def parse(cls, values: Iterable[str]) -> SdkSelection:
        chosen: list[str] = []
        versions: dict[str, str] = {}
        known = sdks.names()
        for value in values:
            if value == "all":
                chosen.extend(known)
                continue
            found = _ENTRY.fullmatch(value)
            if found is None or found["sdk"] not in known:
                raise SdkSelectionError(
                    f"unknown SDK {value!r}: use one of {', '.join(known)} or all, "
                    f"optionally NAME@VERSION for {', '.join(sdks.driver_names())}")
            profile = sdks.get(found["sdk"])
            if found["version"]:
                if profile.in_process:
                    raise SdkSelectionError(
                        "python's version is the installed openai wheel; use "
                        "`aoai-conformance gate` or `matrix` to run another")
                # a Go module version: go@v3.100.0 as go@3.100.0
                versions[found["sdk"]] = profile.normalise_version(found["version"])
            chosen.append(found["sdk"])
        if not chosen:
            return cls()
        ordered = tuple(s for s in known if s in chosen)
        return cls(ordered, versions, explicit=True)

    def version_of(self, sdk: str) -> str:
        """The version this run asks for (python: the installed one; others: the version
        given, else the driver's pin)."""
        if sdks.get(sdk).in_process:
            return installed().version
        if sdk in self.versions:
            return self.versions[sdk]
        try:
            return pinned_version(sdk)
        except (OSError, ValueError):
            return ""


__all__ = ["SdkSelection", "SdkSelectionError"]
