"""The names and defaults of a run's settings, in a module that imports nothing.

The pytest plugin (:mod:`conformance.pytest_plugin`) is loaded into every pytest session of
an environment that has this package; it declares its options from these values without
loading the modules that use them (the wire server, vcrpy, azure-identity, the SDK).
"""

from __future__ import annotations

# Live runs with key auth read the key from this variable (conformance.target).
KEY_VARIABLE = "AZURE_OPENAI_API_KEY"
DEFAULT_BUDGET = 60  # requests; a full live run sends 25 on the stand-in (27 with --sdk all)
OUTPUT_CAP = 32  # the Responses API refuses max_output_tokens below 16
DEFAULT_TOKEN_BUDGET = 8000  # a full live run: about 3,800 tokens on the stand-in, any SDKs
# conformance.wire.proxy keeps its own default for a Forward (the wire package imports
# nothing outside itself); tests/test_plugin_load.py checks the two agree.
DEFAULT_REQUEST_TIMEOUT_S = 120.0
DEFAULT_RUN_TIMEOUT_S = 1800.0

# The user's deployment map (conformance.deployments).
ENVIRONMENT_VARIABLE = "AOAI_CONFORMANCE_DEPLOYMENTS"
PYPROJECT_TABLE = "tool.aoai-conformance.deployments"

# --credential NAME -> the azure-identity class, and what fixes it when it has no token
# (conformance.entra).
CREDENTIALS: dict[str, tuple[str, str]] = {
    "default": ("DefaultAzureCredential",
                "sign in with `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/"
                "AZURE_CLIENT_SECRET, or run where a managed identity is assigned"),
    "cli": ("AzureCliCredential", "sign in with `az login` (and `az account set` to the "
            "resource's subscription)"),
    "environment": ("EnvironmentCredential",
                    "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
                    "AZURE_CLIENT_CERTIFICATE_PATH)"),
    "managed-identity": ("ManagedIdentityCredential",
                         "run on an Azure host with a managed identity assigned (set "
                         "AZURE_CLIENT_ID for a user-assigned one)"),
    "workload-identity": ("WorkloadIdentityCredential",
                          "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE "
                          "(Kubernetes workload identity or a federated CI token)"),
}
