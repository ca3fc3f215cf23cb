"""construction.doc-client on the drivers: a build of openai-node, openai-go or openai-java that
routes the doc's Azure URL to the deployments API fails it (tests/driver_mutants catalogue)."""

from __future__ import annotations

import pytest

from conformance.drivers import DriverUnavailable

from .failures import caught
from .test_driver_mutants import built_as

CHECK = "construction.doc-client"


js_deployment_path = built_as("javascript-azure-deployment-path")
go_deployment_path = built_as("go-azure-deployment-path")
java_routed_as_legacy = built_as("java-azure-routed-as-legacy")

CAUGHT = [
    (js_deployment_path, CHECK, "javascript", "legacy deployments API"),
    (go_deployment_path, CHECK, "go", "legacy deployments API"),
    (java_routed_as_legacy, CHECK, "java", "deployment path under /openai/v1/"),
]
test_caught = caught(CAUGHT)


# The construction part of the protocol, driven directly (docs/driver-protocol.md).
V1 = "https://YOUR-RESOURCE-NAME.openai.azure.com/openai/v1/"


@pytest.fixture(scope="module")
def routed():
    from conformance.drivers.pool import DriverPool
    from conformance.harness import Wire
    from conformance.suites._routing import AzureRoutes
    from conformance.wire.server import WireServer

    pool = DriverPool()
    with WireServer() as server:
        wire = Wire(server)
        wire.use(AzureRoutes())
        yield pool, wire
    pool.close()


def _driver(pool, sdk):
    from conformance.drivers import BuildFailed

    try:
        return pool.get(sdk)
    except (DriverUnavailable, BuildFailed) as exc:
        pytest.skip(f"{sdk} driver unavailable: {exc}")


@pytest.mark.drivers
def test_an_sdk_refusing_the_construction_is_the_outcome_not_a_driver_error(routed):
    """new AzureOpenAI({endpoint}) without apiVersion: openai-node throws while building."""
    from conformance.suites._routing import DriverConstruction, cell

    pool, wire = routed
    one = cell(_driver(pool, "javascript"), wire,
               DriverConstruction(client="azure", endpoint=V1), "chat")
    assert one.sent is None and one.unsupported is None
    assert "OPENAI_API_VERSION" in (one.error or "")


@pytest.mark.drivers
def test_a_variable_the_jvm_cannot_set_is_unsupported_on_java(routed):
    from conformance.suites._routing import DriverConstruction, cell

    pool, wire = routed
    one = cell(_driver(pool, "java"), wire,
               DriverConstruction(base_url=V1, environment={"AZURE_OPENAI_ENDPOINT": V1}), "chat")
    assert one.unsupported is not None and "AZURE_OPENAI_ENDPOINT" in one.unsupported


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", ["javascript", "go", "java"])
def test_the_environment_is_the_scenario_s_alone(routed, sdk):
    """A variable set for one construction is gone for the next: the client built without it
    sends nothing to the v1 routes on a URL it never got."""
    from conformance.suites._routing import DriverConstruction, cell

    pool, wire = routed
    driver = _driver(pool, sdk)
    first = cell(driver, wire, DriverConstruction(auth="none", environment={
        "OPENAI_BASE_URL": V1, "OPENAI_API_KEY": "conformance-key-0001"}), "embeddings")
    assert first.sent is not None and first.sent.route.api == "v1", first
    second = cell(driver, wire, DriverConstruction(base_url=V1, auth="none"), "embeddings")
    assert second.sent is None or not second.sent.credential_headers, second


def test_a_construction_scenario_without_the_azure_host_is_refused():
    from conformance.drivers.pool import ProcessDriver
    from conformance.drivers.process import ScenarioRejected

    driver = ProcessDriver(process=None, azure_host=None)  # type: ignore[arg-type]
    driver.__dict__["process"] = type("P", (), {"sdk": "go"})()
    with pytest.raises(ScenarioRejected, match="would leave the machine"):
        driver.run({"base_url": "http://127.0.0.1:9/openai/v1/",
                    "client": {"construction": {"base_url": V1}}})


def test_a_driver_that_ignores_the_construction_is_a_harness_error():
    """A driver of an older protocol builds the doc's client from base_url and answers as if
    nothing were asked: its outcome lacks ``constructed``, and the cell is an error, never a
    verdict on the SDK."""
    from conformance.drivers.outcome import parse_outcome
    from conformance.harness import HarnessFault, Wire
    from conformance.suites._routing import AzureRoutes, DriverConstruction, cell
    from conformance.wire.server import WireServer

    class Ignoring:
        sdk, version = "go", "0"

        def run(self, scenario):
            return parse_outcome({"result": None, "read": {}, "events": [], "error": None,
                                  "request_id": None, "token_calls": [],
                                  "sdk_retry_count": None, "elapsed_ms": 0})

    with WireServer() as server:
        wire = Wire(server)
        wire.use(AzureRoutes())
        with pytest.raises(HarnessFault, match="did not build the client"):
            cell(Ignoring(), wire, DriverConstruction(base_url=V1), "chat")
