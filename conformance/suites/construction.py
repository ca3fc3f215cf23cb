"""construction: how the client is built decides where its requests go.

The most common failure with the v1 API comes before any feature: the client sends the
request somewhere Azure answers 404 (or 401). Each construction below is built as users write
it, sends chat, Responses and embeddings once, and the request line is judged by
:mod:`conformance.routes`. The doc's constructions must reach the v1 routes; every other one is
observed as what Azure would answer (works, 404, 401, no request), so ``diff`` and ``gate`` show a
release that changes routing.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.registry import ALL_SDKS, Observations, check, expect

from ._construction import OPERATIONS, reads_base_url_variable
from ._routing import AzureRoutes, Cell, DriverConstruction, cell, judged
from ._scenario import KEY as KEY_SET

DOC_URL = "https://YOUR-RESOURCE-NAME.openai.azure.com/openai/v1/"
ROOT_URL = "https://YOUR-RESOURCE-NAME.openai.azure.com"
# Stands for a variable the argument must win over: never reached (the Azure host refuses
# every name but the Azure suffixes, so nothing leaves the machine either way).
OTHER_URL = "https://api.example.invalid/v1/"

# The doc's constructions on every SDK (Python / JavaScript / Go / Java Authentication, Chat,
# Responses, Embeddings: OpenAI(base_url=...), new OpenAI({baseURL}), option.WithBaseURL,
# OpenAIOkHttpClient.builder().baseUrl), and the forms the reference says behave the same
# (wire §1.1: no trailing slash, the other Azure host suffixes, the environment variables the
# doc's client reads; openai-java's through fromEnv()).
DOC_CONSTRUCTIONS = {
    "doc-key": DriverConstruction(base_url=DOC_URL),
    "doc-token-provider": DriverConstruction(base_url=DOC_URL, auth="token"),
    "no-trailing-slash": DriverConstruction(base_url=DOC_URL.rstrip("/")),
    "cognitiveservices-host": DriverConstruction(
        base_url="https://YOUR-RESOURCE-NAME.cognitiveservices.azure.com/openai/v1/"),
    "services-ai-host": DriverConstruction(
        base_url="https://YOUR-RESOURCE-NAME.services.ai.azure.com/openai/v1/"),
    "environment": DriverConstruction(
        environment={"OPENAI_BASE_URL": DOC_URL, "OPENAI_API_KEY": KEY_SET}, auth="none"),
    "argument-over-environment": DriverConstruction(
        base_url=DOC_URL, environment={"OPENAI_BASE_URL": OTHER_URL, "OPENAI_API_KEY": KEY_SET},
        auth="none"),
    "preview-query": DriverConstruction(base_url=DOC_URL, api_version_query="preview"),
}
# What people also write (public reports; wire §1.1, §1.3), per SDK: observed, never judged.
_COMMON = {
    "root-base-url": DriverConstruction(base_url=ROOT_URL + "/"),
    "dated-query": DriverConstruction(base_url=DOC_URL, api_version_query="2024-10-21"),
}
# The Azure client of the SDKs that have one (AzureOpenAI, azure.WithEndpoint): the same cells.
_AZURE_CLIENT = {
    # the Azure client with a token provider (azure_ad_token_provider, azureADTokenProvider,
    # azure.WithTokenCredential): what openai-go asks for instead of the doc's Go Entra sample
    "azure-endpoint-legacy-token": DriverConstruction(client="azure", endpoint=ROOT_URL,
                                                      api_version="2024-10-21", auth="token"),
    # OPENAI_BASE_URL set beside the Azure client's endpoint argument.
    "azure-endpoint-and-openai-base-url": DriverConstruction(
        client="azure", endpoint=ROOT_URL, api_version="2024-10-21",
        environment={"OPENAI_BASE_URL": DOC_URL}),
    # openai/openai-python#2584 (AzureOpenAI given the v1 endpoint adds /deployments/{model});
    # openai-go's azure.WithEndpoint given it: /openai/v1/openai/deployments/{model}/...
    "azure-endpoint-v1": DriverConstruction(client="azure", endpoint=DOC_URL,
                                            api_version="preview"),
    "azure-endpoint-legacy": DriverConstruction(client="azure", endpoint=ROOT_URL,
                                                api_version="2024-10-21"),
}
_AZURE_ENVIRONMENT = DriverConstruction(client="azure", auth="none", environment={
    "AZURE_OPENAI_ENDPOINT": DOC_URL, "OPENAI_API_VERSION": "preview",
    "AZURE_OPENAI_API_KEY": KEY_SET})
OTHER_CONSTRUCTIONS: dict[str, dict[str, DriverConstruction]] = {
    "python": {
        **_AZURE_CLIENT,
        "azure-base-url-v1": DriverConstruction(client="azure", base_url=DOC_URL,
                                                api_version="preview"),
        "azure-environment": _AZURE_ENVIRONMENT,
        **_COMMON,
    },
    "javascript": {
        **_AZURE_CLIENT,
        # openai/openai-node#1607: AzureOpenAI({baseURL: ".../openai", apiVersion: "preview"}).
        "azure-base-url-openai": DriverConstruction(client="azure",
                                                    base_url=ROOT_URL + "/openai",
                                                    api_version="preview"),
        "azure-environment": _AZURE_ENVIRONMENT,
        **_COMMON,
    },
    "go": {**_AZURE_CLIENT, **_COMMON},
    "java": {
        # openai/openai-java#586, #469: an Azure host without /openai/v1 is routed as legacy
        # (/openai/deployments/{model}/...); Responses once sent ResponsesModel{string=...}.
        "azure-legacy-host": DriverConstruction(client="azure", base_url=ROOT_URL,
                                                api_version="2024-10-21"),
        "azure-v1-key": DriverConstruction(client="azure", base_url=DOC_URL),
        "azure-v1-dated-version": DriverConstruction(client="azure", base_url=DOC_URL,
                                                     api_version="2024-10-21"),
        **_COMMON,
    },
}

# The public reports, each reproduced by one cell of its SDK: (sdk, cell, what the report
# saw on the wire). The observation says whether the installed release still does it; a
# release that fixed it shows the request it sends instead. openai/openai-node#1607 names
# /openai/deployments/responses, but openai 5.12.0 (the report's release) and 6.49.0 both
# send /openai/responses?api-version=preview for its construction (Responses is not among
# AzureOpenAI's deployment routes): the 404 the report got is reproduced, on that path.
REPORTS = {
    "openai/openai-python#2584": ("python", "azure-base-url-v1", "chat",
                                  "/openai/v1/deployments/"),
    "openai/openai-node#1607": ("javascript", "azure-base-url-openai", "responses",
                                "/openai/responses"),
    "openai/openai-java#586": ("java", "azure-legacy-host", "responses",
                               "/deployments/ResponsesModel{string="),
    "openai/openai-java#469": ("java", "azure-legacy-host", "responses",
                               "/deployments/ResponsesModel{string="),
    "openai-go azure.WithEndpoint with a v1 URL": ("go", "azure-endpoint-v1", "chat",
                                                    "/openai/v1/openai/deployments/"),
}


def report_observations(sdk: str, seen: Mapping[str, Cell]) -> dict[str, object]:
    """For each report of ``sdk``: the cell, what the report saw, and whether this release
    still sends it (``reproduced``) and what Azure answers."""
    found: dict[str, object] = {}
    for report, (owner, name, operation, marker) in REPORTS.items():
        one = seen.get(f"{name}.{operation}")
        if owner != sdk or one is None:
            continue
        path = unquote(one.sent.path) if one.sent else ""
        found[report] = {"cell": f"other.{name}.{operation}", "reported": marker,
                         "reproduced": marker in path,
                         "sent": path or one.error or one.unsupported,
                         "status": one.sent.route.status if one.sent else None}
    return found


def cells(driver: Driver, wire: Wire, built: DriverConstruction) -> dict[str, Cell]:
    return {operation: cell(driver, wire, built, operation) for operation in OPERATIONS}


@check(
    "construction.doc-client",
    doc="Python / JavaScript / Go / Java Authentication (the client built with the doc's "
    "base URL https://YOUR-RESOURCE-NAME.openai.azure.com/openai/v1/ and a key or a token "
    "provider)",
    claim="The doc's client, built with a key or a token provider, with or without the "
    "trailing slash, on any of the three Azure host suffixes or from OPENAI_BASE_URL and "
    "OPENAI_API_KEY, sends chat, Responses and embeddings to the v1 routes (no deployment "
    "segment, no dated api-version) with a credential header.",
    cassette=None,
    live=False,
    sdks=ALL_SDKS,
    refs=("wire §1.1, §1.3, §2.1", "openai/openai-python#2584", "openai/openai-node#1607",
          "openai/openai-java#586", "openai/openai-java#469"),
)
def doc_client(driver: Driver, wire: Wire, observe: Observations) -> None:
    wire.use(AzureRoutes())
    refused = []
    from_environment = driver.sdk != "python" or reads_base_url_variable()
    observe("reads_openai_base_url", from_environment)
    for name, built in DOC_CONSTRUCTIONS.items():
        if "OPENAI_BASE_URL" in built.environment and not from_environment:
            observe(name, "this openai release does not read OPENAI_BASE_URL")
            continue
        for operation, one in cells(driver, wire, built).items():
            observe(f"{name}.{operation}", one.observation())
            problem = one.refused() if judged(one) else None
            if problem is not None:
                refused.append(f"{built.describe(driver.sdk)} {operation}: {problem}")
    seen: dict[str, Cell] = {}
    for name, built in OTHER_CONSTRUCTIONS.get(driver.sdk, _COMMON).items():
        for operation, one in cells(driver, wire, built).items():
            observe(f"other.{name}.{operation}", one.observation())
            seen[f"{name}.{operation}"] = one
    for report, found in report_observations(driver.sdk, seen).items():
        observe(f"report.{report}", found)
    expect(not refused, "a construction the doc gives does not reach the v1 API:\n"
           + "\n".join(refused))
