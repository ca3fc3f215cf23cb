"""SDK drivers outside Python: building them (:mod:`.build`) and talking to them over driver
protocol v1 (:mod:`.process`, docs/driver-protocol.md)."""

from .build import (
    BuildFailed,
    Built,
    DriverUnavailable,
    build,
    check_toolchain,
    pinned_version,
)
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
    "DriverProcess",
    "DriverUnavailable",
    "Hello",
    "ScenarioRejected",
    "build",
    "check_toolchain",
    "outcome_problems",
    "pinned_version",
]
