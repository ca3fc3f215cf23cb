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
broken one is rebuilt once; a build that is still broken is :class:`CacheBroken`, naming the
cache path: a setup problem, never the SDK's.

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
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import caches
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


class CacheBroken(BuildFailed):
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
    env: Mapping[str, str] = field(repr=False)  # may hold real keys: never in a repr
    cached: bool  # True when an earlier build was reused
    seconds: float  # how long this call took (the build, or finding it in the cache)

    def process(self, *, startup_timeout: float = 60.0) -> DriverProcess:
        return DriverProcess(self.sdk, self.command, cwd=self.directory, env=self.env,
                             startup_timeout=startup_timeout)


@dataclass(frozen=True)
class DriverSpec:
    sdk: str
    folder: str  # under drivers/
    sources: tuple[str, ...]  # files and folders copied into the build directory
    tools: tuple[str, ...]  # executables that must be on PATH
    hint: str  # how to install the toolchain
    package: str  # the SDK's package name in its ecosystem


SPECS: dict[str, DriverSpec] = {
    "javascript": DriverSpec(
        "javascript", "javascript", ("package.json", "package-lock.json", "driver.mjs"),
        ("node", "npm"),
        "Install Node.js 20 or newer with npm (e.g. `apt-get install nodejs npm`).",
        "openai",
    ),
    "go": DriverSpec(
        "go", "go", ("go.mod", "go.sum", "main.go"), ("go",),
        "Install Go 1.26 or newer (https://go.dev/doc/install) and put `go` on PATH.",
        "github.com/openai/openai-go/v3",
    ),
    "java": DriverSpec(
        "java", "java", ("pom.xml", "src"), ("java", "mvn"),
        "Install a JDK 17 or newer and Maven (e.g. `apt-get install openjdk-17-jdk maven`).",
        "com.openai:openai-java",
    ),
}


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
    folder = (root or drivers_root()) / _spec(sdk).folder
    if sdk == "javascript":
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        return str(data["dependencies"]["openai"])
    if sdk == "go":
        text = (folder / "go.mod").read_text(encoding="utf-8")
        found = re.search(r"github\.com/openai/openai-go/v3 v(\S+)", text)
        if not found:
            raise ValueError("drivers/go/go.mod does not require github.com/openai/openai-go/v3")
        return found.group(1)
    root_element = ET.parse(folder / "pom.xml").getroot()
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    element = root_element.find("m:properties/m:openai.java.version", namespace)
    if element is None or not element.text:
        raise ValueError("drivers/java/pom.xml has no <openai.java.version> property")
    return element.text.strip()


def check_toolchain(sdk: str) -> None:
    """Raise :class:`DriverUnavailable` when a tool the driver needs is not on PATH (or too
    old)."""
    spec = _spec(sdk)
    missing = [tool for tool in spec.tools if shutil.which(tool) is None]
    if missing:
        raise DriverUnavailable(sdk, f"{', '.join(missing)} not found on PATH", spec.hint)
    if sdk == "javascript":
        version = _run_quiet(["node", "--version"])
        major = re.match(r"v(\d+)", version)
        if not major or int(major.group(1)) < 20:
            raise DriverUnavailable(sdk, f"node {version.strip() or '?'} is older than 20",
                                    spec.hint)
    if sdk == "go":
        # openai-go v3 and azcore declare `go 1.26.0`; an older go would try to download a
        # toolchain (GOTOOLCHAIN is set to local for the build, so it would fail instead).
        version = _go_env("GOVERSION")
        found = re.match(r"go(\d+)\.(\d+)", version)
        if not found or (int(found.group(1)), int(found.group(2))) < (1, 26):
            raise DriverUnavailable(sdk, f"go {version or '?'} is older than 1.26", spec.hint)


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
            return Built(sdk, wanted, target, _command(target), _env(sdk), cached=True,
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
            command = _BUILDERS[sdk](work, wanted, None if wanted == pinned else wanted, until)
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
    return Built(sdk, wanted, target, _command(target), _env(sdk), cached=False,
                 seconds=seconds)


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
    cache: Path | None = None,
    root: Path | None = None,
) -> tuple[Built, DriverProcess]:
    """The driver for ``sdk`` at ``version``, built (or found in the cache) and started, proven
    whole: it answered hello at the SDK version it was built for. A cached build that does
    not is rebuilt once; :class:`CacheBroken` (naming the cache entry) when it still does
    not. ``cache`` and ``root`` as for :func:`build`."""
    built = build(sdk, version=version, progress=progress, until=until, cache=cache, root=root)
    problem = _hello_problem(built, startup_timeout)
    if isinstance(problem, DriverProcess):
        return built, problem
    if built.cached:
        (progress or _stderr)(f"aoai-conformance: the cached {sdk} driver in {built.directory} "
                              f"does not work ({_first_line(problem)}); building it again")
        built = build(sdk, version=version, progress=progress, until=until, rebuild=True,
                      cache=cache, root=root)
        problem = _hello_problem(built, startup_timeout)
        if isinstance(problem, DriverProcess):
            return built, problem
    raise CacheBroken(sdk, built.directory, problem)


def _hello_problem(built: Built, startup_timeout: float) -> DriverProcess | str:
    """The started driver, or why it did not answer hello at ``built``'s SDK version."""
    process = built.process(startup_timeout=startup_timeout)
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


# -- per-ecosystem builds -------------------------------------------------------------------------
# Each runs in the scratch directory ``work`` (by the monotonic deadline ``until``) and returns
# the command that starts the driver, paths inside the entry written ``{entry}/...``. ``repin``
# is the version to switch to, or None.


def _build_javascript(work: Path, version: str, repin: str | None, until: float) -> list[str]:
    env = _env("javascript")
    if repin:
        _tool("javascript", ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline",
                             "--save-exact", f"openai@{repin}"], work, env, until)
    else:
        _tool("javascript", ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], work,
              env, until)
    return ["node", ENTRY + "driver.mjs"]


def _build_go(work: Path, version: str, repin: str | None, until: float) -> list[str]:
    env = _env("go")
    if repin:
        _tool("go", ["go", "mod", "edit", f"-require=github.com/openai/openai-go/v3@v{repin}"],
              work, env, until)
        _tool("go", ["go", "mod", "tidy"], work, env, until)
    binary = "driver.exe" if os.name == "nt" else "driver"
    _tool("go", ["go", "build", "-o", binary, "."], work, env, until)
    return [ENTRY + binary]


def _build_java(work: Path, version: str, repin: str | None, until: float) -> list[str]:
    env = _env("java")
    command = ["mvn", "-B", "-q", "package", "-DskipTests"]
    if repin:
        command.append(f"-Dopenai.java.version={repin}")
    try:
        # Offline first: once the dependencies are in ~/.m2 a build needs no network.
        _tool("java", [*command[:1], "-o", *command[1:]], work, env, until)
    except BuildTimedOut:
        raise
    except BuildFailed:
        _tool("java", command, work, env, until)
    jar = work / "target" / "driver.jar"
    kept = work / "driver.jar"
    jar.rename(kept)
    shutil.rmtree(work / "target", ignore_errors=True)
    return ["java", "-jar", ENTRY + "driver.jar"]


_BUILDERS: dict[str, Callable[[Path, str, str | None, float], list[str]]] = {
    "javascript": _build_javascript,
    "go": _build_go,
    "java": _build_java,
}


def _env(sdk: str) -> dict[str, str]:
    env = dict(os.environ)
    if sdk == "go":
        # The module proxy alone: never fall back to fetching a module's VCS host directly.
        proxies = [p for p in re.split(r"[,|]", env.get("GOPROXY") or _go_env("GOPROXY"))
                   if p and p != "direct"]
        if proxies:
            env["GOPROXY"] = ",".join(proxies)
        flags = env.get("GOFLAGS", "").split()
        for flag in ("-mod=mod", "-buildvcs=false"):
            if flag not in flags:
                flags.append(flag)
        env["GOFLAGS"] = " ".join(flags)
        env["GOTOOLCHAIN"] = "local"  # never download a toolchain
    return env


def _go_env(name: str) -> str:
    return _run_quiet(["go", "env", name]).strip()


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
    try:
        return SPECS[sdk]
    except KeyError:
        raise ValueError(f"no driver for SDK {sdk!r} (known: {', '.join(SPECS)})") from None


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


__all__ = [
    "SPECS",
    "BuildFailed",
    "BuildTimedOut",
    "Built",
    "CacheBroken",
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
