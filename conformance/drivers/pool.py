"""One long-lived driver process per SDK per run, built on first use.

:class:`DriverPool` is what the pytest plugin keeps for the session: the first cross-SDK check
of an SDK builds its driver (or finds it in the cache; a progress message says which) and
starts it, proven whole (:func:`~.build.start`: it answers hello at the version it was built
for); every later check of that SDK reuses the process. A missing toolchain is remembered as
:class:`~.build.DriverUnavailable` (that SDK's checks are skipped with the install hint); a
failed build as :class:`~.build.BuildFailed` (its checks are errors; a cache entry still broken
after a rebuild is its :class:`~.build.CacheBroken`).

:class:`Driver` is what a check gets: ``.sdk``, ``.version`` and ``.run(scenario)`` returning
a protocol-v1 outcome. ``ScenarioRejected(unsupported=True)`` becomes the registry's
``Unsupported``, so the check is ``unsupported`` for that SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..registry import Unsupported
from .build import BuildFailed, DriverUnavailable, start
from .process import DriverProcess, ScenarioRejected

# A driver waits this long for the first hello (a cold JVM on a busy machine).
STARTUP_TIMEOUT_S = 120.0


class Driver(Protocol):
    """What a cross-SDK check performs its scenario with."""

    @property
    def sdk(self) -> str: ...

    @property
    def version(self) -> str: ...

    def run(self, scenario: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass
class ProcessDriver:
    """A check's view of a running driver process."""

    process: DriverProcess

    @property
    def sdk(self) -> str:
        return self.process.sdk

    @property
    def version(self) -> str:
        hello = self.process.hello or self.process.start()
        return hello.sdk_version

    def run(self, scenario: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.process.run(scenario)
        except ScenarioRejected as exc:
            if exc.unsupported:
                reason = exc.message.removeprefix("unsupported: ")
                raise Unsupported(f"{exc.sdk}: {reason}") from None
            raise


@dataclass
class DriverPool:
    """The session's driver processes, by SDK."""

    progress: Callable[[str], None] | None = None
    versions: Mapping[str, str] = field(default_factory=dict)  # SDK -> version to build
    until: float | None = None  # a monotonic deadline for builds (the run's)
    _drivers: dict[str, ProcessDriver] = field(default_factory=dict)
    _problems: dict[str, Exception] = field(default_factory=dict)

    def get(self, sdk: str) -> ProcessDriver:
        """The running driver for ``sdk``; raises the remembered DriverUnavailable or
        BuildFailed (each is raised again for every check of that SDK, not rebuilt)."""
        if sdk in self._problems:
            raise self._problems[sdk]
        found = self._drivers.get(sdk)
        if found is not None:
            return found
        try:
            _, process = start(sdk, version=self.versions.get(sdk), progress=self.progress,
                               until=self.until, startup_timeout=STARTUP_TIMEOUT_S)
        except (DriverUnavailable, BuildFailed) as exc:
            self._problems[sdk] = exc
            raise
        driver = ProcessDriver(process)
        self._drivers[sdk] = driver
        return driver

    def close(self) -> None:
        for driver in self._drivers.values():
            driver.process.close()
        self._drivers.clear()


__all__ = ["STARTUP_TIMEOUT_S", "Driver", "DriverPool", "ProcessDriver"]
