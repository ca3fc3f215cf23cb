"""Helpers shared by the cassette builders: reading the reference examples, labelling sources."""

from __future__ import annotations

import difflib
import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "corpus" / "reference"
CASSETTES = ROOT / "cassettes"
# Cassettes never name a real resource; the server matches on path, query and body only.
BASE = "https://RESOURCE.openai.azure.com/openai/v1"
REQUEST_HEADERS = {"content-type": "application/json", "accept": "application/json"}


def example(name: str) -> Any:
    """A JSON reference example, parsed."""
    return json.loads((REFERENCE / name).read_text())


def example_bytes(name: str) -> bytes:
    """A reference example as bytes (SSE streams keep their framing exactly)."""
    return (REFERENCE / name).read_bytes()


def reference_class(name: str) -> str:
    """``recorded``, ``derived`` or ``constructed``, as tests/corpus/reference/README.md says."""
    for line in (REFERENCE / "README.md").read_text().splitlines():
        if line.startswith(f"| `{name}` |"):
            return line.split("|")[2].strip().lower()
    raise KeyError(f"{name} is not listed in tests/corpus/reference/README.md")


def source(name: str, note: str = "") -> dict[str, str]:
    """A ``sources`` entry for cassette metadata: the example, its class, and a note."""
    entry = {"file": f"tests/corpus/reference/{name}", "class": reference_class(name)}
    if note:
        entry["note"] = note
    return entry


def recorded_headers(name: str) -> dict[str, list[str]]:
    """Response headers from a ``*.response-headers.json`` example, minus framing headers."""
    headers: dict[str, list[str]] = example(name)["headers"]
    return {k: v for k, v in headers.items() if k not in ("content-length", "transfer-encoding")}


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def constructed(request: str, *sources: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Metadata for a cassette nobody recorded: what request it stands for, from what bodies."""
    return {"provenance": "constructed", "request": request, "sources": list(sources), **extra}


def write_or_check(cassettes: Iterable[Any], check: bool, label: str, command: str) -> int:
    """Save each built cassette over its committed file, or with ``check`` only compare and
    print the difference; returns the exit status (1: ``check`` found a stale one)."""
    root = Path(__file__).resolve().parents[2]
    stale = 0
    with tempfile.TemporaryDirectory() as scratch:
        for cassette in cassettes:
            target = cassette.path
            cassette.path = Path(scratch) / target.name
            cassette.save()
            new = cassette.path.read_text()
            old = target.read_text() if target.exists() else ""
            if new == old:
                continue
            stale += 1
            rel = target.relative_to(root)
            if check:
                sys.stdout.writelines(difflib.unified_diff(
                    old.splitlines(True), new.splitlines(True), str(rel), label, n=1))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(new)
                print(f"wrote {rel}")
    if check and stale:
        print(f"{stale} cassette(s) out of date: run {command}")
    return 1 if check and stale else 0
