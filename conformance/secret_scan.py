"""``aoai-conformance scan-secrets``: find what must never be in a cassette.

The detectors are the scrubber's own (:data:`conformance.secrets.DETECTORS`): a kind is
reported wherever its substitution would change the text, and each is applied in turn, so one
secret is reported once. Every part of every interaction is searched: the URI (query
included), each header as ``name: value``, and both bodies after decoding (``!!binary``,
gzip, deflate, ``parsed_body``). The secret itself is never printed: a finding is
``FILE:INTERACTION location kind``, and a header name in a location is shown scrubbed.

A secret with no shape of its own (a gateway key, a password) is searched by value when the
user names the environment variable holding it (``--secret-env AZURE_OPENAI_API_KEY``): as
written, base64 and base64url encoded (at each of the three byte alignments a value can take
inside a longer encoded text) and URL-encoded, in header names and values and in the raw
bytes of both bodies (:class:`KnownSecret`). Such a finding's kind is ``env:NAME``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from .cassette_check import request_bytes, response_bytes
from .secrets import DETECTORS, Scrubber
from .wire import Cassette, CassetteError, Interaction, iter_cassette_files
from .wire.validation import Undecodable


@dataclass(frozen=True)
class SecretFinding:
    file: str
    interaction: str  # the index, or "-" for the cassette's metadata
    location: str  # request.uri, request.headers.NAME, request.body, response.body, ...
    kind: str

    def __str__(self) -> str:
        return f"{self.file}:{self.interaction} {self.location} {self.kind}"


@dataclass
class ScanResult:
    path: Path
    findings: list[SecretFinding] = field(default_factory=list)
    interactions: int = 0
    error: str | None = None
    note: str | None = None  # a YAML file a folder search found that is not a cassette


# The shortest value searched for: shorter ones would be found in ordinary text.
MIN_KNOWN = 8
_ALPHABETS = {"base64": (b"+/", b"+/"), "base64url": (b"+/", b"-_")}


@dataclass(frozen=True)
class KnownSecret:
    """One secret value, named by the variable that holds it, and the encoded forms it is
    searched in. ``repr`` names the variable only."""

    name: str
    forms: tuple[tuple[str, bytes], ...] = field(repr=False)  # (form, bytes searched for)

    @classmethod
    def of(cls, name: str, value: str) -> KnownSecret:
        if len(value) < MIN_KNOWN:
            raise ValueError(f"{name} holds a value shorter than {MIN_KNOWN} characters: too "
                             "short to search for")
        raw = value.encode("utf-8")
        forms: dict[bytes, str] = {raw: "raw"}
        for encoded in (quote(value, safe=""), quote_plus(value, safe="")):
            for variant in (encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                                            encoded)):
                forms.setdefault(variant.encode(), "url-encoded")
        for label, (standard, ours) in _ALPHABETS.items():
            for shift in range(3):
                forms.setdefault(_base64_core(raw, shift, standard, ours), label)
        return cls(name, tuple((label, data) for data, label in forms.items() if data))

    @property
    def kind(self) -> str:
        return f"env:{self.name}"

    def found(self, data: bytes) -> bool:
        return any(form in data for _, form in self.forms)

    def hide(self, text: str) -> str:
        for _, form in sorted(self.forms, key=lambda f: len(f[1]), reverse=True):
            text = text.replace(form.decode("latin-1"), f"<{self.name}>")
        return text


def _base64_core(raw: bytes, shift: int, standard: bytes, ours: bytes) -> bytes:
    """The characters of the base64 of ``raw`` that its bytes alone decide, when it starts
    ``shift`` bytes into the encoded data: found whatever surrounds it."""
    encoded = base64.b64encode(b"\0" * shift + raw).translate(
        bytes.maketrans(standard, ours))
    first = -(-8 * shift // 6)  # the first character with no bit of the padding before
    last = 8 * (shift + len(raw)) // 6  # the last that ends inside the value, exclusive
    return encoded[first:last]


def scan_text(text: str) -> list[str]:
    """The kinds of secret in ``text``, in detector order, one per secret."""
    kinds: list[str] = []
    for detector in DETECTORS:
        scrubbed = detector.scrub(text)
        if scrubbed != text:
            kinds.append(detector.kind)
            text = scrubbed
    return kinds


_NAMES = Scrubber()


def _shown(name: str, known: Sequence[KnownSecret]) -> str:
    """A header name fit to print in a location: an upstream may echo a secret in one."""
    hidden = name
    for secret in known:
        hidden = secret.hide(hidden)
    hidden = _NAMES.text(hidden)
    return name.lower() if hidden == name else hidden


def _hidden(message: str, known: Sequence[KnownSecret]) -> str:
    """A message about a cassette (which may quote a header name) with no secret in it."""
    for secret in known:
        message = secret.hide(message)
    return _NAMES.text(message)


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # every byte maps: an ASCII secret is still found


def _headers(headers: Any) -> Iterator[tuple[str, str]]:
    for name, values in (headers or {}).items():
        if isinstance(values, (str, bytes)) or values is None:
            values = [values]
        for value in values:
            yield str(name), _text(value if value is not None else "")


def _bytes(data: bytes | str) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


def scan_interaction(interaction: Interaction,
                     known: Sequence[KnownSecret] = ()) -> list[tuple[str, str]]:
    """(location, kind) of every secret in one interaction. Raises :class:`Undecodable` for
    a body that cannot be decoded (it could hide anything)."""
    parts: list[tuple[str, bytes | str]] = [("request.uri", interaction.request.uri)]
    parts += [(f"request.headers.{_shown(k, known)}", f"{k}: {v}")
              for k, v in _headers(interaction.request.headers)]
    parts.append(("request.body", request_bytes(interaction)))
    status = interaction.response.get("status")
    if isinstance(status, dict):
        parts.append(("response.status", _text(str(status.get("message") or ""))))
    parts += [(f"response.headers.{_shown(k, known)}", f"{k}: {v}")
              for k, v in _headers(interaction.response.get("headers"))]
    parts.append(("response.body", response_bytes(interaction)))
    found = [(location, kind) for location, data in parts for kind in scan_text(_text(data))]
    found += [(location, secret.kind) for location, data in parts for secret in known
              if secret.found(_bytes(data))]
    return found


def scan_cassette(cassette: Cassette, display: str,
                  known: Sequence[KnownSecret] = ()) -> ScanResult:
    result = ScanResult(cassette.path, interactions=len(cassette.interactions))
    metadata = json.dumps(cassette.metadata, default=str)
    for kind in scan_text(metadata):
        result.findings.append(SecretFinding(display, "-", "metadata", kind))
    for secret in known:  # as JSON escapes it, and as written
        if secret.found(metadata.encode()) or secret.found(
                json.dumps(cassette.metadata, default=str, ensure_ascii=False).encode()):
            result.findings.append(SecretFinding(display, "-", "metadata", secret.kind))
    for index, interaction in enumerate(cassette.interactions):
        try:
            found = scan_interaction(interaction, known)
        except Undecodable as exc:
            result.error = f"{display}:{index}: a body cannot be decoded ({exc}), so it cannot "
            result.error += "be searched"
            continue
        result.findings += [SecretFinding(display, str(index), location, kind)
                            for location, kind in found]
    return result


def scan_paths(paths: Iterable[str | Path],
               known: Sequence[KnownSecret] = ()) -> Iterator[ScanResult]:
    """One result per cassette file under ``paths`` (files as given, folders searched)."""
    given = [Path(p) for p in paths]
    for path in iter_cassette_files(given):
        display = str(path)
        searched = path not in given
        try:
            if searched and "interactions" not in path.read_text(encoding="utf-8",
                                                                 errors="replace"):
                yield ScanResult(path, note=f"{display}: not a cassette (no interactions), "
                                 "skipped")
                continue
            cassette = Cassette.read(path)
        except (OSError, CassetteError) as exc:
            yield ScanResult(path, error=_hidden(f"cannot read {display}: {exc}", known))
            continue
        result = scan_cassette(cassette, display, known)
        if cassette.defects and result.error is None:  # what was not read was not searched
            first = cassette.defects[0]
            result.error = (f"{display}:{'-' if first.index is None else first.index}: cannot "
                            f"be searched: {_hidden(first.message, known)}"
                            + (f" (and {len(cassette.defects) - 1} more defect(s))"
                               if len(cassette.defects) > 1 else ""))
        yield result
