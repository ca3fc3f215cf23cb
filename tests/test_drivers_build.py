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
    assert list((tmp_path / "cache").iterdir()) == []


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
        "print(json.dumps({'type': 'hello', 'protocol': 1, 'sdk': 'go', 'runtime': 'x',\n"
        "                  'sdk_version': ','.join(sorted(os.environ))}), flush=True)\n"
        "sys.stdin.readline()\n")
    with DriverProcess("go", [sys.executable, str(script)]) as driver:
        assert driver.hello is not None
        names = driver.hello.sdk_version.split(",")
    assert "PATH" in names and "AZURE_OPENAI_API_KEY" not in names
