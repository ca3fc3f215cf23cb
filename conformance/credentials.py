"""A stand-in for an Entra ID ``TokenCredential``, for offline runs.

``azure.identity.get_bearer_token_provider`` wraps the credential in azure-core's
``BearerTokenCredentialPolicy``, which caches a token until it is within 300 s of expiry. The
fake issues tokens that live 60 s, so every call of the provider fetches a new, numbered token
and a check can tell on the wire which attempt carried which token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from azure.core.credentials import AccessToken

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
TOKEN_PREFIX = "aoai-conformance-entra-token-"


@dataclass
class FakeCredential:
    lifetime_s: int = 60
    scopes: list[tuple[str, ...]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes.append(scopes)
        token = f"{TOKEN_PREFIX}{len(self.issued) + 1}"
        self.issued.append(token)
        return AccessToken(token, int(time.time()) + self.lifetime_s)

    def label(self, token: str) -> str:
        """``token#N`` for the N-th issued token, or ``unknown`` (never the value itself)."""
        return f"token#{self.issued.index(token) + 1}" if token in self.issued else "unknown"
