"""Cassettes in vcrpy's YAML format, read and written with vcrpy's own serializer.

A cassette made here replays under pytest-recording, and a pytest-recording cassette replays
here. What this module adds is provenance: every cassette says in its ``metadata`` whether its
bytes were recorded from real traffic or constructed by hand, and from what.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serializers import compat, yamlserializer

from . import safe_yaml, validation
from .http import header

Provenance = Literal["recorded", "constructed"]


class CassetteError(Exception):
    """A cassette that cannot be used: missing, unreadable or malformed. ``kind`` is one of
    missing, empty, not-yaml, not-a-cassette, too-large, too-complex, unreadable, defect."""

    def __init__(self, message: str, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.kind = kind


class CassetteNotFound(CassetteError):
    def __init__(self, message: str, kind: str = "missing") -> None:
        super().__init__(message, kind)


class CassetteDefect(CassetteError):
    """A readable cassette with interactions that must not be replayed (a header with CR/LF, a
    status outside 100-599, a body that does not decode, ...)."""

    def __init__(self, path: Path, defects: Sequence[validation.Defect]) -> None:
        shown = [f"interaction {d.index}: {d.message} ({d.kind})" if d.index is not None
                 else f"{d.message} ({d.kind})" for d in defects[:5]]
        more = f"; and {len(defects) - 5} more" if len(defects) > 5 else ""
        super().__init__(f"cassette {path} cannot be replayed: " + "; ".join(shown) + more,
                         "defect")
        self.defects = list(defects)


@dataclass
class Interaction:
    """One recorded request and the response to it, as vcrpy stores them."""

    request: Request
    response: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.response["status"]["code"])

    @property
    def reason(self) -> str:
        return str(self.response["status"].get("message") or "")

    @property
    def headers(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for name, values in (self.response.get("headers") or {}).items():
            if isinstance(values, (str, bytes)):
                values = [values]
            pairs.extend((str(name), _text(v)) for v in values)
        return pairs

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    @property
    def body(self) -> bytes:
        raw = (self.response.get("body") or {}).get("string", b"")
        return raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")

    @body.setter
    def body(self, value: bytes) -> None:
        self.response.setdefault("body", {})["string"] = value

    def response_json(self) -> Any:
        return json.loads(self.body)

    def set_response_json(self, value: Any) -> None:
        self.body = json.dumps(value, separators=(",", ":")).encode()

    def request_json(self) -> Any:
        body = self.request.body
        if not body:
            return None
        return json.loads(body)

    def describe(self) -> str:
        query = f"?{self.request.parsed_uri.query}" if self.request.parsed_uri.query else ""
        return f"{self.request.method} {self.request.path}{query} -> {self.status}"


@dataclass
class Cassette:
    path: Path
    interactions: list[Interaction]
    metadata: dict[str, Any] = field(default_factory=dict)
    # From :meth:`read`: what made interactions unusable, and each kept interaction's index
    # in the file (defective ones are left out of ``interactions``).
    defects: list[validation.Defect] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    def numbered(self) -> list[tuple[int, Interaction]]:
        """The interactions with their index in the file."""
        if len(self.numbers) == len(self.interactions):
            return list(zip(self.numbers, self.interactions, strict=True))
        return list(enumerate(self.interactions))

    @classmethod
    def load(cls, path: str | Path) -> Cassette:
        """Read and validate a cassette for use: :class:`CassetteNotFound`, or
        :class:`CassetteError` naming the file and, for a defect, the interaction."""
        cassette = cls.read(path)
        if cassette.defects:
            raise CassetteDefect(cassette.path, cassette.defects)
        return cassette

    @classmethod
    def read(cls, path: str | Path) -> Cassette:
        """Read a cassette, keeping the interactions that pass :mod:`.validation` and listing
        the others in ``defects`` (for ``check-cassettes``, which reports them all). Raises
        :class:`CassetteError` (``kind``: missing, empty, not-yaml, not-a-cassette,
        too-large, ...) when the file as a whole cannot be read."""
        path = Path(path)
        try:
            data = safe_yaml.load_file(path)
        except safe_yaml.YamlError as exc:
            if exc.kind == "missing":
                raise CassetteNotFound(f"cassette not found: {path}", "missing") from None
            raise CassetteError(str(exc), exc.kind) from None
        interactions = data.get("interactions") if isinstance(data, dict) else None
        if not isinstance(interactions, list):
            raise CassetteError(
                f"{path}: YAML, but not a vcrpy cassette (no 'interactions' list)",
                "not-a-cassette")
        if len(interactions) > validation.MAX_INTERACTIONS:
            raise CassetteError(
                f"{path}: {len(interactions):,} interactions, more than the "
                f"{validation.MAX_INTERACTIONS:,} this project reads from one cassette: refused",
                "too-large")
        metadata = data.get("metadata")
        defects: list[validation.Defect] = []
        if metadata is not None and not isinstance(metadata, dict):
            defects.append(validation.Defect(None, validation.STRUCTURE,
                                             "metadata is not a mapping"))
        cassette = cls(path, [], metadata if isinstance(metadata, dict) else {})
        for index, raw in enumerate(interactions):
            found = validation.interaction_defects(index, validation.parsed_bodies(raw))
            if found:
                defects.extend(found)
                continue
            request = raw["request"]
            cassette.interactions.append(Interaction(
                Request(request["method"], request["uri"], request.get("body"),
                        request.get("headers") or {}),
                compat.convert_to_bytes(raw["response"]),
            ))
            cassette.numbers.append(index)
        cassette.defects = defects
        return cassette

    def save(self) -> None:
        FilesystemPersister.save_cassette(
            self.path,
            {
                "requests": [i.request for i in self.interactions],
                "responses": [i.response for i in self.interactions],
                "metadata": self.metadata,
            },
            yamlserializer,
        )

    @property
    def provenance(self) -> str:
        return str(self.metadata.get("provenance", "unknown"))


def make_interaction(
    *,
    method: str,
    uri: str,
    request_json: Any = None,
    request_headers: Mapping[str, str] | None = None,
    status: int = 200,
    reason: str = "OK",
    response_headers: Mapping[str, str | Sequence[str]] | None = None,
    body: bytes | str | Any = b"",
) -> Interaction:
    """Build an interaction; a body that is not bytes or str is serialised as JSON."""
    headers = dict(request_headers or {})
    payload: bytes | None = None
    if request_json is not None:
        payload = json.dumps(request_json).encode()
        headers.setdefault("content-type", "application/json")
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body, indent=None)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    request = Request(method, uri, payload, {k: [v] for k, v in headers.items()})
    response_header_lists = {
        k: [v] if isinstance(v, str) else list(v) for k, v in (response_headers or {}).items()
    }
    return Interaction(
        request,
        {
            "status": {"code": status, "message": reason},
            "headers": response_header_lists,
            "body": {"string": raw},
        },
    )


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def iter_cassette_files(paths: Iterable[str | Path]) -> Iterable[Path]:
    """Cassette files named by ``paths``: files as given, folders searched for ``*.yaml``."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            yield path
