"""The shared caches: an environment proves it is whole before each use (a deleted module
is rebuilt, a build still broken is a setup error naming its path), two processes building
one entry at once both get it built once, and a build step past its deadline is stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.environments import CacheBroken, SetupError, Uninstallable
from tests.fake_environments import PIN, FakeEnvironments

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "installs.txt"))
    return tmp_path / "installs.txt"


def installs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_an_environment_with_a_module_deleted_is_rebuilt_before_it_is_used(tmp_path, log):
    envs = FakeEnvironments(tmp_path / "envs")
    python = envs.python(PIN)
    assert envs.damaged(PIN) is None
    module = next(envs.path(PIN).glob("venv/lib/python*/site-packages/fakesdk/extra.py"))
    module.unlink()
    assert "fakesdk 1.0: fakesdk/extra.py is missing" in (envs.damaged(PIN) or "")
    assert envs.python(PIN) == python
    assert installs(log) == 2 and module.exists()
    module.write_text("EXTRA = 2\n")  # damaged in place: its RECORD hash no longer matches
    assert "fakesdk/extra.py has changed" in (envs.damaged(PIN) or "")
    # the environment's stamp holds no absolute path
    assert str(tmp_path) not in (envs.path(PIN) / ".aoai-conformance-ready").read_text()


def test_an_environment_still_broken_after_a_rebuild_is_a_setup_error_naming_it(
        tmp_path, log, monkeypatch):
    envs = FakeEnvironments(tmp_path / "envs")
    monkeypatch.setenv("FAKE_BROKEN", "1")
    with pytest.raises(CacheBroken) as caught:
        envs.python(PIN)
    assert str(envs.path(PIN)) in str(caught.value)
    assert "fakesdk/extra.py has changed" in str(caught.value)
    assert isinstance(caught.value, SetupError) and not isinstance(caught.value, Uninstallable)
    assert installs(log) == 1  # built once, never in a loop


def test_an_environment_whose_sdk_no_longer_imports_is_rebuilt(tmp_path, log):
    envs = FakeEnvironments(tmp_path / "envs")
    envs.python(PIN)
    init = next(envs.path(PIN).glob("venv/lib/python*/site-packages/fakesdk/__init__.py"))
    init.write_text("raise ImportError('a damaged build')\n")
    problem = envs.damaged(PIN) or ""
    assert "import fakesdk fails: ImportError: a damaged build" in problem
    envs.python(PIN)
    assert installs(log) == 2


def test_an_install_that_never_answers_is_stopped_at_the_deadline_and_leaves_nothing(
        tmp_path, monkeypatch):
    never = tmp_path / "never"
    os.mkfifo(never)
    monkeypatch.setenv("FAKE_HANG", str(never))
    monkeypatch.setenv("AOAI_CONFORMANCE_BUILD_TIMEOUT", "0.3")
    envs = FakeEnvironments(tmp_path / "envs")
    with pytest.raises(SetupError, match="did not finish within") as caught:
        envs.python(PIN)
    assert not isinstance(caught.value, Uninstallable)  # bisect must not skip the version
    assert [p.suffix for p in (tmp_path / "envs").iterdir()] == [".lock"]


def test_two_processes_building_one_environment_at_once_both_get_it_built_once(
        tmp_path, log):
    """Two gates on one empty --env-dir: the second waits for the first's build (no
    FileExistsError, no rmtree of the other's work, no pin called uninstallable)."""
    started, release = tmp_path / "started", tmp_path / "release"
    os.mkfifo(started)
    os.mkfifo(release)
    env = {**os.environ, "FAKE_STARTED": str(started), "FAKE_RELEASE": str(release),
           "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.fake_environments", str(tmp_path / "envs")]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    second = None
    try:
        assert started.read_text() == "started\n"  # the first is installing
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        assert second.stderr is not None
        assert "waiting for another run that is building" in second.stderr.readline()
        release.write_text("go\n")
        out_first, err_first = first.communicate(timeout=120)
        out_second, err_second = second.communicate(timeout=120)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert (first.returncode, second.returncode) == (0, 0), err_first + err_second
    assert out_first == out_second and out_first.strip().endswith("venv/bin/python")
    assert installs(log) == 1


def test_an_interrupt_during_a_build_step_ends_its_whole_process_group(tmp_path, monkeypatch):
    """Ctrl-C while `npm ci` runs: the step runs in a session of its own (the terminal's
    signal does not reach it), so the harness ends it, children included, before it lets
    the interrupt go on."""
    import contextlib
    import time

    from conformance import caches

    never = tmp_path / "never"
    os.mkfifo(never)
    pids = tmp_path / "pids"
    script = f'(read x < "{never}") & echo $! > "{pids}"; echo $$ >> "{pids}"; read y < "{never}"'
    real = subprocess.Popen.communicate

    def interrupted(self, *args, **kwargs):
        while not pids.exists() or len(pids.read_text().split()) < 2:
            # the step has started its child; a real wait for the shell, no sleep
            with contextlib.suppress(subprocess.TimeoutExpired):
                real(self, timeout=0.05)
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess.Popen, "communicate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        caches.run_step(["/bin/sh", "-c", script], until=time.monotonic() + 60)
    monkeypatch.undo()
    assert all(ended(int(p)) for p in pids.read_text().split())


def ended(pid: int, within: float = 10.0) -> bool:
    """True once process ``pid`` has exited (a zombie counts): waits on a pidfd, no sleep."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], within)[0])
    finally:
        os.close(fd)
