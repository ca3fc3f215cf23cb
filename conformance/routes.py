"""What Azure OpenAI answers for a request line: the v1 routes, the legacy deployment routes,
and the 404 or 401 everything else gets.

This is the judge behind ``construction.*`` checks and ``aoai-conformance doctor``: given the
method, path, query and credential headers a client produced, it says whether Azure's v1 API
accepts the request, and if not, what Azure answers and the one change that fixes the client.

Sources (wire §1.1-§1.3, §2): the v1 routes have no deployment segment (the deployment travels
in the body's ``model``); ``api-version`` on ``/openai/v1/`` is optional and one of ``v1`` or
``preview``; a dated version belongs to the legacy ``/openai/deployments/{name}/...`` surface;
a deployment path under ``/openai/v1/`` is answered ``404 {"error":{"code":"404","message":
"Resource not found"}}`` (openai/openai-python#2584, reference example
``error-404-resource-not-found.json``); a request with no credential gets the key 401
(``error-401-invalid-api-key.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

V1_PREFIX = "/openai/v1/"
# The hosts Azure serves the v1 API on (wire §1.1; the lifecycle page of Jan 2026 adds
# services.ai.azure.com; cognitiveservices.azure.com is the multi-service resource's host).
AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com",
                       ".services.ai.azure.com")
# Operations this suite drives, by (method, path under /openai/v1/).
V1_OPERATIONS = {
    ("POST", "chat/completions"): "chat",
    ("POST", "responses"): "responses",
    ("POST", "embeddings"): "embeddings",
    ("GET", "models"): "models",
}
V1_API_VERSIONS = ("v1", "preview")
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
# The legacy surface: deployment routes (any dated version), Responses at /openai/responses
# (a dated preview version).
_LEGACY = re.compile(r"/openai/deployments/[^/]+/(chat/completions|embeddings)")
_LEGACY_RESPONSES = "/openai/responses"

RESOURCE_NOT_FOUND: dict[str, Any] = {"error": {"code": "404", "message": "Resource not found"}}
INVALID_KEY: dict[str, Any] = {"error": {
    "code": "401",
    "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
    "to provide a valid key for an active subscription and use a correct regional API "
    "endpoint for your resource.",
}}


@dataclass(frozen=True)
class Route:
    """What Azure does with one request line.

    ``api`` is ``v1`` (the v1 API accepts it), ``legacy`` (the dated deployments API accepts
    it: it works, but it is not the v1 API the doc describes) or ``none`` (refused).
    """

    api: str
    status: int
    body: dict[str, Any] | None
    problem: str  # what is wrong, empty when the v1 API accepts the request
    fix: str  # the one change to the client, empty when nothing needs changing

    @property
    def accepted(self) -> bool:
        return self.status < 400

    def describe(self) -> str:
        if self.api == "v1":
            return "accepted by the Azure OpenAI v1 API"
        if self.api == "legacy":
            return f"accepted by the legacy deployments API, not the v1 API ({self.problem})"
        return f"refused: {self.status} ({self.problem})"


def judge(method: str, path: str, query: str, credential_headers: set[str]) -> Route:
    """Judge one request as Azure's v1 API would answer it.

    ``credential_headers`` are the lower-case names of the credential headers sent
    (``authorization`` with a Bearer value, ``api-key``); values never reach this module.
    """
    params = dict(parse_qsl(query, keep_blank_values=True))
    version = params.get("api-version")
    dated = _DATED.fullmatch(version or "") is not None
    legacy = _LEGACY.fullmatch(path) is not None or (
        path == _LEGACY_RESPONSES and dated and (version or "").endswith("-preview"))
    if path.startswith(V1_PREFIX):
        rest = path[len(V1_PREFIX):]
        if rest.startswith("openai/") or rest.startswith("deployments/"):
            return Route("none", 404, RESOURCE_NOT_FOUND,
                         f"an Azure client's deployment path under {V1_PREFIX}", FIX_CLIENT)
        if "//" in path:
            return Route("none", 404, RESOURCE_NOT_FOUND, "an empty path segment", FIX_SLASH)
        if (method, rest) not in V1_OPERATIONS:
            return Route("none", 404, RESOURCE_NOT_FOUND,
                         f"{method} {rest!r} is not a v1 operation this suite knows",
                         FIX_BASE_URL)
        if version is not None and version not in V1_API_VERSIONS:
            kind = "a dated" if _DATED.fullmatch(version) else "an unknown"
            return Route("none", 400, None,
                         f"{kind} api-version={version} on {V1_PREFIX} (the v1 API takes none, "
                         "v1 or preview; a dated version belongs to /openai/deployments/)",
                         FIX_VERSION)
    elif legacy and dated:
        if not credential_headers:
            return Route("none", 401, INVALID_KEY, "no credential header", FIX_CREDENTIAL)
        return Route("legacy", 200, None, f"a dated api-version on /openai/ ({version})",
                     FIX_CLIENT)
    else:
        where = ("a legacy path without the dated api-version it needs" if legacy
                 or path == _LEGACY_RESPONSES else f"the path does not start with {V1_PREFIX}")
        return Route("none", 404, RESOURCE_NOT_FOUND, where, FIX_BASE_URL)
    if not credential_headers:
        return Route("none", 401, INVALID_KEY, "no credential header", FIX_CREDENTIAL)
    return Route("v1", 200, None, "", "")


def is_azure_host(host: str) -> bool:
    return host.lower().rstrip(".").endswith(AZURE_HOST_SUFFIXES)


# The fixes, one line each; ``{client}`` is the SDK's way to build the doc's client.
FIX_CLIENT = "use {client}, not the Azure client, for /openai/v1/"
FIX_BASE_URL = "end the base URL in /openai/v1/: {client}"
FIX_SLASH = "remove the doubled slash from the base URL ({client})"
FIX_VERSION = ("drop api-version (or use v1 / preview); dated versions belong to "
               "/openai/deployments/")
FIX_CREDENTIAL = "give the client the resource's key or an Entra token provider"
