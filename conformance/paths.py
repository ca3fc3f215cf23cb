"""Where the packaged cassettes are.

In an installed wheel they ship inside the package (``conformance/cassettes``); in a source
checkout (including an editable install) they are the repository's top-level ``cassettes/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def cassette_root() -> Path:
    inside = _PACKAGE / "cassettes"
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / "cassettes"


def suites_dir() -> Path:
    return _PACKAGE / "suites"
