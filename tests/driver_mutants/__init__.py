"""Broken builds of the JavaScript, Go and Java SDKs, for the suite's own tests.

Each mutant changes one behaviour in the *installed SDK*, never in the driver, the way an SDK
team's bad release would:

- JavaScript: the driver's build with ``node_modules/openai`` copied and one file edited (the
  other packages are symlinked to the pinned build);
- Go: the openai-go module copied from the module cache, one source file edited, and the
  driver built against it with a ``replace`` directive (the Go build cache keeps this to the
  edited packages);
- Java: the driver's shaded ``driver.jar`` copied with one SDK class rewritten by ASM
  (``JarPatcher.java``; ASM comes with maven-shade in ``~/.m2``).

A mutant is a stand-in for :class:`conformance.drivers.build.Built`: a test hands it to the
driver pool (``monkeypatch.setattr(driver_pool, "start", ...)``) and runs the checks. Go and
Java mutants are kept in the driver build cache (``<cache>/mutants/<sdk>-<hash>``, keyed by
the pinned build and the edit), so only the first run compiles.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance import sdks
from conformance.drivers import DriverProcess
from conformance.drivers import build as driver_build

HERE = Path(__file__).resolve().parent
GO_MODULE = "github.com/openai/openai-go/v3"
# Taken at import: pytester points HOME at a scratch directory, and the Go module and build
# caches and ~/.m2 (ASM) are the real ones.
_REAL_HOME = Path.home()


def mutant_build(sdk: str, sdk_version: str, directory: Path, command: Sequence[str],
                env: Mapping[str, str]) -> driver_build.Built:
    """A broken build, as the pool takes a build from the cache."""
    return driver_build.Built(sdk, sdk_version, directory, tuple(command), env, cached=True,
                              seconds=0.0)


def pool_start(built: Any) -> Callable[..., tuple[Any, DriverProcess]]:
    """A stand-in for ``drivers.pool.start`` that starts ``built`` with what the pool adds to
    its environment (the Azure host's proxy and test CA)."""
    def start(_sdk: str, **kwargs: Any) -> tuple[Any, DriverProcess]:
        process = built.process(extra_env=kwargs.get("extra_env"))
        process.start()
        return built, process

    return start


# -- JavaScript ------------------------------------------------------------------------------------

# (file under node_modules/openai, text found once, its replacement)
JsEdit = tuple[str, str, str]

JS_STREAM_DELTA_EMPTIED: Sequence[JsEdit] = [(
    "core/streaming.mjs",
    "yield synthesizeEventData ? { event: sse.event, data } : data;",
    "if (data && typeof data.delta === 'string') data.delta = '';\n"
    "                        yield synthesizeEventData ? { event: sse.event, data } : data;",
)]
JS_REQUEST_ID_DROPPED: Sequence[JsEdit] = [(
    "internal/parse.mjs",
    "value: response.headers.get('x-request-id'),",
    "value: undefined,",
)]


def javascript(directory: Path, edits: Sequence[JsEdit]) -> driver_build.Built:
    built = driver_build.build("javascript")
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("driver.mjs", "package.json"):
        shutil.copy2(built.directory / name, directory / name)
    modules = directory / "node_modules"
    modules.mkdir()
    for entry in (built.directory / "node_modules").iterdir():
        if entry.name == "openai":
            shutil.copytree(entry, modules / "openai", symlinks=True)
        else:
            (modules / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    for relative, old, new in edits:
        _edit(modules / "openai" / relative, old, new)
    return mutant_build("javascript", built.sdk_version, directory,
                       ("node", str(directory / "driver.mjs")), built.env)


# -- Go ------------------------------------------------------------------------------------------

# (file in the openai-go module, text found once, its replacement)
GoEdit = tuple[str, str, str]

GO_CONTENT_AND_DELTA_NOT_DECODED: Sequence[GoEdit] = [
    # Choices[0].Message.Content and a Responses event's Delta decode from no JSON key: the raw
    # JSON (RawJSON()) still carries them.
    ("chatcompletion.go", 'Content string `json:"content" api:"required"`\n\t// The refusal',
     'Content string `json:"content_not_decoded" api:"required"`\n\t// The refusal'),
    ("responses/response.go", '\tDelta          string `json:"delta"`',
     '\tDelta          string `json:"delta_not_decoded"`'),
]
GO_MAX_TOKENS_DROPPED: Sequence[GoEdit] = [
    ("chatcompletion.go", 'MaxTokens param.Opt[int64] `json:"max_tokens,omitzero"`',
     'MaxTokens param.Opt[int64] `json:"-"`'),
]


def _cached(sdk: str, built_directory: Path, edits: object) -> tuple[Path, bool]:
    """The mutant's directory in the build cache, and whether a finished build is there."""
    key = hashlib.sha256(json.dumps([built_directory.name, edits]).encode()).hexdigest()[:12]
    directory = driver_build.cache_root().parent / "mutants" / f"{sdk}-{key}"
    return directory, (directory / "mutant.json").is_file()


def _finish(directory: Path, command: Sequence[str]) -> None:
    (directory / "mutant.json").write_text(json.dumps({"command": list(command)}),
                                           encoding="utf-8")


def go(directory: Path, edits: Sequence[GoEdit], *, files: Mapping[str, str] | None = None,
       run_env: Mapping[str, str] | None = None) -> driver_build.Built:
    """``files``: files added to the module copy (path: text); ``run_env``: variables the
    driver process gets besides the build's (a switch that picks one of several mutants
    compiled into one build: tests/driver_mutants/catalogue.py)."""
    built = driver_build.build("go")
    # The build's environment (the module proxy alone, GOFLAGS), not the driver process's.
    env = {**driver_build._env("go"), "HOME": str(_REAL_HOME)}
    directory, done = _cached("go", built.directory, [edits, files] if files else edits)
    command = (str(directory / "driver" / "driver"),)
    process_env = {**env, **(run_env or {})}
    if done:
        return mutant_build("go", built.sdk_version, directory / "driver", command, process_env)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                           check=True, env=env).stdout.strip()
    module = directory / "openai-go"
    shutil.copytree(Path(cache) / f"{GO_MODULE}@v{built.sdk_version}", module)
    for path in module.rglob("*"):  # the module cache is read-only
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    for relative, old, new in edits:
        _edit(module / relative, old, new)
    for relative, text in (files or {}).items():
        (module / relative).write_text(text, encoding="utf-8")
    driver = directory / "driver"
    driver.mkdir()
    spec = sdks.get("go").driver
    assert spec is not None
    for name in spec.sources:
        shutil.copy2(driver_build.drivers_root() / "go" / name, driver / name)
    _run(["go", "mod", "edit", f"-replace={GO_MODULE}={module}"], driver, env)
    _run(["go", "build", "-trimpath", "-o", "driver", "."], driver, env)
    _finish(directory, command)
    return mutant_build("go", built.sdk_version, driver, command, process_env)


# -- Java ------------------------------------------------------------------------------------------

JAVA_CONTENT_EMPTY = ("empty-optional:com/openai/models/chat/completions/"
                      "ChatCompletionMessage#content",)
# Every Azure host treated as a legacy one: /openai/deployments/{model}/...?api-version=...
JAVA_AZURE_ROUTED_AS_LEGACY = (
    "swap-static:com/openai/azure/AzureUrlCategory$Companion#categorizeBaseUrl:"
    "com/openai/azure/AzureUrlCategory.AZURE_UNIFIED=AZURE_LEGACY",)


def java(directory: Path, patches: Sequence[str]) -> driver_build.Built:
    built = driver_build.build("java")
    directory, done = _cached("java", built.directory, patches)
    jar = directory / "driver.jar"
    if done:
        return mutant_build("java", built.sdk_version, directory, ("java", "-jar", str(jar)),
                           built.env)
    # Two processes may make the same mutant at once (a test beside the audit): each patches
    # in a scratch folder of its own and moves the finished jar into place.
    directory.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="patch-", dir=directory))
    asm = _asm_jar()
    _run(["javac", "-d", str(scratch), "-cp", str(asm), str(HERE / "JarPatcher.java")],
         scratch, built.env)
    _run(["java", "-cp", f"{asm}{os.pathsep}{scratch}", "JarPatcher",
          str(built.directory / "driver.jar"), str(scratch / "driver.jar"), *patches], scratch,
         built.env)
    os.replace(scratch / "driver.jar", jar)
    shutil.rmtree(scratch, ignore_errors=True)
    _finish(directory, ("java", "-jar", str(jar)))
    return mutant_build("java", built.sdk_version, directory, ("java", "-jar", str(jar)),
                       built.env)


def _asm_jar() -> Path:
    found = sorted((_REAL_HOME / ".m2" / "repository" / "org" / "ow2" / "asm" / "asm")
                   .glob("9.*/asm-9.*.jar"))
    if not found:
        raise FileNotFoundError("no ASM 9 jar in ~/.m2 (a Java driver build brings it)")
    return found[-1]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise AssertionError(f"{path}: expected {old!r} once, found it {text.count(old)} times")
    path.write_text(text.replace(old, new), encoding="utf-8")


def _run(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    done = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}"[-4000:])


__all__ = [
    "GO_CONTENT_AND_DELTA_NOT_DECODED",
    "GO_MAX_TOKENS_DROPPED",
    "JAVA_AZURE_ROUTED_AS_LEGACY",
    "JAVA_CONTENT_EMPTY",
    "JS_REQUEST_ID_DROPPED",
    "JS_STREAM_DELTA_EMPTIED",
    "MutantBuild",
    "go",
    "java",
    "javascript",
]
