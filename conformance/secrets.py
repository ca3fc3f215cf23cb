"""Keeping keys, tokens, tenant ids and resource hostnames out of cassettes, reports and logs.

A :class:`Scrubber` replaces the secret values it was told about (the key and tokens a run
used) and anything shaped like a secret. Everything this project writes passes through one.

What is shaped like a secret is said once, in :data:`DETECTORS`: each is a kind and a
substitution. The scrubber applies the substitutions; the scanner
(:mod:`conformance.secret_scan`) reports a kind wherever its substitution would change the
text. Placeholders are fixed points (a scrubbed text scans clean) and stable (the same
placeholder every time, GUID-shaped where a GUID was, so a scrubbed cassette still replays).

Judging by context is what keeps real traffic clean: request ids, completion ids, fingerprints,
``encrypted_content`` and base64 embeddings are high-entropy too, so a GUID or 32 hex digits
count as a secret only next to a name that says so (``api-key:``, ``"tenant_id":``,
``/subscriptions/``, ``login.microsoftonline.com/``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER_HOST = "RESOURCE"
PLACEHOLDER_GUID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_GROUP = "RESOURCE_GROUP"
REDACTED = "<redacted>"

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_REAL_GUID = rf"(?!{PLACEHOLDER_GUID}){_GUID}"
# Quotes (also JSON-escaped ones) and the separator between a name and its value.
_IS = r"[\\\"']*\s*[:=]\s*[\\\"']*"
# Not inside a longer token (base64, base64url, hex): what keeps ids and blobs clean.
_ALONE = r"(?<![A-Za-z0-9_+/=-])"


@dataclass(frozen=True)
class Detector:
    kind: str
    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]

    def scrub(self, text: str) -> str:
        return self.pattern.sub(self.replacement, text)

    def finds(self, text: str) -> bool:
        return self.scrub(text) != text


def _arm_id(match: re.Match[str]) -> str:
    """An ARM resource id with its subscription, resource group and resource names replaced
    (the provider namespace and resource types are kept)."""
    parts = match.group(0).split("/")
    out: list[str] = []
    after_providers = -1
    for index, part in enumerate(parts):
        previous = parts[index - 1].lower() if index else ""
        if previous == "subscriptions":
            part = PLACEHOLDER_GUID
        elif previous == "resourcegroups":
            part = PLACEHOLDER_GROUP
        elif part.lower() == "providers":
            after_providers = index
        elif after_providers >= 0 and index > after_providers + 1 and (
            index - after_providers) % 2 == 1:
            part = PLACEHOLDER_HOST  # .../providers/NAMESPACE/TYPE/NAME/TYPE/NAME
        out.append(part)
    return "/".join(out)


def _detector(kind: str, pattern: str,
              replacement: str | Callable[[re.Match[str]], str]) -> Detector:
    return Detector(kind, re.compile(pattern), replacement)


DETECTORS: tuple[Detector, ...] = (
    _detector("api-key-query", r"(?i)([?&](?:api-key|api_key|subscription-key)=)"
              r"(?!REDACTED\b)[^&\s\\\"'#]+", r"\1REDACTED"),
    # Azure AI services keys of the newer 84-character format carry a fixed signature.
    _detector("azure-key", _ALONE + r"[A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9]{26}(?:==)?"
              r"(?![A-Za-z0-9])", REDACTED),
    # 32 hex digits named as a key (api-key: ..., "key1": ..., Ocp-Apim-Subscription-Key: ...,
    # "key '...' is not valid").
    _detector("azure-key", r"(?i)(\bkey\d?(?:" + _IS + r"|\s+[\\\"']*))[0-9a-f]{32}(?![0-9a-f])",
              r"\g<1>" + REDACTED),
    # A JWT: three base64url segments, the first two JSON objects ("eyJ" is '{"').
    _detector("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", "<jwt>"),
    # A bearer credential: long enough and with a digit or symbol (prose such as "a bearer
    # token" or "Bearer authentication" is left be).
    _detector("bearer-token",
              r"(?i)\b(bearer)\s+(?!<)(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}",
              r"\1 " + REDACTED),
    _detector("openai-key", _ALONE + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
              "sk-" + REDACTED),
    _detector("api-key", r"(?i)\b(api-key" + _IS + r")(?!<|REDACTED\b)[^\s\\\"',;]+",
              r"\g<1>" + REDACTED),
    _detector("azure-host", r"(?i)\b(?!RESOURCE\.)[a-z0-9][a-z0-9-]*\."
              r"(openai\.azure\.com|services\.ai\.azure\.com|cognitiveservices\.azure\.com)",
              PLACEHOLDER_HOST + r".\1"),
    _detector("arm-resource-id", r"(?i)/subscriptions/" + _GUID + r"/resourcegroups/[^/\s\\\"']+"
              r"(?:/providers(?:/[^/\s\\\"'?#]+)+)?", _arm_id),
    _detector("subscription-id", r"(?i)(/subscriptions/|subscription[_-]?id" + _IS + r")"
              + _REAL_GUID, r"\g<1>" + PLACEHOLDER_GUID),
    _detector("tenant-id", r"(?i)((?:login\.microsoftonline\.com|sts\.windows\.net|"
              r"login\.windows\.net)/|\b(?:tenant[_-]?id|tid|tenant)" + _IS + r")" + _REAL_GUID,
              r"\g<1>" + PLACEHOLDER_GUID),
    # Header lines ("name: value"), as the scanner and the header scrubber see them.
    _detector("cookie", r"(?im)^((?:set-)?cookie:[ \t]*)(?!<redacted>$)\S.*$", r"\g<1>" + REDACTED),
    _detector("bearer-token", r"(?im)^(authorization:[ \t]*)(?!<redacted>$)(?!bearer <)\S.*$",
              r"\g<1>" + REDACTED),
)



@functools.lru_cache(maxsize=1 << 16)
def _detected(text: str) -> str:
    """``text`` with every detector's pattern replaced: a pure function of the text, so a run
    that scrubs the same observation for results.json and each report pays for it once."""
    for detector in DETECTORS:
        text = detector.scrub(text)
    return text


SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "cookie", "set-cookie", "ocp-apim-subscription-key"}
)
# The characters of an HTTP header name (RFC 9110 token): what a scrubbed name keeps.
_NOT_TOKEN = re.compile(r"[^!#$%&'*+.^_`|~0-9A-Za-z-]+")
# A host name's characters: a registered host is found only where none of them is next to it.
_HOST_CHAR = r"A-Za-z0-9-"


@dataclass
class Scrubber:
    # Never in the repr: pytest prints a failing check's fixture arguments, this one included.
    values: dict[str, str] = field(default_factory=dict, repr=False)
    # Host names (any case, any length), found as whole names: value -> (pattern, label).
    hosts: dict[str, tuple[re.Pattern[str], str]] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"Scrubber(<{len(self.values) + len(self.hosts)} secret(s)>)"

    def add_host(self, host: str, label: str = "resource-host") -> None:
        """Replace the host name (or ``host:port``) ``host`` by ``<label>`` in any letter case,
        wherever it ends a name: ``gw.io`` is replaced in ``https://GW.io:443/`` and in
        ``eu.gw.io`` (a subdomain names the resource too), not in ``my-gw.io`` or
        ``gw.io.example``, so even a short host can be registered without mangling ordinary
        text."""
        if not host:
            return
        pattern = re.compile(rf"(?<![{_HOST_CHAR}]){re.escape(host)}"
                             rf"(?![{_HOST_CHAR}]|\.[{_HOST_CHAR}])", re.IGNORECASE)
        self.hosts[host.lower()] = (pattern, f"<{label}>")

    def add(self, secret: str, label: str) -> None:
        """Replace ``secret`` by ``<label>`` wherever it appears. Short values are refused:
        replacing them would mangle ordinary text."""
        if len(secret) < 8:
            raise ValueError(f"refusing to register a secret shorter than 8 characters ({label})")
        self.values[secret] = f"<{label}>"

    def text(self, text: str) -> str:
        for secret in sorted(self.values, key=len, reverse=True):
            text = text.replace(secret, self.values[secret])
        for host in sorted(self.hosts, key=len, reverse=True):
            pattern, label = self.hosts[host]
            text = pattern.sub(label, text)
        return _detected(text)

    def binary(self, data: bytes) -> bytes:
        """Scrub a body that may not be text: registered values are replaced byte for byte,
        then the patterns run over the text (a body that is not UTF-8 is read as latin-1,
        which maps every byte, and written back the same way)."""
        for secret in sorted(self.values, key=len, reverse=True):
            data = data.replace(secret.encode(), self.values[secret].encode())
        for host in sorted(self.hosts, key=len, reverse=True):
            pattern, label = self.hosts[host]
            data = re.sub(pattern.pattern.encode(), label.encode(), data, flags=re.IGNORECASE)
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

    def header_name(self, name: str) -> str:
        """A header name with any secret in it replaced, still a valid header name: an
        upstream may echo a key in a name (``x-k-KEY: 1``). What a placeholder adds that a
        name cannot hold (``<``, ``>``) is dropped: ``x-k-<api-key>`` becomes ``x-k-api-key``."""
        scrubbed = self.text(name)
        if scrubbed == name:
            return name
        return _NOT_TOKEN.sub("", scrubbed) or "x-redacted"

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Drop the values of credential headers, scrub the rest (names too)."""
        return {
            self.header_name(k): ("<redacted>" if k.lower() in SECRET_HEADERS else self.obj(v))
            for k, v in headers.items()
        }
