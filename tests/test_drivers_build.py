"""Building the drivers: toolchain detection with install hints, the version pins the driver
files hold, and the build cache (with stand-in tools, so nothing here runs npm, go or mvn)."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from conformance.drivers import BuildFailed, DriverUnavailable
from conformance.drivers import build as builder

ROOT = Path(__file__).resolve().parent.parent / "drivers"


def tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture(autouse=True)
def _fake_tools_see_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds get an allow-list of the environment (drivers/environment.py); the fake tools
    below are told where to write what they saw through these variables."""
    from conformance.drivers import environment

    seen = {"CALLS", "STARTED", "RELEASE", "HELLO", "NEVER", "PIDS"}
    monkeypatch.setattr(environment, "_BASE", environment._BASE | seen)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only the stand-in tools a test writes (they are /bin/sh scripts that use
    shell builtins only)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("GOPROXY", raising=False)
    monkeypatch.delenv("GOFLAGS", raising=False)
    return folder


@pytest.mark.parametrize(("sdk", "missing", "hint"), [
    ("javascript", "node, npm", "Node.js 20"),
    ("go", "go", "Install Go"),
    ("java", "java, mvn", "JDK 17"),
])
def test_a_missing_toolchain_is_unavailable_with_an_install_hint(bin_dir, sdk, missing, hint):
    with pytest.raises(DriverUnavailable) as caught:
        builder.check_toolchain(sdk)
    assert caught.value.reason == f"{missing} not found on PATH"
    assert hint in caught.value.hint
    with pytest.raises(DriverUnavailable):  # build() says the same before doing anything
        builder.build(sdk)


def test_a_node_older_than_20_is_unavailable(bin_dir):
    tool(bin_dir, "node", 'echo "v18.19.0"\n')
    tool(bin_dir, "npm", "exit 0\n")
    with pytest.raises(DriverUnavailable, match=r"node v18\.19\.0 is older than 20"):
        builder.check_toolchain("javascript")


def test_a_go_older_than_1_26_is_unavailable(bin_dir):
    tool(bin_dir, "go", 'echo "go1.24.4"\n')
    with pytest.raises(DriverUnavailable, match=r"go go1\.24\.4 is older than 1\.26"):
        builder.check_toolchain("go")


def test_each_driver_pins_its_sdk_in_its_own_files_and_lockfile():
    assert builder.pinned_version("javascript") == "6.49.0"
    assert builder.pinned_version("go") == "3.100.0"
    assert builder.pinned_version("java") == "4.105.0"
    lock = json.loads((ROOT / "javascript" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/openai"]["version"] == "6.49.0"
    assert "github.com/openai/openai-go/v3 v3.100.0 " in (ROOT / "go" / "go.sum").read_text()


def test_an_unknown_sdk_is_refused():
    with pytest.raises(ValueError, match="no driver for SDK 'cobol'"):
        builder.check_toolchain("cobol")


@pytest.fixture
def go_source(tmp_path: Path) -> Path:
    """A copy of the driver sources, so a test can edit them."""
    root = tmp_path / "drivers"
    shutil.copytree(ROOT / "go", root / "go")
    return root


# The calls file is written into the script: a build's environment is an allow-list.
FAKE_GO = """\
case "$1" in
  env) if [ "$2" = GOVERSION ]; then echo go1.26.8
       else echo "https://modules.invalid,direct"; fi ;;
  build) echo "$GOPROXY|$GOFLAGS" > driver; echo "go build" >> "$CALLS" ;;
  mod) echo "go mod $2${3:+ $3}" >> "$CALLS" ;;
esac
"""


def test_a_build_runs_the_tool_once_then_comes_from_the_cache(bin_dir, go_source, tmp_path,
                                                               monkeypatch):
    calls = tmp_path / "calls.txt"
    tool(bin_dir, "go", FAKE_GO.replace("$CALLS", str(calls)))
    said: list[str] = []
    first = builder.build("go", cache=tmp_path / "cache", root=go_source, progress=said.append)
    assert not first.cached
    assert first.command == (str(first.directory / "driver"),)
    assert first.directory.name.startswith("go-3.100.0-")
    assert any("building the go driver" in line for line in said)
    # The module proxy alone, never `direct`; module-mode builds.
    assert (first.directory / "driver").read_text().strip() == (
        "https://modules.invalid|-mod=mod -buildvcs=false")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "sk-very-secret")
    again = builder.build("go", cache=tmp_path / "cache", root=go_source)
    assert "sk-very-secret" not in repr(again) + repr(again.process())
    assert again.cached
    assert again.directory == first.directory
    assert calls.read_text().splitlines() == ["go build"]


def test_editing_a_driver_source_rebuilds_it(bin_dir, go_source, tmp_path, monkeypatch):
    tool(bin_dir, "go", FAKE_GO.replace("$CALLS", str(tmp_path / "calls.txt")))
    before = builder.sources_hash("go", go_source)
    first = builder.build("go", cache=tmp_path / "cache", root=go_source)
    with (go_source / "go" / "main.go").open("a") as main:
        main.write("\n// an edit\n")
    assert builder.sources_hash("go", go_source) != before
    second = builder.build("go", cache=tmp_path / "cache", root=go_source)
    assert not second.cached
    assert second.directory != first.directory


def test_another_version_is_data_the_build_applies(bin_dir, go_source, tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    tool(bin_dir, "go", FAKE_GO.replace("$CALLS", str(calls)))
    built = builder.build("go", version="3.98.0", cache=tmp_path / "cache", root=go_source)
    assert built.sdk_version == "3.98.0"
    assert built.directory.name.startswith("go-3.98.0-")
    assert calls.read_text().splitlines() == [
        "go mod edit -require=github.com/openai/openai-go/v3@v3.98.0", "go mod tidy", "go build"]


def test_a_version_that_is_not_one_is_refused(bin_dir, go_source, tmp_path):
    tool(bin_dir, "go", FAKE_GO)
    with pytest.raises(ValueError, match="not a version"):
        builder.build("go", version="1.0; rm -rf /", cache=tmp_path / "cache", root=go_source)


def test_a_failing_build_says_why_and_leaves_no_half_built_driver(bin_dir, go_source, tmp_path):
    tool(bin_dir, "go", 'if [ "$1" = env ]; then echo go1.26.8; exit 0; fi\n'
                        'echo "go: module lookup disabled by GOPROXY=off" >&2\nexit 1\n')
    with pytest.raises(BuildFailed, match="module lookup disabled") as caught:
        builder.build("go", cache=tmp_path / "cache", root=go_source)
    assert caught.value.command[:2] == ["go", "build"]
    # only the entry's lock file stays (removing it would race another run taking it)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [
        f"go-3.100.0-{builder.sources_hash('go', go_source)}.lock"]


USER_SECRETS = {"AZURE_OPENAI_API_KEY": "sk-very-secret", "OPENAI_API_KEY": "sk-other-secret",
                "AZURE_CLIENT_SECRET": "client-secret", "GITHUB_TOKEN": "ghp_secret"}


@pytest.mark.parametrize("sdk", ["javascript", "go", "java"])
def test_builds_and_drivers_get_an_allow_list_not_the_users_secrets(sdk, monkeypatch):
    from conformance.drivers.environment import build_environment, run_environment

    environ = {**USER_SECRETS, "PATH": "/bin", "HOME": "/home/u", "LC_ALL": "C.UTF-8",
               "HTTPS_PROXY": "http://proxy:3128", "npm_config_registry": "https://npm.corp/",
               "GOPROXY": "https://proxy.corp", "MAVEN_OPTS": "-Xmx1g",
               "AOAI_CONFORMANCE_DRIVER_MUTANT": "max_retries:5"}
    run = run_environment(environ)
    assert run == {"PATH": "/bin", "HOME": "/home/u", "LC_ALL": "C.UTF-8",
                   "AOAI_CONFORMANCE_DRIVER_MUTANT": "max_retries:5"}
    built = build_environment(sdk, environ)
    assert not set(built) & set(USER_SECRETS)
    assert built["HTTPS_PROXY"] == "http://proxy:3128" and built["PATH"] == "/bin"
    own = {"javascript": "npm_config_registry", "go": "GOPROXY", "java": "MAVEN_OPTS"}[sdk]
    assert own in built
    for name, value in USER_SECRETS.items():
        monkeypatch.setenv(name, value)
    assert not set(builder._env(sdk)) & set(USER_SECRETS)


def test_a_driver_process_started_without_an_environment_gets_the_allow_list(tmp_path,
                                                                            monkeypatch):
    """DriverProcess's default is not this process's environment."""
    import sys

    from conformance.drivers import DriverProcess

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "sk-very-secret")
    script = tmp_path / "driver.py"
    script.write_text(
        "import json, os, sys\n"
        "print(json.dumps({'type': 'hello', 'protocol': 2, 'sdk': 'go', 'runtime': 'x',\n"
        "                  'sdk_version': ','.join(sorted(os.environ))}), flush=True)\n"
        "sys.stdin.readline()\n")
    with DriverProcess("go", [sys.executable, str(script)]) as driver:
        assert driver.hello is not None
        names = driver.hello.sdk_version.split(",")
    assert "PATH" in names and "AZURE_OPENAI_API_KEY" not in names


# -- a cache that proves itself: integrity, locking, deadlines, relative paths ------------------

# `go build` writes a driver that says hello at the version in $HELLO (default 3.100.0), then
# exits on its first input line (the shutdown).
HELLO_GO = r"""
case "$1" in
  env) if [ "$2" = GOVERSION ]; then echo go1.26.8; else echo "https://modules.invalid"; fi ;;
  build) echo "go build" >> "$CALLS"
         [ -n "$STARTED" ] && echo started > "$STARTED"
         [ -n "$RELEASE" ] && read go < "$RELEASE"
         hello="{\"type\":\"hello\",\"protocol\":2,\"sdk\":\"go\","
         hello="$hello\"sdk_version\":\"${HELLO:-3.100.0}\",\"runtime\":\"sh\"}"
         printf '#!/bin/sh\necho %s\nread line\n' "'$hello'" > driver
         /bin/chmod +x driver ;;
esac
"""


@pytest.fixture
def hello_go(bin_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLS", str(tmp_path / "calls.txt"))
    tool(bin_dir, "go", HELLO_GO)
    return tmp_path / "calls.txt"


def builds(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_a_cached_driver_with_a_file_missing_is_rebuilt(hello_go, go_source, tmp_path):
    first = builder.build("go", cache=tmp_path / "cache", root=go_source)
    (first.directory / "main.go").unlink()
    said: list[str] = []
    again = builder.build("go", cache=tmp_path / "cache", root=go_source, progress=said.append)
    assert not again.cached and builds(hello_go) == 2
    assert any("is not whole (main.go is missing)" in line for line in said)
    assert builder.damaged(again.directory) is None


def test_a_cached_driver_that_says_another_version_is_rebuilt_once_then_named(
        hello_go, go_source, tmp_path, monkeypatch):
    built, process = builder.start("go", cache=tmp_path / "cache", root=go_source)
    process.close()
    # the same size, another version: only the hello can tell
    driver = built.directory / "driver"
    driver.write_text(driver.read_text().replace("3.100.0", "3.100.9"))
    said: list[str] = []
    again, process = builder.start("go", cache=tmp_path / "cache", root=go_source,
                                   progress=said.append)
    process.close()
    assert builds(hello_go) == 2 and not again.cached
    assert any("does not work" in line and "3.100.9" in line for line in said)
    # a build that never answers at its version: a setup problem naming the cache entry
    monkeypatch.setenv("HELLO", "0.0.1")
    driver.write_text(driver.read_text().replace("3.100.0", "3.100.8"))
    with pytest.raises(builder.DriverCacheBroken) as caught:
        builder.start("go", cache=tmp_path / "cache", root=go_source, progress=said.append)
    assert str(again.directory) in str(caught.value)
    assert "0.0.1" in str(caught.value)
    assert builds(hello_go) == 3  # rebuilt once, never in a loop


def test_built_json_holds_no_absolute_path_so_a_copied_cache_runs_its_own_driver(
        hello_go, go_source, tmp_path):
    first = builder.build("go", cache=tmp_path / "cache", root=go_source)
    stamp = (first.directory / builder.STAMP).read_text()
    assert str(tmp_path) not in stamp
    shutil.copytree(tmp_path / "cache", tmp_path / "copy")
    shutil.rmtree(tmp_path / "cache")
    copied = builder.build("go", cache=tmp_path / "copy", root=go_source)
    assert copied.cached
    assert copied.command == (str(tmp_path / "copy" / first.directory.name / "driver"),)
    with copied.process() as process:
        assert process.hello is not None and process.hello.sdk_version == "3.100.0"


def test_two_builds_of_one_entry_at_once_build_it_once_and_both_get_it(
        hello_go, go_source, tmp_path, monkeypatch):
    import contextlib
    import os
    import threading

    started, release = tmp_path / "started", tmp_path / "release"
    os.mkfifo(started)
    os.mkfifo(release)
    monkeypatch.setenv("STARTED", str(started))
    monkeypatch.setenv("RELEASE", str(release))
    got: dict[str, builder.Built] = {}
    waiting = threading.Event()

    def build(name: str, progress=None) -> None:
        got[name] = builder.build("go", cache=tmp_path / "cache", root=go_source,
                                  progress=progress)

    first = threading.Thread(target=build, args=("first",), daemon=True)
    first.start()
    try:
        assert started.read_text() == "started\n"  # the first build is inside `go build`
        second = threading.Thread(target=build, daemon=True, args=(
            "second", lambda line: waiting.set() if "waiting for another run" in line else None))
        second.start()
        assert waiting.wait(30)  # the second waits for the lock rather than building too
    finally:
        with contextlib.suppress(OSError):  # let the first build go on, whatever happened
            os.write(fd := os.open(release, os.O_WRONLY | os.O_NONBLOCK), b"go\n")
            os.close(fd)
    first.join(30)
    second.join(30)
    assert builds(hello_go) == 1
    assert got["second"].cached and got["second"].directory == got["first"].directory


def _alive(pid: int) -> bool:
    from tests.test_caches import ended

    return not ended(pid)


def test_a_build_step_that_never_ends_is_stopped_at_its_deadline_with_all_it_started(
        bin_dir, go_source, tmp_path, monkeypatch):
    """Like `npm ci` against a registry that accepts and never answers: the step and its
    children are ended at the deadline, and no scratch folder stays in the cache."""
    import os
    import time

    never = tmp_path / "never"
    os.mkfifo(never)  # nobody ever writes: opening it to read blocks for good
    monkeypatch.setenv("NEVER", str(never))
    monkeypatch.setenv("PIDS", str(tmp_path / "pids"))
    tool(bin_dir, "go", 'if [ "$1" = env ]; then echo go1.26.8; exit 0; fi\n'
                        '(read x < "$NEVER") &\necho $! > "$PIDS"\necho $$ >> "$PIDS"\n'
                        'read y < "$NEVER"\n')
    with pytest.raises(builder.BuildTimedOut, match="did not finish within"):
        builder.build("go", cache=tmp_path / "cache", root=go_source,
                      until=time.monotonic() + 0.5)
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 2 and not any(_alive(p) for p in pids)
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".lock"]


def test_a_scratch_folder_left_by_a_killed_build_is_swept_once_its_lock_is_free(
        hello_go, go_source, tmp_path):
    from conformance import caches

    cache = tmp_path / "cache"
    entry = cache / f"go-3.100.0-{builder.sources_hash('go', go_source)}"
    other = cache / "javascript-6.49.0-000000000000"
    with caches.locked(other):
        busy = caches.scratch(other)  # a build in progress (its lock is held)
        with caches.locked(entry):
            left = caches.scratch(entry)  # a build killed before its cleanup
        (left / "node_modules").mkdir()
        builder.build("go", cache=cache, root=go_source)
        assert not left.exists()
        assert busy.exists()
    assert caches.sweep(cache) == [busy]
