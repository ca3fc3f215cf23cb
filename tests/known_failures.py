"""The truthful failures on the pinned SDKs, as CI reads them (scripts/known_failures.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "known_failures.py"


def known_failures() -> dict[tuple[str, str], str]:
    """(check id, SDK) -> why, from the script CI runs after `run --sdk all`."""
    spec = importlib.util.spec_from_file_location("known_failures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.KNOWN)
