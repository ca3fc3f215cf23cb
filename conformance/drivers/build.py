"""Building the SDK drivers: each with its ecosystem's own tool, once, into a cache.

A driver's sources live in the repository's ``drivers/<sdk>/`` with its lockfile or module file
(``package-lock.json``, ``go.sum``, ``pom.xml`` with exact versions); the SDK version in them
is the default pin, and :func:`build` takes another as data (``version=``). A build copies the
sources into a scratch folder beside ``<cache>/<sdk>-<version>-<hash of the sources>/``, runs
``npm ci``, ``go build`` or ``mvn package`` there with a progress message, writes ``built.json``
(the command that starts the driver and the size and SHA-256 of every file, paths relative to
the entry, so a copied cache runs its own driver) and renames the folder into place. It all
happens under the entry's lock (:mod:`conformance.caches`): concurrent runs build an entry
once. Every step has a deadline (:func:`conformance.caches.deadline`) and is ended with its
whole process group on the deadline or an interrupt; the scratch folder never stays behind.

A cached build proves it is whole before it is used: every file it was built with is there at
its size, and (:func:`start`) the driver answers hello at the SDK version it was built for. A
broken one is rebuilt once; a build that is still broken is :class:`DriverCacheBroken`, naming
the cache path: a setup problem, never the SDK's.

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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import caches, sdks
from ..sdks.profile import DriverSpec
from .environment import build_environment, run_environment
from .process import DriverError, DriverProcess

_PACKAGE = Path(__file__).resolve().parent
STAMP = "built.json"
# The layout of an entry and its stamp; part of the entry's name. 2: the command's paths
# relative to the entry, every file's size and hash.
CACHE_FORMAT = 2
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


class BuildTimedOut(BuildFailed):
    """A build step did not finish by the build's deadline; it was stopped with everything
    it started."""


class DriverCacheBroken(BuildFailed):
    """A driver build in the cache is not whole (files missing or changed, no hello at the
    version it was built for), and rebuilding it did not help. ``directory`` is the cache
    entry."""

    def __init__(self, sdk: str, directory: Path, problem: str) -> None:
        self.directory = directory
        self.problem = problem
        Exception.__init__(self, f"the {sdk} driver built in {directory} does not work (a "
                           f"setup problem, not the SDK's): {problem}")
        self.sdk, self.command, self.output = sdk, [], problem


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

    def process(self, *, startup_timeout: float = 60.0,
                extra_env: Mapping[str, str] | None = None) -> DriverProcess:
        """The driver's process (not started); ``extra_env`` adds to its environment (the
        Azure host's proxy and test CA)."""
        profile = sdks.PROFILES.get(self.sdk)
        return DriverProcess(self.sdk,
                             profile.launch(self.command) if profile else self.command,
                             cwd=self.directory, env={**self.env, **(extra_env or {})},
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
    """A short hash of the driver's sources (names and bytes) and of the cache's format, so
    an edit rebuilds, and a tool that writes another format never shares an entry."""
    spec = _spec(sdk)
    folder = (root or drivers_root()) / spec.folder
    digest = hashlib.sha256(f"cache format {CACHE_FORMAT}\0".encode())
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
    until: float | None = None,
    rebuild: bool = False,
) -> Built:
    """Build (or find in the cache) the driver for ``sdk`` with SDK ``version`` (default: the
    driver's own pin) and say how to start it. ``until`` is a monotonic deadline for the build
    (default: :func:`conformance.caches.deadline`); ``rebuild`` builds anew whatever the cache
    holds. A cached build whose files are no longer all there is rebuilt."""
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
    until = caches.deadline(until)
    with caches.locked(target, say):
        caches.sweep(target.parent, held=target)  # scratch folders of builds that were killed
        problem = None if rebuild else damaged(target)
        if problem is None and not rebuild:
            return Built(sdk, wanted, target, _command(target), _run_env(sdk), cached=True,
                         seconds=time.monotonic() - started)
        if problem is not None and target.exists():
            say(f"aoai-conformance: the cached {sdk} driver in {target} is not whole "
                f"({problem}); building it again")
        say(f"aoai-conformance: building the {sdk} driver ({spec.package} {wanted}) into "
            f"{target} - the first time takes minutes")
        work = caches.scratch(target)
        try:
            for path in _source_files(source, spec):
                destination = work / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
            # The profile writes paths inside the entry as {entry}/...: a copied cache runs its
            # own driver (see _command).
            command = sdks.get(sdk).build(
                work, Path(ENTRY.rstrip("/")), None if wanted == pinned else wanted,
                lambda argv, cwd, env: _tool(sdk, argv, cwd, env, until), _env(sdk))
            stamp = {"sdk": sdk, "sdk_version": wanted, "command": command,
                     "files": caches.manifest(work, skip=(STAMP,))}
            (work / STAMP).write_text(json.dumps(stamp), encoding="utf-8")
            if target.exists():  # a damaged or unfinished earlier build: ours to replace
                shutil.rmtree(target)
            work.rename(target)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    say(f"aoai-conformance: built the {sdk} driver in {seconds:.0f} s")
    return Built(sdk, wanted, target, _command(target), _run_env(sdk), cached=False,
                 seconds=seconds)


def _run_env(sdk: str) -> dict[str, str]:
    """The environment of the driver process: the allow-list and what the profile names."""
    return run_environment(also=sdks.get(sdk).driver_variables)


def damaged(directory: Path) -> str | None:
    """Why the build in ``directory`` cannot be used as it is (none there, no or an
    unreadable ``built.json``, files missing or changed since it was built), or None."""
    try:
        stamp = json.loads((directory / STAMP).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "not built" if not directory.exists() else f"no {STAMP}"
    except (OSError, ValueError) as exc:
        return f"{STAMP} is unreadable ({exc})"
    if not isinstance(stamp, dict) or not isinstance(stamp.get("files"), dict) or not (
            isinstance(stamp.get("command"), list) and stamp["command"]):
        return f"{STAMP} is from an older version of this tool"
    problems = caches.damage(directory, stamp["files"])
    if problems:
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        return "; ".join(problems[:3]) + more
    return None


def start(
    sdk: str,
    *,
    version: str | None = None,
    progress: Progress | None = None,
    until: float | None = None,
    startup_timeout: float = 60.0,
    extra_env: Mapping[str, str] | None = None,
    cache: Path | None = None,
    root: Path | None = None,
) -> tuple[Built, DriverProcess]:
    """The driver for ``sdk`` at ``version``, built (or found in the cache) and started, proven
    whole: it answered hello at the SDK version it was built for. A cached build that does
    not is rebuilt once; :class:`DriverCacheBroken` (naming the cache entry) when it still does
    not. ``cache`` and ``root`` as for :func:`build`."""
    built = build(sdk, version=version, progress=progress, until=until, cache=cache, root=root)
    problem = _hello_problem(built, startup_timeout, extra_env)
    if isinstance(problem, DriverProcess):
        return built, problem
    if built.cached:
        (progress or _stderr)(f"aoai-conformance: the cached {sdk} driver in {built.directory} "
                              f"does not work ({_first_line(problem)}); building it again")
        built = build(sdk, version=version, progress=progress, until=until, rebuild=True,
                      cache=cache, root=root)
        problem = _hello_problem(built, startup_timeout, extra_env)
        if isinstance(problem, DriverProcess):
            return built, problem
    raise DriverCacheBroken(sdk, built.directory, problem)


def _hello_problem(built: Built, startup_timeout: float,
                   extra_env: Mapping[str, str] | None = None) -> DriverProcess | str:
    """The started driver, or why it did not answer hello at ``built``'s SDK version."""
    process = built.process(startup_timeout=startup_timeout, extra_env=extra_env)
    try:
        hello = process.start()
    except DriverError as exc:
        return str(exc)
    if hello.sdk_version != built.sdk_version:
        process.close()
        return (f"it says it drives {built.sdk} {hello.sdk_version}, it was built for "
                f"{built.sdk_version}")
    return process


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _command(directory: Path) -> tuple[str, ...]:
    """The stamp's command, its entry-relative paths (``{entry}/driver.mjs``) made absolute
    here: a cache copied elsewhere starts its own driver."""
    stamp = json.loads((directory / STAMP).read_text(encoding="utf-8"))
    return tuple(str(directory / a[len(ENTRY):]) if a.startswith(ENTRY) else a
                 for a in stamp["command"])


# What a stamp's command writes before a path inside the entry.
ENTRY = "{entry}/"


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


def _tool(sdk: str, command: Sequence[str], cwd: Path, env: Mapping[str, str],
          until: float) -> None:
    try:
        done = caches.run_step(command, cwd=cwd, env=env, until=until)
    except caches.StepTimedOut as exc:
        raise BuildTimedOut(sdk, command, f"{exc}\n{exc.output[-_OUTPUT_TAIL:]}") from None
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
    "BuildTimedOut",
    "Built",
    "DriverCacheBroken",
    "DriverSpec",
    "DriverUnavailable",
    "build",
    "cache_root",
    "check_toolchain",
    "damaged",
    "drivers_root",
    "pinned_version",
    "sources_hash",
    "start",
]
