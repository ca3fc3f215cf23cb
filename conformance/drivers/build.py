"""Building the SDK drivers: each with its ecosystem's own tool, once, into a cache.

A driver's sources live in the repository's ``drivers/<sdk>/`` with its lockfile or module file
(``package-lock.json``, ``go.sum``, ``pom.xml`` with exact versions); the SDK version in them
is the default pin, and :func:`build` takes another as data (``version=``). A build copies the
sources into ``<cache>/<sdk>-<version>-<hash of the sources>/``, runs ``npm ci``,
``go build`` or ``mvn package`` there with a progress message, and writes ``built.json`` last:
a directory with that stamp is a finished build and is reused as it is.

A missing toolchain is not a crash: :class:`DriverUnavailable` says which tool is missing and
how to install it, so the SDK's checks can be skipped with that hint.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import sdks
from ..sdks.profile import DriverSpec
from .environment import build_environment, run_environment
from .process import DriverProcess

_PACKAGE = Path(__file__).resolve().parent
STAMP = "built.json"
# Build output is kept (shown in the error) only this long.
_OUTPUT_TAIL = 4000

Progress = Callable[[str], None]


class DriverUnavailable(Exception):
    """The SDK's driver cannot be built here: a toolchain is missing or too old."""

    def __init__(self, sdk: str, reason: str, hint: str) -> None:
        self.sdk = sdk
        self.reason = reason
        self.hint = hint
        super().__init__(f"{sdk} driver unavailable: {reason}. {hint}")


class BuildFailed(Exception):
    """The ecosystem's tool ran and failed (bad pin, no network for a first download...)."""

    def __init__(self, sdk: str, command: Sequence[str], output: str) -> None:
        self.sdk = sdk
        self.command = list(command)
        self.output = output
        super().__init__(f"building the {sdk} driver failed: {' '.join(command)}\n{output}")


@dataclass(frozen=True)
class Built:
    """A finished driver build: how to start it."""

    sdk: str
    sdk_version: str
    directory: Path
    command: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)  # an allow-list (environment.py); no repr
    cached: bool  # True when an earlier build was reused
    seconds: float  # how long this call took (the build, or finding it in the cache)

    def process(self, *, startup_timeout: float = 60.0) -> DriverProcess:
        return DriverProcess(self.sdk, self.command, cwd=self.directory, env=self.env,
                             startup_timeout=startup_timeout)


# Each SDK's driver (folder, sources, tools, install hint, package) is its profile's
# (conformance/sdks/), and so are its pin, its build steps and its environment.


def drivers_root() -> Path:
    """The driver sources: ``conformance/driver_sources`` in a wheel, else the repository's
    top-level ``drivers/``."""
    inside = _PACKAGE.parent / "driver_sources"
    if inside.is_dir():
        return inside
    return _PACKAGE.parent.parent / "drivers"


def cache_root() -> Path:
    """``$AOAI_CONFORMANCE_CACHE`` or ``$XDG_CACHE_HOME/aoai-conformance`` (default
    ``~/.cache/aoai-conformance``), then ``drivers/``."""
    explicit = os.environ.get("AOAI_CONFORMANCE_CACHE")
    if explicit:
        return Path(explicit) / "drivers"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aoai-conformance" / "drivers"


def pinned_version(sdk: str, root: Path | None = None) -> str:
    """The SDK version the driver's own files pin."""
    return sdks.get(sdk).pinned_version((root or drivers_root()) / _spec(sdk).folder)


def check_toolchain(sdk: str) -> None:
    """Raise :class:`DriverUnavailable` when a tool the driver needs is not on PATH (or too
    old)."""
    spec = _spec(sdk)
    missing = [tool for tool in spec.tools if shutil.which(tool) is None]
    if missing:
        raise DriverUnavailable(sdk, f"{', '.join(missing)} not found on PATH", spec.hint)
    problem = sdks.get(sdk).toolchain_problem(_run_quiet)
    if problem:
        raise DriverUnavailable(sdk, problem, spec.hint)


def sources_hash(sdk: str, root: Path | None = None) -> str:
    """A short hash of the driver's sources (names and bytes), so an edit rebuilds."""
    spec = _spec(sdk)
    folder = (root or drivers_root()) / spec.folder
    digest = hashlib.sha256()
    for path in _source_files(folder, spec):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def build(
    sdk: str,
    *,
    version: str | None = None,
    cache: Path | None = None,
    root: Path | None = None,
    progress: Progress | None = None,
) -> Built:
    """Build (or find in the cache) the driver for ``sdk`` with SDK ``version`` (default: the
    driver's own pin) and say how to start it."""
    started = time.monotonic()
    spec = _spec(sdk)
    check_toolchain(sdk)
    say = progress or _stderr
    source = (root or drivers_root()) / spec.folder
    pinned = pinned_version(sdk, root)
    wanted = version or pinned
    if not re.fullmatch(r"[0-9A-Za-z.+\-]+", wanted):
        raise ValueError(f"not a version: {wanted!r}")
    target = (cache or cache_root()) / f"{sdk}-{wanted}-{sources_hash(sdk, root)}"
    if (target / STAMP).is_file():
        stamp = json.loads((target / STAMP).read_text(encoding="utf-8"))
        return Built(sdk, wanted, target, tuple(stamp["command"]), _run_env(sdk), cached=True,
                     seconds=time.monotonic() - started)
    say(f"aoai-conformance: building the {sdk} driver ({spec.package} {wanted}) into "
        f"{target} - the first time takes minutes")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{sdk}-{wanted}-", dir=target.parent))
    try:
        for path in _source_files(source, spec):
            destination = work / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        command = sdks.get(sdk).build(
            work, target, None if wanted == pinned else wanted,
            lambda argv, cwd, env: _tool(sdk, argv, cwd, env), _env(sdk))
        (work / STAMP).write_text(json.dumps({"sdk": sdk, "sdk_version": wanted,
                                              "command": command}), encoding="utf-8")
        if (target / STAMP).is_file():  # another process finished the same build first
            stamp = json.loads((target / STAMP).read_text(encoding="utf-8"))
            command = list(stamp["command"])
        else:
            if target.exists():  # an unfinished earlier build
                shutil.rmtree(target)
            work.rename(target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    say(f"aoai-conformance: built the {sdk} driver in {seconds:.0f} s")
    return Built(sdk, wanted, target, tuple(command), _run_env(sdk), cached=False,
                 seconds=seconds)


def _run_env(sdk: str) -> dict[str, str]:
    """The environment of the driver process: the allow-list and what the profile names."""
    return run_environment(also=sdks.get(sdk).driver_variables)


def _env(sdk: str) -> dict[str, str]:
    """The environment of a build: an allow-list, never the user's credentials, with the
    SDK's own settings (the Go module proxy alone, ...)."""
    return sdks.get(sdk).build_env(build_environment(sdk), _run_quiet)


def _run_quiet(command: Sequence[str]) -> str:
    try:
        return subprocess.run(list(command), capture_output=True, text=True, timeout=60,
                              check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _tool(sdk: str, command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    try:
        done = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True,
                              text=True, check=False)
    except OSError as exc:
        raise DriverUnavailable(sdk, f"cannot run {command[0]!r}: {exc}", _spec(sdk).hint) from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-_OUTPUT_TAIL:]
        raise BuildFailed(sdk, command, output)


def _source_files(folder: Path, spec: DriverSpec) -> list[Path]:
    files: list[Path] = []
    for name in spec.sources:
        path = folder / name
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"driver source {path} is missing")
    return files


def _spec(sdk: str) -> DriverSpec:
    spec = sdks.PROFILES[sdk].driver if sdk in sdks.PROFILES else None
    if spec is None:
        raise ValueError(f"no driver for SDK {sdk!r} (known: {', '.join(sdks.driver_names())})")
    return spec


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


__all__ = [
    "BuildFailed",
    "Built",
    "DriverSpec",
    "DriverUnavailable",
    "build",
    "cache_root",
    "check_toolchain",
    "drivers_root",
    "pinned_version",
    "sources_hash",
]
