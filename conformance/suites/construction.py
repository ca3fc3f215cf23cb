"""construction: how the client is built decides where its requests go.

The most common failure with the v1 API comes before any feature: the client sends the
request somewhere Azure answers 404 (or 401). Each construction below is built as users write
it, sends chat, Responses and embeddings once, and the request line is judged by
:mod:`conformance.routes`. The doc's constructions must reach the v1 routes; every other one is
observed as what Azure would answer (works, 404, 401, no request), so ``diff`` and ``gate`` show a
release that changes routing.
"""

from __future__ import annotations

from conformance.registry import Observations, check, expect

from ._construction import OPERATIONS, Construction, Outcome, reads_base_url_variable, run

DOC_URL = "https://YOUR-RESOURCE-NAME.openai.azure.com/openai/v1/"
ROOT_URL = "https://YOUR-RESOURCE-NAME.openai.azure.com"

# The doc's Python constructions (Python / Authentication, Chat, Responses, Embeddings), and
# the forms the reference says behave the same (wire §1.1: no trailing slash, the other Azure
# host suffixes, the environment variables OpenAI() reads).
DOC_CONSTRUCTIONS = {
    "doc-key": Construction(base_url=DOC_URL),
    "doc-token-provider": Construction(base_url=DOC_URL, auth="token"),
    "no-trailing-slash": Construction(base_url=DOC_URL.rstrip("/")),
    "cognitiveservices-host": Construction(
        base_url="https://YOUR-RESOURCE-NAME.cognitiveservices.azure.com/openai/v1/"),
    "services-ai-host": Construction(
        base_url="https://YOUR-RESOURCE-NAME.services.ai.azure.com/openai/v1/"),
    "environment": Construction(environment={"OPENAI_BASE_URL": DOC_URL,
                                             "OPENAI_API_KEY": "set"}),
    "argument-over-environment": Construction(
        base_url=DOC_URL, environment={"OPENAI_BASE_URL": "https://api.example.invalid/v1/",
                                       "OPENAI_API_KEY": "set"}),
    "preview-query": Construction(base_url=DOC_URL, default_query={"api-version": "preview"}),
}
# What people also write (public reports; wire §1.1, §1.3): observed, never judged.
OTHER_CONSTRUCTIONS = {
    # openai/openai-python#2584: AzureOpenAI given the v1 endpoint adds /deployments/{model}.
    "azure-endpoint-v1": Construction(client="azure", azure_endpoint=DOC_URL,
                                      api_version="preview"),
    "azure-base-url-v1": Construction(client="azure", base_url=DOC_URL, api_version="preview"),
    "azure-endpoint-legacy": Construction(client="azure", azure_endpoint=ROOT_URL,
                                          api_version="2024-10-21"),
    "azure-environment": Construction(client="azure", environment={
        "AZURE_OPENAI_ENDPOINT": DOC_URL, "OPENAI_API_VERSION": "preview",
        "AZURE_OPENAI_API_KEY": "set"}),
    "root-base-url": Construction(base_url=ROOT_URL + "/"),
    "dated-query": Construction(base_url=DOC_URL, default_query={"api-version": "2024-10-21"}),
}


def _cell(outcome: Outcome) -> object:
    if outcome.absent:
        return {"absent": f"this openai release has no client.{outcome.operation}"}
    return outcome.sent.as_observation() if outcome.sent else {"error": outcome.error}


def _judged(outcome: Outcome) -> bool:
    """Cells another check owns are observed, not judged here: an API this release lacks, and
    a token provider the release formats instead of calling (auth.entra-token-provider)."""
    return not outcome.absent and not (
        outcome.sent and "authorization (unusable)" in outcome.sent.credential_headers)


@check(
    "construction.doc-client",
    doc="Python / Authentication (OpenAI(base_url='https://YOUR-RESOURCE-NAME.openai.azure.com"
    "/openai/v1/', api_key=...) and the token provider)",
    claim="The doc's client, built with a key or a token provider, with or without the "
    "trailing slash, on any of the three Azure host suffixes or from OPENAI_BASE_URL and "
    "OPENAI_API_KEY, sends chat, Responses and embeddings to the v1 routes (no deployment "
    "segment, no dated api-version) with a credential header.",
    cassette=None,
    live=False,
    refs=("wire §1.1, §1.3, §2.1", "openai/openai-python#2584"),
)
def doc_client(observe: Observations) -> None:
    refused = []
    from_environment = reads_base_url_variable()
    observe("reads_openai_base_url", from_environment)
    for name, construction in DOC_CONSTRUCTIONS.items():
        if "OPENAI_BASE_URL" in construction.environment and not from_environment:
            observe(name, "this openai release does not read OPENAI_BASE_URL")
            continue
        for operation in OPERATIONS:
            outcome = run(construction, operation)
            observe(f"{name}.{operation}", _cell(outcome))
            if not _judged(outcome):
                continue
            if outcome.sent is None or outcome.sent.route.api != "v1":
                refused.append(f"{construction.describe()} {operation}: "
                               + (outcome.sent.route.describe() if outcome.sent
                                  else f"no request ({outcome.error})"))
    for name, construction in OTHER_CONSTRUCTIONS.items():
        for operation in OPERATIONS:
            observe(f"other.{name}.{operation}", _cell(run(construction, operation)))
    expect(not refused, "a construction the doc gives does not reach the v1 API:\n"
           + "\n".join(refused))
