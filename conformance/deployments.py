"""The user's deployments: the names the checks use (the doc's samples) mapped to theirs.

Checks always ask for the doc's names (``gpt-4o``, ``o4-mini``, ``text-embedding-3-small``,
...), so their cassettes, judgements and reports stay the same whatever the resource calls its
deployments. In a live run the forwarder rewrites the top-level ``model`` of each JSON request
body on its way upstream. A name nobody mapped is sent as is.

The map comes from, strongest first: ``--deployment DOC=THEIRS`` (repeatable), the
``AOAI_CONFORMANCE_DEPLOYMENTS`` environment variable (``DOC=THEIRS,DOC=THEIRS``), and the
``[tool.aoai-conformance.deployments]`` table of ``pyproject.toml`` in the working directory.
Which checks need which deployment is read from the packaged cassettes' requests, not kept by
hand.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .registry import Check
from .settings import ENVIRONMENT_VARIABLE as ENVIRONMENT_VARIABLE
from .settings import PYPROJECT_TABLE as PYPROJECT_TABLE
from .wire import Cassette, CassetteError

FLAG = "--deployment"
V1_BASE = "/openai/v1/"


class DeploymentError(ValueError):
    """A deployment map that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class DeploymentMap:
    names: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)  # doc name -> where it was mapped

    def resolve(self, doc_name: str) -> str:
        return self.names.get(doc_name, doc_name)

    def describe(self, doc_name: str) -> str:
        """``'gpt-4o'`` or ``'my-4o' (gpt-4o in the doc)``, for messages."""
        theirs = self.resolve(doc_name)
        return repr(theirs) if theirs == doc_name else f"{theirs!r} ({doc_name} in the doc)"

    def rewrite(self, path: str, body: bytes) -> bytes:
        """The request body with its top-level ``model`` mapped (unchanged if nothing maps)."""
        if not self.names or not body.lstrip().startswith(b"{"):
            return body
        try:
            data = json.loads(body)
        except ValueError:
            return body
        model = data.get("model") if isinstance(data, dict) else None
        if not isinstance(model, str) or model not in self.names:
            return body
        data["model"] = self.names[model]
        return json.dumps(data).encode()

    @classmethod
    def load(
        cls,
        flags: Iterable[str] = (),
        *,
        environ: Mapping[str, str] = os.environ,
        directory: Path | None = None,
    ) -> DeploymentMap:
        names: dict[str, str] = {}
        sources: dict[str, str] = {}
        pyproject = (directory or Path.cwd()) / "pyproject.toml"
        for doc, theirs in _pyproject(pyproject).items():
            names[doc], sources[doc] = theirs, f"{pyproject.name} [{PYPROJECT_TABLE}]"
        for entry in filter(None, (e.strip() for e in environ.get(ENVIRONMENT_VARIABLE, "")
                                   .split(","))):
            doc, theirs = _pair(entry, ENVIRONMENT_VARIABLE)
            names[doc], sources[doc] = theirs, ENVIRONMENT_VARIABLE
        for entry in flags:
            doc, theirs = _pair(entry, FLAG)
            names[doc], sources[doc] = theirs, FLAG
        return cls(names, sources)

    def check_known(self, known: Iterable[str]) -> None:
        unknown = sorted(set(self.names) - set(known))
        if unknown:
            raise DeploymentError(
                f"no check uses a deployment named {', '.join(unknown)} (mapped in "
                f"{', '.join(sorted({self.sources[n] for n in unknown}))}); map the names the "
                "checks use: aoai-conformance deployments"
            )


def _pair(entry: str, source: str) -> tuple[str, str]:
    doc, sep, theirs = entry.partition("=")
    if not sep or not doc.strip() or not theirs.strip():
        raise DeploymentError(f"{source}: expected DOC_NAME=YOUR_DEPLOYMENT, got {entry!r}")
    return doc.strip(), theirs.strip()


def _pyproject(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DeploymentError(f"cannot read {path}: {exc}") from None
    table: Any = data
    for part in ("tool", "aoai-conformance", "deployments"):
        if not isinstance(table, dict):
            raise DeploymentError(f"{path}: [{PYPROJECT_TABLE}]: {part!r} is inside a "
                                  f"{type(table).__name__}, not a table")
        table = table.get(part, {})
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in table.items()
    ):
        raise DeploymentError(f"{path}: [{PYPROJECT_TABLE}] must map names to deployment "
                              "names (strings)")
    return dict(table)


def needed_by(check: Check, cassette_root: Path) -> tuple[str, ...]:
    """The doc deployment names ``check`` asks for, read from its cassette's requests."""
    if check.cassette is None:
        return ()
    return tuple(dict.fromkeys(model for model, _ in _requests(cassette_root / check.cassette)))


@cache
def _requests(path: Path) -> tuple[tuple[str, str], ...]:
    """(model, route under the v1 base) of each request of the cassette that names a model."""
    try:
        cassette = Cassette.load(path)
    except CassetteError:
        return ()
    # A real recording names its recorder's deployment; a live run sends the doc's sample,
    # whose deployment the cassette names in `metadata.live_model`.
    live = cassette.metadata.get("live_model")
    found: list[tuple[str, str]] = []
    for interaction in cassette.interactions:
        try:
            body = interaction.request_json()
        except ValueError:
            continue
        model = body.get("model") if isinstance(body, dict) else None
        if isinstance(model, str):
            route = interaction.request.path.rpartition(V1_BASE)[2] or interaction.request.path
            found.append((live if isinstance(live, str) else model, route))
    return tuple(found)


def needs(checks: Iterable[Check], cassette_root: Path) -> dict[str, list[str]]:
    """Doc deployment name -> the ids of the checks that ask for it, in a stable order."""
    table: dict[str, list[str]] = {}
    for check in sorted(checks, key=lambda c: c.id):
        for name in needed_by(check, cassette_root):
            table.setdefault(name, []).append(check.id)
    return dict(sorted(table.items()))


def routes(checks: Iterable[Check], cassette_root: Path) -> dict[str, str]:
    """Doc deployment name -> the first route (``chat/completions``, ``responses``,
    ``embeddings``) a check sends it on: where preflight asks whether it exists."""
    found: dict[str, str] = {}
    for check in sorted(checks, key=lambda c: c.id):
        if check.cassette is not None:
            for model, route in _requests(cassette_root / check.cassette):
                found.setdefault(model, route)
    return dict(sorted(found.items()))
