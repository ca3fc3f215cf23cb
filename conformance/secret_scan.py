"""``aoai-conformance scan-secrets``: find what must never be in a cassette.

The detectors are the scrubber's own (:data:`conformance.secrets.DETECTORS`): a kind is
reported wherever its substitution would change the text, and each is applied in turn, so one
secret is reported once. Every part of every interaction is searched: the URI (query
included), each header as ``name: value``, and both bodies after decoding (``!!binary``,
gzip, deflate, ``parsed_body``). The secret itself is never printed: a finding is
``FILE:INTERACTION location kind``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cassette_check import request_bytes, response_bytes
from .secrets import DETECTORS
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


def scan_text(text: str) -> list[str]:
    """The kinds of secret in ``text``, in detector order, one per secret."""
    kinds: list[str] = []
    for detector in DETECTORS:
        scrubbed = detector.scrub(text)
        if scrubbed != text:
            kinds.append(detector.kind)
            text = scrubbed
    return kinds


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


def scan_interaction(interaction: Interaction) -> list[tuple[str, str]]:
    """(location, kind) of every secret in one interaction. Raises :class:`Undecodable` for
    a body that cannot be decoded (it could hide anything)."""
    parts: list[tuple[str, str]] = [("request.uri", interaction.request.uri)]
    parts += [(f"request.headers.{k.lower()}", f"{k}: {v}")
              for k, v in _headers(interaction.request.headers)]
    parts.append(("request.body", _text(request_bytes(interaction))))
    status = interaction.response.get("status")
    if isinstance(status, dict):
        parts.append(("response.status", _text(str(status.get("message") or ""))))
    parts += [(f"response.headers.{k.lower()}", f"{k}: {v}")
              for k, v in _headers(interaction.response.get("headers"))]
    parts.append(("response.body", _text(response_bytes(interaction))))
    return [(location, kind) for location, text in parts for kind in scan_text(text)]


def scan_cassette(cassette: Cassette, display: str) -> ScanResult:
    result = ScanResult(cassette.path, interactions=len(cassette.interactions))
    for kind in scan_text(json.dumps(cassette.metadata, default=str)):
        result.findings.append(SecretFinding(display, "-", "metadata", kind))
    for index, interaction in enumerate(cassette.interactions):
        try:
            found = scan_interaction(interaction)
        except Undecodable as exc:
            result.error = f"{display}:{index}: a body cannot be decoded ({exc}), so it cannot "
            result.error += "be searched"
            continue
        result.findings += [SecretFinding(display, str(index), location, kind)
                            for location, kind in found]
    return result


def scan_paths(paths: Iterable[str | Path]) -> Iterator[ScanResult]:
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
            yield ScanResult(path, error=f"cannot read {display}: {exc}")
            continue
        result = scan_cassette(cassette, display)
        if cassette.defects and result.error is None:  # what was not read was not searched
            first = cassette.defects[0]
            result.error = (f"{display}:{'-' if first.index is None else first.index}: cannot "
                            f"be searched: {first.message}"
                            + (f" (and {len(cassette.defects) - 1} more defect(s))"
                               if len(cassette.defects) > 1 else ""))
        yield result
