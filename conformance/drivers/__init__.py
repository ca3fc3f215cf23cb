"""SDK drivers outside Python: building them (:mod:`.build`, whose :func:`~.build.build` is
reached as ``conformance.drivers.build.build``) and talking to them over driver protocol v2
(:mod:`.process`, docs/driver-protocol.md)."""

from .build import (
    BuildFailed,
    Built,
    DriverUnavailable,
    check_toolchain,
    pinned_version,
)
from .outcome import DriverOutcome, ErrorView, Read
from .process import (
    PROTOCOL,
    DriverError,
    DriverProcess,
    Hello,
    ScenarioRejected,
    outcome_problems,
)

__all__ = [
    "PROTOCOL",
    "BuildFailed",
    "Built",
    "DriverError",
    "DriverOutcome",
    "DriverProcess",
    "DriverUnavailable",
    "ErrorView",
    "Hello",
    "Read",
    "ScenarioRejected",
    "check_toolchain",
    "outcome_problems",
    "pinned_version",
]
