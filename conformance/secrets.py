"""Keeping keys, tokens, tenant ids and resource hostnames out of cassettes, reports and logs.

A :class:`Scrubber` replaces the secret values it was told about (the key and tokens a run
used) and anything shaped like a secret (bearer values, JWTs, Azure resource hostnames,
tenant ids in login URLs). Everything this project writes passes through one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER_HOST = "RESOURCE"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A JWT: three base64url segments, the first two JSON objects ("eyJ" is '{"').
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "<jwt>"),
    # A bearer credential: long enough to be one (prose such as "a bearer token" is left be).
    (re.compile(r"(?i)\b(bearer)\s+(?!<)[A-Za-z0-9._~+/=-]{8,}"), r"\1 <redacted>"),
    (re.compile(r"(?i)\b(api-key[\"']?\s*[:=]\s*[\"']?)(?!<)[^\s\"',;]+"), r"\1<redacted>"),
    (
        re.compile(
            r"(?i)\b(?!RESOURCE\.)[a-z0-9][a-z0-9-]*\.(openai\.azure\.com|services\.ai\.azure\.com"
            r"|cognitiveservices\.azure\.com|api\.cognitive\.microsoft\.com)"
        ),
        PLACEHOLDER_HOST + r".\1",
    ),
    (
        re.compile(r"(?i)(login\.microsoftonline\.com/)(?!common|organizations)[0-9a-f-]{36}"),
        r"\1<tenant>",
    ),
    (re.compile(r"(?i)(tenant[_-]?id[\"']?\s*[:=]\s*[\"']?)[0-9a-f-]{36}"), r"\1<tenant>"),
)

SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "cookie", "set-cookie", "ocp-apim-subscription-key"}
)


@dataclass
class Scrubber:
    # Never in the repr: pytest prints a failing check's fixture arguments, this one included.
    values: dict[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"Scrubber(<{len(self.values)} secret(s)>)"

    def add(self, secret: str, label: str) -> None:
        """Replace ``secret`` by ``<label>`` wherever it appears. Short values are refused:
        replacing them would mangle ordinary text."""
        if len(secret) < 8:
            raise ValueError(f"refusing to register a secret shorter than 8 characters ({label})")
        self.values[secret] = f"<{label}>"

    def text(self, text: str) -> str:
        for secret in sorted(self.values, key=len, reverse=True):
            text = text.replace(secret, self.values[secret])
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def binary(self, data: bytes) -> bytes:
        """Scrub a body that may not be text: registered values are replaced byte for byte,
        then the patterns run over the text (a body that is not UTF-8 is read as latin-1,
        which maps every byte, and written back the same way)."""
        for secret in sorted(self.values, key=len, reverse=True):
            data = data.replace(secret.encode(), self.values[secret].encode())
        try:
            return self.text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return self.text(data.decode("latin-1")).encode("latin-1", "replace")

    def obj(self, value: Any) -> Any:
        """Scrub every string in a JSON-like value (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.obj(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.obj(v) for v in value]
        return value

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Drop the values of credential headers, scrub the rest."""
        return {
            k: ("<redacted>" if k.lower() in SECRET_HEADERS else self.obj(v))
            for k, v in headers.items()
        }
