"""The real Entra ID credential of a live run, chosen by name (``--credential``).

Each name is one of azure-identity's own classes, asked for the doc's scope
(``https://cognitiveservices.azure.com/.default``) through ``get_bearer_token_provider``, whose
policy caches the token and refreshes it before it expires. The credential is built and asked
for its first token in preflight, before any check; a credential that failed once is not asked
again (``DefaultAzureCredential`` would walk its whole chain again, managed identity probe
included, for every request).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .credentials import COGNITIVE_SERVICES_SCOPE
from .secrets import Scrubber
from .settings import CREDENTIALS as CREDENTIALS

ROLE = "Cognitive Services OpenAI User"


class EntraCredentialError(RuntimeError):
    """The named credential gave no token; the message is one paragraph with the fix."""


class EntraToken:
    """Authorization headers from the named credential; every token issued is registered
    with the scrubber before it is used."""

    def __init__(self, name: str, scrubber: Scrubber) -> None:
        if name not in CREDENTIALS:
            raise ValueError(f"unknown credential {name!r}: use one of {', '.join(CREDENTIALS)}")
        self.name = name
        self._scrubber = scrubber
        self._provider: Callable[[], str] | None = None
        self._failure: str | None = None

    def __repr__(self) -> str:
        return f"EntraToken({self.name})"

    @property
    def failure(self) -> str | None:
        """Why the credential gave no token (it is not asked again), or None."""
        return self._failure

    def __call__(self) -> Mapping[str, str]:
        if self._failure is not None:
            raise EntraCredentialError(self._failure)
        try:
            if self._provider is None:
                self._provider = self._build()
            token = self._provider()
        except Exception as exc:  # azure-identity raises several kinds; all mean "no token"
            cls, fix = CREDENTIALS[self.name]
            detail = " ".join(self._scrubber.text(str(exc)).split())[:600].rstrip(".") + "."
            self._failure = (
                f"the Entra ID credential --credential {self.name} ({cls}) gave no token for "
                f"{COGNITIVE_SERVICES_SCOPE}: {type(exc).__name__}: {detail} To fix it: {fix}; "
                f"the identity needs the '{ROLE}' role on the resource."
            )
            raise EntraCredentialError(self._failure) from None
        self._scrubber.add(token, "entra-token")
        return {"Authorization": f"Bearer {token}"}

    def _build(self) -> Callable[[], str]:
        import azure.identity

        credential: Any = getattr(azure.identity, CREDENTIALS[self.name][0])()
        provider: Callable[[], str] = azure.identity.get_bearer_token_provider(
            credential, COGNITIVE_SERVICES_SCOPE)
        return provider
