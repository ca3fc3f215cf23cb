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

from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.request import Request
from vcr.serializers import yamlserializer

Provenance = Literal["recorded", "constructed"]


class CassetteError(Exception):
    """A cassette that cannot be used: missing, unreadable or malformed."""


class CassetteNotFound(CassetteError):
    pass


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
        for name, values in self.response.get("headers", {}).items():
            if isinstance(values, (str, bytes)):
                values = [values]
            pairs.extend((str(name), _text(v)) for v in values)
        return pairs

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def body(self) -> bytes:
        raw = self.response.get("body", {}).get("string", b"")
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

    @classmethod
    def load(cls, path: str | Path) -> Cassette:
        path = Path(path)
        try:
            loaded = FilesystemPersister.load_cassette(path, yamlserializer)
        except CassetteNotFoundError:
            raise CassetteNotFound(f"cassette not found: {path}") from None
        except Exception as exc:  # vcrpy raises ValueError, YAMLError, KeyError, TypeError...
            raise CassetteError(f"cannot read cassette {path}: {exc}") from exc
        requests, responses, *rest = loaded
        metadata = rest[0] if rest and isinstance(rest[0], dict) else {}
        try:
            interactions = [Interaction(q, r) for q, r in zip(requests, responses, strict=True)]
            for item in interactions:
                item.status  # noqa: B018  # fail now, not during replay
        except (KeyError, TypeError, ValueError) as exc:
            raise CassetteError(f"malformed interaction in cassette {path}: {exc!r}") from exc
        return cls(path, interactions, metadata)

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
