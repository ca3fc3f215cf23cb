"""Isolated environments, one per SDK pin, for the gate, the matrix and bisect.

Each environment holds the pinned SDK and this package's own dependencies, with every other
distribution constrained to the version the current environment has, so two environments
differ only in the SDK (and what it alone needs). This package is not installed into them: it
runs from where it is, through a one-entry ``PYTHONPATH``, so a change to the checks never
invalidates an environment. Environments are cached by pin, Python and constraints; a warm
gate only runs the checks. ``uv`` builds them when it is on ``PATH``, ``venv`` + ``pip``
otherwise, under the entry's lock and each step by a deadline (:mod:`conformance.caches`), so
concurrent gates on one cache build an environment once and a hung install never hangs a gate.

A cached environment proves it is whole before each use: the SDK imports, every distribution
it was built with is installed at the same version, and every file their ``RECORD`` lists is
there with its recorded hash. A broken one is built again once; still broken, it is a
:class:`CacheBroken` setup error naming its path, never the SDK's failure.

A pin of a driver SDK (``javascript@6.49.0``, ``go@v3.100.0``, ``java@4.105.0``) needs no
environment: its run is this Python's ``run --sdk NAME@VERSION``, the cross-SDK checks with
that SDK's driver built at that version (:func:`conformance.drivers.build.build`, cached).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import caches, sdks
from .interruption import raise_for
from .reports import write_run
from .results import FILENAME, Results
from .sdk import DISTRIBUTION, parse_version

PACKAGE = "azure-openai-conformance"
_PACKAGE_DIR = Path(__file__).resolve().parent
# What the checks import, should this package's metadata be missing (a source tree on
# sys.path).
_FALLBACK_REQUIREMENTS = ["azure-identity>=1.15", "pytest>=8.0", "vcrpy>=7.0", "pyyaml>=6.0"]
_READY = ".aoai-conformance-ready"
# The layout of an environment and its stamp; part of the cache key. 2: the stamp lists
# every distribution at its version.
_FORMAT = 2


class SetupError(RuntimeError):
    """An environment could not be built or a run could not start: not the SDK's fault."""


class Uninstallable(SetupError):
    """This pin cannot be installed (yanked, no wheel for this Python, conflicts)."""


class CacheBroken(SetupError):
    """A cached environment (or driver build: :class:`~.drivers.build.DriverCacheBroken`) is
    not whole and rebuilding it did not help; the message names its path."""


# Run by an environment's own Python: what is installed there, whether every file the
# installers recorded is intact, and whether the SDK imports. Prints one JSON object.
_INSPECT = r"""
import base64, hashlib, importlib, importlib.metadata as md, json, sys
sdk_module = sys.argv[1]
found, problems = {}, []
for dist in md.distributions():
    name = (dist.metadata["Name"] or "").lower()
    if not name:
        continue
    found[name] = dist.version
    for file in dist.files or ():
        if file.hash is None:
            continue
        try:
            data = file.locate().read_bytes()
        except OSError:
            problems.append(f"{name} {dist.version}: {file} is missing")
            continue
        digest = hashlib.new(file.hash.mode, data).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != file.hash.value:
            problems.append(f"{name} {dist.version}: {file} has changed")
try:
    importlib.import_module(sdk_module)
except BaseException as exc:
    problems.append(f"import {sdk_module} fails: {type(exc).__name__}: {exc}")
print(json.dumps({"distributions": found, "problems": problems}))
"""


# The SDKs pinned as ``NAME@VERSION`` (a driver's SDK version), and what their results call
# the SDK: from the SDK registry (conformance/sdks/).
DRIVER_SDKS = {name: sdks.get(name).title for name in sdks.driver_names()}
_PINS = [sdks.get("python").pin_example, *(sdks.get(name).pin_example for name in DRIVER_SDKS)]
PIN_FORMS = f"{', '.join(_PINS[:-1])} or {_PINS[-1]}"


@dataclass(frozen=True, order=True)
class Pin:
    """An SDK at one version: a Python distribution (``openai==3.57.0``) or a driver SDK
    (``javascript@6.49.0``; ``distribution`` is then the SDK's name, and a Go version is kept
    without its ``v``)."""

    distribution: str
    version: str

    @classmethod
    def parse(cls, text: str) -> Pin:
        match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([0-9][0-9A-Za-z.+-]*)\s*",
                             text)
        if match is not None:
            if match.group(1).lower() in DRIVER_SDKS:
                raise ValueError(f"{text!r}: pin a {match.group(1)} version as "
                                 f"{match.group(1).lower()}@{match.group(2)}")
            return cls(match.group(1).lower(), match.group(2))
        driver = re.fullmatch(r"\s*([a-z]+)@(v?)([0-9][0-9A-Za-z.+-]*)\s*", text)
        if driver is not None and driver.group(1) in DRIVER_SDKS and (
                driver.group(2) in ("", sdks.get(driver.group(1)).version_prefix)):
            return cls(driver.group(1), driver.group(3))
        raise ValueError(f"{text!r} is not a pin such as {PIN_FORMS}")

    @property
    def driver(self) -> bool:
        """True for a driver SDK's pin (run through ``--sdk NAME@VERSION``)."""
        return self.distribution in DRIVER_SDKS

    @property
    def key(self) -> tuple[int, ...]:
        return parse_version(self.version)

    def __str__(self) -> str:
        if self.driver:
            return sdks.get(self.distribution).pin(self.version)
        return f"{self.distribution}=={self.version}"

    @property
    def name(self) -> str:
        return f"{self.distribution}-{self.version}"


def requirements(pin: Pin) -> list[str]:
    """The pin, what that SDK version needs to import at all, and this package's own
    dependencies (besides the SDK)."""
    extra = ["httpx<0.28"] if pin.distribution == DISTRIBUTION and pin.key <= (1, 55, 2) else []
    try:
        declared = importlib.metadata.requires(PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        declared = _FALLBACK_REQUIREMENTS
    own = [r for r in declared if "extra ==" not in r
           and _name(r) not in (pin.distribution, DISTRIBUTION)]
    return [str(pin), *extra, *own]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else requirement


def constraints(pin: Pin) -> list[str]:
    """``name==version`` of what this package's own dependencies need (pytest, vcrpy,
    azure-identity and what they require, as installed here), so the harness is identical
    between environments. The SDK and what it alone needs are not constrained: a release
    brings its own compatible dependencies (openai 1.0.0 to 1.3.7 need anyio<4, 1.55.2 and
    older httpx<0.28)."""
    loose = {pin.distribution, DISTRIBUTION, PACKAGE}
    if any(r.startswith("httpx<") for r in requirements(pin)):
        loose.add("httpx")
    own = [r for r in requirements(pin)[1:] if not r.startswith("httpx<")]
    found = {}
    for name in _closure(own):
        if name in loose:
            continue
        try:
            found[name] = f"{name}=={importlib.metadata.version(name)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return sorted(found.values())


def _closure(requirements: Sequence[str]) -> set[str]:
    """The distributions ``requirements`` need here, transitively (markers evaluated for this
    Python; extras' requirements left out)."""
    from packaging.requirements import InvalidRequirement, Requirement

    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        try:
            requirement = Requirement(todo.pop())
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = _name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            todo.extend(importlib.metadata.requires(name) or [])
        except importlib.metadata.PackageNotFoundError:
            continue
    return seen


def why(output: str) -> str:
    """One line of an installer's output that says why it failed: uv's ``cause:`` (with its
    continuation lines), pip's ``No matching distribution`` / last ``ERROR:``, else the first
    lines."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for n, line in enumerate(lines):
        if line.startswith("cause:"):
            rest = [x for x in lines[n + 1:] if not x.startswith(("error:", "hint:", "help:"))]
            return " ".join([line.removeprefix("cause:").strip(), *rest])[:600]
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors:
        found = [e for e in errors if "No matching distribution" in e] or errors
        return re.sub(r"\(from versions: [^)]*\)", "(from versions: ...)",
                      found[-1].removeprefix("ERROR:").strip())[:600]
    return " / ".join(lines[:3])[:600] or "no output"


def default_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aoai-conformance" / "envs"


@dataclass
class Environments:
    """Builds (once) and finds the environment of a pin under ``root``."""

    root: Path

    def path(self, pin: Pin) -> Path:
        spec = json.dumps([requirements(pin), constraints(pin), sys.version, _builder(),
                           _FORMAT])
        digest = hashlib.sha256(spec.encode()).hexdigest()[:12]
        return self.root / f"{pin.name}-{digest}"

    def python(self, pin: Pin) -> Path:
        """The interpreter of ``pin``'s environment, proven whole; built first when it is not
        cached, built again (once) when it is broken. Raises :class:`Uninstallable` when the
        pin cannot be installed, :class:`CacheBroken` when a fresh build is still broken,
        :class:`SetupError` for the rest (a step that timed out)."""
        where = self.path(pin)
        python = _python_in(where)
        with caches.locked(where, _say):
            caches.sweep(self.root, held=where)
            problem = self.damaged(pin)
            if problem is None:
                return python
            again = where.exists()
            if again:
                _say(f"aoai-conformance: the cached environment {where} is not whole "
                     f"({problem}); building it again")
            self._build(pin, where)
            problem = self.damaged(pin)
            if problem is not None:
                raise CacheBroken(f"the environment {where} for {pin} is broken"
                                  + (" and building it again did not help" if again else
                                     " as soon as it is built")
                                  + f" (a setup problem, not the SDK's): {problem}")
        return python

    def damaged(self, pin: Pin) -> str | None:
        """Why ``pin``'s cached environment cannot be used as it is, or None."""
        where = self.path(pin)
        try:
            stamp = json.loads((where / _READY).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return "not built" if not where.exists() else "its build did not finish"
        except (OSError, ValueError):
            stamp = None
        if not isinstance(stamp, dict) or not isinstance(stamp.get("distributions"), dict):
            return f"{_READY} is from an older version of this tool"
        seen = _inspect(_python_in(where), pin)
        if isinstance(seen, str):
            return seen
        installed, problems = seen
        for name, version in sorted(stamp["distributions"].items()):
            if installed.get(name) != version:
                problems.append(f"{name} {version} is " + (
                    f"now {installed[name]}" if name in installed else "no longer installed"))
        if installed.get(pin.distribution) != pin.version:
            problems.append(f"{pin.distribution} is {installed.get(pin.distribution)}, not "
                            f"{pin.version}")
        if problems:
            more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
            return "; ".join(problems[:3]) + more
        return None

    def _build(self, pin: Pin, where: Path) -> None:
        """Build ``pin``'s environment in ``where`` (held locked), stamped last; on any
        failure or interrupt nothing of it stays."""
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        until = caches.deadline()
        try:
            for n, step in enumerate(self.steps(pin, where)):
                try:
                    done = caches.run_step(step, until=until)
                except caches.StepTimedOut as exc:
                    raise SetupError(f"cannot install {pin}: {exc}\n"
                                     f"{_tail(exc.output)}") from None
                if done.returncode != 0:
                    log = self.root / f"{pin.name}.install.log"
                    log.write_text(f"$ {' '.join(step)}\n{done.stdout}{done.stderr}")
                    error = Uninstallable if n == 1 else SetupError
                    raise error(f"cannot install {pin}: {why(done.stderr or done.stdout)} "
                                f"(installer output: {log})")
            seen = _inspect(_python_in(where), pin)
            if isinstance(seen, str):
                raise CacheBroken(f"the environment {where} for {pin} was built but {seen}")
            stamp = {"pin": str(pin), "distributions": seen[0]}
            (where / _READY).write_text(json.dumps(stamp, indent=1) + "\n")  # reused from now
        except BaseException:
            shutil.rmtree(where, ignore_errors=True)
            raise

    def steps(self, pin: Pin, where: Path) -> list[list[str]]:
        """The commands that build ``pin``'s environment in ``where``: make the virtual
        environment, then install (a failure of the second means the pin is uninstallable)."""
        venv, python = where / "venv", _python_in(where)
        constraint_file = where / "constraints.txt"
        constraint_file.write_text("\n".join(constraints(pin)) + "\n")
        uv = shutil.which("uv")
        if uv:
            return [[uv, "venv", "-q", "--python", sys.executable, str(venv)],
                    [uv, "pip", "install", "-q", "--python", str(python), "-c",
                     str(constraint_file), *requirements(pin)]]
        return [[sys.executable, "-m", "venv", str(venv)],
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                 "-c", str(constraint_file), *requirements(pin)]]

    def shim(self) -> Path:
        """A folder holding only a link to this package: the environments' PYTHONPATH."""
        shim = self.root / "_shim" / hashlib.sha256(str(_PACKAGE_DIR).encode()).hexdigest()[:12]
        link = shim / "conformance"
        if not link.exists():
            shim.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # another gate made it meanwhile
                link.symlink_to(_PACKAGE_DIR, target_is_directory=True)
        return shim


def _builder() -> str:
    return "uv" if shutil.which("uv") else "venv"


def _python_in(where: Path) -> Path:
    return where / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


# How long an environment's Python may take to inspect itself (hashing every installed file,
# importing the SDK) on a busy machine.
_INSPECT_TIMEOUT_S = 300.0


def _inspect(python: Path, pin: Pin) -> tuple[dict[str, str], list[str]] | str:
    """What the environment of ``python`` holds (distribution -> version) and what in it is
    damaged; or why it could not be inspected at all."""
    module = "openai" if pin.distribution == DISTRIBUTION else pin.distribution.replace("-", "_")
    if not python.exists():
        return f"{python.name} is missing"
    try:
        done = caches.run_step([str(python), "-I", "-c", _INSPECT, module],
                               until=time.monotonic() + _INSPECT_TIMEOUT_S)
    except (OSError, caches.StepTimedOut) as exc:
        return f"its Python cannot inspect itself: {exc}"
    try:
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        return ({str(k): str(v) for k, v in seen["distributions"].items()},
                [str(p) for p in seen["problems"]])
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        return f"its Python cannot inspect itself (exit {done.returncode}): {_tail(done.stderr, 3)}"


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _build_driver(sdk: str, version: str) -> object:
    """Build (or find cached) ``sdk``'s driver at ``version``, proven whole (it answers
    hello at that version; a broken cache entry is rebuilt once); failures are setup
    problems, and only a build the ecosystem's tool refused makes the version
    uninstallable."""
    from .drivers.build import (
        BuildFailed,
        BuildTimedOut,
        DriverCacheBroken,
        DriverUnavailable,
        start,
    )

    try:
        built, process = start(sdk, version=version)
        process.close()
        return built
    except DriverUnavailable as exc:
        raise SetupError(str(exc)) from exc
    except DriverCacheBroken as exc:
        raise CacheBroken(str(exc)) from exc
    except BuildTimedOut as exc:
        raise SetupError(f"cannot build the {sdk} driver with {sdk} {version}: "
                         f"{_tail(str(exc))}") from exc
    except BuildFailed as exc:
        raise Uninstallable(f"cannot build the {sdk} driver with {sdk} {version}: "
                            f"`{' '.join(exc.command)}` failed: {why(exc.output)}") from exc
    except ValueError as exc:
        raise Uninstallable(f"cannot build the {sdk} driver with {sdk} {version}: "
                            f"{exc}") from exc


def _plugin_registered() -> bool:
    """True when this Python loads the pytest plugin by itself (the installed package's
    ``pytest11`` entry point)."""
    return any(e.value == "conformance.pytest_plugin"
               for e in importlib.metadata.entry_points(group="pytest11"))


@dataclass
class Runner:
    """Runs the checks under one pin in its environment and returns the results; the run
    writes results.json and every report into ``report_dir``."""

    environments: Environments
    echo: bool = True
    build: Callable[[str, str], object] = field(default=_build_driver, repr=False)

    def prepare(self, pin: Pin) -> Path:
        """Install ``pin`` (its environment, or its driver built): the Python that runs its
        checks. Raises :class:`Uninstallable` or :class:`SetupError`; cached, so the run
        that follows finds it ready. A gate prepares both pins before running either."""
        if pin.driver:
            # Built before the run, so a version that cannot be built is a setup problem
            # (bisect steps over it) rather than a run of `error` verdicts.
            self.build(pin.distribution, pin.version)
            return Path(sys.executable)
        return self.environments.python(pin)

    def __call__(self, pin: Pin, report_dir: Path, pytest_args: Sequence[str] = ()) -> Results:
        if self.echo:
            print(f"aoai-conformance: running the checks under {pin}", file=sys.stderr,
                  flush=True)
        python = self.prepare(pin)
        selection = [f"--sdk={pin.distribution}@{pin.version}"] if pin.driver else []
        report_dir.mkdir(parents=True, exist_ok=True)
        # The environments do not install this package, so its pytest plugin is named; this
        # Python may have it registered already (its entry point), and twice is an error.
        plugin = [] if pin.driver and _plugin_registered() else ["-p", "conformance.pytest_plugin"]
        command = [str(python), "-m", "conformance", "run", f"--report-dir={report_dir}",
                   *selection, "--", *plugin, *pytest_args]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = str(self.environments.shim())
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        (report_dir / "run.log").write_text(done.stdout + done.stderr)
        results = report_dir / FILENAME
        raise_for(done.returncode)  # the run was interrupted: so is this command
        if done.returncode not in (0, 1) or not results.exists():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise SetupError(f"the run under {pin} did not complete (exit {done.returncode}):"
                             f"\n{tail}")
        loaded = Results.load(results)
        if not pin.driver:
            return loaded
        headed = about(pin, loaded)
        write_run(headed, report_dir)  # this side's reports headed by the SDK it is about
        return headed


def about(pin: Pin, results: Results) -> Results:
    """A driver pin's results, headed by that SDK (a run's ``sdk_info`` is the installed
    Python SDK's), so diffs and reports say ``openai-node 6.48.0 -> openai-node 6.49.0``."""
    return replace(results, sdk_info={"name": DRIVER_SDKS[pin.distribution],
                                      "version": pin.version,
                                      # what reports show as the transport: the SDK's own, in
                                      # its driver process
                                      "http_library": "driver",
                                      "http_library_version": str(pin)})
