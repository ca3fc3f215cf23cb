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
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
        return Built(sdk, wanted, target, tuple(stamp["command"]), run_environment(), cached=True,
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
        command = _BUILDERS[sdk](work, target, wanted, None if wanted == pinned else wanted)
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
    return Built(sdk, wanted, target, tuple(command), run_environment(), cached=False,
                 seconds=seconds)


# -- per-ecosystem builds -------------------------------------------------------------------------
# Each runs in the scratch directory ``work`` and returns the command that starts the driver
# once ``work`` has become ``target``. ``repin`` is the version to switch to, or None.


def _build_javascript(work: Path, target: Path, version: str, repin: str | None) -> list[str]:
    env = _env("javascript")
    if repin:
        _tool("javascript", ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline",
                             "--save-exact", f"openai@{repin}"], work, env)
    else:
        _tool("javascript", ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], work,
              env)
    return ["node", str(target / "driver.mjs")]


def _build_go(work: Path, target: Path, version: str, repin: str | None) -> list[str]:
    env = _env("go")
    if repin:
        _tool("go", ["go", "mod", "edit", f"-require=github.com/openai/openai-go/v3@v{repin}"],
              work, env)
        _tool("go", ["go", "mod", "tidy"], work, env)
    binary = "driver.exe" if os.name == "nt" else "driver"
    _tool("go", ["go", "build", "-o", binary, "."], work, env)
    return [str(target / binary)]


def _build_java(work: Path, target: Path, version: str, repin: str | None) -> list[str]:
    env = _env("java")
    command = ["mvn", "-B", "-q", "package", "-DskipTests"]
    if repin:
        command.append(f"-Dopenai.java.version={repin}")
    try:
        # Offline first: once the dependencies are in ~/.m2 a build needs no network.
        _tool("java", [*command[:1], "-o", *command[1:]], work, env)
    except BuildFailed:
        _tool("java", command, work, env)
    jar = work / "target" / "driver.jar"
    kept = work / "driver.jar"
    jar.rename(kept)
    shutil.rmtree(work / "target", ignore_errors=True)
    return ["java", "-jar", str(target / "driver.jar")]


_BUILDERS: dict[str, Callable[[Path, Path, str, str | None], list[str]]] = {
    "javascript": _build_javascript,
    "go": _build_go,
    "java": _build_java,
}


def _env(sdk: str) -> dict[str, str]:
    """The environment of a build: an allow-list, never the user's credentials."""
    env = build_environment(sdk)
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
    try:
        return SPECS[sdk]
    except KeyError:
        raise ValueError(f"no driver for SDK {sdk!r} (known: {', '.join(SPECS)})") from None


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


__all__ = [
    "SPECS",
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
