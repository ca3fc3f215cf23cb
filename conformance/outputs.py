"""Where a command will write, and what it will read, checked before any check runs.

A live run that finds out at its end that ``--report-dir`` is a file, read-only or
``/dev/null`` has spent its budget for nothing. :func:`unwritable_dir` and
:func:`unreadable_dir` say in one line why a folder cannot be used (None when it can); the
commands turn that into exit status 2 before they start. Nothing is created: a folder that
does not exist yet is judged by the nearest folder above it that does, where a probe file is
created and removed at once.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def unwritable_dir(path: Path, what: str = "--report-dir") -> str | None:
    """Why files cannot be written into the folder ``path`` (created if missing), or None."""
    if path.exists() and not path.is_dir():
        return f"{what} {path} exists and is not a folder"
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{what} {path} cannot be created: {existing} is not a folder"
    try:
        descriptor, probe = tempfile.mkstemp(prefix=".aoai-conformance-probe-", dir=existing)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return (f"{what} {path} cannot be written: {reason} in {existing}"
                if existing != path else f"{what} {path} cannot be written: {reason}")
    os.close(descriptor)
    os.unlink(probe)
    return None


def unreadable_dir(path: Path, what: str) -> str | None:
    """Why ``path`` is not a folder this process can read, or None."""
    if not path.exists():
        return f"{what} {path} does not exist"
    if not path.is_dir():
        return f"{what} {path} is not a folder"
    try:
        next(iter(path.iterdir()), None)
    except OSError as exc:
        return f"{what} {path} cannot be read: {exc.strerror or type(exc).__name__}"
    return None


__all__ = ["unreadable_dir", "unwritable_dir"]
