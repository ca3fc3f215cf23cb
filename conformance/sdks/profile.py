"""What the suite knows about one SDK, in one place: its :class:`Profile`.

A profile is registered under its unique ``name`` when its class is defined (as respx keeps its
mockers: ``__init_subclass__`` fills the registry and refuses a second class with a taken
name). Everything that lists SDKs (the ``--sdk`` choices and help, pin forms, driver builds,
release listings, the retry and error policy that judges each release) reads the registry.

A profile holds:

- the package in its ecosystem, the name results give the SDK, the pin form
  (``javascript@6.49.0``);
- its driver (:class:`DriverSpec`: folder, sources, tools, install hint), how to read the pin
  from the driver's own files, how to build it, the environment the build and the driver need,
  and how to list the released versions; ``driver`` is None for an SDK that runs in process
  (python) or that has no driver here yet (dotnet);
- its capabilities by release (``capabilities``: a capability's name -> the first release that
  has it), read against the version the driver reports having loaded (its hello), not the pin;
- its retry, Retry-After and error policy: ``own`` (where the doc's section is silent) and its
  declared deviations and refinements with release ranges (``policy.Deviation`` with
  ``capability``/``until``), judged by the one model in :mod:`conformance.policy`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..policy import Deviation, Has, Policies, RetryPolicy, policies

# Runs a tool and returns its stdout ("" when it cannot run): how a toolchain is probed.
Probe = Callable[[Sequence[str]], str]
# Runs a build step in a directory with an environment; raises when the step fails.
Tool = Callable[[Sequence[str], Path, Mapping[str, str]], None]


@dataclass(frozen=True)
class DriverSpec:
    """Where an SDK's driver lives and what building it needs."""

    sdk: str
    folder: str  # under drivers/ (an absolute path for a driver kept elsewhere)
    sources: tuple[str, ...]  # files and folders copied into the build directory
    tools: tuple[str, ...]  # executables that must be on PATH
    hint: str  # how to install the toolchain
    package: str  # the SDK's package name in its ecosystem


PROFILES: dict[str, Profile] = {}


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text.split("-")[0].split("+")[0]))


class Profile:
    """One SDK. Subclass it with a ``name`` to register it (see the module docstring)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # what results and reports call the SDK: "openai-node"
    package: ClassVar[str] = ""  # its package in its ecosystem
    language: ClassVar[str] = ""  # its section in the seed doc: "JavaScript"
    pin_example: ClassVar[str] = ""  # a pin as `gate` takes it: "javascript@6.49.0"
    version_prefix: ClassVar[str] = ""  # "v" where the ecosystem writes one (Go modules)
    driver: ClassVar[DriverSpec | None] = None
    in_process: ClassVar[bool] = False  # python: driven in the runner itself
    # Variables of the user's environment the driver process may see besides the allow-list
    # (drivers/environment.py); real SDKs need none, and never a credential.
    driver_variables: ClassVar[tuple[str, ...]] = ()
    # Its driver runs the doc's sample against the doc's Azure host (drivers/azure_host.py: a
    # loopback proxy and a test CA the driver trusts); others get the wire server's URL.
    azure_host: ClassVar[bool] = False
    rank: ClassVar[int] = 100  # where it comes in lists and reports (python first)
    capabilities: ClassVar[Mapping[str, str]] = {}  # capability -> first release that has it
    own: ClassVar[RetryPolicy | None] = None  # its own policy where the doc is silent
    deviations: ClassVar[tuple[Deviation, ...]] = ()
    policy_source: ClassVar[str] = ""  # where its retry and error behaviour is read from

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if not name:
            return  # an intermediate class: nothing to register
        if not re.fullmatch(r"[a-z]+", name):
            raise TypeError(f"an SDK name is lowercase letters only, not {name!r}")
        if name in PROFILES:
            raise TypeError(f"an SDK profile named {name!r} is already registered "
                            f"({type(PROFILES[name]).__qualname__})")
        PROFILES[name] = cls()

    # -- versions and pins ----------------------------------------------------------------

    def normalise_version(self, version: str) -> str:
        """A version as the suite keeps it: without the ecosystem's prefix (``v3.100.0`` ->
        ``3.100.0`` for Go)."""
        if self.version_prefix and re.fullmatch(rf"{self.version_prefix}\d.*", version):
            return version[len(self.version_prefix):]
        return version

    def pin(self, version: str) -> str:
        """``NAME@VERSION`` as a user writes it (``go@v3.100.0``)."""
        return f"{self.name}@{self.version_prefix}{version}"

    def pinned_version(self, folder: Path) -> str:
        """The SDK version the driver's own files in ``folder`` pin."""
        raise NotImplementedError(f"{self.name} has no driver files to read a pin from")

    # -- the driver -----------------------------------------------------------------------

    def toolchain_problem(self, probe: Probe) -> str | None:
        """Why the toolchain on PATH cannot build the driver (too old...), or None. The
        tools themselves are checked before (``driver.tools``)."""
        return None

    def build_env(self, env: Mapping[str, str], probe: Probe) -> dict[str, str]:
        """The environment the build and the driver process run with."""
        return dict(env)

    def build(self, work: Path, target: Path, repin: str | None, tool: Tool,
              env: Mapping[str, str]) -> list[str]:
        """Build the driver in ``work`` (which then becomes ``target``), switching the SDK to
        ``repin`` first when given; return the command that starts it in ``target``."""
        raise NotImplementedError(f"{self.name} has no driver to build")

    def launch(self, command: Sequence[str]) -> tuple[str, ...]:
        """The command a driver process is started with, given its build's command: the
        runtime's start-up options (a JVM's) are added here, at every start, so a cached
        build gets them without a rebuild."""
        return tuple(command)

    def released_versions(self, output: Callable[[Sequence[str]], str]) -> list[str]:
        """The versions the ecosystem's index lists, oldest first, as ``NAME@VERSION`` takes
        them; ``output`` runs the ecosystem's client and returns its stdout."""
        raise NotImplementedError(f"no release listing for {self.name!r}")

    # -- capabilities and policy -------------------------------------------------------------

    def missing_api(self, operation: str, build: Path | None,
                    env: Mapping[str, str]) -> str | None:
        """Why the release built in ``build`` cannot perform ``operation`` at all: the public
        API its driver calls for it is not in that release (probed in the build, not read
        from a table), or None (it is there, or this SDK cannot tell). The pool asks only
        after the driver answered an error that is no HTTP outcome; an SDK whose driver does
        not compile against a release without the API (Go, Java) answers None."""
        return None

    def has(self, version: str) -> Has:
        """Whether release ``version`` has a capability of :attr:`capabilities`."""
        key = _version_key(version)

        def has(capability: str) -> bool:
            return key >= _version_key(self.capabilities[capability])

        return has

    def policies(self, version: str) -> Policies:
        """The retry and error policy release ``version`` is judged by."""
        return policies(self.name, self.has(version), deviations=self.deviations,
                        own=self.own)


def get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"no SDK named {name!r} (known: {', '.join(PROFILES)})") from None


def names() -> tuple[str, ...]:
    """The SDKs a run can cover, in registration order: in process or with a driver."""
    return tuple(p.name for p in _ranked() if p.in_process or p.driver is not None)


def driver_names() -> tuple[str, ...]:
    """The SDKs run through a driver process (pinned as ``NAME@VERSION``)."""
    return tuple(p.name for p in _ranked() if p.driver is not None)


def _ranked() -> list[Profile]:
    return sorted(PROFILES.values(), key=lambda p: p.rank)  # stable: then registration order


__all__ = ["PROFILES", "DriverSpec", "Probe", "Profile", "Tool", "driver_names", "get",
           "names"]
