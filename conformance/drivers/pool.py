"""One long-lived driver process per SDK per run, built on first use.

:class:`DriverPool` is what the pytest plugin keeps for the session: the first cross-SDK check
of an SDK builds its driver (or finds it in the cache; a progress message says which) and
starts it, proven whole (:func:`~.build.start`: it answers hello at the version it was built
for); every later check of that SDK reuses the process. A missing toolchain is remembered as
:class:`~.build.DriverUnavailable` (that SDK's checks are skipped with the install hint); a
failed build as :class:`~.build.BuildFailed` (its checks are errors; a cache entry still broken
after a rebuild is its :class:`~.build.DriverCacheBroken`).

:class:`Driver` is what a check gets: ``.sdk``, ``.version`` and ``.run(scenario)`` returning
a :class:`~.outcome.DriverOutcome`. ``ScenarioRejected(unsupported=True)`` becomes the registry's
``Unsupported``, so the check is ``unsupported`` for that SDK; so does an error from an API the
release does not have (the SDK profile's ``missing_api`` probe of the build).

The pool gives the driver processes the doc's Azure base URL
(``https://YOUR-RESOURCE-NAME.openai.azure.com/openai/v1``, as each sample writes it) in place
of the wire server's loopback URL: an :class:`~.azure_host.AzureHost` (a loopback CONNECT proxy
terminating TLS with a throwaway test CA) carries the requests to the same wire server, so each
SDK's Azure-specific code runs and nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import sdks
from ..registry import Unsupported
from .azure_host import AzureHost
from .build import BuildFailed, DriverUnavailable, start
from .construction import constructed, refuse_outside
from .environment import run_environment
from .outcome import DriverOutcome
from .process import DriverProcess, ScenarioRejected

# A driver waits this long for the first hello (a cold JVM on a busy machine).
STARTUP_TIMEOUT_S = 120.0


class Driver(Protocol):
    """What a cross-SDK check performs its scenario with."""

    @property
    def sdk(self) -> str: ...

    @property
    def version(self) -> str: ...

    def run(self, scenario: Mapping[str, Any]) -> DriverOutcome: ...


@dataclass
class ProcessDriver:
    """A check's view of a running driver process."""

    process: DriverProcess
    azure_host: AzureHost | None = None
    # operation -> why the release cannot perform it (None: it can), probed once.
    missing: dict[str, str | None] = field(default_factory=dict)

    @property
    def sdk(self) -> str:
        return self.process.sdk

    @property
    def version(self) -> str:
        hello = self.process.hello or self.process.start()
        return hello.sdk_version

    def run(self, scenario: Mapping[str, Any]) -> DriverOutcome:
        host = self.azure_host
        base_url = str(scenario.get("base_url", ""))
        if constructed(scenario):
            # The construction's own URLs are the Azure hosts the user wrote: their tunnels
            # go to this scenario's wire server; without the Azure host they would leave the
            # machine, so the scenario is refused.
            if host is None:
                raise ScenarioRejected(self.sdk, "a construction scenario needs the loopback "
                                       "Azure host (its URLs would leave the machine)",
                                       unsupported=False)
            refuse_outside(scenario)
            host.route(base_url)
        elif host is not None and base_url.startswith("http://127.0.0.1:"):
            scenario = {**scenario, "base_url": host.base_url_for(self.sdk, base_url)}
        try:
            outcome = self.process.run(scenario)
        except ScenarioRejected as exc:
            if exc.unsupported:
                reason = exc.message.removeprefix("unsupported: ")
                raise Unsupported(f"{exc.sdk}: {reason}") from None
            raise
        self._unless_missing(scenario, outcome)
        return outcome

    def _unless_missing(self, scenario: Mapping[str, Any], outcome: DriverOutcome) -> None:
        """An error that is no HTTP outcome may be the driver calling an API the release does
        not have (a release older than the driver's pin: ``--sdk javascript@4.80.0``): the
        SDK's profile probes the build once per operation, and a missing API makes the check
        ``unsupported`` with the reason, not a fail of the SDK."""
        error = outcome.error
        if error is None or error.kind not in ("other", "stream") or (
                error.message == "driver deadline"):
            return
        operation = str((scenario.get("operation") or {}).get("name", ""))
        if operation not in self.missing:
            self.missing[operation] = sdks.get(self.sdk).missing_api(
                operation, self.process.cwd,
                self.process.env if self.process.env is not None else run_environment())
        reason = self.missing[operation]
        if reason is not None:
            raise Unsupported(f"{self.sdk} {self.version}: {reason}")


@dataclass
class DriverPool:
    """The session's driver processes, by SDK."""

    progress: Callable[[str], None] | None = None
    versions: Mapping[str, str] = field(default_factory=dict)  # SDK -> version to build
    until: float | None = None  # a monotonic deadline for builds (the run's)
    # Serve the drivers the doc's Azure host (False: the wire server's loopback URL as is).
    azure: bool = True
    _azure_host: AzureHost | None = None
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
            host = self._host() if sdks.get(sdk).azure_host else None
            _, process = start(sdk, version=self.versions.get(sdk), progress=self.progress,
                               until=self.until, startup_timeout=STARTUP_TIMEOUT_S,
                               extra_env=host.env(sdk) if host is not None else None)
        except (DriverUnavailable, BuildFailed) as exc:
            self._problems[sdk] = exc
            raise
        driver = ProcessDriver(process, host)
        self._drivers[sdk] = driver
        return driver

    def _host(self) -> AzureHost | None:
        if self.azure and self._azure_host is None:
            self._azure_host = AzureHost().start()
        return self._azure_host

    def close(self) -> None:
        for driver in self._drivers.values():
            driver.process.close()
        self._drivers.clear()
        if self._azure_host is not None:
            self._azure_host.close()
            self._azure_host = None


__all__ = ["STARTUP_TIMEOUT_S", "Driver", "DriverPool", "ProcessDriver"]
