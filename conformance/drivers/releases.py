"""The released versions of a driver's SDK, from its ecosystem's index, through that
ecosystem's ordinary client where it has one: ``npm view openai versions --json``,
``go list -m -versions github.com/openai/openai-go/v3`` (the Go proxy), and Maven Central's
``maven-metadata.xml`` for ``com.openai:openai-java``. ``aoai-conformance bisect`` searches
them."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .. import sdks
from ..sdks.go import MODULE as GO_MODULE
from ..sdks.java import MAVEN_METADATA

_TIMEOUT_S = 120


class ListingFailed(Exception):
    """The index could not be asked (no tool, no network) or answered nonsense."""


def released_versions(sdk: str) -> list[str]:
    """The versions of ``sdk``'s package the index lists, as ``NAME@VERSION`` takes them (Go
    without its ``v``), in the index's order: the SDK's profile asks its ecosystem."""
    try:
        return sdks.get(sdk).released_versions(_output)
    except (NotImplementedError, ValueError):
        raise ListingFailed(f"no release listing for {sdk!r}") from None


def npm_versions(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ListingFailed(f"npm view answered something that is not JSON: {text[:200]!r}") \
            from exc
    if isinstance(data, str):  # a package with one version
        data = [data]
    if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
        raise ListingFailed(f"npm view answered {text[:200]!r}, not a list of versions")
    return list(data)


def go_versions(text: str) -> list[str]:
    words = text.split()
    if not words or words[0] != GO_MODULE:
        raise ListingFailed(f"go list answered {text[:200]!r}")
    return [w.removeprefix("v") for w in words[1:]]


def maven_versions(text: str) -> list[str]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ListingFailed(f"maven-metadata.xml does not parse: {exc}") from exc
    return [v.text.strip() for v in root.iterfind("versioning/versions/version") if v.text]


def _output(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True,
                              timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ListingFailed(f"{' '.join(command)}: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise ListingFailed(f"{' '.join(command)} failed (exit {done.returncode}): {tail}")
    return done.stdout


__all__ = ["MAVEN_METADATA", "ListingFailed", "go_versions", "maven_versions", "npm_versions",
           "released_versions"]
