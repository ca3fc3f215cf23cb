"""Authentication the way an Azure OpenAI resource does it (wire contract §2).

Accepted: the resource key in an ``api-key`` header, the key as ``Authorization: Bearer``
(what ``OpenAI(api_key=...)`` sends), or a Microsoft Entra access token as ``Authorization:
Bearer``. A token is a JWT; the stand-in decodes its claims without verifying a signature (it
has no tenant to trust) and accepts it when its audience is the Cognitive Services resource
(``https://cognitiveservices.azure.com``, the audience of the scope
``https://cognitiveservices.azure.com/.default``) and it has not expired.

Refusals carry Azure's bodies: a wrong key gets the gateway's family C 401, a bad token the
bare family D 401 (examples/error-401-invalid-api-key.json, error-401-invalid-token.json).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AUDIENCES = frozenset({"https://cognitiveservices.azure.com",
                       "https://cognitiveservices.azure.com/"})
INVALID_KEY = {"error": {"code": "401", "message": (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource.")}}
INVALID_TOKEN = {"statusCode": 401, "message": (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired.")}
MAX_TOKEN = 16 * 1024  # longer than any Entra access token


@dataclass(frozen=True)
class Refusal:
    """Why a request is not authenticated, and the body Azure answers it with."""

    reason: str
    body: dict[str, Any]


def claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (not verified), or None when ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > MAX_TOKEN:
        return None
    payload = parts[1]
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def check_token(token: str, now: float) -> Refusal | None:
    """None when ``token`` is an unexpired Entra token for Cognitive Services."""
    found = claims(token)
    if found is None:
        return Refusal("the bearer value is neither the key nor a JWT", INVALID_TOKEN)
    audience = found.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(isinstance(a, str) and a in AUDIENCES for a in audiences):
        return Refusal(f"the token's audience {str(audience)[:80]!r} is not "
                       "https://cognitiveservices.azure.com", INVALID_TOKEN)
    expires = found.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        return Refusal("the token has no exp claim", INVALID_TOKEN)
    if expires <= now:
        return Refusal("the token has expired", INVALID_TOKEN)
    return None


def authenticate(headers: Callable[[str], str | None], key: str, now: float) -> Refusal | None:
    """None when the request's credential is accepted; ``headers`` looks a header up."""
    api_key = headers("api-key")
    if api_key is not None:
        if hmac.compare_digest(api_key.encode(), key.encode()):
            return None
        return Refusal("the api-key header is not the resource key", INVALID_KEY)
    authorization = headers("authorization")
    if authorization is None:
        return Refusal("no api-key or Authorization header", INVALID_KEY)
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return Refusal("the Authorization header is not a Bearer credential", INVALID_TOKEN)
    value = value.strip()
    if hmac.compare_digest(value.encode(), key.encode()):
        return None
    if value.count(".") != 2:  # a key-shaped value that is not the key, not a JWT
        return Refusal("the bearer value is not the resource key", INVALID_KEY)
    return check_token(value, now)


def token(audience: str = "https://cognitiveservices.azure.com", *, expires: float,
          **extra: Any) -> str:
    """An unsigned JWT with these claims, for tests (the stand-in never checks signatures)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return ".".join([part({"alg": "none", "typ": "JWT"}),
                     part({"aud": audience, "exp": expires, **extra}), ""])
