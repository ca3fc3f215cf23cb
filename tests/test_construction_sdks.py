"""construction.doc-client on the drivers: a build of openai-node, openai-go or openai-java that
routes the doc's Azure URL to the deployments API fails it (tests/driver_mutants catalogue)."""

from __future__ import annotations

import pytest

from conformance.drivers import DriverUnavailable
from conformance.drivers import pool as driver_pool

from . import driver_mutants
from .driver_mutants import catalogue
from .failures import caught

CHECK = "construction.doc-client"


def _broken(mutant_id: str):
    def case(suite, monkeypatch):
        mutant = catalogue.by_id(mutant_id)
        try:
            built = mutant.build(suite.pytester.path / "mutant")
        except DriverUnavailable as exc:
            pytest.skip(f"{mutant.sdk} driver unavailable: {exc}")
        monkeypatch.setattr(driver_pool, "start", driver_mutants.pool_start(built))

    case.__name__ = mutant_id.replace("-", "_")
    return case


js_deployment_path = _broken("javascript-azure-deployment-path")
go_deployment_path = _broken("go-azure-deployment-path")
java_routed_as_legacy = _broken("java-azure-routed-as-legacy")

CAUGHT = [
    (js_deployment_path, CHECK, "javascript", "legacy deployments API"),
    (go_deployment_path, CHECK, "go", "legacy deployments API"),
    (java_routed_as_legacy, CHECK, "java", "deployment path under /openai/v1/"),
]
test_caught = caught(CAUGHT)
