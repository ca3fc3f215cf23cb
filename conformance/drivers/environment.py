"""What a driver process, and the build of one, inherits from this process's environment.

Not the user's environment: that holds ``AZURE_OPENAI_API_KEY``, tokens, cloud credentials.
The SDK under test only ever sees the made-up key each scenario carries, so a driver starts
from an allow-list:

- :func:`run_environment` (the driver process): where programs and home are, the locale and
  time zone, temporary folders, the certificates a runtime trusts, and
  ``AOAI_CONFORMANCE_DRIVER_MUTANT`` (the tests' broken-driver switch). No proxy: a driver only
  ever talks to the loopback wire server.
- :func:`build_environment` (``npm ci``, ``go build``, ``mvn package``): that, plus each
  ecosystem's toolchain, registry and proxy settings, which a build behind a corporate proxy
  or a private registry needs (``npm_config_*``, ``GOPROXY``/``GOPRIVATE``/...,
  ``MAVEN_OPTS``, ``HTTPS_PROXY``...).

Anything else, whatever its name, is left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

# Every process needs these to start and find its tools (POSIX and Windows names).
_BASE = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM",
    "TMPDIR", "TMP", "TEMP", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA",
    "USERPROFILE", "PROGRAMDATA", "PROGRAMFILES", "PROGRAMFILES(X86)", "NUMBER_OF_PROCESSORS",
    "PROCESSOR_ARCHITECTURE",
    # the certificates a runtime trusts, and the runtime itself
    "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "JAVA_HOME",
    "AOAI_CONFORMANCE_DRIVER_MUTANT",
})
_BASE_PREFIXES = ("LC_",)

_PROXIES = frozenset({"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"})

_TOOLCHAINS: dict[str, frozenset[str]] = {
    "javascript": frozenset({"NVM_DIR", "NODE_OPTIONS", "NODE_PATH", "npm_config_cache",
                             "npm_config_registry", "npm_config_userconfig"}),
    "go": frozenset({"GOPATH", "GOROOT", "GOPROXY", "GOMODCACHE", "GOCACHE", "GOFLAGS",
                     "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB",
                     "GOINSECURE", "GOENV", "GOTMPDIR", "GOTOOLCHAIN", "GOAUTH", "GOTELEMETRY",
                     "CGO_ENABLED", "CC", "CXX"}),
    "java": frozenset({"MAVEN_OPTS", "MAVEN_ARGS", "MAVEN_HOME", "M2_HOME", "MAVEN_CONFIG",
                       "MAVEN_SKIP_RC", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}),
}
# npm reads every npm_config_* variable (any case) as a setting.
_TOOLCHAIN_PREFIXES: dict[str, tuple[str, ...]] = {"javascript": ("npm_config_",)}


def run_environment(environ: Mapping[str, str] = os.environ,
                    also: Iterable[str] = ()) -> dict[str, str]:
    """What a driver process gets: :data:`_BASE`, and the variables its profile names."""
    names = _BASE | frozenset(also)
    return {name: value for name, value in environ.items() if _allowed(name, names,
                                                                       _BASE_PREFIXES)}


def build_environment(sdk: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What the build of ``sdk``'s driver gets: the base, proxies, and its toolchain's
    settings."""
    names = _BASE | _PROXIES | _TOOLCHAINS.get(sdk, frozenset())
    prefixes = _BASE_PREFIXES + _TOOLCHAIN_PREFIXES.get(sdk, ())
    return {name: value for name, value in environ.items() if _allowed(name, names, prefixes)}


def _allowed(name: str, names: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    folded = name.upper()
    return (folded in {n.upper() for n in names}
            or any(folded.startswith(p.upper()) for p in prefixes))


__all__ = ["build_environment", "run_environment"]
